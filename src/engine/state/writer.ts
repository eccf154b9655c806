import { randomBytes } from 'node:crypto'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { startSharedPoolFirst, THREAD_NAMES } from '../thread-name'
import { INSTANCE_INSERT, INSTANCE_ROWID_SOURCE, KEEPER_ROW } from './history-rowid'

/**
 * The engine's writes to its SQLite files run in threads of their own, each on a connection of its
 * own. The event loop only hands them over (the rows are built there) and goes on serving; a
 * thread answers once the transaction is committed, and only then is anything acknowledged.
 * - The log thread ('log' mode, log.db) commits the commands of each group commit, and drops the
 *   log up to a checkpoint once the checkpoint is committed. It also tells the gRPC thread how far
 *   the log is committed (COMMIT NOTICES): the answers waiting for it go from there, not from the
 *   event loop.
 * - The state thread ('state' mode, engine.db) writes the finished instances, the checkpoints of
 *   the live state and the pruning. Its work is not on the way of a command's answer, so it runs
 *   at a lower priority (Linux): it takes the cores when the threads that answer clients leave
 *   them, and a command's commit never waits for it.
 * Writes run one at a time in the order given. After one fails (a full disk), the thread refuses
 * every write given before the caller says `resume`, so that nothing later is committed without
 * the failed ones. Reads stay on the event loop's connection (WAL: they see every committed write
 * and never wait for one).
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
try { require('node:fs').writeFileSync('/proc/thread-self/comm', workerData.name) } catch {}
// (a thread's own priority: /proc/thread-self names it; lowering it needs no privilege)
if (workerData.nice) try { require('node:os').setPriority(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()), workerData.nice) } catch {}
const Database = require(workerData.sqlite)
const port = workerData.port
const done = new Int32Array(workerData.done)
const db = new Database(workerData.file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
const columns = workerData.fieldColumns
// (state thread) instance rows in a region of their own, in key order: history-rowid.ts
${INSTANCE_ROWID_SOURCE}
// (one that cannot be written now, on a full disk, is written at a later start: until then, only
// a history of instance rows alone could take a rowid of their region)
if (workerData.mode === 'state') try { db.prepare(${JSON.stringify(KEEPER_ROW)}).run() } catch {}
// (a command is logged again, at its position, when a write was refused after an earlier one failed)
const statements = workerData.mode === 'log' ? {
  log: db.prepare('INSERT OR REPLACE INTO log (seq, time, command) VALUES (?, ?, ?)'),
  trim: db.prepare('DELETE FROM log WHERE seq <= ?'),
} : {
  root: db.prepare('INSERT OR REPLACE INTO history_root (root, ended) VALUES (?, ?)'),
  history: db.prepare('INSERT OR REPLACE INTO history (kind, key, root, scope, instance, json) VALUES (?, ?, ?, ?, ?, ?)'),
  instance: db.prepare(${JSON.stringify(INSTANCE_INSERT)}),
  // (a finished instance's variables still in the live rows, copied there without crossing threads)
  move: db.prepare("INSERT OR REPLACE INTO history (kind, key, root, scope, instance, json) SELECT 'variable', key, ?, f1, ?, json FROM live INDEXED BY live_variable_scope WHERE kind = 'variable' AND f1 = ?"),
  removeScope: db.prepare("DELETE FROM live INDEXED BY live_variable_scope WHERE kind = 'variable' AND f1 = ?"),
  upsert: db.prepare('INSERT OR REPLACE INTO live (kind, key, json, ' + columns.join(', ') + ', size) VALUES (?, ?, ?' + ', ?'.repeat(columns.length) + ', ?)'),
  remove: db.prepare('DELETE FROM live WHERE kind = ? AND key = ?'),
  previous: db.prepare('SELECT state FROM snapshot WHERE id = 1').pluck(),
  dropParts: db.prepare('DELETE FROM snapshot_part'),
  mark: db.prepare('INSERT OR REPLACE INTO snapshot (id, seq, created, state) VALUES (1, ?, ?, ?)'),
  oldRoots: db.prepare('SELECT root FROM history_root WHERE ended < ? ORDER BY ended LIMIT ?').pluck(),
  rootRecords: db.prepare('DELETE FROM history WHERE root = ?'),
  dropRoot: db.prepare('DELETE FROM history_root WHERE root = ?'),
}
function writeHistory(row) {
  const rowid = instanceRowid(row[0], row[1])
  if (rowid === undefined) statements.history.run(row)
  else statements.instance.run(rowid, ...row)
}
// The rows of a checkpoint built in slices, handed over ahead of it ('stage'), by its token.
const nothingStaged = () => ({ token: 0, rows: [], roots: [], history: [], moves: [] })
let staged = nothingStaged()
const write = db.transaction((op) => {
  // (a command the event loop left to this thread to turn into JSON: JsonLater)
  for (const row of op.log) statements.log.run(row[0], row[1], typeof row[2] === 'string' ? row[2] : laterJson(row[2]))
  for (const row of op.roots) statements.root.run(row)
  for (const row of op.history) writeHistory(row)
  for (const [root, scope, instance] of op.moves) statements.move.run(root, instance, scope)
  const cp = op.checkpoint
  if (cp) {
    if (cp.staged) {
      const counts = [['live rows', staged.rows, cp.staged.count], ['finished instances', staged.roots, cp.staged.roots],
        ['history rows', staged.history, cp.staged.history], ['variable scopes', staged.moves, cp.staged.moves]]
      if (staged.token !== cp.staged.token || counts.some(([, rows, count]) => rows.length !== count)) {
        throw new Error('the rows of checkpoint ' + cp.staged.token + ' handed over ahead of it are incomplete (' + counts.map(([name, rows, count]) => name + ' ' + rows.length + ' of ' + count).join(', ') + ')')
      }
      // (the history first: it copies variables from live rows the checkpoint may delete)
      for (const row of staged.roots) statements.root.run(row)
      for (const row of staged.history) writeHistory(row)
      for (const [root, scope, instance] of staged.moves) statements.move.run(root, instance, scope)
    }
    for (const row of cp.deletes) statements.remove.run(row)
    for (const scope of cp.scopeDeletes) statements.removeScope.run(scope)
    for (const row of cp.upserts) statements.upsert.run(built(row))
    if (cp.staged) for (const row of staged.rows) statements.upsert.run(row)
    const previous = statements.previous.get()
    if (previous !== undefined && previous !== workerData.rowsMarker) statements.dropParts.run()
    statements.mark.run(cp.seq, cp.now, workerData.rowsMarker)
  }
})
// The JSON of a JsonLater (below): each placeholder of \`raw\` replaced by the JSON it stands for.
function laterJson(later) {
  let json = JSON.stringify(later.later)
  if (later.raw) for (const [token, bytes] of later.raw) {
    const placeholder = JSON.stringify(token)
    const at = json.indexOf(placeholder)
    if (at < 0) throw new Error('a value to write is missing from its row')
    json = json.slice(0, at) + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') + json.slice(at + placeholder.length)
  }
  return json
}
// A row whose JSON the event loop left to this thread (JsonLater, below): its JSON, and its
// length in the last column (a variable's).
function built(row) {
  if (typeof row[2] === 'string') return row
  const json = laterJson(row[2])
  row[2] = json
  row[row.length - 1] = json.length
  return row
}
const prune = db.transaction((roots) => {
  for (const root of roots) {
    statements.rootRecords.run(root)
    statements.dropRoot.run(root)
  }
})
let failed = false
let failedWith = ''
// (log thread) COMMIT NOTICES: ports to gRPC threads, told how far the log is committed, and
// which log positions a write failed to commit
const noticePorts = []
let committed = workerData.committed
function notice(op, ok, error) {
  if (op.log.length === 0) return
  if (ok) committed = Math.max(committed, op.log[op.log.length - 1][0])
  if (noticePorts.length === 0) return
  const message = ok ? { ok: true, upTo: committed } : { ok: false, upTo: op.log[op.log.length - 1][0], error }
  for (const each of noticePorts) each.postMessage(message)
}
port.on('message', (op) => {
  const started = performance.now()
  let answer
  try {
    if (op.op === 'write') {
      try {
        if (failed) throw new Error('refused: an earlier write failed')
        write(op)
      } finally {
        if (op.checkpoint && op.checkpoint.staged) staged = nothingStaged()
      }
      notice(op, true)
      answer = { id: op.id, ok: true }
    } else if (op.op === 'stage') {
      if (staged.token !== op.token) staged = { ...nothingStaged(), token: op.token }
      for (const row of op.upserts) staged.rows.push(built(row))
      for (const row of op.roots) staged.roots.push(row)
      for (const row of op.history) staged.history.push(row)
      for (const row of op.moves) staged.moves.push(row)
      answer = { id: op.id, ok: true }
    } else if (op.op === 'trim') {
      statements.trim.run(op.seq)
      answer = { id: op.id, ok: true }
    } else if (op.op === 'prune') {
      const roots = statements.oldRoots.all(op.before, op.max)
      if (roots.length > 0) prune(roots)
      answer = { id: op.id, ok: true, value: roots.length }
    } else if (op.op === 'notices') {
      noticePorts.push(op.port)
      op.port.on('close', () => noticePorts.splice(noticePorts.indexOf(op.port), 1))
      op.port.postMessage({ ok: true, upTo: committed })
      answer = { id: op.id, ok: true }
    } else if (op.op === 'resume') {
      failed = false
      answer = { id: op.id, ok: true }
    } else if (op.op === 'pragma') {
      answer = { id: op.id, ok: true, value: db.pragma(op.pragma, { simple: true }) }
    } else if (op.op === 'close') {
      db.close()
      answer = { id: op.id, ok: true }
    } else {
      throw new Error('unknown operation ' + op.op)
    }
  } catch (error) {
    answer = { id: op.id, ok: false, error: String(error && error.message || error) }
    if (op.op === 'write' && !failed) {
      failed = true
      failedWith = answer.error
    }
    // (a write refused after one failed: the notice gives the first failure's reason)
    if (op.op === 'write') notice(op, false, failedWith)
  }
  answer.ms = performance.now() - started
  port.postMessage(answer)
  Atomics.store(done, 0, op.id)
  Atomics.notify(done, 0)
  if (op.op === 'close') port.close()
})
`

/**
 * The state thread's nice value on Linux: below the threads that answer clients (0). Measured with
 * `npm run bench:engine` (bench/PERFORMANCE.md): the durable engine's throughput rose about 8 %
 * with it, about 4 % with the state thread at the same priority. The log thread stays at the
 * process's own: every command's answer waits for it. At nice 10 it took the core from the event
 * loop less often while MBs were created, but with two busy processes beside the engine the
 * answers took twice as long (p50 at 500 instances/s: 5.2 to 5.4 ms against 2.1 to 2.8 ms).
 */
const STATE_NICE = 10

/**
 * A row's JSON left for the writer thread to build: a copy of the record (only plain JSON values),
 * about `chars` long once built. The event loop hands the record over as it is (a long string in
 * it is copied as it stands), and spends neither the JSON.stringify nor the copy that flattens its
 * result: for a variable holding a 3 MB string, about 5 ms and 3 MB of fresh memory less on the
 * loop (bench/PERFORMANCE.md).
 */
export interface JsonLater {
  later: object
  chars: number
  /**
   * Values given as their JSON, in UTF-8 (the gRPC thread wrote it, in shared memory: protocol.ts,
   * longValueJson): each stands in `later` as a placeholder string (rawPlaceholder), replaced in
   * the JSON built. Handing them to a thread copies nothing; a 3 MB string took 7 to 25 ms.
   */
  raw?: [placeholder: string, json: Uint8Array][]
}

/**
 * A placeholder for a value given as its JSON (JsonLater.raw), unique to this process: a NUL and
 * random hex, which no value a client sent holds unless it guessed them.
 */
const PLACEHOLDER_PREFIX = `\u0000raccord-${randomBytes(12).toString('hex')}-`
export function rawPlaceholder(n: number): string {
  return PLACEHOLDER_PREFIX + String(n)
}

/** One group commit or checkpoint: rows ready for SQLite's statements. */
export interface WriteRows {
  /** [seq, time, command (its JSON, or the command for this thread to turn into JSON)] */
  log: [number, number, string | JsonLater][]
  /** [root, ended] */
  roots: [string, number][]
  /** [kind, key, root, scope, instance, json] */
  history: [string, string, string, string | null, string | null, string][]
  /** [root, scope, instance]: the variables of a finished instance's scope, copied from their live rows */
  moves: [string, string, string][]
  checkpoint?: {
    deletes: [string, string][]
    /** variable scopes whose live rows are all deleted (after the moves) */
    scopeDeletes: string[]
    /** [kind, key, json, ...one value per field column, size (a variable's JSON length, else null)] */
    upserts: unknown[][]
    seq: number
    now: number
    /** rows handed over ahead of this write by 'stage' operations of this token (live rows, roots, history rows): all must be there */
    staged?: { token: number; count: number; roots: number; history: number; moves: number }
  }
}

/** The rows of finished instances in a write. */
export type HistoryWrite = Pick<WriteRows, 'roots' | 'history' | 'moves'>

type Operation =
  | ({ op: 'write' } & WriteRows)
  | ({ op: 'stage'; token: number; upserts: unknown[][] } & HistoryWrite)
  | { op: 'prune'; before: number; max: number }
  /** (log thread) drop the log up to a committed checkpoint */
  | { op: 'trim'; seq: number }
  | { op: 'resume' }
  /** (log thread) tell `port` how far the log is committed, now and after each write (COMMIT NOTICES) */
  | { op: 'notices'; port: MessagePort }
  | { op: 'pragma'; pragma: string }
  | { op: 'close' }

/** The thread's answer: `ms` is how long the operation took there. */
export interface WriteAnswer { id: number; ok: boolean; value?: unknown; error?: string; ms: number }

export class StoreWriter {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly done = new Int32Array(new SharedArrayBuffer(4))
  private nextId = 1
  private readonly waiting = new Map<number, (answer: WriteAnswer) => void>()
  private stopped: Error | undefined

  /**
   * `mode`: 'log' for log.db's thread, 'state' for engine.db's (see WORKER_SOURCE). `committed`:
   * the last log position on disk when it starts.
   */
  constructor(file: string, fieldColumns: readonly string[], rowsMarker: string, mode: 'log' | 'state', committed = 0) {
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    startSharedPoolFirst()
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file, fieldColumns, rowsMarker, mode, committed, sqlite: require.resolve('better-sqlite3'), port: port2, done: this.done.buffer,
        name: mode === 'log' ? THREAD_NAMES.log : THREAD_NAMES.writer, nice: mode === 'state' ? STATE_NICE : 0,
      },
      transferList: [port2],
    })
    this.worker.on('error', (error) => this.fail(new Error(`the writer thread stopped: ${error.message}`)))
    this.worker.on('exit', () => this.fail(new Error('the writer thread stopped')))
    this.port.on('message', (answer: WriteAnswer) => this.answered(answer))
    // Only a write not yet answered keeps the process alive.
    this.worker.unref()
    this.port.unref()
  }

  private answered(answer: WriteAnswer): void {
    const then = this.waiting.get(answer.id)
    if (!then) return
    this.waiting.delete(answer.id)
    if (this.waiting.size === 0) this.port.unref()
    then(answer)
  }

  private fail(error: Error): void {
    this.stopped ??= error
    for (const [id, then] of [...this.waiting]) {
      this.waiting.delete(id)
      then({ id, ok: false, error: error.message, ms: 0 })
    }
    this.port.unref()
  }

  /** Hand an operation over; `then` is called with the answer, on the event loop (or within `wait`). */
  post(operation: Operation, then: (answer: WriteAnswer) => void): number {
    const id = this.nextId++
    if (this.stopped) {
      queueMicrotask(() => then({ id, ok: false, error: this.stopped?.message ?? 'stopped', ms: 0 }))
      return id
    }
    this.waiting.set(id, then)
    if (this.waiting.size === 1) this.port.ref()
    this.port.postMessage({ id, ...operation }, operation.op === 'notices' ? [operation.port] : undefined)
    return id
  }

  /** Block until the operation `id` (and every one before it) is answered, its `then` called. */
  wait(id: number): void {
    while (this.waiting.has(id) && !this.stopped) {
      const message = receiveMessageOnPort(this.port)
      if (message) {
        this.answered(message.message as WriteAnswer)
        continue
      }
      const seen = Atomics.load(this.done, 0)
      // (an answer is posted before `done` moves: once it has, the message is there)
      if (seen < id) Atomics.wait(this.done, 0, seen, 1_000)
      // A thread that died says so only through an event, which cannot come while this waits.
      if (this.worker.threadId === -1) this.fail(new Error('the writer thread stopped'))
    }
  }

  /** Post and wait: the answer, or an Error with the thread's message. */
  run(operation: Operation): unknown {
    let result: WriteAnswer | undefined
    const id = this.post(operation, (answer) => { result = answer })
    this.wait(id)
    if (!result) throw new Error(this.stopped?.message ?? 'the writer thread did not answer')
    if (!result.ok) throw new Error(result.error)
    return result.value
  }

  /** Every operation handed over so far is answered. */
  settle(): void {
    this.wait(this.nextId - 1)
  }

  get busy(): boolean {
    return this.waiting.size > 0
  }

  /** Finish what was handed over, close the thread's connection and let the thread end. */
  close(): void {
    if (this.stopped) return
    try {
      this.run({ op: 'close' })
    } finally {
      this.stopped = new Error('the store is closed')
    }
  }
}
