/**
 * A termination held by canceling user task listeners is state like any other: after a SIGKILL
 * (the log replayed) or a stop (from a snapshot), the restarted engine still waits for the
 * listener's job, and once it completes goes on with what the termination leads to (the
 * instance's cancellation, an interrupting boundary event).
 */
import type { TestClient } from '../support/engine-harness'
import { engineProcessKit } from '../support/engine-process'

jest.setTimeout(120_000)

const MODEL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d-canceling">
<bpmn:message id="stop-message" name="durable-stop"><bpmn:extensionElements><zeebe:subscription correlationKey="=caseId" /></bpmn:extensionElements></bpmn:message>
<bpmn:process id="durable-canceling" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask /><zeebe:taskListeners>
<zeebe:taskListener eventType="canceling" type="durable-canceling" retries="1" /></zeebe:taskListeners></bpmn:extensionElements></bpmn:userTask>
<bpmn:boundaryEvent id="stopped" attachedToRef="review"><bpmn:messageEventDefinition messageRef="stop-message" /></bpmn:boundaryEvent>
<bpmn:serviceTask id="after-stop"><bpmn:extensionElements><zeebe:taskDefinition type="durable-after-stop" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" /><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
<bpmn:sequenceFlow id="f3" sourceRef="stopped" targetRef="after-stop" /></bpmn:process></bpmn:definitions>`

const kit = engineProcessKit('canceling')
const search = kit.search
let client: TestClient | undefined

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const taskState = async (processInstanceKey: string): Promise<string | undefined> => (await search<{ state: string }>('user-tasks', { processInstanceKey }))[0]?.state
const instanceState = async (processInstanceKey: string): Promise<string | undefined> => (await search<{ state: string }>('process-instances', { processInstanceKey }))[0]?.state

test('a cancellation and a boundary event held by canceling listeners go on after a SIGKILL, and from a snapshot, once the listeners complete', async () => {
  // given two instances whose tasks are created
  client = await kit.start()
  await client.zeebe.deployResources([{ name: 'durable-canceling.bpmn', process: Buffer.from(MODEL) }])
  const canceled = (await client.zeebe.createProcessInstance({ bpmnProcessId: 'durable-canceling', variables: { caseId: 'c-1' } })).processInstanceKey
  const interrupted = (await client.zeebe.createProcessInstance({ bpmnProcessId: 'durable-canceling', variables: { caseId: 'c-2' } })).processInstanceKey
  await waitFor('both tasks', async () => ((await taskState(canceled)) === 'CREATED' && (await taskState(interrupted)) === 'CREATED' ? true : undefined))
  // when one is canceled and the other's boundary message arrives, both held by their canceling listener, and the engine is killed
  await client.zeebe.cancelProcessInstance(canceled)
  await client.zeebe.publishMessage({ name: 'durable-stop', correlationKey: 'c-2', variables: {} })
  await waitFor('both tasks canceling', async () => ((await taskState(canceled)) === 'CANCELING' && (await taskState(interrupted)) === 'CANCELING' ? true : undefined))
  await kit.stop('SIGKILL')
  // then, restarted on the same data dir, both instances are still active, their tasks CANCELING
  client = await kit.start()
  expect(await instanceState(canceled)).toBe('ACTIVE')
  expect(await instanceState(interrupted)).toBe('ACTIVE')
  expect(await taskState(canceled)).toBe('CANCELING')
  expect(await search('element-instances', { processInstanceKey: interrupted, elementId: 'stopped' })).toEqual([])
  // and so after a graceful stop, which leaves a snapshot to start from
  await kit.stop('SIGTERM')
  client = await kit.start()
  expect(await taskState(interrupted)).toBe('CANCELING')
  // when both listener jobs complete
  const jobs = await client.zeebe.activateJobs({ type: 'durable-canceling', worker: 'durable', maxJobsToActivate: 5, timeout: 60_000, requestTimeout: 2_000 })
  expect(jobs.map((j) => j.processInstanceKey).sort()).toEqual([canceled, interrupted].sort())
  for (const job of jobs) await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  // then the canceled instance is terminated, and the other takes its boundary flow
  await waitFor('the cancellation', async () => ((await instanceState(canceled)) === 'TERMINATED' ? true : undefined))
  expect(await taskState(canceled)).toBe('CANCELED')
  const [after] = await client.zeebe.activateJobs({ type: 'durable-after-stop', worker: 'durable', maxJobsToActivate: 5, timeout: 60_000, requestTimeout: 2_000 })
  expect(after.processInstanceKey).toBe(interrupted)
  expect(await taskState(interrupted)).toBe('CANCELED')
})
