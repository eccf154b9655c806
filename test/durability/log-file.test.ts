/**
 * The log has a file of its own (log.db, schema version 10), beside engine.db. A data dir an
 * earlier raccord wrote keeps its log in engine.db: the first start moves it, every command at its
 * position, before anything is replayed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { EngineStore } from '../../src/engine/state/store'
import { SCHEMA_VERSION } from '../../src/engine/state/store-file'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'raccord-log-file-'))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Put a data dir back as schema 9 wrote it: the log's rows in engine.db, no log.db. */
function asSchema9(dataDir: string): void {
  const db = new Database(path.join(dataDir, 'engine.db'))
  try {
    db.prepare('ATTACH DATABASE ? AS logs').run(path.join(dataDir, 'log.db'))
    db.exec('CREATE TABLE main.log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL)')
    db.exec('INSERT INTO main.log SELECT seq, time, command FROM logs.log')
    db.exec('DETACH DATABASE logs')
    // and without the indexes of version 11
    for (const index of ['parent_element', 'process_state', 'definition_state']) db.exec(`DROP INDEX history_instance_${index}`)
    db.pragma('user_version = 9')
  } finally {
    db.close()
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(dataDir, `log.db${suffix}`), { force: true })
}

test('a data dir of schema 9, its log in engine.db: the first start moves the log to log.db, each command at its position, and logs the next ones after them', async () => {
  // given three commands logged, the store closed, and the data dir put back as schema 9 wrote it
  const first = EngineStore.open(dir)
  for (let i = 1; i <= 3; i++) first.append(i, JSON.stringify({ c: 'command', i }))
  await first.durable()
  first.close()
  asSchema9(dir)
  expect(existsSync(path.join(dir, 'log.db'))).toBe(false)

  // when it is opened again, and a fourth command is logged
  const store = EngineStore.open(dir)
  try {
    const replayed = [...store.readLog(0)].map(({ seq, command }) => ({ seq, command }))
    store.append(4, JSON.stringify({ c: 'command', i: 4 }))
    await store.durable()

    // then the log reads as before, from log.db, and the fourth command follows the three
    expect(replayed).toEqual([1, 2, 3].map((i) => ({ seq: i, command: JSON.stringify({ c: 'command', i }) })))
    const engineDb = new Database(store.file, { readonly: true })
    const logDb = new Database(store.logFile, { readonly: true })
    try {
      expect(engineDb.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
      expect(engineDb.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'log'").pluck().get()).toBe(0)
      expect(logDb.prepare('SELECT seq FROM log ORDER BY seq').pluck().all()).toEqual([1, 2, 3, 4])
    } finally {
      engineDb.close()
      logDb.close()
    }
  } finally {
    store.close()
  }
})
