/**
 * A finished instance whose variables are still only in the live rows of the last checkpoint (a
 * restart loaded them cold, or they left memory) is archived without reading them back (issue #19):
 * a variable of several MB took 10 to 15 ms to read, parse and write again on the event loop. The
 * writer thread copies those rows into the history, and the next checkpoint deletes them by scope,
 * in that order. Meanwhile, and after a crash, the variables are found as before.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import { SqliteHistory } from '../../src/engine/state/sqlite-history'
import { EngineStore } from '../../src/engine/state/store'
import { createTestClient, type TestClient } from '../support/engine-harness'
import { connect, startEngineProcess } from '../support/engine-process'
import { finishedInstance } from '../support/finished-instance'

jest.setTimeout(120_000)

const WAITING = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="rows-definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rows-waiting" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to-wait</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to-wait" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>to-wait</bpmn:incoming><bpmn:outgoing>to-end</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="go" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to-end" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>to-end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:message id="go" name="rows-go">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=orderId" /></bpmn:extensionElements>
  </bpmn:message>
</bpmn:definitions>
`

/** A payload of about 1 MB, different for each order. */
const payloadOf = (orderId: string) => `${orderId}:`.padEnd(1_000_000, 'x')

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-rows-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

type Zeebe = TestClient['zeebe']

/** `count` waiting instances, each with `orderId` and a 1 MB `payload`; their keys by orderId. */
async function createWaiting(zeebe: Zeebe, prefix: string, count: number): Promise<Map<string, string>> {
  await zeebe.deployResource({ process: Buffer.from(WAITING), name: 'rows-waiting.bpmn' })
  const keys = new Map<string, string>()
  for (let i = 0; i < count; i++) {
    const orderId = `${prefix}-${i}`
    keys.set(orderId, (await zeebe.createProcessInstance({ bpmnProcessId: 'rows-waiting', variables: { orderId, payload: payloadOf(orderId) } })).processInstanceKey)
  }
  return keys
}

/** POST to the engine's /v2 API; the parsed answer. */
async function post<T>(restPort: number, route: string, body: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${restPort}/v2${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`POST /v2${route}: ${response.status} ${await response.text()}`)
  return await response.json() as T
}

/** Waits until every one of `keys` is COMPLETED (search by key, which reads no variable). */
async function completed(restPort: number, keys: string[]): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const { items } = await post<{ items: { state: string }[] }>(restPort, '/process-instances/search', { filter: { processDefinitionId: 'rows-waiting', state: 'COMPLETED' }, page: { limit: 100 } })
    if (items.length >= keys.length) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the instances did not complete')
}

/** The variables of one process instance, found by search, as name -> value. */
async function variablesOf(restPort: number, processInstanceKey: string): Promise<Record<string, unknown>> {
  const { items } = await post<{ items: { name: string; value: string }[] }>(restPort, '/variables/search', { filter: { processInstanceKey } })
  return Object.fromEntries(items.map((v) => [v.name, JSON.parse(v.value) as unknown]))
}

/** What the data dir holds for the variables of `instances`: live rows, and history rows with their instance. */
function storedVariables(file: string, instances: string[]): { live: number; history: { instance: string; name: string; length: number }[]; offPlace: string[] } {
  const db = new Database(file, { readonly: true })
  try {
    const marks = instances.map(() => '?').join(', ')
    const live = db.prepare(`SELECT COUNT(*) FROM live WHERE kind = 'variable' AND json ->> 'processInstanceKey' IN (${marks})`).pluck().get(...instances) as number
    const history = db.prepare(`SELECT instance, json ->> 'name' AS name, length(json ->> 'value') AS length FROM history WHERE kind = 'variable' AND instance IN (${marks}) ORDER BY instance, name`)
      .all(...instances) as { instance: string; name: string; length: number }[]
    // each after the instance rows' region (state/history-rowid.ts)
    const placed = db.prepare(`SELECT rowid, key FROM history WHERE kind = 'variable' AND instance IN (${marks})`).safeIntegers().all(...instances) as { rowid: bigint; key: string }[]
    const offPlace = placed.filter(({ rowid }) => rowid <= 0n).map(({ key }) => key)
    return { live, history, offPlace }
  } finally {
    db.close()
  }
}

function durableOf(server: EngineServer): NonNullable<EngineServer['durable']> {
  if (!server.durable) throw new Error('the engine has no data dir')
  return server.durable
}

/**
 * `count` instances waiting with a 1 MB variable each, stopped cleanly and started again in
 * `dir`: their variables are left in the rows of the checkpoint. The restarted engine, a client,
 * the instances' keys by orderId, and how many times variable rows were read on the event loop
 * since (other records are read back from their rows one by one: the instances, their subscriptions).
 */
async function restartedWithVariablesInRows(dir: string, prefix: string, count: number) {
  const dataDir = path.join(scratch, dir)
  const first = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir })
  const firstClient = createTestClient(first)
  const keys = await createWaiting(firstClient.zeebe, prefix, count).finally(async () => {
    await firstClient.close()
    await first.close()
  })
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir })
  const store = durableOf(server).store
  const [ofScope, row, all] = [jest.spyOn(store, 'variablesOfScope'), jest.spyOn(store, 'liveRow'), jest.spyOn(store, 'allVariables')]
  const variableReads = () => ofScope.mock.calls.length + all.mock.calls.length + row.mock.calls.filter(([kind]) => kind === 'variable').length
  return { server, client: createTestClient(server), keys, variableReads, rowReads: row, allReads: all }
}

test('instances whose variables are left in their rows run to their end without reading them, and the history then holds them whole', async () => {
  // given three instances waiting with a 1 MB variable each, stopped cleanly and started again:
  // their variables are left in the rows of the checkpoint
  const { server, client, keys, variableReads, rowReads } = await restartedWithVariablesInRows('in-process', 'rows', 3)
  try {
    // when each is woken by its message and runs to its end
    for (const orderId of keys.keys()) await client.zeebe.publishMessage({ name: 'rows-go', correlationKey: orderId, variables: {}, timeToLive: 0 })
    await completed(server.restPort, [...keys.values()])

    // then no variable row was read back on the event loop
    expect(variableReads()).toBe(0)
    expect(rowReads).toHaveBeenCalled()
    // and a search finds each instance's variables whole, before and after the checkpoint that writes them
    const [firstOrder, firstKey] = [...keys][0]
    expect(await variablesOf(server.restPort, firstKey)).toEqual({ orderId: firstOrder, payload: payloadOf(firstOrder) })
    durableOf(server).checkpoint()
    for (const [orderId, key] of keys) expect(await variablesOf(server.restPort, key)).toEqual({ orderId, payload: payloadOf(orderId) })
    // and the data dir holds them in the history only
    const stored = storedVariables(durableOf(server).store.file, [...keys.values()])
    expect(stored.live).toBe(0)
    expect(stored.offPlace).toEqual([])
    expect(stored.history).toEqual([...keys.values()].sort().flatMap((instance) => [
      { instance, name: 'orderId', length: 'rows-0'.length },
      { instance, name: 'payload', length: 1_000_000 },
    ]))
  } finally {
    await client.close()
    await server.close()
  }
})

test('a search by name over variables left in their rows reads the values of its page only', async () => {
  // given five instances waiting with a 1 MB variable each, stopped cleanly and started again
  const { server, client, keys, variableReads, allReads } = await restartedWithVariablesInRows('search', 'search', 5)
  try {
    // when the variables named payload are searched, two to a page, newest instance first
    type Found = { items: { name: string; value: string; processInstanceKey: string; isTruncated: boolean }[]; page: { totalItems: number } }
    const page = await post<Found>(server.restPort, '/variables/search', { filter: { name: 'payload' }, sort: [{ field: 'processInstanceKey', order: 'DESC' }], page: { limit: 2 } })

    // then all five are counted, the page holds the last two whole, and only their two values were read
    const [newest, second] = [...keys].reverse()
    expect(page.page.totalItems).toBe(5)
    expect(page.items.map((v) => [v.processInstanceKey, v.name, JSON.parse(v.value), v.isTruncated])).toEqual([
      [newest[1], 'payload', payloadOf(newest[0]), false],
      [second[1], 'payload', payloadOf(second[0]), false],
    ])
    expect(variableReads()).toBe(2)

    // and a search by value still reads them all, and finds the one
    const byValue = await post<Found>(server.restPort, '/variables/search', { filter: { name: 'orderId', value: JSON.stringify('search-3') } })
    expect(byValue.items.map((v) => v.processInstanceKey)).toEqual([keys.get('search-3')])
    expect(allReads).toHaveBeenCalled()

    // when two of them end (their variables go to the history), and the payloads are paged through two at a time
    for (const orderId of ['search-1', 'search-3']) await client.zeebe.publishMessage({ name: 'rows-go', correlationKey: orderId, variables: {}, timeToLive: 0 })
    await completed(server.restPort, [keys.get('search-1') as string, keys.get('search-3') as string])
    const seen: [string, unknown][] = []
    const totals: number[] = []
    let after: string | undefined
    for (let pages = 0; pages < 5; pages++) {
      const next = await post<Found & { page: { endCursor?: string } }>(server.restPort, '/variables/search', { filter: { name: 'payload' }, page: { limit: 2, ...(after ? { after } : {}) } })
      totals.push(next.page.totalItems)
      seen.push(...next.items.map((v): [string, unknown] => [v.processInstanceKey, JSON.parse(v.value)]))
      if (next.items.length < 2) break
      after = next.page.endCursor
    }
    // then all five are counted, and each comes once, in key order, whole, whether it lives on or ended
    expect(totals[0]).toBe(5)
    expect(seen).toEqual([...keys].sort(([, a], [, b]) => (a < b ? -1 : 1)).map(([orderId, key]) => [key, payloadOf(orderId)]))
  } finally {
    await client.close()
    await server.close()
  }
})

test('a search pages through more variables left in rows than one chunk holds, merged in key order with the finished ones', async () => {
  // given 600 waiting instances (more than a stored chunk of 500), restarted, one in seven ended since
  const dataDir = path.join(scratch, 'chunks')
  let server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir })
  let client = createTestClient(server)
  const keys: string[] = []
  try {
    await client.zeebe.deployResource({ process: Buffer.from(WAITING), name: 'rows-waiting.bpmn' })
    for (let i = 0; i < 600; i += 50) {
      keys.push(...await Promise.all(Array.from({ length: 50 }, async (_, j) =>
        (await client.zeebe.createProcessInstance({ bpmnProcessId: 'rows-waiting', variables: { orderId: `chunk-${i + j}` } })).processInstanceKey)))
    }
  } finally {
    await client.close()
    await server.close()
  }
  server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir })
  client = createTestClient(server)
  try {
    const ended = keys.filter((_, i) => i % 7 === 0)
    await Promise.all(ended.map((_, n) => client.zeebe.publishMessage({ name: 'rows-go', correlationKey: `chunk-${n * 7}`, variables: {}, timeToLive: 0 })))
    await completed(server.restPort, ended)

    // when every orderId is paged through, 100 at a time
    const seen: string[] = []
    let after: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const next = await post<{ items: { processInstanceKey: string; value: string }[]; page: { endCursor?: string } }>(server.restPort, '/variables/search',
        { filter: { name: 'orderId' }, page: { limit: 100, ...(after ? { after } : {}) } })
      seen.push(...next.items.map((v) => `${v.processInstanceKey} ${JSON.parse(v.value) as string}`))
      if (next.items.length < 100) break
      after = next.page.endCursor
    }

    // then each of the 600 comes once, in key order, with its own value
    expect(seen).toEqual(keys.map((key, i) => `${key} chunk-${i}`).sort())
  } finally {
    await client.close()
    await server.close()
  }
})

test('a finished instance whose variables are copied from their rows keeps them through SIGKILL, wherever it falls', async () => {
  // given two instances waiting with a 1 MB variable each, in a stopped engine's checkpoint
  const dataDir = path.join(scratch, 'killed')
  let engine = await startEngineProcess(dataDir)
  let client = await connect(engine)
  const keys = await createWaiting(client.zeebe, 'killed', 2)
  await client.close()
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })

  // when they are woken and run to their end in the next run, which is killed at once
  engine = await startEngineProcess(dataDir)
  client = await connect(engine)
  for (const orderId of keys.keys()) await client.zeebe.publishMessage({ name: 'rows-go', correlationKey: orderId, variables: {}, timeToLive: 0 })
  await completed(engine.restPort, [...keys.values()])
  await client.close()
  await engine.kill('SIGKILL')

  // then after a restart, each finished instance's variables are found whole
  engine = await startEngineProcess(dataDir)
  try {
    for (const [orderId, key] of keys) expect(await variablesOf(engine.restPort, key)).toEqual({ orderId, payload: payloadOf(orderId) })
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
  // and once stopped, the data dir holds them in the history only
  const stored = storedVariables(path.join(dataDir, 'engine.db'), [...keys.values()])
  expect(stored.live).toBe(0)
  expect(stored.history.map(({ name, length }) => [name, length])).toEqual([['orderId', 8], ['payload', 1_000_000], ['orderId', 8], ['payload', 1_000_000]])
})

test('a checkpoint built in slices copies the variables left in rows into the history before it deletes their rows', async () => {
  // given a checkpoint holding the live rows of one scope's variables, and that instance finished since, its variables left there
  const dir = path.join(scratch, 'store-sliced')
  const store = EngineStore.open(dir)
  const history = new SqliteHistory(store)
  const key = '2251799813685021'
  const row = (variableKey: string, name: string, value: unknown) =>
    [ 'variable', variableKey, JSON.stringify({ key: variableKey, name, value, scopeKey: key, processInstanceKey: key, processDefinitionKey: '1', bpmnProcessId: 'order', tenantId: '<default>' }), [key] ] as [string, string, string, string[]]
  try {
    store.append(1, '{"c":"create"}')
    store.waitFor(store.writeCheckpoint({ upserts: [row(`${key}1`, 'orderId', 'A-1'), row(`${key}2`, 'payload', 'p'.repeat(100_000))], deletes: [] }, 1, () => undefined))
    store.append(2, '{"c":"finish"}')
    history.add({ ...finishedInstance(key), variablesInRows: [[key, key]] })
    // (read from the live rows while pending)
    expect(history.variablesOf(key).map((v) => v.name).sort()).toEqual(['orderId', 'payload'])

    // when a checkpoint deleting that scope's rows is built in slices, the instance staged ahead of it
    const begun = store.lastSeq
    store.beginSlicedCheckpoint(1)
    expect(store.stageCheckpointHistory(Infinity)).toBe(true)
    let outcome: { seq: number } | { error: Error } | undefined
    store.waitFor(store.writeCheckpoint({ upserts: [], deletes: [], scopeDeletes: [key] }, 2, (o) => { outcome = o }, { seq: begun, token: 1, staged: 0 }))

    // then it is committed, the variables are in the history whole, and no live row is left
    expect(outcome).toEqual({ seq: 2 })
    expect(storedVariables(store.file, [key])).toEqual({ live: 0, offPlace: [], history: [{ instance: key, name: 'orderId', length: 3 }, { instance: key, name: 'payload', length: 100_000 }] })
    expect(history.variablesOf(key).find((v) => v.name === 'payload')?.value).toBe('p'.repeat(100_000))
  } finally {
    store.close()
  }
})

test('variables copied from their rows go a few MB per write, by the length the scope index keeps, and large ones are not held back', async () => {
  // given ten finished instances, each with its variables left in a live row: six of 1.5 MB, four small
  const dir = path.join(scratch, 'store-bounded')
  const store = EngineStore.open(dir)
  const history = new SqliteHistory(store)
  const keys = Array.from({ length: 10 }, (_, i) => String(2251799813685100 + i))
  const large = new Set(keys.slice(0, 6))
  const row = (key: string) => ['variable', `${key}1`, JSON.stringify({ key: `${key}1`, name: 'payload', value: large.has(key) ? 'z'.repeat(1_500_000) : key, scopeKey: key, processInstanceKey: key }), [key]] as [string, string, string, string[]]
  try {
    store.append(1, '{"c":"create"}')
    store.waitFor(store.writeCheckpoint({ upserts: keys.map(row), deletes: [] }, 1, () => undefined))

    // when a small one finishes, then a large one
    history.add({ ...finishedInstance(keys[9]), variablesInRows: [[keys[9], keys[9]]] })
    store.append(2, '{"c":"finish small"}')
    await store.durable()
    const heldSmall = store.heldBackHistory
    history.add({ ...finishedInstance(keys[0]), variablesInRows: [[keys[0], keys[0]]] })
    store.append(3, '{"c":"finish large"}')
    await store.durable()
    const heldLarge = store.heldBackHistory

    // then the small one was held back for a later batch, the large one (and it) went as soon as its command was logged
    expect([heldSmall, heldLarge]).toEqual([1, 0])

    // when those two are written (the count reads once every write is committed), the other eight finish, and everything is written
    expect(store.historyRoots()).toBe(2)
    for (const key of keys.slice(1, 9)) history.add({ ...finishedInstance(key), variablesInRows: [[key, key]] })
    store.append(4, '{"c":"finish the rest"}')
    await store.durable()
    const leftAfterFirst = store.heldBackHistory
    const counted = store.historyRoots()

    // then, once their command was logged, the first write copied three of 1.5 MB (the third
    // passing 4 M characters) and left the rest to the next ones; all are committed
    expect(leftAfterFirst).toBe(5)
    expect(counted).toBe(10)
    expect(store.heldBackHistory).toBe(0)
    expect(storedVariables(store.file, keys).history.map(({ instance }) => instance)).toEqual(keys)
  } finally {
    store.close()
  }
})
