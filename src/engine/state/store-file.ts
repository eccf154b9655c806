/**
 * The engine's SQLite files as files: raccord's mark and schema versions, the checks that refuse
 * a foreign or damaged file before anything is written, the migrations, and the lock that keeps a
 * second engine off a data dir. The store (store.ts) opens them with these. engine.db holds the
 * live state, its checkpoint and the finished instances; log.db (schema version 10) the commands
 * since the checkpoint, so that each has a writer thread of its own (writer.ts).
 */
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FIELD_COLUMNS, fillFieldColumns } from './live-fields'

/** "RACC": marks an SQLite file as raccord's engine state, so a foreign database is refused. */
export const APPLICATION_ID = 0x52414343
export const SCHEMA_VERSION = 11
/** log.db's own version (user_version): 1, its one table. */
export const LOG_SCHEMA_VERSION = 1
export const FILE_NAME = 'engine.db'
export const LOG_FILE_NAME = 'log.db'
/** The schema name log.db is attached under, on the event loop's connection. */
export const LOG_SCHEMA = 'logs'

/** The page cache of the event loop's connection to engine.db, in KiB. */
const EVENT_LOOP_CACHE_KIB = 64 * 1024

/** The data dir cannot be used: the message says which path and why. Nothing was modified. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreError'
  }
}

/** Each schema version's statements; index i migrates from version i to i+1. */
const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL)`,
    `CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, created INTEGER NOT NULL, state TEXT NOT NULL)`,
  ],
  // Version 2: the snapshot in bounded parts (snapshot.state is then PARTS_MARKER).
  [
    `CREATE TABLE snapshot_part (n INTEGER PRIMARY KEY, path TEXT NOT NULL, json TEXT NOT NULL)`,
  ],
  // Version 3: the history of finished instances, out of the snapshot (history.ts).
  [
    `CREATE TABLE history_root (root TEXT PRIMARY KEY, ended INTEGER NOT NULL)`,
    `CREATE INDEX history_root_ended ON history_root (ended)`,
    `CREATE TABLE history (kind TEXT NOT NULL, key TEXT NOT NULL, root TEXT NOT NULL, scope TEXT, json TEXT NOT NULL, PRIMARY KEY (kind, key))`,
    `CREATE INDEX history_by_root ON history (root)`,
    `CREATE INDEX history_by_scope ON history (scope) WHERE scope IS NOT NULL`,
  ],
  // Version 4: the history by process instance, as the searches of one instance read it.
  [
    `ALTER TABLE history ADD COLUMN instance TEXT`,
    `UPDATE history SET instance = CASE kind WHEN 'instance' THEN key ELSE json_extract(json, '$.processInstanceKey') END`,
    `CREATE INDEX history_by_instance ON history (kind, instance)`,
  ],
  // Version 5: the live state as a row per record, written incrementally (snapshot.state is then ROWS_MARKER).
  [
    `CREATE TABLE live (kind TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID`,
  ],
  // Version 6: finished process instances by the fields searches filter on, in key order (INSTANCE_COLUMNS, ordered-history.ts).
  [
    `CREATE INDEX history_instance_process ON history (json_extract(json, '$.bpmnProcessId'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_definition ON history (json_extract(json, '$.processDefinitionKey'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_parent ON history (json_extract(json, '$.parentProcessInstanceKey'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_state ON history (json_extract(json, '$.state'), key) WHERE kind = 'instance'`,
  ],
  // Version 7: each live row's index fields in columns of their own, read at start without parsing the records.
  [
    ...FIELD_COLUMNS.map((column) => `ALTER TABLE live ADD COLUMN ${column}`),
    ...fillFieldColumns(),
    // A start reads keys and fields from this index alone: a few dozen bytes a row, not the records.
    `CREATE INDEX live_fields ON live (kind, key, ${FIELD_COLUMNS.join(', ')})`,
    // Variables are read a scope at a time (the scope is f1).
    `CREATE INDEX live_variable_scope ON live (f1) WHERE kind = 'variable'`,
  ],
  // Version 8: finished process instances in the order of their dates (ORDER_COLUMNS), as a list
  // of the newest or the last finished reads them.
  [
    `CREATE INDEX history_instance_start ON history (json_extract(json, '$.startDate'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_end ON history (json_extract(json, '$.endDate'), key) WHERE kind = 'instance'`,
  ],
  // Version 9: the length of each variable row's JSON, read from the scope index alone: a
  // finished instance's variables copied from their rows to the history are bounded per write by
  // it, without reading them. (Statements that read or delete a scope's rows name the index: the
  // planner, without statistics, would otherwise walk every variable row by the primary key.)
  // And each variable's name, instance and tenant in field columns: a search lists variables from
  // the live_fields index, reading only the values of the page it answers.
  [
    `ALTER TABLE live ADD COLUMN size INTEGER`,
    ...fillFieldColumns('variable'),
    `UPDATE live SET size = length(json) WHERE kind = 'variable'`,
    `DROP INDEX live_variable_scope`,
    `CREATE INDEX live_variable_scope ON live (f1, size) WHERE kind = 'variable'`,
  ],
  // Version 10: the log in log.db (attached as LOG_SCHEMA), written by a thread of its own; its
  // rows were copied there first, in a transaction of their own (migrate).
  [
    `DROP TABLE main.log`,
  ],
  // Version 11: finished process instances in the order of their parent element instance, as a
  // search sorted by it reads them (ordered-history.ts); and by process or definition with their
  // state, so that a search filtering on both (Operate's list: a process, its finished ones)
  // counts its matches from the index alone, not from each instance's JSON.
  [
    `CREATE INDEX history_instance_parent_element ON history (json_extract(json, '$.parentElementInstanceKey'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_process_state ON history (json_extract(json, '$.bpmnProcessId'), json_extract(json, '$.state'), key) WHERE kind = 'instance'`,
    `CREATE INDEX history_instance_definition_state ON history (json_extract(json, '$.processDefinitionKey'), json_extract(json, '$.state'), key) WHERE kind = 'instance'`,
  ],
]

export function checkHeader(file: string): void {
  const fd = fs.openSync(file, 'r')
  try {
    const header = Buffer.alloc(16)
    const n = fs.readSync(fd, header, 0, 16, 0)
    if (n > 0 && header.toString('latin1', 0, Math.min(n, 16)) !== 'SQLite format 3\u0000') {
      throw new StoreError(`'${file}' is not an SQLite database (foreign or corrupted file); refusing to touch it. Move it away or point --data-dir elsewhere`)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Refuse a database raccord did not create, looking through a read-only connection: a read-write
 * one would checkpoint another application's pending WAL into its file on close.
 */
export function checkIdentity(file: string): void {
  const shm = `${file}-shm`
  const hadShm = fs.existsSync(shm)
  let probe: Database.Database
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true })
  } catch (e) {
    throw new StoreError(`Cannot open engine state '${file}': ${(e as Error).message}`)
  }
  try {
    const appId = probe.pragma('application_id', { simple: true }) as number
    const hasTables = (probe.prepare(`SELECT COUNT(*) AS n FROM sqlite_master`).get() as { n: number }).n > 0
    if (hasTables && appId !== APPLICATION_ID) {
      throw new StoreError(`'${file}' is an SQLite database that raccord did not create (application_id ${appId}); refusing to touch it. Point --data-dir at an empty or raccord directory`)
    }
  } catch (e) {
    if (e instanceof StoreError) throw e
    throw new StoreError(`Engine state '${file}' is damaged: ${(e as Error).message}`)
  } finally {
    probe.close()
    // The read-only connection created the WAL index: leave the dir as it was found.
    if (!hadShm) fs.rmSync(shm, { force: true })
  }
}

/**
 * Bring engine.db to SCHEMA_VERSION, each version in a transaction. log.db must be attached (as
 * LOG_SCHEMA). Across two files in WAL mode a transaction is not atomic, so the log's rows are
 * copied to log.db and committed before engine.db drops them: a crash between the two leaves
 * both, and the next start copies again (the same rows, at the same positions).
 */
export function migrate(db: Database.Database, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    if (v === 9) db.exec(`INSERT OR REPLACE INTO ${LOG_SCHEMA}.log (seq, time, command) SELECT seq, time, command FROM main.log`)
    db.transaction(() => {
      for (const sql of MIGRATIONS[v]) db.exec(sql)
      db.pragma(`user_version = ${v + 1}`)
      db.pragma(`application_id = ${APPLICATION_ID}`)
    })()
  }
}

/**
 * Refuse an existing engine.db or log.db that raccord cannot use (foreign, damaged, read-only),
 * before anything is created or written in the data dir.
 */
function checkExisting(file: string, what: string): void {
  if (!fs.existsSync(file)) return
  checkHeader(file)
  // SQLite would open it read-only without a word, and every command would then fail.
  try {
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK)
  } catch {
    throw new StoreError(`${what} '${file}' is read-only: the engine needs to write it; fix its permissions`)
  }
  checkIdentity(file)
}

/** Attach log.db (in `dir`, checked by checkExisting) to `db` as LOG_SCHEMA, creating it when absent. */
export function attachLog(db: Database.Database, dir: string): string {
  const file = path.join(dir, LOG_FILE_NAME)
  db.prepare(`ATTACH DATABASE ? AS ${LOG_SCHEMA}`).run(file)
  const version = db.pragma(`${LOG_SCHEMA}.user_version`, { simple: true }) as number
  if (version > LOG_SCHEMA_VERSION) throw new StoreError(`'${file}' has log schema version ${version}, newer than this raccord (${LOG_SCHEMA_VERSION}); upgrade raccord`)
  db.pragma(`${LOG_SCHEMA}.journal_mode = WAL`)
  db.pragma(`${LOG_SCHEMA}.synchronous = FULL`)
  if (version === 0) {
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${LOG_SCHEMA}.log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL)`)
      db.pragma(`${LOG_SCHEMA}.user_version = ${LOG_SCHEMA_VERSION}`)
      db.pragma(`${LOG_SCHEMA}.application_id = ${APPLICATION_ID}`)
    })()
  }
  return file
}

/** The tables checked for damage when the store opens (and log.db's log). */
const CHECKED_AT_START = ['meta', 'snapshot', 'snapshot_part']

/**
 * Open (or create) the state in `dir`: engine.db, with log.db attached, both checked and brought
 * to the current schema, and the data dir's lock taken. Refuses a foreign or corrupt file with a
 * StoreError that names it; nothing is written then.
 */
export function openStoreFiles(dir: string): { db: Database.Database; file: string; logFile: string } {
  const resolved = path.resolve(dir)
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(resolved)
  } catch {
    stat = undefined
  }
  if (stat && !stat.isDirectory()) throw new StoreError(`Data dir '${resolved}' is a file, not a directory: give a directory with --data-dir`)
  if (!stat) {
    try {
      fs.mkdirSync(resolved, { recursive: true })
    } catch (e) {
      throw new StoreError(`Cannot create data dir '${resolved}': ${(e as Error).message}`)
    }
  }
  try {
    fs.accessSync(resolved, fs.constants.W_OK)
  } catch {
    throw new StoreError(`Data dir '${resolved}' is not writable: the engine needs to write its state there`)
  }
  const file = path.join(resolved, FILE_NAME)
  checkExisting(file, 'Engine state')
  checkExisting(path.join(resolved, LOG_FILE_NAME), 'Engine log')
  takeLock(resolved)
  let db: Database.Database
  try {
    db = new Database(file)
  } catch (e) {
    releaseLock(resolved)
    throw new StoreError(`Cannot open engine state '${file}': ${(e as Error).message}`)
  }
  try {
    const appId = db.pragma('application_id', { simple: true }) as number
    const userVersion = db.pragma('user_version', { simple: true }) as number
    const hasTables = (db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master`).get() as { n: number }).n > 0
    if (hasTables && appId !== APPLICATION_ID) {
      throw new StoreError(`'${file}' is an SQLite database that raccord did not create (application_id ${appId}); refusing to touch it. Point --data-dir at an empty or raccord directory`)
    }
    if (userVersion > SCHEMA_VERSION) {
      throw new StoreError(`'${file}' has schema version ${userVersion}, newer than this raccord (${SCHEMA_VERSION}); upgrade raccord`)
    }
    db.pragma('journal_mode = WAL')
    // FULL: a commit survives a power loss too, not just a killed process. Group commit keeps
    // this to one fsync per batch.
    db.pragma('synchronous = FULL')
    // This connection (the event loop's) reads the history for the searches: one counting 10,000
    // matches the index cannot count reads as many rows, nearly each in a page of its own (the
    // file holds 4.5 KB per finished instance). 64 MiB of page cache (better-sqlite3 builds
    // SQLite with 16 MB) keeps those of a search repeated, as a list polled is.
    db.pragma(`cache_size = -${EVENT_LOOP_CACHE_KIB}`)
    const logFile = attachLog(db, resolved)
    migrate(db, userVersion)
    // The tables a start reads (the history is read on demand): checking the whole file would
    // make a start as slow as the history is long.
    for (const [schema, table] of [...CHECKED_AT_START.map((t) => ['main', t]), [LOG_SCHEMA, 'log']]) {
      const quick = db.pragma(`${schema}.quick_check(${table})`, { simple: true })
      if (quick !== 'ok') throw new StoreError(`Engine state '${schema === 'main' ? file : logFile}' is damaged: ${String(quick)}`)
    }
    return { db, file, logFile }
  } catch (e) {
    db.close()
    releaseLock(resolved)
    if (e instanceof StoreError) throw e
    throw new StoreError(`Cannot use engine state '${file}': ${(e as Error).message}`)
  }
}

const LOCK_FILE = 'engine.lock'

/** One engine per data dir: a second one would interleave two logs. A dead owner's lock is taken over. */
export function takeLock(dir: string): void {
  const lock = path.join(dir, LOCK_FILE)
  let owner: number | undefined
  try {
    owner = Number(fs.readFileSync(lock, 'utf8').trim())
  } catch {
    owner = undefined
  }
  if (owner !== undefined && Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new StoreError(`Data dir '${dir}' is in use by another engine (pid ${owner}); stop it first, or use another --data-dir`)
  }
  try {
    fs.writeFileSync(lock, `${process.pid}\n`)
  } catch (e) {
    throw new StoreError(`Cannot write '${lock}': ${(e as Error).message}`)
  }
}

export function releaseLock(dir: string): void {
  const lock = path.join(dir, LOCK_FILE)
  try {
    if (Number(fs.readFileSync(lock, 'utf8').trim()) === process.pid) fs.unlinkSync(lock)
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
