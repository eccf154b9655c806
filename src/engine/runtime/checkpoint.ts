import type { DirtyMarks, RecordMap } from '../state/record-map'
import type { MessageRecord, VariableRecord } from '../state/records'
import type { ProcessingContext } from './processing'
import type { RepositorySnapshot } from './repository'
import type { ElementInstance, WorkItem } from './runtime-state'
import { fieldValues, type FieldValue } from '../state/live-fields'
import { rawPlaceholder, type JsonLater } from '../state/writer'
import type { EngineSnapshot } from './snapshot'
import { takeValueJson, VARIABLE_KIND } from './variables'

/**
 * A checkpoint stores the live state as one row per record (kind, key, JSON), and writes only the
 * rows of records that changed since the previous one: its cost follows the work done since, not
 * the size of the state. Two more rows hold what is not a record: the key counter with the steps
 * left on the work stack, and the repository (written only when it changed).
 */

/** The kind of the rows that are not records; their keys are GLOBALS_KEY and REPOSITORY_KEY. */
export const META_KIND = 'meta'
const GLOBALS_KEY = 'globals'
const MESSAGE_KIND = 'message'
const REPOSITORY_KEY = 'repository'

/** Where each kind of row goes in an EngineSnapshot. */
const FIELD_OF_KIND: Record<string, keyof EngineSnapshot> = {
  instance: 'instances',
  element: 'elements',
  [VARIABLE_KIND]: 'variables',
  job: 'jobs',
  timer: 'timers',
  message: 'messages',
  messageSubscription: 'messageSubscriptions',
  signalSubscription: 'signalSubscriptions',
  incident: 'incidents',
  userTask: 'userTasks',
  batch: 'batches',
  compensation: 'compensations',
  decisionInstance: 'decisionInstances',
}

/** One row a checkpoint writes: its kind, key, JSON (or the record, for the writer thread) and index fields. */
export type CheckpointRow = [kind: string, key: string, json: string | JsonLater, fields: readonly FieldValue[]]

/**
 * A variable holding a string this long or longer is handed to the writer thread as a record, for
 * it to build the JSON (JsonLater): on the event loop, JSON.stringify took about 5 ms for 3 MB,
 * and its result, built in pieces, was copied once more to be handed over.
 */
export const LATER_CHARS = 65_536

/**
 * A variable's row JSON, or, when its value is a string of LATER_CHARS or more, a copy of the
 * record for the writer thread to turn into JSON. A variable's value is a plain JSON value and is
 * never changed in place, so the shallow copy holds it as it is now.
 */
export function variableJson(record: VariableRecord, json = takeValueJson(record)): string | JsonLater {
  if (typeof record.value !== 'string' || record.value.length < LATER_CHARS) return JSON.stringify(record)
  // (given as JSON bytes by the gRPC thread: handed over as those, in a fraction of the time)
  if (json === undefined) return { later: { ...record }, chars: record.value.length }
  const placeholder = rawPlaceholder(0)
  return { later: { ...record, value: placeholder }, chars: record.value.length, raw: [[placeholder, json]] }
}

/**
 * A row whose JSON is built later, in slices (takeDeferred): a copy of the record as it was when
 * the checkpoint began, which later commands cannot change. Only records that may carry a payload
 * of several MB are deferred (variables and messages), and only once the checkpoint has spent its
 * time on this turn of the event loop: a value is never changed in place (assignments copy), so a
 * shallow copy is enough, with a message's list of correlated processes copied too.
 */
export type DeferredRow = [kind: string, key: string, record: object, fields: readonly FieldValue[], valueJson?: Uint8Array]

/** The rows a checkpoint writes and deletes. */
export interface CheckpointRows {
  upserts: CheckpointRow[]
  deletes: [kind: string, key: string][]
  /** variable scopes whose rows are all deleted (scopes that ended with their variables still only in their rows) */
  scopeDeletes: string[]
  /** rows to build in slices, after this turn of the event loop: the state they hold is this one's */
  deferred: DeferredRow[]
  /** records whose rows are built later, each before a command changes it (PendingRows) */
  pending?: PendingRows
}

/**
 * A checkpoint builds rows on the event loop for this long at most, then defers the rows of
 * records that may be large (DeferredRow); the rest are small and built at once.
 */
export const BUILD_BUDGET_MS = 10

interface Globals {
  v: number
  counter: number
  work: WorkItem[]
}

/** The JSON of a record: an element instance without its model element (found again on load). */
function recordJson(kind: string, record: object): string {
  if (kind !== 'element') return JSON.stringify(record)
  // (a rest copy, as in archive.ts: no `delete`, which would leave a dictionary to stringify)
  const { element: _model, ...copy } = record as ElementInstance
  return JSON.stringify(copy)
}

/**
 * The rows of the records marked as changed, as they are now, and the meta rows. The repository
 * row is written when its revision differs from `repositoryRevision` (undefined: always).
 */
export function changedRows(ctx: ProcessingContext, { marks, refs, scopes }: DirtyMarks, repositoryRevision: number | undefined, budgetMs = BUILD_BUDGET_MS): CheckpointRows {
  const rows: CheckpointRows = { upserts: [], deletes: [], scopeDeletes: [...scopes], deferred: [] }
  const until = performance.now() + budgetMs
  const maps = new Map(ctx.state.recordMaps().map((m) => [m.kind, m]))
  const mapOf = (kind: string) => {
    const map = maps.get(kind)
    if (!map) throw new Error(`no map of records of kind '${kind}'`)
    return map
  }
  // Messages first, each built or copied now: a command changes a message before it marks it (touch).
  const messages = marks.get(MESSAGE_KIND)
  if (messages) {
    const map = mapOf(MESSAGE_KIND)
    for (const [key, created] of messages) {
      const record = map.peek(key)
      if (record === undefined) {
        if (!created) rows.deletes.push([MESSAGE_KIND, key])
      } else if (performance.now() >= until) {
        const message = record as MessageRecord
        rows.deferred.push([MESSAGE_KIND, key, { ...message, correlatedProcessIds: [...message.correlatedProcessIds] }, fieldValues(MESSAGE_KIND, record)])
      } else {
        rows.upserts.push([MESSAGE_KIND, key, recordJson(MESSAGE_KIND, record), fieldValues(MESSAGE_KIND, record)])
      }
    }
  }
  // The other records, until the time is spent; the rest are left to PendingRows.
  const kinds = [...marks.keys()].filter((kind) => kind !== MESSAGE_KIND)
  for (let k = 0; k < kinds.length && rows.pending === undefined; k++) {
    const kind = kinds[k]
    const map = mapOf(kind)
    const entries = (marks.get(kind) as Map<string, boolean>).entries()
    const built = new Set<string>()
    for (let next = entries.next(); !next.done; next = entries.next()) {
      const [key, created] = next.value
      const record = map.peek(key)
      if (record === undefined) {
        if (!created) rows.deletes.push([kind, key])
      } else {
        rows.upserts.push([kind, key, recordJson(kind, record), fieldValues(kind, record)])
      }
      built.add(key)
      if (performance.now() >= until) {
        rows.pending = new PendingRows(maps, marks, kinds.slice(k), entries, built)
        break
      }
    }
  }
  // (variables left to the writer thread cost little time here, but are copied when the checkpoint
  // is handed over: past SLICE_CHARS of them, the rest are deferred too)
  let variableChars = 0
  for (const [kind, byKey] of refs) {
    for (const [key, { record, created }] of byKey) {
      if (record === null || !ctx.vars.holds(record as VariableRecord)) {
        if (!created) rows.deletes.push([kind, key])
      } else if (variableChars >= SLICE_CHARS || performance.now() >= until) {
        // (the bytes of its value, if any, go with the copy: variableJson, later, sees only the copy)
        rows.deferred.push([kind, key, { ...record }, fieldValues(kind, record), takeValueJson(record as VariableRecord)])
      } else {
        const json = variableJson(record as VariableRecord)
        variableChars += typeof json === 'string' ? json.length : json.chars
        rows.upserts.push([kind, key, json, fieldValues(kind, record)])
      }
    }
  }
  addMetaRows(ctx, rows, repositoryRevision)
  return rows
}

/**
 * A slice of rows built later ends once its JSON is this long: handing it to the writer thread copies
 * it, about 2 ms per million characters on the event loop, on top of the 1.3 ms it took to build.
 */
export const SLICE_CHARS = 2_000_000

/**
 * The records of a checkpoint whose rows were not built in its first hold of the event loop. Every
 * kind of record but variables and messages is changed in place; copying each (DeferredRow) would
 * cost about as much as building its row. Instead, a row is built at the latest just before a
 * command changes or removes its record: every change goes through the record map, which tells the
 * tracker first (`get` before the command changes what it got, `set`, `delete`), and the tracker
 * tells this (DirtyTracker.beforeChange). The others are built in slices (`take`), from the marks
 * where the first hold stopped. The rows then hold the state of the checkpoint's turn whatever the
 * commands did since, and no hold grows with the number of records changed: when the writer thread
 * falls behind, a checkpoint may hold 300,000 of them (bench/PERFORMANCE.md).
 */
export class PendingRows {
  /** rows built before a change since the last `take` */
  private early: CheckpointRow[] = []
  /** deletes found since the last `take`: records absent at the checkpoint's turn */
  private earlyDeletes: [kind: string, key: string][] = []
  /** keys whose row is built (or was in the first hold), by kind */
  private readonly built = new Map<string, Set<string>>()
  private k = 0

  /**
   * `kinds` are the kinds left, the first one's marks at `entries` (an iterator of them, the
   * `first` ones built already), the others' from their start.
   */
  constructor(private readonly maps: Map<string, RecordMap<string, object>>, private readonly marks: Map<string, Map<string, boolean>>,
    private readonly kinds: string[], private entries: MapIterator<[string, boolean]> | undefined, first: Set<string>) {
    this.built.set(kinds[0], first)
  }

  /** A command is about to change or remove this record: its row is built now, as the checkpoint holds it. */
  beforeChange(kind: string, key: string): void {
    const created = this.marks.get(kind)?.get(key)
    if (created === undefined || !this.kinds.includes(kind)) return
    let built = this.built.get(kind)
    if (!built) this.built.set(kind, (built = new Set()))
    if (built.has(key)) return
    built.add(key)
    this.build(kind, key, created, this.early, this.earlyDeletes)
  }

  private build(kind: string, key: string, created: boolean, upserts: CheckpointRow[], deletes: [string, string][]): number {
    const record = (this.maps.get(kind) as RecordMap<string, object>).peek(key)
    if (record === undefined) {
      if (!created) deletes.push([kind, key])
      return 0
    }
    const json = recordJson(kind, record)
    upserts.push([kind, key, json, fieldValues(kind, record)])
    return json.length
  }

  /** Rows not built yet (at most: some may be deletes, or nothing). */
  get size(): number {
    let left = 0
    for (let k = this.k; k < this.kinds.length; k++) left += (this.marks.get(this.kinds[k]) as Map<string, boolean>).size - (this.built.get(this.kinds[k])?.size ?? 0)
    return left
  }

  /** True once every row is built and taken. */
  get done(): boolean {
    return this.k >= this.kinds.length && this.early.length === 0 && this.earlyDeletes.length === 0
  }

  /**
   * The rows built before a change since the last call, then more, for about `budgetMs` or
   * `maxChars` characters: the upserts, and the deletes added to `deletes`.
   */
  take(budgetMs: number, maxChars: number, deletes: [kind: string, key: string][]): CheckpointRow[] {
    const until = performance.now() + budgetMs
    const upserts = this.early
    this.early = []
    for (const row of this.earlyDeletes) deletes.push(row)
    this.earlyDeletes = []
    let chars = 0
    for (const row of upserts) chars += (row[2] as string).length
    while (this.k < this.kinds.length && chars < maxChars && performance.now() < until) {
      const kind = this.kinds[this.k]
      let built = this.built.get(kind)
      if (!built) this.built.set(kind, (built = new Set()))
      this.entries ??= (this.marks.get(kind) as Map<string, boolean>).entries()
      let n = 0
      for (let next = this.entries.next(); ; next = this.entries.next()) {
        if (next.done) {
          this.entries = undefined
          this.k++
          break
        }
        const [key, created] = next.value
        if (built.has(key)) continue
        built.add(key)
        chars += this.build(kind, key, created, upserts, deletes)
        if ((++n & 63) === 0 && (chars >= maxChars || performance.now() >= until)) break
      }
    }
    return upserts
  }
}

/**
 * Build the JSON of deferred rows, from the first, for about `budgetMs` or SLICE_CHARS characters
 * (one row at least): the rows built, taken off `deferred`.
 */
export function takeDeferred(deferred: DeferredRow[], budgetMs: number, maxChars = SLICE_CHARS): CheckpointRow[] {
  const until = performance.now() + budgetMs
  let n = 0
  let chars = 0
  const built: CheckpointRow[] = []
  do {
    const [kind, key, record, fields, valueJson] = deferred[n++]
    const json = kind === VARIABLE_KIND ? variableJson(record as VariableRecord, valueJson) : JSON.stringify(record)
    chars += typeof json === 'string' ? json.length : json.chars
    built.push([kind, key, json, fields])
  } while (n < deferred.length && chars < maxChars && performance.now() < until)
  deferred.splice(0, n)
  return built
}

/** The rows of every record: a first checkpoint (a data dir whose state was a snapshot until now). */
export function allRows(ctx: ProcessingContext): CheckpointRows {
  const rows: CheckpointRows = { upserts: [], deletes: [], scopeDeletes: [], deferred: [] }
  for (const map of ctx.state.recordMaps()) {
    for (const [key, record] of map) rows.upserts.push([map.kind, key, recordJson(map.kind, record), fieldValues(map.kind, record)])
  }
  for (const v of ctx.vars.all()) rows.upserts.push([VARIABLE_KIND, v.key, JSON.stringify(v), fieldValues(VARIABLE_KIND, v)])
  addMetaRows(ctx, rows, undefined)
  return rows
}

function addMetaRows(ctx: ProcessingContext, rows: CheckpointRows, repositoryRevision: number | undefined): void {
  const globals: Globals = { v: 1, counter: ctx.state.counter, work: ctx.state.work }
  rows.upserts.push([META_KIND, GLOBALS_KEY, JSON.stringify(globals), NO_FIELDS])
  if (repositoryRevision !== ctx.repo.revision) rows.upserts.push([META_KIND, REPOSITORY_KEY, JSON.stringify(ctx.repo.exportState()), NO_FIELDS])
}

/** The JSON of the stored rows of one kind, in key order. */
export type RowsOfKind = (kind: string) => Iterable<string>

/** Rows are parsed this many characters at a time, as one JSON array: much faster than one parse per row. */
const PARSE_CHARS = 4_000_000

function parseRows(jsons: Iterable<string>): unknown[] {
  const out: unknown[] = []
  let batch: string[] = []
  let chars = 0
  const flush = () => {
    for (const value of JSON.parse(`[${batch.join(',')}]`) as unknown[]) out.push(value)
    batch = []
    chars = 0
  }
  for (const json of jsons) {
    batch.push(json)
    chars += json.length + 1
    if (chars >= PARSE_CHARS) flush()
  }
  if (batch.length > 0) flush()
  return out
}

/** The index fields of the stored rows of one kind (see LiveFields). */
export type FieldsOfKind = (kind: string) => Iterable<Record<string, unknown> & { key: string }>

/** Rows with no index fields: variables and the meta rows. */
const NO_FIELDS: readonly FieldValue[] = []

/**
 * The stored rows as a snapshot for a cold load (importState with `cold`): each record holds only
 * the fields its indexes need, from their own columns, and only the scopes that hold variables.
 * The records and variables themselves are read from their rows on first use. Its lists of records are iterables read once, not arrays.
 */
export function coldSnapshotFromRows(rowsOf: RowsOfKind, fieldsOf: FieldsOfKind, variableScopesUpTo: () => string | undefined): EngineSnapshot {
  const snapshot = metaOf(rowsOf)
  for (const [kind, field] of Object.entries(FIELD_OF_KIND)) {
    // Read as they are loaded, not held: each record's fields are garbage once its indexes are built.
    snapshot[field] = kind === VARIABLE_KIND ? [] : { [Symbol.iterator]: () => fieldsOf(kind)[Symbol.iterator]() }
  }
  snapshot.variableScopesUpTo = variableScopesUpTo() ?? null
  return snapshot as unknown as EngineSnapshot
}

/** Put the stored rows back together as the snapshot they stand for. */
export function snapshotFromRows(rowsOf: RowsOfKind): EngineSnapshot {
  const snapshot = metaOf(rowsOf)
  for (const [kind, field] of Object.entries(FIELD_OF_KIND)) snapshot[field] = parseRows(rowsOf(kind))
  return snapshot as unknown as EngineSnapshot
}

/** A snapshot with the meta rows only: the key counter, the work stack and the repository. */
function metaOf(rowsOf: RowsOfKind): Record<string, unknown> {
  let globals: Globals | undefined
  let repository: RepositorySnapshot | undefined
  for (const json of rowsOf(META_KIND)) {
    const value = JSON.parse(json) as Globals | RepositorySnapshot
    if ('counter' in value) globals = value
    else repository = value
  }
  if (!globals || !repository) throw new Error('the stored state lacks its key counter or its repository row')
  return { v: globals.v, counter: globals.counter, work: globals.work, repository }
}

/** The kinds of rows a stored state may hold: a row of any other kind is not raccord's. */
export const ROW_KINDS: readonly string[] = [META_KIND, ...Object.keys(FIELD_OF_KIND)]
