/**
 * Execution listeners (issue #18), as Zeebe 8.8 runs them (docs: components/concepts/
 * execution-listeners): jobs the element waits for, in model order, start listeners after the
 * input mappings and before the element's work (their variables local to it), end listeners
 * after the output mappings and before it leaves (their variables in its flow scope), a
 * process's own before and after everything; a failed listener job is an incident, a BPMN error
 * from one is refused; and deployment refuses them where Zeebe does, with its wording.
 */
import { engineTestKit, grpcFailure, GrpcStatus, until } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, elementStates, activateOne, variablesOf, search, incidentsOf, activeIncident } =
  engineTestKit({ worker: 'execution-listeners' })

const listeners = (...entries: Array<[string, string]>): string =>
  `<zeebe:executionListeners>${entries.map(([eventType, type]) => `<zeebe:executionListener eventType="${eventType}" type="${type}" retries="1" />`).join('')}</zeebe:executionListeners>`
const flow = (id: string, from: string, to: string, condition?: string): string => condition
  ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression>${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`
  : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
const definitions = (id: string, body: string, processExtensions = ''): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${processExtensions ? `<bpmn:extensionElements>${processExtensions}</bpmn:extensionElements>` : ''}${body}</bpmn:process></bpmn:definitions>`

/** process listeners around start → A (two start, one end listener, input and output mappings) → gateway (a start listener decides) → end. */
const MODEL = definitions('el-p', `<bpmn:startEvent id="start" />
<bpmn:serviceTask id="A"><bpmn:extensionElements><zeebe:taskDefinition type="el-a" />
<zeebe:ioMapping><zeebe:input source="=1" target="fromInput" /><zeebe:output source="=result" target="aResult" /></zeebe:ioMapping>
${listeners(['start', 'el-a-start-1'], ['start', 'el-a-start-2'], ['end', 'el-a-end'])}</bpmn:extensionElements></bpmn:serviceTask>
<bpmn:exclusiveGateway id="route"><bpmn:extensionElements>${listeners(['start', 'el-route'])}</bpmn:extensionElements></bpmn:exclusiveGateway>
<bpmn:endEvent id="left" /><bpmn:endEvent id="right" />
${flow('f1', 'start', 'A')}${flow('f2', 'A', 'route')}${flow('f3', 'route', 'left', '=way = "left"')}${flow('f4', 'route', 'right', '=way = "right"')}`,
listeners(['start', 'el-process-start'], ['end', 'el-process-end']))

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'el-p.bpmn', process: Buffer.from(MODEL) }])
})

type JobVariables = Parameters<typeof client.zeebe.completeJob>[0]['variables']

async function complete(type: string, key: string, variables: JobVariables = {}) {
  const job = await activateOne(type, key)
  await client.zeebe.completeJob({ jobKey: job.key, variables })
  return job
}

test('listeners run in model order around the process and its elements, and their variables go where Zeebe puts them', async () => {
  // given an instance: the process's start listener comes first, before the start event
  const key = await startInstance('el-p', { input: 'x' })
  await complete('el-process-start', key, { fromProcessListener: true })
  expect(await elementStates(key, 'start')).toEqual(['COMPLETED'])
  // A's start listeners see the input mapping; A's own job waits until both are done
  const first = await complete('el-a-start-1', key, { fromStart1: 'one' })
  expect(first.variables).toMatchObject({ fromInput: 1, input: 'x', fromProcessListener: true })
  expect((await client.zeebe.activateJobs({ type: 'el-a', worker: 'w', maxJobsToActivate: 1, timeout: 60_000, requestTimeout: -1 }))).toEqual([])
  const second = await complete('el-a-start-2', key)
  expect(second.variables).toMatchObject({ fromStart1: 'one' })
  const own = await complete('el-a', key, { result: 42 })
  expect(own.variables).toMatchObject({ fromStart1: 'one', fromInput: 1 })
  // the end listener sees the output mapping, and its variables reach the process scope
  const end = await complete('el-a-end', key, { fromEnd: 'done' })
  expect(end.variables).toMatchObject({ aResult: 42 })
  // the gateway's start listener decides the way
  await complete('el-route', key, { way: 'right' })
  await complete('el-process-end', key)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'right')).toEqual(['COMPLETED'])
  const variables = await variablesOf(key)
  expect(variables).toMatchObject({ fromProcessListener: true, aResult: 42, fromEnd: 'done' })
  // a start listener's variables were its element's own (A's, the gateway's): gone with it
  expect(variables).not.toHaveProperty('fromStart1')
  expect(variables).not.toHaveProperty('way')
})

test('REST shows a listener job for what it is: its kind and event type', async () => {
  const key = await startInstance('el-p')
  const jobs = await until('the process start listener job', async () => {
    const found = await search<{ type: string; kind: string; listenerEventType: string; elementId: string }>('jobs', { processInstanceKey: key })
    return found.length > 0 ? found : undefined
  })
  expect(jobs).toEqual([expect.objectContaining({ type: 'el-process-start', kind: 'EXECUTION_LISTENER', listenerEventType: 'START', elementId: 'el-p' })])
})

test('a listener job out of retries is an incident on its element; resolved, that listener runs again and the instance goes on', async () => {
  const key = await startInstance('el-p')
  await complete('el-process-start', key)
  const failing = await activateOne('el-a-start-1', key)
  await client.zeebe.failJob({ jobKey: failing.key, retries: 0, errorMessage: 'listener down', retryBackOff: 0 })
  const incident = await activeIncident(key)
  expect(incident).toMatchObject({ elementId: 'A', errorType: 'JOB_NO_RETRIES', errorMessage: 'listener down' })
  await client.zeebe.updateJobRetries({ jobKey: failing.key, retries: 1 })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  const again = await activateOne('el-a-start-1', key)
  expect(again.key).toBe(failing.key)
  await client.zeebe.completeJob({ jobKey: again.key, variables: {} })
  await activateOne('el-a-start-2', key)
  expect(await incidentsOf(key, 'ACTIVE')).toEqual([])
})

test('a BPMN error from a listener job is refused; canceling the instance removes the listener job waiting', async () => {
  const key = await startInstance('el-p')
  const job = await activateOne('el-process-start', key)
  const refused = await grpcFailure(client.zeebe.throwError({ jobKey: job.key, errorCode: 'E', errorMessage: 'no' }))
  expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION)
  expect(refused.details).toContain('Throwing BPMN errors from EXECUTION_LISTENER jobs is not supported')
  await client.zeebe.cancelProcessInstance(key)
  await expectInstanceState(key, 'TERMINATED')
  await until('the listener job gone', async () => {
    const jobs = await search<{ jobKey: string; state: string }>('jobs', { processInstanceKey: key })
    return jobs.every((j) => j.state !== 'CREATED') ? true : undefined
  })
})

test('deployment refuses listeners where Zeebe does, and duplicates, with its wording', async () => {
  const cases: [string, string][] = [
    [definitions('el-bad-start', `<bpmn:startEvent id="s"><bpmn:extensionElements>${listeners(['start', 't'])}</bpmn:extensionElements></bpmn:startEvent><bpmn:endEvent id="e" />${flow('f', 's', 'e')}`),
      "- Element: s\n    - ERROR: Execution listeners of type 'start' are not supported by start events"],
    [definitions('el-bad-gateway', `<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="g"><bpmn:extensionElements>${listeners(['end', 't'])}</bpmn:extensionElements></bpmn:exclusiveGateway><bpmn:endEvent id="e" />${flow('f1', 's', 'g')}${flow('f2', 'g', 'e')}`),
      "- Element: g\n    - ERROR: Execution listeners of type 'end' are not supported by gateway element"],
    [definitions('el-bad-boundary', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="x" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:extensionElements>${listeners(['start', 'l'])}</bpmn:extensionElements><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="e" /><bpmn:endEvent id="e2" />${flow('f1', 's', 't')}${flow('f2', 't', 'e')}${flow('f3', 'b', 'e2')}`),
      "- Element: b\n    - ERROR: Execution listeners of type 'start' are not supported by boundary events"],
    [definitions('el-dup', `<bpmn:startEvent id="s" /><bpmn:manualTask id="m"><bpmn:extensionElements>${listeners(['start', 'same'], ['start', 'same'])}</bpmn:extensionElements></bpmn:manualTask><bpmn:endEvent id="e" />${flow('f1', 's', 'm')}${flow('f2', 'm', 'e')}`),
      "- Element: m\n    - ERROR: Found '2' duplicates based on eventType[start] and type[same], these combinations should be unique."],
  ]
  for (const [xml, problem] of cases) {
    const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'refused.bpmn', process: Buffer.from(xml) }]))
    expect(refused.details).toContain(problem)
  }
})
