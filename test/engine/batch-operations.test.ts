/**
 * Batch operations of the Camunda 8.8 REST API (docs: components/concepts/batch-operations and
 * the /v2 batch operation endpoints): process instances chosen by a filter are canceled, their
 * incidents resolved, migrated or modified, in chunks; the operation can be followed, suspended,
 * resumed and canceled, and its items searched (issue #17). The SDK 8.8 has no client for these,
 * so the tests call /v2 as Operate does.
 */
import { engineTestKit, until } from '../support/engine-test-kit'

const { client, engine, expectInstanceState, elementStates, activateOne, search, incidentsOf, cancelAfterTest } = engineTestKit({ worker: 'batch' })

const definitions = (id: string, body: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`
const task = (id: string, type: string): string =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
const MODEL = (id: string, extra = ''): string => definitions(id, `<bpmn:startEvent id="start" />${task('A', `${id}-a`)}${task('B', `${id}-b`)}${extra}
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="A" /><bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="B" />`)

interface Batch { batchOperationKey: string; state: string; batchOperationType: string; operationsTotalCount: number; operationsCompletedCount: number; operationsFailedCount: number }
interface Item { itemKey: string; processInstanceKey: string; state: string; errorMessage?: string }

let v2 = ''

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'bo-p.bpmn', process: Buffer.from(MODEL('bo-p')) }, { name: 'bo-other.bpmn', process: Buffer.from(MODEL('bo-other')) }])
  const deployed = await client.zeebe.deployResources([{ name: 'bo-p.bpmn', process: Buffer.from(MODEL('bo-p', '<bpmn:endEvent id="v2" />')) }])
  v2 = (deployed.deployments[0] as { process: { processDefinitionKey: string } }).process.processDefinitionKey
})

async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
}

async function batch(key: string): Promise<Batch> {
  return (await fetch(`http://127.0.0.1:${engine.restPort}/v2/batch-operations/${key}`)).json() as Promise<Batch>
}

async function finished(key: string): Promise<Batch> {
  return until(`batch ${key} finished`, async () => { const b = await batch(key); return ['COMPLETED', 'PARTIALLY_COMPLETED', 'CANCELED'].includes(b.state) ? b : undefined }, 20_000)
}

async function items(batchOperationKey: string): Promise<Item[]> {
  return (await post<{ items: Item[] }>('/batch-operation-items/search', { filter: { batchOperationKey }, page: { limit: 1000 } })).body.items
}

async function instances(bpmnProcessId: string, n: number, version = 1): Promise<string[]> {
  const keys: string[] = []
  for (let i = 0; i < n; i++) {
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId, version, variables: { i } })
    cancelAfterTest(processInstanceKey)
    keys.push(processInstanceKey)
  }
  return keys
}

test('batch cancellation: the running instances the filter selects are terminated, the others are not touched', async () => {
  // given three instances of bo-p (version 1) and one of bo-other
  const chosen = await instances('bo-p', 3)
  const [other] = await instances('bo-other', 1)
  // when a batch cancels those of bo-p
  const created = await post<{ batchOperationKey: string; batchOperationType: string }>('/process-instances/cancellation', { filter: { processDefinitionId: 'bo-p', processDefinitionVersion: 1 } })
  expect(created.status).toBe(200)
  expect(created.body.batchOperationType).toBe('CANCEL_PROCESS_INSTANCE')
  // then it completes with three items, and only those instances are terminated
  expect(await finished(created.body.batchOperationKey)).toMatchObject({ state: 'COMPLETED', operationsTotalCount: 3, operationsCompletedCount: 3, operationsFailedCount: 0 })
  for (const key of chosen) await expectInstanceState(key, 'TERMINATED')
  expect((await search<{ state: string }>('process-instances', { processInstanceKey: other }))[0].state).toBe('ACTIVE')
  expect((await items(created.body.batchOperationKey)).map((i) => i.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED'])
  // and the batch is found by its type and state, and the instances by the batch
  const found = await post<{ items: Batch[] }>('/batch-operations/search', { filter: { operationType: 'CANCEL_PROCESS_INSTANCE', state: 'COMPLETED' } })
  expect(found.body.items.map((b) => b.batchOperationKey)).toContain(created.body.batchOperationKey)
  const byBatch = await search<{ processInstanceKey: string }>('process-instances', { batchOperationId: created.body.batchOperationKey })
  expect(byBatch.map((p) => p.processInstanceKey).sort()).toEqual([...chosen].sort())
})

test('batch incident resolution: jobs out of retries get one more, their incidents are resolved, and the work goes on', async () => {
  const [key] = await instances('bo-other', 1)
  const job = await activateOne('bo-other-a', key)
  await client.zeebe.failJob({ jobKey: job.key, retries: 0, errorMessage: 'the service was down', retryBackOff: 0 })
  await until('the incident', async () => ((await incidentsOf(key, 'ACTIVE')).length === 1 ? true : undefined))
  const created = await post<{ batchOperationKey: string }>('/process-instances/incident-resolution', { filter: { processInstanceKey: key } })
  expect(await finished(created.body.batchOperationKey)).toMatchObject({ state: 'COMPLETED', operationsTotalCount: 1 })
  expect(await incidentsOf(key, 'ACTIVE')).toEqual([])
  const retried = await activateOne('bo-other-a', key)
  expect(retried.retries).toBe(1)
})

test('batch migration: an instance that cannot follow the plan is FAILED with the engine\'s reason, the others move; the operation is PARTIALLY_COMPLETED', async () => {
  // given two instances of version 1 at A, and one moved on to B
  const [atA1, atA2, atB] = await instances('bo-p', 3)
  const jobs = await client.zeebe.activateJobs({ type: 'bo-p-a', worker: 'batch', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 1_000 })
  for (const j of jobs) if (j.processInstanceKey === atB) await client.zeebe.completeJob({ jobKey: j.key, variables: {} })
  await until('atB at B', async () => ((await elementStates(atB, 'B')).includes('ACTIVE') ? true : undefined))
  // when all three are migrated to version 2 with a plan that maps A only
  const created = await post<{ batchOperationKey: string }>('/process-instances/migration', {
    filter: { processInstanceKey: { $in: [atA1, atA2, atB] } },
    migrationPlan: { targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'A', targetElementId: 'A' }] },
  })
  // then
  expect(await finished(created.body.batchOperationKey)).toMatchObject({ state: 'PARTIALLY_COMPLETED', operationsTotalCount: 3, operationsCompletedCount: 2, operationsFailedCount: 1 })
  const failed = (await items(created.body.batchOperationKey)).filter((i) => i.state === 'FAILED')
  expect(failed.map((i) => i.processInstanceKey)).toEqual([atB])
  expect(failed[0].errorMessage).toContain("no mapping instruction defined for active element with id 'B'")
  for (const key of [atA1, atA2]) expect((await search<{ processDefinitionKey: string }>('process-instances', { processInstanceKey: key }))[0].processDefinitionKey).toBe(v2)
})

test('batch modification moves the tokens at A to B; an instance with no token at A is SKIPPED', async () => {
  const [atA, atB] = await instances('bo-other', 2)
  const first = await client.zeebe.activateJobs({ type: 'bo-other-a', worker: 'batch', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 1_000 })
  for (const j of first) if (j.processInstanceKey === atB) await client.zeebe.completeJob({ jobKey: j.key, variables: {} })
  await until('atB at B', async () => ((await elementStates(atB, 'B')).includes('ACTIVE') ? true : undefined))
  const created = await post<{ batchOperationKey: string }>('/process-instances/modification', {
    filter: { processInstanceKey: { $in: [atA, atB] } }, moveInstructions: [{ sourceElementId: 'A', targetElementId: 'B' }],
  })
  expect(await finished(created.body.batchOperationKey)).toMatchObject({ state: 'COMPLETED', operationsTotalCount: 2 })
  const states = Object.fromEntries((await items(created.body.batchOperationKey)).map((i) => [i.processInstanceKey, i.state]))
  expect(states).toEqual({ [atA]: 'COMPLETED', [atB]: 'SKIPPED' })
  expect(await elementStates(atA, 'A')).toEqual(['TERMINATED'])
  expect(await elementStates(atA, 'B')).toEqual(['ACTIVE'])
})

test('a running batch is suspended (nothing moves), resumed (it finishes), and another one canceled (its remaining items are CANCELED)', async () => {
  // given enough instances that a batch runs over several chunks
  await instances('bo-other', 240)
  const created = await post<{ batchOperationKey: string }>('/process-instances/cancellation', { filter: { processDefinitionId: 'bo-other' } })
  const key = created.body.batchOperationKey
  // when it is suspended at once
  expect((await post(`/batch-operations/${key}/suspension`, {})).status).toBe(204)
  const suspended = await batch(key)
  expect(suspended.state).toBe('SUSPENDED')
  expect(suspended.operationsCompletedCount).toBeLessThan(suspended.operationsTotalCount)
  // then nothing moves while it is suspended
  await new Promise((resolve) => setTimeout(resolve, 400))
  expect((await batch(key)).operationsCompletedCount).toBe(suspended.operationsCompletedCount)
  // and resumed, it finishes
  expect((await post(`/batch-operations/${key}/resumption`, {})).status).toBe(204)
  expect(await finished(key)).toMatchObject({ state: 'COMPLETED', operationsCompletedCount: suspended.operationsTotalCount })
  // a second batch, canceled at once, leaves its remaining items CANCELED and their instances running
  const remaining = await instances('bo-other', 240)
  const second = (await post<{ batchOperationKey: string }>('/process-instances/cancellation', { filter: { processDefinitionId: 'bo-other' } })).body.batchOperationKey
  expect((await post(`/batch-operations/${second}/cancellation`, {})).status).toBe(204)
  const canceled = await batch(second)
  expect(canceled.state).toBe('CANCELED')
  const secondItems = await items(second)
  expect(secondItems.some((i) => i.state === 'CANCELED')).toBe(true)
  const stillRunning = await search<{ processInstanceKey: string }>('process-instances', { processDefinitionId: 'bo-other', state: 'ACTIVE' })
  expect(stillRunning.length).toBe(secondItems.filter((i) => i.state === 'CANCELED').length)
  expect(remaining.length).toBe(240)
  // and a finished batch can be neither suspended nor resumed; an unknown one is not found
  const refused = await post<{ detail: string }>(`/batch-operations/${key}/suspension`, {})
  expect(refused.status).toBe(409)
  expect(refused.body.detail).toContain("but it is in state 'COMPLETED'")
  expect((await post(`/batch-operations/${second}/resumption`, {})).status).toBe(409)
  expect((await post('/batch-operations/2251799813999999/cancellation', {})).status).toBe(404)
})
