/**
 * Multi-instance output (engine-semantics, multi-instance; issue #18): a variable named by the
 * output element is local to each inner instance, initialised to null, so the job that sets it
 * fills the output collection without leaking the variable to the enclosing scope.
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, variablesOf } = engineTestKit({ worker: 'mi-output' })

const MODEL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs">
<bpmn:process id="mi-out" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:serviceTask id="each"><bpmn:extensionElements><zeebe:taskDefinition type="mi-each" /></bpmn:extensionElements>
<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
<zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="results" outputElement="=result" />
</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>
<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each" /><bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end" />
</bpmn:process></bpmn:definitions>`

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'mi-out.bpmn', process: Buffer.from(MODEL) }])
})

test('the output element variable set by each job fills the output collection and does not reach the process scope', async () => {
  // given
  const key = await startInstance('mi-out', { items: [1, 2] })
  // when each inner job completes with its result
  for (let done = 0; done < 2;) {
    const jobs = await client.zeebe.activateJobs({ type: 'mi-each', worker: 'mi-output', maxJobsToActivate: 2, timeout: 30_000, requestTimeout: 2_000 })
    for (const job of jobs) {
      await client.zeebe.completeJob({ jobKey: job.key, variables: { result: (job.variables as { item: number }).item * 10 } })
      done++
    }
  }
  // then
  await expectInstanceState(key, 'COMPLETED')
  const variables = await variablesOf(key)
  expect(variables.results).toEqual([10, 20])
  expect(Object.keys(variables)).not.toContain('result')
})
