/**
 * A checkpoint never holds the event loop long, whatever the size of the records it writes (issue
 * #19): once its build has taken its time, the rows of records that may carry payloads of several
 * MB (variables, buffered messages) are built later, a slice per turn of the event loop, from
 * copies taken when it began, and handed to the writer thread ahead of it. The rows then hold the
 * state as it was when the checkpoint began; the commands run meanwhile stay in the log.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { LATER_CHARS, PendingRows, SLICE_CHARS, snapshotFromRows, takeDeferred, type CheckpointRow } from '../../src/engine/runtime/checkpoint'
import type { EngineSnapshot } from '../../src/engine/runtime/snapshot'
import { Engine } from '../../src/engine/runtime/engine'
import { DirtyTracker } from '../../src/engine/state/record-map'
import { SqliteHistory } from '../../src/engine/state/sqlite-history'
import { EngineStore } from '../../src/engine/state/store'
import type { JsonLater } from '../../src/engine/state/writer'
import { connect, startEngineProcess } from '../support/engine-process'
import { finishedInstance } from '../support/finished-instance'

jest.setTimeout(120_000)

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-sliced-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** A built row's JSON, whether the event loop built it or left it to the writer thread. */
const text = (json: string | JsonLater): string => typeof json === 'string' ? json : JSON.stringify(json.later)

/** An engine with the crash process deployed, whose changes `tracker` marks from now on. */
async function trackedEngine(): Promise<{ engine: Engine; tracker: DirtyTracker }> {
  const engine = new Engine()
  const tracker = new DirtyTracker()
  engine.track(tracker)
  tracker.active = true
  try {
    await engine.deploy([{ name: 'crash.bpmn', content: readFileSync(DU_CRASH) }])
  } catch (error) {
    engine.close()
    throw error
  }
  return { engine, tracker }
}

test('past its time, a checkpoint defers buffered messages as copies, and builds a variable\'s row before a command changes it: later commands do not change them', async () => {
  // given an engine whose changes are tracked: an instance with a variable, and a buffered message
  const { engine, tracker } = await trackedEngine()
  try {
    const { processInstanceKey } = engine.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'sliced-1', payload: 'before' } })
    engine.publishMessage({ name: 'du-go', correlationKey: 'nobody', timeToLive: 60_000, variables: { note: 'buffered' } })

    // when a checkpoint's build has no time left, and the variable changes before its other rows are built
    const rows = engine.checkpointRows({ marks: tracker.take(), revision: undefined }, 0)
    tracker.beforeChange = (kind, key) => rows.pending?.beforeChange(kind, key)
    engine.setVariables(processInstanceKey, { payload: 'after' }, false)
    tracker.beforeChange = undefined
    const deferredKinds = rows.deferred.map(([kind]) => kind).sort()
    const built = [...takeDeferred(rows.deferred, Infinity, Infinity), ...rows.pending?.take(Infinity, Infinity, rows.deletes) ?? []]

    // then the message was deferred, the other records left to be built later (PendingRows), and the rows hold the values of when it began
    expect(deferredKinds).toEqual(['message'])
    expect([...rows.upserts, ...built].map(([kind]) => kind)).toEqual(expect.arrayContaining(['instance', 'element', 'job', 'variable', 'meta']))
    expect(rows.deferred).toEqual([])
    const payload = built.find(([kind, , json]) => kind === 'variable' && (JSON.parse(text(json)) as { name: string }).name === 'payload')
    expect(JSON.parse(text(payload?.[2] ?? '{}'))).toEqual(expect.objectContaining({ name: 'payload', value: 'before' }))
    const message = built.find(([kind]) => kind === 'message')
    expect(JSON.parse(text(message?.[2] ?? '{}'))).toEqual(expect.objectContaining({ name: 'du-go', variables: { note: 'buffered' } }))
  } finally {
    engine.close()
  }
})

describe('past its first hold, a checkpoint leaves the rows of records changed in place to be built later (PendingRows)', () => {
  /** Each record a checkpoint's rows hold that differs from `then` (the state when it began), as "kind key". */
  function differing(rows: CheckpointRow[], then: EngineSnapshot): string[] {
    const jsons = new Map<string, string[]>()
    for (const [kind, , json] of rows) jsons.set(kind, [...(jsons.get(kind) ?? []), text(json)])
    const stored = snapshotFromRows((kind) => jsons.get(kind) ?? [])
    const out: string[] = []
    for (const field of ['instances', 'elements', 'variables', 'jobs', 'timers', 'messageSubscriptions', 'incidents'] as const) {
      const before = new Map((then[field] as { key: string }[]).map((r) => [r.key, JSON.stringify(r)]))
      for (const record of stored[field] as { key: string }[]) if (before.get(record.key) !== JSON.stringify(record)) out.push(`${field} ${record.key}`)
    }
    return out
  }

  test.each([
    ['told of each change, builds the row of a record before a command changes or removes it: the rows hold the state of when it began', true],
    ['not told of changes (the check can fail), its rows would hold what the commands did since', false],
  ])('%s', async (_name, told) => {
    // given 12 instances waiting on their job, all marked as changed
    const { engine, tracker } = await trackedEngine()
    try {
      const created = Array.from({ length: 12 }, (_, i) => engine.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `pending-${i}` } }).processInstanceKey)
      const then = JSON.parse(JSON.stringify(engine.exportState())) as EngineSnapshot

      // when a checkpoint's build has no time left, and then jobs are activated, completed and failed, a variable set, and instances cancelled, before its other rows are built
      const rows = engine.checkpointRows({ marks: tracker.take(), revision: undefined }, 0)
      const pending = rows.pending as PendingRows
      if (told) tracker.beforeChange = (kind, key) => pending.beforeChange(kind, key)
      const jobs = engine.activateJobs({ type: 'du-work', worker: 'w', timeout: 60_000, maxJobsToActivate: 8 })
      for (const job of jobs.slice(0, 4)) engine.completeJob(job.key, { done: true })
      for (const job of jobs.slice(4, 6)) engine.failJob(job.key, 0, 'no luck', 0)
      engine.setVariables(created[8], { orderId: 'changed since' }, false)
      for (const key of created.slice(9)) engine.cancelProcessInstance(key)
      tracker.beforeChange = undefined
      const built = [...rows.upserts, ...pending.take(Infinity, Infinity, rows.deletes)]

      expect(pending.done).toBe(true)
      if (told) {
        // then every record it holds is there once, as it was when it began, the cancelled ones too
        expect(built.filter(([kind]) => kind === 'instance')).toHaveLength(12)
        expect(built.filter(([kind]) => kind === 'job')).toHaveLength(12)
        expect(built.filter(([kind]) => kind === 'variable')).toHaveLength(12)
        expect(new Set(built.map(([kind, key]) => `${kind} ${key}`)).size).toBe(built.length)
        expect(rows.deletes).toEqual([])
        expect(differing(built, then)).toEqual([])
      } else {
        // then the cancelled instances would be missing, and the jobs changed since would hold their changes
        expect(built.filter(([kind]) => kind === 'instance')).toHaveLength(9)
        expect(differing(built, then)).toEqual(expect.arrayContaining(jobs.slice(0, 6).filter((job) => built.some(([, key]) => key === job.key)).map((job) => `jobs ${job.key}`)))
        expect(differing(built, then).length).toBeGreaterThan(0)
      }
    } finally {
      engine.close()
    }
  })

  test('its rows are built a slice at a time from where the first hold stopped, records gone by then as deletes', async () => {
    // given 30 instances waiting on their job, checkpointed, then 10 of them cancelled and 5 more created
    const { engine, tracker } = await trackedEngine()
    try {
      const created = Array.from({ length: 30 }, (_, i) => engine.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `slices-${i}` } }).processInstanceKey)
      engine.checkpointRows({ marks: tracker.take(), revision: undefined })
      for (const key of created.slice(0, 10)) engine.cancelProcessInstance(key)
      for (let i = 0; i < 5; i++) engine.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `later-${i}` } })
      const marks = tracker.take()
      const marked = [...marks.marks.values(), ...marks.refs.values()].reduce((n, byKey) => n + byKey.size, 0)

      // when the next checkpoint has no time left, and its rows are then taken 40 characters at a time
      const rows = engine.checkpointRows({ marks, revision: undefined }, 0)
      const pending = rows.pending as PendingRows
      const slices: number[] = []
      while (!pending.done) slices.push(pending.take(Infinity, 40, rows.deletes).length)

      // then each slice is one row or a few (a 64-row check of the limits), and every record marked is there once: upserts and deletes
      expect(slices.length).toBeGreaterThan(1)
      const upserts = rows.upserts.filter(([kind]) => kind !== 'meta').length + rows.deferred.length + slices.reduce((a, b) => a + b, 0)
      expect(upserts + rows.deletes.length).toBe(marked)
      expect(rows.deletes.filter(([kind]) => kind === 'instance').map(([, key]) => key).sort()).toEqual(created.slice(0, 10).sort())
    } finally {
      engine.close()
    }
  })
})

test('deferred rows are built a slice at a time: one row at least, then up to the characters or the time given', () => {
  // given five deferred rows of 100 characters each
  const deferred = Array.from({ length: 5 }, (_, i): [string, string, object, []] => ['variable', `k${i}`, { value: 'v'.repeat(100) }, []])

  // when slices are taken with a bound of 150 characters, then of 1
  const first = takeDeferred(deferred, Infinity, 150)
  const second = takeDeferred(deferred, Infinity, 1)
  const rest = takeDeferred(deferred, 0, Infinity)

  // then each slice stops once past the bound, never empty, and the rows come in order, each once
  expect(first.map(([, key]) => key)).toEqual(['k0', 'k1'])
  expect(second.map(([, key]) => key)).toEqual(['k2'])
  expect(rest.map(([, key]) => key)).toEqual(['k3'])
  expect(deferred.map(([, key]) => key)).toEqual(['k4'])
})

test('a variable holding a string of LATER_CHARS or more is left for the writer thread to turn into JSON, as a copy counted by its length', () => {
  // given two deferred variable rows, one holding a string of LATER_CHARS characters, one a short string
  const long = { key: 'k1', name: 'payload', value: 'x'.repeat(LATER_CHARS), scopeKey: 's', processInstanceKey: 's', processDefinitionKey: 'd', bpmnProcessId: 'p', tenantId: '<default>' }
  const short = { ...long, key: 'k2', value: 'short' }
  const deferred: [string, string, object, []][] = [['variable', 'k1', long, []], ['variable', 'k2', short, []]]

  // when a slice is taken with room for one row of that length, and the variable changes afterwards
  const first = takeDeferred(deferred, Infinity, LATER_CHARS)
  long.value = 'changed'
  const second = takeDeferred(deferred, Infinity, Infinity)

  // then the long one is a copy of the record as it was, counted by its value's length (the slice
  // ends there), and the short one is built at once
  expect(first).toEqual([['variable', 'k1', { later: { ...long, value: 'x'.repeat(LATER_CHARS) }, chars: LATER_CHARS }, []]])
  expect(second).toEqual([['variable', 'k2', JSON.stringify(short), []]])
})

test('with time left, a checkpoint\'s build still leaves the variables past SLICE_CHARS for later: handing it over copies them', async () => {
  // given an engine whose changes are tracked, and an instance with two variables of SLICE_CHARS characters each
  const { engine, tracker } = await trackedEngine()
  try {
    engine.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'bound-1', first: 'a'.repeat(SLICE_CHARS), second: 'b'.repeat(SLICE_CHARS) } })

    // when its rows are built with all the time in the world
    const rows = engine.checkpointRows({ marks: tracker.take(), revision: undefined }, Infinity)

    // then one of them is built (left to the writer thread) and the other left for a later slice
    const built = rows.upserts.filter(([kind, , json]) => kind === 'variable' && typeof json !== 'string')
    expect(built.map(([, , json]) => (json as JsonLater).chars)).toEqual([SLICE_CHARS])
    const later = rows.pending?.take(Infinity, Infinity, rows.deletes) ?? []
    expect(later.filter(([kind, , json]) => kind === 'variable' && typeof json !== 'string').map(([, , json]) => (json as JsonLater).chars)).toEqual([SLICE_CHARS])
  } finally {
    engine.close()
  }
})

test('rows left for the writer thread are stored with the JSON the event loop would have built, and its length', () => {
  // given a store, and a checkpoint built in slices with one row left for the writer thread and one built
  const dir = path.join(scratch, 'store-later')
  const store = EngineStore.open(dir)
  const record = { key: 'v1', name: 'payload', value: 'é"\\'.repeat(LATER_CHARS), scopeKey: 's1', processInstanceKey: 's1' }
  try {
    store.append(1, '{"c":"create"}')
    store.beginSlicedCheckpoint(1)
    store.stageCheckpointRows([['variable', 'v1', { later: record, chars: record.value.length }, ['s1', 'payload', 's1', '<default>']]])

    // when it is written
    let outcome: { seq: number } | { error: Error } | undefined
    const id = store.writeCheckpoint({ upserts: [['variable', 'v2', '{"value":2}', ['s1', 'small', 's1', '<default>']]], deletes: [] }, 2, (o) => { outcome = o }, { seq: 1, token: 1, staged: 1 })
    store.waitFor(id)

    // then both rows hold their JSON and its length
    expect(outcome).toEqual({ seq: 1 })
    const db = new Database(store.file, { readonly: true })
    try {
      const rows = db.prepare("SELECT key, json = ? AS same, size, length(json) AS length FROM live WHERE kind = 'variable' ORDER BY key").all(JSON.stringify(record))
      expect(rows).toEqual([
        { key: 'v1', same: 1, size: JSON.stringify(record).length, length: JSON.stringify(record).length },
        { key: 'v2', same: 0, size: 11, length: 11 },
      ])
    } finally {
      db.close()
    }
  } finally {
    store.close()
  }
})

/** What another connection reads of a store: the checkpoint's log position, the log's positions, the live rows' keys, the finished instances. */
function committed(file: string): { checkpoint: number | undefined; log: number[]; live: string[]; finished: string[] } {
  const db = new Database(file, { readonly: true })
  try {
    db.prepare('ATTACH DATABASE ? AS logs').run(path.join(path.dirname(file), 'log.db'))
    return {
      checkpoint: db.prepare('SELECT seq FROM snapshot WHERE id = 1').pluck().get() as number | undefined,
      log: db.prepare('SELECT seq FROM logs.log ORDER BY seq').pluck().all() as number[],
      live: db.prepare('SELECT key FROM live ORDER BY key').pluck().all() as string[],
      finished: db.prepare('SELECT root FROM history_root ORDER BY root').pluck().all() as string[],
    }
  } finally {
    db.close()
  }
}

test('a checkpoint built in slices stands for the log position where it began: the commands logged since stay in the log', async () => {
  // given a store with three commands, the last finishing an instance that is held back, and a
  // checkpoint begun after them, its deferred rows and that instance handed over ahead
  const dir = path.join(scratch, 'store-sliced')
  const store = EngineStore.open(dir)
  const history = new SqliteHistory(store)
  try {
    for (let i = 1; i <= 3; i++) store.append(i, `{"c":"before-${i}"}`)
    history.add(finishedInstance('2251799813685001'))
    const begun = store.lastSeq
    store.beginSlicedCheckpoint(1)
    store.stageCheckpointRows([['variable', 'v1', '{"value":1}', []]])
    // when two more commands are committed while it is built, one finishing another instance, and then it is handed over with its last slice
    store.append(4, '{"c":"meanwhile-4"}')
    history.add(finishedInstance('2251799813685002'))
    store.append(5, '{"c":"meanwhile-5"}')
    await store.durable()
    const found = history.instancePage({ bpmnProcessId: 'order' }, undefined, 10).map((r) => r.key)
    store.stageCheckpointRows([['variable', 'v2', '{"value":2}', []]])
    expect(store.stageCheckpointHistory(1)).toBe(true)
    let outcome: { seq: number } | { error: Error } | undefined
    const id = store.writeCheckpoint({ upserts: [['meta', 'globals', '{"v":1}', []]], deletes: [] }, 6, (o) => { outcome = o }, { seq: begun, token: 1, staged: 2 })
    store.waitFor(id)

    // then both finished instances were found meanwhile; it is committed at the position where it
    // began, with every row and its finished instance, and the log keeps what came after
    expect(found).toEqual(['2251799813685001', '2251799813685002'])
    expect(outcome).toEqual({ seq: 3 })
    expect(committed(store.file)).toEqual({ checkpoint: 3, log: [4, 5], live: ['globals', 'v1', 'v2'], finished: ['2251799813685001'] })
  } finally {
    store.close()
  }
})

test('finished instances holding several MB each are handed over a few at a time, and every one is committed', async () => {
  // given three finished instances held back, each with a variable of 3 million characters
  const dir = path.join(scratch, 'store-large-history')
  const store = EngineStore.open(dir)
  const history = new SqliteHistory(store)
  try {
    const keys = ['2251799813685011', '2251799813685012', '2251799813685013']
    for (const key of keys) {
      const finished = finishedInstance(key)
      finished.variables.push({ key: `${key}9`, name: 'payload', value: 'x'.repeat(3_000_000), scopeKey: key, processInstanceKey: key, processDefinitionKey: '1', bpmnProcessId: 'order', tenantId: '<default>' })
      history.add(finished)
    }
    store.append(1, '{"c":"complete"}')
    await store.durable()

    // when everything is written (the count reads once every write is committed)
    store.flush(true)
    const leftAfterFirst = store.heldBackHistory
    const counted = store.historyRoots()

    // then the first hand-over left one for the next, and all three are committed
    expect(leftAfterFirst).toBe(1)
    expect(counted).toBe(3)
    expect(committed(store.file).finished).toEqual(keys)
    expect(store.heldBackHistory).toBe(0)
  } finally {
    store.close()
  }
})

test('a checkpoint whose rows handed over ahead are not all there is refused, and the previous one stays', async () => {
  // given a store with a command, and a checkpoint that expects three rows handed over ahead but got one
  const dir = path.join(scratch, 'store-incomplete')
  const store = EngineStore.open(dir)
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined)
  try {
    store.append(1, '{"c":"first"}')
    await store.durable()
    store.beginSlicedCheckpoint(7)
    store.stageCheckpointRows([['variable', 'v1', '{"value":1}', []]])

    // when it is handed over
    let outcome: { seq: number } | { error: Error } | undefined
    const id = store.writeCheckpoint({ upserts: [], deletes: [] }, 2, (o) => { outcome = o }, { seq: 1, token: 7, staged: 3 })
    store.waitFor(id)

    // then it fails, naming the cause, nothing of it is stored, and a command after it is still committed
    expect(outcome).toEqual({ error: expect.objectContaining({ message: expect.stringContaining('handed over ahead of it are incomplete (live rows 1 of 3, finished instances 0 of 0, history rows 0 of 0, variable scopes 0 of 0)') as string }) as Error })
    store.append(2, '{"c":"second"}')
    await store.durable()
    expect(committed(store.file)).toEqual({ checkpoint: undefined, log: [1, 2], live: [], finished: [] })
  } finally {
    errors.mockRestore()
    store.close()
  }
})

test('checkpoints built in slices while large variables are created and changed: after SIGKILL every instance is back with its last values', async () => {
  // given an engine process, and instances holding a 1 MB variable each, created four at a time
  // while the order ids of those already created keep changing
  const dir = path.join(scratch, 'large')
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const payload = 'p'.repeat(1_000_000)
  const created: string[] = []
  const lastOrderId = new Map<string, string>()
  let creating = true
  const changing = (async () => {
    for (let round = 0; creating || round < 3; round++) {
      for (const key of [...created]) {
        const orderId = `changed-${round}-${key}`
        await client.zeebe.setVariables({ elementInstanceKey: key, variables: { orderId }, local: false })
        lastOrderId.set(key, orderId)
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  for (let i = 0; i < 48; i += 4) {
    const keys = await Promise.all([0, 1, 2, 3].map(async (j) =>
      (await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `large-${i + j}`, payload } })).processInstanceKey))
    for (const key of keys) {
      created.push(key)
      lastOrderId.set(key, `large-${keys.indexOf(key) + i}`)
    }
  }
  creating = false
  await changing
  // (a checkpoint is due a second after a change: let one or two begin on the last changes)
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  await client.close()

  // when the engine is killed and started again
  await engine.kill('SIGKILL')
  engine = await startEngineProcess(dir)
  try {
    client = await connect(engine)
    const rest = client.camunda.getCamundaRestClient()

    // then every instance is there, with its payload whole and the last order id it was given
    const { items, page } = await rest.searchProcessInstances({ filter: { processDefinitionId: 'crash' }, page: { from: 0, limit: 100 } })
    expect(page.totalItems).toBe(48)
    expect(items.map((i) => i.processInstanceKey).sort()).toEqual([...created].sort())
    const orderIds = await rest.searchVariables({ filter: { name: 'orderId' }, page: { from: 0, limit: 100 } })
    expect(new Map(orderIds.items.map((v) => [v.processInstanceKey, JSON.parse(v.value) as string]))).toEqual(lastOrderId)
    const payloads = await rest.searchVariables({ filter: { name: 'payload' }, page: { from: 0, limit: 100 } })
    expect(payloads.items).toHaveLength(48)
    const whole = await rest.getVariable({ variableKey: payloads.items[47].variableKey })
    // (the SDK gives the value parsed; compared by length and content, not printed: a failure would print 1 MB)
    expect({ length: String(whole.value).length, same: whole.value === payload }).toEqual({ length: payload.length, same: true })
    await client.close()
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
  // and the stored rows are the live state's, the largest one variable
  const db = new Database(path.join(dir, 'engine.db'), { readonly: true })
  try {
    db.prepare('ATTACH DATABASE ? AS logs').run(path.join(dir, 'log.db'))
    expect(db.prepare("SELECT COUNT(*) FROM live WHERE kind = 'variable'").pluck().get()).toBe(96)
    expect(db.prepare("SELECT COUNT(*) FROM live WHERE kind = 'variable' AND size IS NOT length(json)").pluck().get()).toBe(0)
    expect(db.prepare('SELECT COUNT(*) FROM logs.log').pluck().get()).toBe(0)
  } finally {
    db.close()
  }
})
