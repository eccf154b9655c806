import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import type { CommitNotices } from '../api'
import { FIELD_COLUMNS, INDEX_FIELDS, type FieldValue } from './live-fields'
import { ARCHIVE_FIELDS, instanceOf, type ArchivedInstance, type HistoryKind, type InstanceWhere } from './history'
import type { VariableHead } from './records'
import type { SnapshotPart } from './snapshot-parts'
import { InstanceReads } from './ordered-history'
import { LOG_SCHEMA, openStoreFiles, releaseLock, StoreError } from './store-file'
import { StoreWriter, type HistoryWrite, type JsonLater, type WriteAnswer, type WriteRows } from './writer'

export { StoreError }

/** The rows a checkpoint writes and deletes (runtime/checkpoint.ts makes them). */
export interface CheckpointWrite {
  /** each record's row: its JSON (or the record, for the writer thread to build it), and the values of its index fields (live-fields.ts) */
  upserts: [kind: string, key: string, json: string | JsonLater, fields: readonly FieldValue[]][]
  deletes: [kind: string, key: string][]
  /** variable scopes whose rows are all deleted, after the history written with it has copied them */
  scopeDeletes?: string[]
}

/**
 * A checkpoint whose rows were built over several turns of the event loop: they hold the state at
 * log position `seq`, and `staged` of them were handed over ahead (stageCheckpointRows, `token`).
 */
export interface SlicedCheckpoint { seq: number; token: number; staged: number }

/** The kind of the live rows of variables (runtime/variables.ts). */
const VARIABLE_ROWS = 'variable'

/**
 * A row for the live table's statement: kind, key, JSON, one value per field column, then a
 * variable's JSON length. A JsonLater stays as it is: the writer thread builds its JSON and length.
 */
function upsertRow([kind, key, json, fields]: CheckpointWrite['upserts'][number]): unknown[] {
  const length = typeof json === 'string' ? json.length : null
  return [kind, key, json, ...FIELD_COLUMNS.map((_, i) => fields[i] ?? null), kind === VARIABLE_ROWS ? length : null]
}

/** After a failed commit, the buffered commands are tried again this often, until one succeeds. */
const FLUSH_RETRY_MS = 500
/**
 * Finished instances are held back from the group commits until this many are buffered, or the
 * oldest has waited HISTORY_HOLD_MS. Written a few at a time, with every small commit, their
 * table and index pages went to the WAL again and again; in one larger transaction each page is
 * written once. Until they are written, the log holds the commands that finished them.
 */
const HISTORY_BATCH = 256
const HISTORY_HOLD_MS = 1_000
/**
 * Group commits in the writer thread at a time: while one commits, the next is already queued
 * there, so the commands gathered meanwhile do not wait for the answer to come back to the event
 * loop before they are handed over.
 */
const WRITES_IN_FLIGHT = 2
/**
 * A group commit hands over commands of this many characters at most (one command at least): the
 * copy to the writer thread takes about 2 ms per million characters on the event loop, and
 * commands can carry payloads of 4 MB each.
 */
const WRITE_CHARS = 4_000_000
/**
 * A group commit of this many characters or more waits while a checkpoint is being written: both
 * at once (several MB into each file) left the event loop so little of two cores that a 20 ms
 * poll waited up to 139 ms, against 69 ms one after the other (bench/PERFORMANCE.md).
 */
const LARGE_WRITE_CHARS = 1_000_000
/**
 * Finished instances leaving this many characters of variables in their live rows
 * (ArchivedInstance.variablesInRows) are not held back: the group commits copy them to the
 * history a few MB at a time (WRITE_CHARS), rather than a checkpoint all at once.
 */
const PROMPT_CHARS = 256_000

export interface LogEntry {
  seq: number
  /** engine time of the command, epoch ms */
  time: number
  /** the command, JSON */
  command: string
}

/** Rows read per chunk at a start (liveFields): a few MB of JSON. */
const FIELDS_CHUNK = 20_000

/** snapshot.state of a snapshot written in parts (version 1 wrote the whole state there). */
const PARTS_MARKER = 'parts'
/** snapshot.state once the state is the rows of the live table (version 5). */
const ROWS_MARKER = 'rows'

/**
 * The stored state and its log position: the rows of the live table (kind, JSON), or a snapshot
 * an earlier raccord wrote, in parts (versions 2 to 4) or as one JSON string (version 1).
 */
/** The rows of one kind, each as its key and its index fields (INDEX_FIELDS; absent ones left out). */
export type LiveFields = (kind: string) => Iterable<Record<string, unknown> & { key: string }>

export type StoredSnapshot =
  | { seq: number; rows: (kind: string) => Iterable<string>; fields: LiveFields; variableScopesUpTo: () => string | undefined; parts?: undefined; state?: undefined }
  | { seq: number; parts: Iterable<SnapshotPart>; rows?: undefined; state?: undefined }
  | { seq: number; state: string; rows?: undefined; parts?: undefined }

/** A command, at its log position (given when it is buffered, and kept if it is logged again). */
interface Buffered { seq: number; time: number; command: string | JsonLater }

/** How long a buffered command's JSON is (or will be, built in the log thread). */
function commandChars(command: string | JsonLater): number {
  return typeof command === 'string' ? command.length : command.chars
}

/** A group commit handed to the log thread, not answered yet: what to put back if it fails. */
interface LogInFlight {
  commands: Buffered[]
  waiters: Waiter[]
  /** finished instances buffered before it was handed over: once it is committed, so are the commands that finished them */
  archivedBefore: number
}

/** Finished instances or a checkpoint handed to the state thread, not answered yet. */
interface StateInFlight {
  history: ArchivedInstance[]
  /** a checkpoint: told its log position once committed, or why it failed */
  checkpoint?: (outcome: { seq: number } | { error: Error }) => void
  /** that log position */
  checkpointSeq?: number
}

interface Waiter { resolve: () => void; reject: (e: Error) => void }

/**
 * The engine's durable state in SQLite (WAL): a command log, checkpoints of the live state and
 * the finished instances. Commands are appended to a buffer and committed together by the writer
 * thread (group commit); callers are told once theirs is on disk.
 */
export class EngineStore {
  private readonly db: Database.Database
  /** engine.db's thread: finished instances, checkpoints, pruning */
  private readonly writer: StoreWriter
  /** log.db's thread: the group commits */
  private readonly logWriter: StoreWriter
  private buffer: Buffered[] = []
  /** finished instances not handed to the writer thread yet (held back: see HISTORY_BATCH) */
  private historyBuffer: ArchivedInstance[] = []
  /** finished instances buffered so far, and taken out of the buffer's front (its first is number `historyTaken`) */
  private archivedCount = 0
  private historyTaken = 0
  /** the finished instances numbered below this were finished by logged commands: they may be written */
  private historyReady = 0
  /** when the oldest of historyBuffer was buffered (performance.now()) */
  private historySince = 0
  private historyTimer: NodeJS.Timeout | undefined
  /** a checkpoint being built in slices: its token, its finished instances (staged up to `next`), the history rows staged */
  private staging: { token: number; history: ArchivedInstance[]; next: number; rows: number; moves: number } | undefined
  /** Builds the rest of a checkpoint being built in slices, and hands it over (set by its builder). */
  finishStaging: (() => void) | undefined
  /** the held-back history was asked for while a write was in the thread: it goes with the next */
  private historyWanted = false
  private waiters: Waiter[] = []
  /** writes handed to each thread, by operation id, in order */
  private readonly logInFlight = new Map<number, LogInFlight>()
  private readonly stateInFlight = new Map<number, StateInFlight>()
  /**
   * A checkpoint waiting for the commands it holds to be logged (one at a time, as durable.ts
   * writes them), by its ticket (a negative id); the tickets handed over since, to their write's id.
   */
  private deferred: { ticket: number; seq: number; write: StateInFlight; operation: { op: 'write' } & WriteRows } | undefined
  private readonly handedTickets = new Map<number, number>()
  private tickets = 0
  /** the log position of the next command buffered */
  private nextSeq: number
  private flushScheduled = false
  private retryTimer: NodeJS.Timeout | undefined
  private liveRowStmt: Database.Statement | undefined
  private scopeStmt: Database.Statement | undefined
  private scopeCharsStmt: Database.Statement | undefined
  private headsStmt: Database.Statement | undefined
  private reads: InstanceReads | undefined
  private readonly rowChars = new WeakMap<ArchivedInstance, number>()
  /** the last group commit's failure (disk full, read-only): commands are refused until one succeeds */
  failure: Error | undefined
  /** time the writer thread spent on checkpoints: how many, in total and the longest */
  readonly writerCheckpoints = { count: 0, totalMs: 0, maxMs: 0 }

  private constructor(db: Database.Database, readonly file: string, readonly logFile: string) {
    this.db = db
    const row = db.prepare('SELECT MAX(seq) AS seq FROM log').get() as { seq: number | null }
    const snap = db.prepare('SELECT seq FROM snapshot WHERE id = 1').get() as { seq: number } | undefined
    this.nextSeq = Math.max(row.seq ?? 0, snap?.seq ?? 0) + 1
    this.writer = new StoreWriter(file, FIELD_COLUMNS, ROWS_MARKER, 'state')
    this.logWriter = new StoreWriter(logFile, FIELD_COLUMNS, ROWS_MARKER, 'log', this.nextSeq - 1)
  }

  /** Open (or create) the state in `dir`. Refuses a foreign or corrupt file with a StoreError. */
  static open(dir: string): EngineStore {
    const { db, file, logFile } = openStoreFiles(dir)
    return new EngineStore(db, file, logFile)
  }

  readSnapshot(): StoredSnapshot | undefined {
    const row = this.db.prepare('SELECT seq, state FROM snapshot WHERE id = 1').get() as { seq: number; state: string } | undefined
    if (!row) return undefined
    if (row.state === ROWS_MARKER) {
      // In key order (the primary key's), which is creation order.
      const rows = this.db.prepare('SELECT json FROM live WHERE kind = ?').pluck()
      return { seq: row.seq, rows: (kind) => rows.iterate(kind) as Iterable<string>, fields: (kind) => this.liveFields(kind), variableScopesUpTo: () => this.greatestVariableScope() }
    }
    if (row.state !== PARTS_MARKER) return { seq: row.seq, state: row.state }
    const stmt = this.db.prepare('SELECT path, json FROM snapshot_part ORDER BY n')
    return { seq: row.seq, parts: stmt.iterate() as Iterable<SnapshotPart> }
  }

  *readLog(afterSeq: number): Iterable<LogEntry> {
    const stmt = this.db.prepare('SELECT seq, time, command FROM log WHERE seq > ? ORDER BY seq')
    for (const row of stmt.iterate(afterSeq)) yield row as LogEntry
  }

  /** Buffer one command; it is committed with the next group commit. */
  append(time: number, command: string | JsonLater): void {
    this.buffer.push({ seq: this.nextSeq++, time, command })
    this.scheduleFlush()
  }

  /**
   * Buffer a finished root instance's records. They are committed with a later group commit (once
   * HISTORY_BATCH are buffered or the oldest has waited HISTORY_HOLD_MS), a checkpoint, or before
   * anything that reads the stored history as a whole; readers see them in pendingHistory meanwhile.
   */
  appendHistory(archived: ArchivedInstance): void {
    if (this.historyBuffer.length === 0) {
      this.historySince = performance.now()
      clearTimeout(this.historyTimer)
      this.historyTimer = setTimeout(() => this.flush(true), HISTORY_HOLD_MS)
      this.historyTimer.unref()
    }
    this.historyBuffer.push(archived)
    this.archivedCount++
    if (this.charsInRows(archived) >= PROMPT_CHARS) this.historyWanted = true
    this.scheduleFlush()
  }

  /**
   * How long the JSON of the variables a finished instance left in the live rows is, from the
   * scope index alone (the rows are not read): cached, as each is asked again when it is written.
   */
  private charsInRows(archived: ArchivedInstance): number {
    if (!archived.variablesInRows) return 0
    let chars = this.rowChars.get(archived)
    if (chars === undefined) {
      this.scopeCharsStmt ??= this.db.prepare("SELECT COALESCE(SUM(size), 0) FROM live INDEXED BY live_variable_scope WHERE kind = 'variable' AND f1 = ?").pluck()
      chars = 0
      for (const [scope] of archived.variablesInRows) chars += this.scopeCharsStmt.get(scope) as number
      this.rowChars.set(archived, chars)
    }
    return chars
  }

  /** The held-back history is written now: `ready` of it may be. */
  private historyDue(ready: number): boolean {
    return ready >= HISTORY_BATCH || performance.now() - this.historySince >= HISTORY_HOLD_MS
  }

  /** Finished instances not known to be committed yet (one may be committed already: read both, the buffer first). */
  get pendingHistory(): readonly ArchivedInstance[] {
    if (this.stateInFlight.size === 0 && this.staging === undefined && this.deferred === undefined) return this.historyBuffer
    return [...[...this.stateInFlight.values()].flatMap((w) => w.history), ...this.deferred?.write.history ?? [], ...this.staging?.history ?? [], ...this.historyBuffer]
  }

  /** Every stored record of `kind`, as JSON, in no particular order. */
  *historyJson(kind: HistoryKind, processInstanceKey?: string): Iterable<string> {
    const stmt = processInstanceKey === undefined
      ? this.db.prepare('SELECT json FROM history WHERE kind = ?').pluck().bind(kind)
      : this.db.prepare('SELECT json FROM history WHERE kind = ? AND instance = ?').pluck().bind(kind, processInstanceKey)
    for (const json of stmt.iterate()) yield json as string
  }

  /** Stored records of `kind` (of one process instance, if given), in key order, after `afterKey`: their JSON. */
  historyPage(kind: HistoryKind, processInstanceKey: string | undefined, afterKey: string | undefined, limit: number): string[] {
    const conditions = ['kind = ?', ...(processInstanceKey === undefined ? [] : ['instance = ?']), ...(afterKey === undefined ? [] : ['key > ?'])]
    const values = [kind, ...(processInstanceKey === undefined ? [] : [processInstanceKey]), ...(afterKey === undefined ? [] : [afterKey])]
    return this.db.prepare(`SELECT json FROM history WHERE ${conditions.join(' AND ')} ORDER BY key LIMIT ?`).pluck().all(...values, limit) as string[]
  }

  historyGet(kind: HistoryKind, key: string): string | undefined {
    return this.db.prepare('SELECT json FROM history WHERE kind = ? AND key = ?').pluck().get(kind, key) as string | undefined
  }

  historyOfScope(scope: string): string[] {
    return this.db.prepare("SELECT json FROM history WHERE scope = ? AND kind = 'variable'").pluck().all(scope) as string[]
  }

  /** Stored finished instances read by the history's indexes, as their JSON (ordered-history.ts). */
  get instanceReads(): InstanceReads {
    return this.reads ??= new InstanceReads(this.db)
  }

  /** How many stored finished instances meet `where`, counted up to `cap`. */
  historyInstanceCount(where: InstanceWhere, cap: number): number {
    // Counted once every write is committed, so that none is counted twice or missed.
    this.commitAll()
    return this.instanceReads.count(where, cap)
  }

  historyRoots(): number {
    this.commitAll()
    return (this.db.prepare('SELECT COUNT(*) FROM history_root').pluck().get() as number) + this.historyBuffer.length
  }

  /**
   * Delete up to `max` root instances that finished before `before`, with their records, in one
   * transaction of the writer thread, after what was handed to it before: resolves to how many.
   * The event loop goes on meanwhile (waiting for that thread's queue once held it up to 257 ms,
   * every minute, at a million finished instances).
   */
  pruneHistory(before: number, max: number): Promise<number> {
    this.flush(true)
    return new Promise((resolve, reject) => {
      this.writer.post({ op: 'prune', before, max }, (answer) => (answer.ok ? resolve(answer.value as number) : reject(new Error(answer.error ?? 'the writer thread refused to prune'))))
    })
  }

  /**
   * The rows of finished instances, for the writer thread, from `batch[from]` on until their JSON
   * passes `maxChars` (one instance at least): the rows, and how many instances they hold.
   */
  private historyRows(batch: readonly ArchivedInstance[], from = 0, maxChars = Infinity): HistoryWrite & { taken: number } {
    const roots: WriteRows['roots'] = []
    const history: WriteRows['history'] = []
    const moves: WriteRows['moves'] = []
    let chars = 0
    let at = from
    for (; at < batch.length && (at === from || chars < maxChars); at++) {
      const archived = batch[at]
      roots.push([archived.root, archived.ended])
      for (const kind of Object.keys(ARCHIVE_FIELDS) as HistoryKind[]) {
        for (const r of archived[ARCHIVE_FIELDS[kind]] as { key: string; scopeKey?: string; processInstanceKey?: string }[]) {
          const json = JSON.stringify(r)
          chars += json.length
          history.push([kind, r.key, archived.root, kind === 'variable' ? r.scopeKey ?? null : null, instanceOf(kind, r) ?? null, json])
        }
      }
      for (const [scope, instance] of archived.variablesInRows ?? []) moves.push([archived.root, scope, instance])
      chars += this.charsInRows(archived)
    }
    return { roots, history, moves, taken: at - from }
  }

  /** Resolves when everything appended so far is committed; rejects if the commit failed. */
  durable(): Promise<void> {
    if (this.buffer.length === 0 && this.waiters.length === 0 && this.logInFlight.size === 0) {
      return this.failure ? Promise.reject(this.failure) : Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject })
      this.scheduleFlush()
    })
  }

  /** The log thread's commit notices (api.ts, CommitNotices), for a gRPC thread to release answers (gateway-thread.ts, COMMITS). */
  commitNotices(): CommitNotices {
    const { port1, port2 } = new MessageChannel()
    this.logWriter.post({ op: 'notices', port: port2 }, () => undefined)
    return { port: port1, failurePrefix: this.commitFailurePrefix }
  }

  private get commitFailurePrefix(): string { return `Cannot write engine log '${this.logFile}': ` }

  get pending(): number { return this.buffer.length }

  /** the log position of the last command buffered */
  get lastSeq(): number { return this.nextSeq - 1 }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  /**
   * Hand the buffered commands to the log thread, as one transaction: their waiters are told once
   * it is committed. Waiters with nothing new to write wait for the writes handed over before
   * them. While WRITES_IN_FLIGHT writes are in the thread, the commands wait for an answer. Then
   * the finished instances whose commands are logged go to the state thread, when they are due,
   * or when `withHistory`.
   */
  flush(withHistory = this.historyWanted): void {
    this.flushCommands()
    this.flushHistory(withHistory)
  }

  private flushCommands(): void {
    if (this.buffer.length === 0) {
      const waiters = this.waiters
      this.waiters = []
      const last = [...this.logInFlight.values()].pop()
      if (last) last.waiters.push(...waiters)
      else for (const w of waiters) settleWaiter(w, this.failure)
      return
    }
    // Group commit: while the thread has its fill of writes, the next one gathers everything
    // buffered meanwhile, and is handed over when one is answered: one transaction, not many.
    if (this.logInFlight.size >= WRITES_IN_FLIGHT) return
    // One hand-over copies its commands to the thread, on the event loop: past WRITE_CHARS, the
    // rest go with the next turn's, and the waiters, who wait for all, with the last.
    let n = 0
    let chars = 0
    for (; n < this.buffer.length && (n === 0 || chars + commandChars(this.buffer[n].command) <= WRITE_CHARS); n++) chars += commandChars(this.buffer[n].command)
    if (chars >= LARGE_WRITE_CHARS && [...this.stateInFlight.values()].some((w) => w.checkpoint)) return
    const rest = n < this.buffer.length
    const batch = rest ? this.buffer.slice(0, n) : this.buffer
    const waiters = rest ? [] : this.waiters
    this.buffer = rest ? this.buffer.slice(n) : []
    if (rest) this.scheduleFlush()
    if (waiters.length > 0) this.waiters = []
    const log = batch.map((e): [number, number, string | JsonLater] => [e.seq, e.time, e.command])
    const write: LogInFlight = { commands: batch, waiters, archivedBefore: this.archivedCount }
    const id = this.logWriter.post({ op: 'write', log, roots: [], history: [], moves: [] }, (answer) => this.logged(id, write, answer))
    this.logInFlight.set(id, write)
  }

  /**
   * Finished instances go to the state thread only once the commands that finished them are
   * logged: written earlier, a crash could leave in the history an instance that the log, read
   * again, does not finish.
   */
  private flushHistory(withHistory: boolean): void {
    if (this.buffer.length === 0 && this.logInFlight.size === 0) this.historyReady = this.archivedCount
    const ready = Math.min(this.historyBuffer.length, this.historyReady - this.historyTaken)
    if (ready <= 0 || !(withHistory || this.historyDue(ready))) return
    if (this.stateInFlight.size >= WRITES_IN_FLIGHT) {
      this.historyWanted = true
      return
    }
    // (past WRITE_CHARS of their rows, the rest go with the next)
    const { taken, ...rows } = this.historyRows(this.historyBuffer.slice(0, ready), 0, WRITE_CHARS)
    const history = this.historyBuffer.slice(0, taken)
    this.historyBuffer = this.historyBuffer.slice(taken)
    this.historyTaken += taken
    this.historyWanted = this.historyBuffer.length > 0 && withHistory
    if (taken < ready) this.scheduleFlush()
    if (this.historyBuffer.length === 0) clearTimeout(this.historyTimer)
    this.handState({ history }, { op: 'write', log: [], ...rows })
  }

  private handState(write: StateInFlight, operation: { op: 'write' } & WriteRows): number {
    const id = this.writer.post(operation, (answer) => this.stateWritten(id, answer))
    this.stateInFlight.set(id, write)
    return id
  }

  private logged(id: number, write: LogInFlight, answer: WriteAnswer): void {
    // (a write put back after an earlier one failed: its refusal is no news)
    if (!this.logInFlight.delete(id)) return
    if (answer.ok) {
      this.failure = undefined
      this.historyReady = Math.max(this.historyReady, write.archivedBefore)
      for (const w of write.waiters) w.resolve()
      this.settleDeferred()
      this.flush()
      return
    }
    // The thread refuses every write after this one until told to resume: put them all back, in
    // order and at their positions, before what was buffered since. Nothing of them is
    // acknowledged; they are retried.
    this.failure = new StoreError(`${this.commitFailurePrefix}${answer.error ?? 'unknown error'}`)
    const failed = [write, ...this.logInFlight.values()]
    this.logInFlight.clear()
    this.logWriter.post({ op: 'resume' }, () => undefined)
    this.buffer = [...failed.flatMap((w) => w.commands), ...this.buffer]
    for (const w of failed) for (const waiter of w.waiters) waiter.reject(this.failure)
    this.settleDeferred()
    this.retryLater()
  }

  private stateWritten(id: number, answer: WriteAnswer): void {
    const write = this.stateInFlight.get(id)
    if (!write) return
    this.stateInFlight.delete(id)
    if (answer.ok) {
      if (write.checkpoint) {
        this.writerCheckpoints.count++
        this.writerCheckpoints.totalMs += answer.ms
        this.writerCheckpoints.maxMs = Math.max(this.writerCheckpoints.maxMs, answer.ms)
        const seq = write.checkpointSeq ?? 0
        // The rows hold the effects of the commands up to it: the log drops them. (Until then,
        // or if this fails, a start reads them again and skips them.)
        this.logWriter.post({ op: 'trim', seq }, () => undefined)
        write.checkpoint({ seq })
      }
      this.flushHistory(this.historyWanted)
      // (a large group commit may have waited for it)
      if (write.checkpoint) this.flushCommands()
      return
    }
    // As for the log: every write after this one is refused, and the finished instances of all
    // go back to the front of the buffer, to be written again. Commands are still taken: they go
    // to log.db, and the log keeps them until a checkpoint is committed.
    const failure = new StoreError(`Cannot write engine state '${this.file}': ${answer.error ?? 'unknown error'}`)
    const failed = [write, ...this.stateInFlight.values()]
    this.stateInFlight.clear()
    this.writer.post({ op: 'resume' }, () => undefined)
    const unwritten = failed.flatMap((w) => w.history)
    this.historyBuffer = [...unwritten, ...this.historyBuffer]
    this.historyTaken -= unwritten.length
    if (unwritten.length > 0) this.historyWanted = true
    for (const w of failed) w.checkpoint?.({ error: failure })
    this.retryLater()
  }

  /** Commands are refused meanwhile, so nothing else would trigger the retry. */
  private retryLater(): void {
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined
      this.scheduleFlush()
    }, FLUSH_RETRY_MS)
    this.retryTimer.unref()
  }

  /**
   * Bring the live table to the state as it is now (the rows that changed since the last
   * checkpoint), with the finished instances, in one transaction, in the state thread; once it is
   * committed, the log drops the commands up to it. The commands still buffered are logged as
   * usual (the rows hold their effects too: a start skips them). `then` is told the log position
   * the checkpoint stands for once it is committed (on the event loop, or within waitFor). A
   * failure (a full disk) leaves the previous checkpoint and the log as they were. Returns the
   * write's id, for waitFor.
   */
  writeCheckpoint(rows: CheckpointWrite, now: number, then: (outcome: { seq: number } | { error: Error }) => void, sliced?: SlicedCheckpoint): number {
    if (sliced) return this.writeSlicedCheckpoint(rows, now, then, sliced)
    const seq = this.lastSeq
    // (all finished instances: the rows hold the state that finished them, logged or not)
    const history = this.historyBuffer
    this.historyBuffer = []
    this.historyTaken += history.length
    this.historyWanted = false
    clearTimeout(this.historyTimer)
    const { taken: _all, ...historyRows } = this.historyRows(history)
    return this.handWhenLogged({ history, checkpoint: then, checkpointSeq: seq },
      { op: 'write', log: [], ...historyRows, checkpoint: { deletes: rows.deletes, scopeDeletes: rows.scopeDeletes ?? [], upserts: rows.upserts.map(upsertRow), seq, now } })
  }

  /** Commands up to `seq` not logged yet: buffered, or in a group commit not answered. */
  private unlogged(seq: number): boolean {
    return (this.buffer.length > 0 && this.buffer[0].seq <= seq) || [...this.logInFlight.values()].some((w) => w.commands[0].seq <= seq)
  }

  /**
   * A checkpoint holds the effects of the commands up to its position: it is handed over once they
   * are logged, and refused if their group commit fails, since they were refused. Until then it
   * waits here (the event loop goes on); its id is then a ticket, which waitFor takes too.
   */
  private handWhenLogged(write: StateInFlight, operation: { op: 'write' } & WriteRows): number {
    const seq = write.checkpointSeq ?? 0
    if (!this.unlogged(seq)) return this.handState(write, operation)
    const ticket = -++this.tickets
    this.deferred = { ticket, seq, write, operation }
    this.flushCommands()
    return ticket
  }

  /** After each group commit's answer: the waiting checkpoint goes, or is refused if its commands were. */
  private settleDeferred(): void {
    const deferred = this.deferred
    if (!deferred) return
    if (!this.unlogged(deferred.seq)) {
      this.deferred = undefined
      this.handedTickets.set(deferred.ticket, this.handState(deferred.write, deferred.operation))
      return
    }
    if (this.failure === undefined) return
    // Nothing of it is written: its finished instances go back to be written.
    this.deferred = undefined
    const { history, checkpoint } = deferred.write
    this.historyBuffer = [...history, ...this.historyBuffer]
    this.historyTaken -= history.length
    if (history.length > 0) this.historyWanted = true
    checkpoint?.({ error: this.failure })
  }

  /**
   * The last part of a checkpoint built in slices: its rows hold the state at `sliced.seq`, and its
   * finished instances were staged ahead of it. The commands buffered meanwhile are not its own:
   * they stay in the buffer for the group commits (those up to `sliced.seq` are logged after it and
   * never replayed, the rows holding their effects).
   */
  private writeSlicedCheckpoint(rows: CheckpointWrite, now: number, then: (outcome: { seq: number } | { error: Error }) => void, sliced: SlicedCheckpoint): number {
    const staging = this.staging
    if (staging?.token !== sliced.token) throw new Error(`no checkpoint ${sliced.token} is being built in slices`)
    this.staging = undefined
    const staged = { token: sliced.token, count: sliced.staged, roots: staging.history.length, history: staging.rows, moves: staging.moves }
    const id = this.handWhenLogged({ history: staging.history, checkpoint: then, checkpointSeq: sliced.seq },
      { op: 'write', log: [], roots: [], history: [], moves: [], checkpoint: { deletes: rows.deletes, scopeDeletes: rows.scopeDeletes ?? [], upserts: rows.upserts.map(upsertRow), seq: sliced.seq, now, staged } })
    if (this.buffer.length > 0) this.scheduleFlush()
    return id
  }

  /** A checkpoint being built in slices is given up: its finished instances go back to be written with the group commits. */
  abandonSlicedCheckpoint(): void {
    if (!this.staging) return
    this.historyBuffer = [...this.staging.history, ...this.historyBuffer]
    this.historyTaken -= this.staging.history.length
    this.staging = undefined
    if (this.historyBuffer.length > 0) this.historyWanted = true
    this.scheduleFlush()
  }

  /**
   * Begin a checkpoint built in slices (`token`): the finished instances held back so far go with
   * it, staged ahead of it by stageCheckpointHistory (readers still see them as pending).
   */
  beginSlicedCheckpoint(token: number): void {
    clearTimeout(this.historyTimer)
    this.staging = { token, history: this.historyBuffer, next: 0, rows: 0, moves: 0 }
    this.historyTaken += this.historyBuffer.length
    this.historyBuffer = []
    this.historyWanted = false
  }

  /** Hand the writer thread rows of the checkpoint being built in slices, ahead of it. */
  stageCheckpointRows(rows: CheckpointWrite['upserts']): void {
    const staging = this.stagingNow()
    this.writer.post({ op: 'stage', token: staging.token, upserts: rows.map(upsertRow), roots: [], history: [], moves: [] }, () => undefined)
  }

  /**
   * Hand the writer thread the rows of the finished instances of the checkpoint being built in
   * slices, ahead of it, from where the last call left them: about `maxChars` of them (one instance
   * at least). True once every one is staged.
   */
  stageCheckpointHistory(maxChars: number): boolean {
    const staging = this.stagingNow()
    if (staging.next < staging.history.length) {
      const { taken, ...history } = this.historyRows(staging.history, staging.next, maxChars)
      staging.next += taken
      staging.rows += history.history.length
      staging.moves += history.moves.length
      this.writer.post({ op: 'stage', token: staging.token, upserts: [], ...history }, () => undefined)
    }
    return staging.next >= staging.history.length
  }

  private stagingNow(): NonNullable<EngineStore['staging']> {
    if (!this.staging) throw new Error('no checkpoint is being built in slices')
    return this.staging
  }

  /** Finished instances held back from the group commits, not yet handed to the writer thread. */
  get heldBackHistory(): number {
    return this.historyBuffer.length
  }

  /**
   * Block until nothing is buffered or in the writer thread: each answer hands over what was
   * buffered meanwhile, so settle again until none is left (or a write failed).
   */
  private commitAll(): void {
    // (a checkpoint built in slices holds finished instances: it is finished first)
    if (this.staging) this.finishStaging?.()
    // the commands first: once they are logged, every finished instance may be written
    this.flush(true)
    while (this.logInFlight.size > 0 || this.deferred || this.buffer.length > 0) {
      this.flushCommands()
      this.logWriter.settle()
      if (this.logInFlight.size === 0) this.writer.settle()
      if (this.failure) break
    }
    this.flush(true)
    while (this.stateInFlight.size > 0) this.writer.settle()
  }

  /** Block until the write `id` is answered (and, for a checkpoint, the log dropped up to it). */
  waitFor(id: number): void {
    if (id < 0) {
      // (a checkpoint waiting for its commands: they are logged, then it is handed over, or refused)
      while (this.deferred?.ticket === id) {
        this.flushCommands()
        this.logWriter.settle()
        // (a large group commit waits for a checkpoint being written)
        if (this.logInFlight.size === 0) this.writer.settle()
      }
      const handed = this.handedTickets.get(id)
      this.handedTickets.delete(id)
      if (handed === undefined) return
      id = handed
    }
    this.writer.wait(id)
    this.logWriter.settle()
  }

  /**
   * Each stored row of `kind` as its key and index fields. SQLite builds the rows of a chunk into
   * one JSON array, parsed at once: at a start that reads millions of rows, that is about a third
   * faster than taking them a value at a time through the driver.
   */
  private liveFields(kind: string): Iterable<Record<string, unknown> & { key: string }> {
    const names = INDEX_FIELDS[kind] as readonly string[] | undefined ?? []
    const columns = ['key', ...names.map((_, i) => FIELD_COLUMNS[i])].join(', ')
    const chunk = this.db.prepare(`SELECT json_group_array(json_array(${columns})) FROM (SELECT ${columns} FROM live WHERE kind = ? AND key > ? ORDER BY key LIMIT ?)`).pluck()
    // An iterator rather than a generator: a start reads millions of rows through it.
    return {
      [Symbol.iterator]: () => {
        let rows: unknown[][] = []
        let at = 0
        let after: string | undefined = ''
        return {
          next: (): IteratorResult<Record<string, unknown> & { key: string }> => {
            if (at === rows.length) {
              if (after === undefined) return { done: true, value: undefined }
              rows = JSON.parse(chunk.get(kind, after, FIELDS_CHUNK) as string) as unknown[][]
              at = 0
              // the next chunk starts after the greatest key of this one (keys compare as SQLite's text)
              after = rows.length < FIELDS_CHUNK ? undefined : rows.reduce((max, row) => (row[0] as string) > max ? row[0] as string : max, after)
              if (rows.length === 0) return { done: true, value: undefined }
            }
            const row = rows[at++]
            const record: Record<string, unknown> & { key: string } = { key: row[0] as string }
            for (let i = 0; i < names.length; i++) if (row[i + 1] !== null) record[names[i]] = row[i + 1]
            return { done: false, value: record }
          },
        }
      },
    }
  }

  /** The greatest scope that holds variables in the live state (by the scope index: no scan). */
  private greatestVariableScope(): string | undefined {
    return (this.db.prepare("SELECT MAX(f1) FROM live WHERE kind = 'variable'").pluck().get() as string | null) ?? undefined
  }

  /** The JSON of the variables of one scope in the live state. */
  variablesOfScope(scopeKey: string): string[] {
    this.scopeStmt ??= this.db.prepare("SELECT json FROM live INDEXED BY live_variable_scope WHERE kind = 'variable' AND f1 = ?").pluck()
    return this.scopeStmt.all(scopeKey) as string[]
  }

  /** Up to `limit` variables of the live state after `afterKey`, in key order, as heads: from the live_fields index alone (no value is read). */
  variableHeadsAfter(afterKey: string | undefined, limit: number): VariableHead[] {
    this.headsStmt ??= this.db.prepare("SELECT key, f1, f2, f3, f4 FROM live INDEXED BY live_fields WHERE kind = 'variable' AND key > ? ORDER BY key LIMIT ?").raw()
    return (this.headsStmt.all(afterKey ?? '', limit) as string[][]).map(([key, scopeKey, name, processInstanceKey, tenantId]) => ({ key, name, scopeKey, processInstanceKey, tenantId }))
  }

  /** The JSON of every variable in the live state. */
  allVariables(): Iterable<string> {
    return this.db.prepare("SELECT json FROM live WHERE kind = 'variable'").pluck().iterate() as Iterable<string>
  }

  /** The JSON of one row of the live state, as the last checkpoint wrote it. */
  liveRow(kind: string, key: string): string | undefined {
    this.liveRowStmt ??= this.db.prepare('SELECT json FROM live WHERE kind = ? AND key = ?').pluck()
    return this.liveRowStmt.get(kind, key) as string | undefined
  }

  rowKinds(): string[] {
    // One seek per kind, rather than a scan of every row.
    const next = this.db.prepare('SELECT kind FROM live WHERE kind > ? ORDER BY kind LIMIT 1').pluck()
    const kinds: string[] = []
    for (let kind = next.get('') as string | undefined; kind !== undefined; kind = next.get(kind) as string | undefined) kinds.push(kind)
    return kinds
  }

  /** Bytes on disk: the databases and their WALs. */
  sizeOnDisk(): number {
    let total = 0
    for (const f of [this.file, this.logFile].flatMap((file) => [file, `${file}-wal`, `${file}-shm`])) {
      try { total += fs.statSync(f).size } catch { /* absent */ }
    }
    return total
  }

  /** For tests of the disk-full path: cap each database's size in pages (engine.db's alone, if `only`). */
  limitPages(maxPages: number, only?: 'engine.db'): void {
    this.writer.run({ op: 'pragma', pragma: `max_page_count = ${Math.floor(maxPages)}` })
    if (only === undefined) this.logWriter.run({ op: 'pragma', pragma: `max_page_count = ${Math.floor(maxPages)}` })
  }

  close(): void {
    clearTimeout(this.retryTimer)
    clearTimeout(this.historyTimer)
    try {
      this.commitAll()
      this.logWriter.close()
      this.writer.close()
      this.db.pragma('wal_checkpoint(TRUNCATE)')
      this.db.pragma(`${LOG_SCHEMA}.wal_checkpoint(TRUNCATE)`)
    } finally {
      this.db.close()
      releaseLock(path.dirname(this.file))
    }
  }
}

function settleWaiter(waiter: Waiter, failure: Error | undefined): void {
  if (failure) waiter.reject(failure)
  else waiter.resolve()
}
