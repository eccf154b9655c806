/**
 * Ad-hoc subprocesses (issue #18), as Zeebe 8.8 runs them (docs: components/modeler/bpmn/
 * ad-hoc-subprocesses): the elements activeElementsCollection names start on entering, more
 * through the ad-hoc activities API; each inner flow's output is collected; the subprocess
 * completes when nothing inside is active, or when its completion condition holds (the rest
 * canceled unless cancelRemainingInstances is false); with nothing activated it stays active.
 */
import { engineTestKit, grpcFailure, until } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState, elementStates, activateOne, variablesOf, activeIncident } = engineTestKit({ worker: 'ad-hoc' })

const task = (id: string, type: string): string =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
const flow = (id: string, from: string, to: string): string => `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
const definitions = (id: string, adHocAttributes: string, adHocExtensions: string, inner: string, condition = ''): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:adHocSubProcess id="AH"${adHocAttributes}><bpmn:extensionElements>${adHocExtensions}</bpmn:extensionElements>${inner}${condition ? `<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">${condition}</bpmn:completionCondition>` : ''}</bpmn:adHocSubProcess>
<bpmn:endEvent id="end" />${flow('f1', 'start', 'AH')}${flow('f2', 'AH', 'end')}</bpmn:process></bpmn:definitions>`

const INNER = `${task('A', 'ah-a')}${task('B', 'ah-b')}${task('C', 'ah-c')}${task('D', 'ah-d')}${flow('cd', 'C', 'D')}`

beforeAll(async () => {
  await client.zeebe.deployResources([
    { name: 'ah-open.bpmn', process: Buffer.from(definitions('ah-open', '', '<zeebe:adHoc activeElementsCollection="=toDo" outputCollection="results" outputElement="=result" />', INNER)) },
    { name: 'ah-until.bpmn', process: Buffer.from(definitions('ah-until', '', '<zeebe:adHoc activeElementsCollection="=toDo" />', INNER, '=done = true')) },
  ])
})

async function complete(type: string, key: string, variables: Record<string, string | boolean> = {}): Promise<void> {
  const job = await activateOne(type, key)
  await client.zeebe.completeJob({ jobKey: job.key, variables })
}

test('the elements activeElementsCollection names start; each inner flow\'s output is collected; it completes when nothing inside is active', async () => {
  const key = await startInstance('ah-open', { toDo: ['A', 'C'] })
  await complete('ah-a', key, { result: 'a done' })
  await complete('ah-c', key)
  expect(await elementStates(key, 'AH')).toEqual(['ACTIVE'])
  await complete('ah-d', key, { result: 'c then d done' })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'B')).toEqual([])
  expect((await variablesOf(key)).results).toEqual(['a done', 'c then d done'])
})

test('with nothing to activate it stays active; the API activates an element with its variables, and refuses one it does not offer', async () => {
  const key = await startInstance('ah-open', { toDo: [] })
  const [adHoc] = await until('the ad-hoc subprocess', async () => {
    const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/element-instances/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter: { processInstanceKey: key, elementId: 'AH' } }) })
    const items = ((await response.json()) as { items: { elementInstanceKey: string; state: string; type: string }[] }).items
    return items.length > 0 ? items : undefined
  })
  expect(adHoc).toMatchObject({ state: 'ACTIVE', type: 'AD_HOC_SUB_PROCESS' })
  const activate = (elements: unknown) => fetch(`http://127.0.0.1:${engine.restPort}/v2/element-instances/ad-hoc-activities/${adHoc.elementInstanceKey}/activation`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ elements }),
  })
  const refused = await activate([{ elementId: 'D' }])
  expect(refused.status).toBe(404)
  expect(((await refused.json()) as { detail: string }).detail).toBe(`Command 'ACTIVATE' rejected with code 'NOT_FOUND': Expected to activate activities for ad-hoc sub-process with key '${adHoc.elementInstanceKey}', but the given elements [D] do not exist.`)
  expect((await activate([{ elementId: 'B', variables: { topic: 'from the API' } }])).status).toBe(204)
  const job = await activateOne('ah-b', key)
  expect(job.variables).toMatchObject({ topic: 'from the API' })
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
})

test('the completion condition met, the remaining inner elements are canceled and the subprocess completes', async () => {
  const key = await startInstance('ah-until', { toDo: ['A', 'B'], done: false })
  await complete('ah-a', key, { done: true })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'B')).toEqual(['TERMINATED'])
})

test('an element id that is not an inner element is an incident; deployment refuses start and end events inside', async () => {
  const key = await startInstance('ah-open', { toDo: ['nowhere'] })
  const incident = await activeIncident(key)
  expect(incident.errorMessage).toMatch(/^Expected to activate activities for ad-hoc sub-process with key '\d+', but the given elements \[nowhere\] do not exist\.$/)
  const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'ah-bad.bpmn', process: Buffer.from(definitions('ah-bad', '', '', `<bpmn:startEvent id="inner-start" />${task('A', 'x')}<bpmn:endEvent id="inner-end" />`)) }]))
  expect(refused.details).toContain('- Element: AH\n    - ERROR: Must not contain a start event.\n    - ERROR: Must not contain an end event.')
})

// ------------------------------------------------------------------ job worker implementation

/*
 * The job worker implementation (docs: ad-hoc-subprocesses, "Job worker implementation", as the AI
 * agent connector uses it): a job on entering and again whenever an inner flow completes, one at
 * a time; its REST completion `result` activates elements or fulfills the completion condition.
 */
const WORKER_INNER = `${task('A', 'ah-a')}${task('B', 'ah-b')}${task('C', 'ah-c')}${task('D', 'ah-d')}${flow('cd', 'C', 'D')}`

interface RestJob { jobKey: string; kind: string; variables: Record<string, unknown> }

async function rest(path: string, body: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${engine.restPort}/v2${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function agentJob(processInstanceKey: string): Promise<RestJob> {
  return until('the ad-hoc subprocess job', async () => {
    const response = await rest('/jobs/activation', { type: 'ah-agent', worker: 'agent', timeout: 60_000, maxJobsToActivate: 10, requestTimeout: -1 })
    const { jobs } = (await response.json()) as { jobs: (RestJob & { processInstanceKey: string })[] }
    return jobs.find((job) => job.processInstanceKey === processInstanceKey)
  })
}

async function completeWithResult(jobKey: string, result: unknown, variables: Record<string, unknown> = {}): Promise<Response> {
  return rest(`/jobs/${jobKey}/completion`, { variables, result: { type: 'adHocSubProcess', ...(result as object) } })
}

beforeAll(async () => {
  await client.zeebe.deployResources([
    { name: 'ah-worker.bpmn', process: Buffer.from(definitions('ah-worker', '', '<zeebe:taskDefinition type="ah-agent" retries="2" />', WORKER_INNER)) },
  ])
})

test('a job worker implementation gets a job on entering, activates the elements of its result, and is asked again after each inner flow', async () => {
  // given an instance entering an ad-hoc subprocess handled by a job worker
  const key = await startInstance('ah-worker', {})
  const first = await agentJob(key)
  expect(first.kind).toBe('AD_HOC_SUB_PROCESS')
  expect((first.variables.adHocSubProcessElements as { elementId: string }[]).map((e) => e.elementId)).toEqual(['A', 'B', 'C'])
  expect(await elementStates(key, 'A')).toEqual([])
  // when its result activates A (with a variable of its own) and the flow C -> D
  expect((await completeWithResult(first.jobKey, { activateElements: [{ elementId: 'A', variables: { question: 'q1' } }, { elementId: 'C' }] }, { thinking: 'step 1' })).status).toBe(204)
  const a = await activateOne('ah-a', key)
  expect(a.variables).toMatchObject({ question: 'q1', thinking: 'step 1' })
  // then C completing is not the end of its flow: no new job yet; A completing is
  await complete('ah-c', key)
  await client.zeebe.completeJob({ jobKey: a.key, variables: {} })
  const second = await agentJob(key)
  // when D completes too, the open job is replaced by a new one: the old key is gone
  await complete('ah-d', key)
  const third = await agentJob(key)
  expect(third.jobKey).not.toBe(second.jobKey)
  expect((await completeWithResult(second.jobKey, { isCompletionConditionFulfilled: true })).status).toBe(404)
  // then its result fulfilling the completion condition completes the subprocess and the instance
  expect((await completeWithResult(third.jobKey, { isCompletionConditionFulfilled: true })).status).toBe(204)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'B')).toEqual([])
})

test('a job worker result is refused when it names an element the subprocess does not offer (NOT_FOUND), or activates and completes at once (INVALID_ARGUMENT); the job stays', async () => {
  // given the worker's job
  const key = await startInstance('ah-worker', {})
  const job = await agentJob(key)
  // when its result names D (reached only through C) or both activates and completes
  const unknown = await completeWithResult(job.jobKey, { activateElements: [{ elementId: 'D' }] })
  const both = await completeWithResult(job.jobKey, { activateElements: [{ elementId: 'A' }], isCompletionConditionFulfilled: true })
  // then they are refused with Zeebe's reasons (NOT_FOUND, INVALID_ARGUMENT), and the job can still be completed
  expect(unknown.status).toBe(404)
  expect(((await unknown.json()) as { detail: string }).detail).toContain('but the given elements [D] do not exist.')
  expect(both.status).toBe(400)
  expect(((await both.json()) as { detail: string }).detail).toContain('the job result contains elements to be activated while the completion condition is fulfilled')
  expect((await completeWithResult(job.jobKey, { activateElements: [{ elementId: 'A' }, { elementId: 'B' }] })).status).toBe(204)
  // when A is done and the worker then ends the subprocess, canceling what is still active
  await complete('ah-a', key)
  const next = await agentJob(key)
  expect((await completeWithResult(next.jobKey, { isCompletionConditionFulfilled: true, isCancelRemainingInstances: true })).status).toBe(204)
  // then B is terminated and the instance completes
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'B')).toEqual(['TERMINATED'])
})

test('an interrupting event subprocess inside ends a job-worker ad-hoc subprocess without asking the worker: its job and active elements go', async () => {
  // given an ad-hoc subprocess handled by a worker, with an interrupting message event subprocess inside
  const esp = '<bpmn:subProcess id="ESP" triggeredByEvent="true"><bpmn:startEvent id="esp-start"><bpmn:messageEventDefinition messageRef="stop" /></bpmn:startEvent>'
    + `<bpmn:endEvent id="esp-end" />${flow('esp-f', 'esp-start', 'esp-end')}</bpmn:subProcess>`
  const xml = definitions('ah-worker-stop', '', '<zeebe:taskDefinition type="ah-agent" />', `${task('A', 'ah-a')}${esp}`)
    .replace('</bpmn:process>', '</bpmn:process><bpmn:message id="stop" name="ah-stop"><bpmn:extensionElements><zeebe:subscription correlationKey="=ticket" /></bpmn:extensionElements></bpmn:message>')
  await client.zeebe.deployResources([{ name: 'ah-worker-stop.bpmn', process: Buffer.from(xml) }])
  const key = await startInstance('ah-worker-stop', { ticket: 'T-1' })
  const job = await agentJob(key)
  expect((await completeWithResult(job.jobKey, { activateElements: [{ elementId: 'A' }] })).status).toBe(204)
  await activateOne('ah-a', key)
  // when the message arrives
  await client.zeebe.publishMessage({ name: 'ah-stop', correlationKey: 'T-1', variables: {} })
  // then A is terminated and the subprocess and the instance complete, no new job asked for
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'A')).toEqual(['TERMINATED'])
  expect(await elementStates(key, 'AH')).toEqual(['COMPLETED'])
})
