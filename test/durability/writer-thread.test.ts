/**
 * The store's writes run in threads of their own (state/writer.ts): the log's, and the state's.
 * What the event loop hands over is acknowledged only once committed; a group commit that fails
 * takes every one handed over after it back with it, and a checkpoint waits for the commands it
 * holds to be logged (it is refused when they were), so that the store never holds a later change
 * without an earlier one; closing waits for what was handed over.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { SqliteHistory } from '../../src/engine/state/sqlite-history'
import { EngineStore } from '../../src/engine/state/store'
import { finishedInstance } from '../support/finished-instance'

let dir: string
let store: EngineStore | undefined

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'raccord-writer-'))
})

afterEach(() => {
  store?.close()
  store = undefined
  rmSync(dir, { recursive: true, force: true })
})

/** The log as another connection sees it: what is committed. */
function committedLog(file: string): { seq: number; command: string }[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT seq, command FROM log ORDER BY seq').all() as { seq: number; command: string }[]
  } finally {
    db.close()
  }
}

/** The log position of the committed checkpoint, if any. */
function committedCheckpoint(file: string): number | undefined {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT seq FROM snapshot WHERE id = 1').pluck().get() as number | undefined
  } finally {
    db.close()
  }
}

test('a command is acknowledged once the writer thread has committed it', async () => {
  // given a store
  store = EngineStore.open(dir)

  // when a command is appended and its group commit awaited
  store.append(1, '{"c":"first"}')
  await store.durable()

  // then another connection reads it
  expect(committedLog(store.logFile)).toEqual([{ seq: 1, command: '{"c":"first"}' }])
})

/** Given a store with one command committed, on a disk that is then full, and a command too big for it. */
async function storeOnFullDisk(): Promise<{ full: EngineStore; big: string }> {
  const full = EngineStore.open(dir)
  store = full
  full.append(1, '{"c":"first"}')
  await full.durable()
  full.limitPages(1)
  return { full, big: JSON.stringify({ c: 'big', padding: 'x'.repeat(200_000) }) }
}

test('a checkpoint handed over behind a write that fails is refused too; the commands are retried in order, with no gap', async () => {
  // given a store with one command committed, on a disk that is then full
  const { full, big } = await storeOnFullDisk()

  // when a command too big for the disk is handed over, then a small checkpoint behind it
  full.append(2, big)
  full.flush()
  let outcome: { seq: number } | { error: Error } | undefined
  const id = full.writeCheckpoint({ upserts: [['meta', 'globals', '{"v":1}', []]], deletes: [] }, 3, (o) => { outcome = o })
  full.waitFor(id)

  // then both fail, naming the cause, and neither is committed: the checkpoint holds the effects of a refused command
  expect(outcome).toEqual({ error: expect.objectContaining({ message: `Cannot write engine log '${full.logFile}': database or disk is full` }) as Error })
  expect(full.failure?.message).toContain('database or disk is full')
  expect(committedLog(full.logFile).map((e) => e.seq)).toEqual([1])
  expect(committedCheckpoint(full.file)).toBeUndefined()

  // when space is back and more is appended
  full.limitPages(1_000_000)
  full.append(4, '{"c":"fourth"}')
  await full.durable()

  // then the commands are committed in the order they were appended, right after the first
  expect(committedLog(full.logFile)).toEqual([
    { seq: 1, command: '{"c":"first"}' },
    { seq: 2, command: big },
    { seq: 3, command: '{"c":"fourth"}' },
  ])
  expect(full.failure).toBeUndefined()
})

test('a checkpoint engine.db has no room for is refused, naming it; commands are still logged, and the next checkpoint once there is room is committed', async () => {
  // given a store with one command committed, and engine.db then full (log.db is not)
  store = EngineStore.open(dir)
  store.append(1, '{"c":"first"}')
  await store.durable()
  store.limitPages(1, 'engine.db')

  // when a checkpoint too big for it is handed over
  let outcome: { seq: number } | { error: Error } | undefined
  const refused = store.writeCheckpoint({ upserts: [['variable', 'v1', JSON.stringify({ value: 'x'.repeat(200_000) }), []]], deletes: [] }, 2, (o) => { outcome = o })
  store.waitFor(refused)

  // then it fails, naming engine.db; a command after it is still acknowledged, and the log keeps both
  expect(outcome).toEqual({ error: expect.objectContaining({ message: `Cannot write engine state '${store.file}': database or disk is full` }) as Error })
  expect(store.failure).toBeUndefined()
  store.append(3, '{"c":"after"}')
  await store.durable()
  expect(committedLog(store.logFile).map((e) => e.seq)).toEqual([1, 2])
  expect(committedCheckpoint(store.file)).toBeUndefined()

  // when there is room again and the next checkpoint is handed over
  store.limitPages(1_000_000, 'engine.db')
  const committed = store.writeCheckpoint({ upserts: [], deletes: [] }, 4, (o) => { outcome = o })
  store.waitFor(committed)

  // then it is committed at the last command, and the log is dropped up to it
  expect(outcome).toEqual({ seq: 2 })
  expect(committedCheckpoint(store.file)).toBe(2)
  expect(committedLog(store.logFile)).toEqual([])
})

test('a group commit of MBs waits while a checkpoint is written, and goes once it is committed; small ones do not wait', async () => {
  // given a store, and a checkpoint handed over
  store = EngineStore.open(dir)
  store.append(1, '{"c":"first"}')
  await store.durable()
  const id = store.writeCheckpoint({ upserts: [['meta', 'globals', '{"v":1}', []]], deletes: [] }, 2, () => undefined)

  // when a small command, then a command of 2 MB, are appended while it is in the state thread
  store.append(3, '{"c":"small"}')
  store.flush()
  const smallWaiting = store.pending
  const big = JSON.stringify({ c: 'big', padding: 'x'.repeat(2_000_000) })
  store.append(4, big)
  store.flush()
  const bigWaiting = store.pending

  // then the small one went to the log at once, the large one waited; once the checkpoint is committed, it is logged too
  store.waitFor(id)
  await store.durable()
  expect([smallWaiting, bigWaiting]).toEqual([0, 1])
  expect(committedLog(store.logFile).map((e) => e.seq)).toEqual([2, 3])
  expect(committedCheckpoint(store.file)).toBe(1)
})

test('a group commit handed over behind one that fails (two may be in the thread at once) is not acknowledged either; both are retried in order', async () => {
  // given a store with one command committed, on a disk that is then full
  const { full, big } = await storeOnFullDisk()

  // when a command too big for the disk is handed over, then a small one behind it, before any answer
  full.append(2, big)
  const bigDurable = full.durable()
  full.flush()
  full.append(3, '{"c":"third"}')
  const smallDurable = full.durable()
  full.flush()

  // then neither is acknowledged, and neither is committed
  await expect(bigDurable).rejects.toThrow('database or disk is full')
  await expect(smallDurable).rejects.toThrow('database or disk is full')
  expect(committedLog(full.logFile).map((e) => e.seq)).toEqual([1])

  // when space is back
  full.limitPages(1_000_000)
  full.append(4, '{"c":"fourth"}')
  await full.durable()

  // then all three are committed, in the order they were appended
  expect(committedLog(full.logFile).map((e) => e.command)).toEqual(['{"c":"first"}', big, '{"c":"third"}', '{"c":"fourth"}'])
})

test('closing waits for the writes handed to the writer thread', () => {
  // given writes handed over and not awaited
  store = EngineStore.open(dir)
  for (let i = 1; i <= 50; i++) {
    store.append(i, JSON.stringify({ c: 'command', i }))
    store.flush()
  }

  // when the store is closed at once
  const file = store.logFile
  store.close()
  store = undefined

  // then every one of them is in the file
  expect(committedLog(file).map((e) => e.seq)).toEqual([...Array(50).keys()].map((i) => i + 1))
})

/** The finished instances another connection sees: what is committed. */
function committedRoots(file: string): string[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT root FROM history_root ORDER BY root').pluck().all() as string[]
  } finally {
    db.close()
  }
}

const instanceKey = (i: number): string => String(2251799813685000 + i)

/** A store's history with one finished instance, held back; the command that finished it is committed. */
async function oneFinished(): Promise<{ opened: EngineStore; history: SqliteHistory }> {
  const opened = EngineStore.open(dir)
  store = opened
  const history = new SqliteHistory(opened)
  history.add(finishedInstance(instanceKey(1)))
  opened.append(1, '{"c":"complete"}')
  await opened.durable()
  return { opened, history }
}

test('finished instances are held back from small group commits, found meanwhile, and written together once 256 are buffered', async () => {
  // given one instance finished, and the command that finished it committed
  const { opened, history } = await oneFinished()

  // then the command is committed, the instance not yet, and a search finds it all the same
  expect(committedLog(opened.logFile).map((e) => e.seq)).toEqual([1])
  expect(committedRoots(opened.file)).toEqual([])
  expect(history.instancePage({ bpmnProcessId: 'order' }, undefined, 10).map((r) => r.key)).toEqual([instanceKey(1)])

  // when 255 more finish
  for (let i = 2; i <= 256; i++) history.add(finishedInstance(instanceKey(i)))
  opened.append(2, '{"c":"complete"}')
  await opened.durable()

  // then all 256 are written, once that command is logged
  const deadline = Date.now() + 10_000
  while (committedRoots(opened.file).length < 256 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  expect(committedRoots(opened.file)).toHaveLength(256)
  expect(committedLog(opened.logFile).map((e) => e.seq)).toEqual([1, 2])
})

test('a finished instance held back is written once it has waited a second, with no command after it', async () => {
  // given one instance finished, held back, and the command that finished it committed
  const { opened } = await oneFinished()
  expect(committedRoots(opened.file)).toEqual([])

  // when nothing else happens for a while
  const deadline = Date.now() + 10_000
  while (committedRoots(opened.file).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))

  // then it is written
  expect(committedRoots(opened.file)).toEqual([instanceKey(1)])
})

test('closing writes the finished instances held back', async () => {
  // given a finished instance held back
  const { opened } = await oneFinished()

  // when the store is closed
  const file = opened.file
  opened.close()
  store = undefined

  // then it is in the file
  expect(committedRoots(file)).toEqual([instanceKey(1)])
})

test('finished instances are counted once each, whether buffered, in the writer thread or committed', async () => {
  // given a store's history
  store = EngineStore.open(dir)
  const history = new SqliteHistory(store)
  const finished = finishedInstance

  // when one finished instance is committed, a second is handed to the writer thread and a third is buffered
  history.add(finished('2251799813685001'))
  store.flush(true)
  await store.durable()
  history.add(finished('2251799813685002'))
  store.flush(true)
  history.add(finished('2251799813685003'))

  // then each is counted once, and found once
  expect(history.size()).toBe(3)
  expect(history.instanceCount({ bpmnProcessId: 'order' }, 100)).toBe(3)
  expect(history.instancePage({ bpmnProcessId: 'order' }, undefined, 10).map((r) => r.key)).toEqual(['2251799813685001', '2251799813685002', '2251799813685003'])
  await store.durable()
  expect(history.instanceCount({ bpmnProcessId: 'order' }, 100)).toBe(3)
})
