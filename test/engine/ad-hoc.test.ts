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
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs-${id}">
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
  expect(refused.status).toBe(400)
  expect(((await refused.json()) as { detail: string }).detail).toContain("cannot be activated: 'D'")
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
  expect(incident.errorMessage).toContain("given elements could not be activated: 'nowhere'")
  const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'ah-bad.bpmn', process: Buffer.from(definitions('ah-bad', '', '', `<bpmn:startEvent id="inner-start" />${task('A', 'x')}<bpmn:endEvent id="inner-end" />`)) }]))
  expect(refused.details).toContain('- Element: AH\n    - ERROR: Must not contain a start event.\n    - ERROR: Must not contain an end event.')
})
