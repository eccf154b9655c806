/**
 * The store's writes run in a thread of their own (state/writer.ts). What the event loop hands
 * over is acknowledged only once committed; a write that fails takes every write handed over after
 * it back with it, so that the log never holds a later command without an earlier one; closing
 * waits for what was handed over.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { EngineStore } from '../../src/engine/state/store'

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

test('a command is acknowledged once the writer thread has committed it', async () => {
  // given a store
  store = EngineStore.open(dir)

  // when a command is appended and its group commit awaited
  store.append(1, '{"c":"first"}')
  await store.durable()

  // then another connection reads it
  expect(committedLog(store.file)).toEqual([{ seq: 1, command: '{"c":"first"}' }])
})

test('after a failed write, the writes handed over after it are refused too, then retried in order with no gap', async () => {
  // given a store with one command committed, on a disk that is then full
  store = EngineStore.open(dir)
  store.append(1, '{"c":"first"}')
  await store.durable()
  store.limitPages(1)

  // when a command too big for the disk is handed over, then a small one that would fit
  const big = JSON.stringify({ c: 'big', padding: 'x'.repeat(200_000) })
  store.append(2, big)
  store.flush()
  store.append(3, '{"c":"third"}')
  store.flush()

  // then both are refused, naming the cause, and neither is committed
  await expect(store.durable()).rejects.toThrow(`Cannot write engine state '${store.file}': database or disk is full`)
  expect(store.failure?.message).toContain('database or disk is full')
  expect(committedLog(store.file).map((e) => e.seq)).toEqual([1])

  // when space is back
  store.limitPages(1_000_000)
  await store.durable()

  // then both are committed, in the order they were appended, right after the first
  expect(committedLog(store.file)).toEqual([
    { seq: 1, command: '{"c":"first"}' },
    { seq: 2, command: big },
    { seq: 3, command: '{"c":"third"}' },
  ])
  expect(store.failure).toBeUndefined()
})

test('closing waits for the writes handed to the writer thread', () => {
  // given writes handed over and not awaited
  store = EngineStore.open(dir)
  for (let i = 1; i <= 50; i++) {
    store.append(i, JSON.stringify({ c: 'command', i }))
    store.flush()
  }

  // when the store is closed at once
  const file = store.file
  store.close()
  store = undefined

  // then every one of them is in the file
  expect(committedLog(file).map((e) => e.seq)).toEqual([...Array(50).keys()].map((i) => i + 1))
})
