import type { DirtyMarks } from '../state/record-map'
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
  // The other records, then the variables, until the time is spent (or, for variables, past
  // SLICE_CHARS of them: handing a slice over copies it); the rest are left to PendingRows.
  const groups: PendingGroup[] = []
  for (const [kind, byKey] of marks) {
    if (kind === MESSAGE_KIND) continue
    const map = mapOf(kind)
    groups.push({ kind, marks: byKey, build: (key, upserts, deletes) => {
      const record = map.peek(key)
      if (record === undefined) {
        if (!byKey.get(key)) deletes.push([kind, key])
        return 0
      }
      const json = recordJson(kind, record)
      upserts.push([kind, key, json, fieldValues(kind, record)])
      return json.length
    } })
  }
  for (const [kind, byKey] of refs) {
    groups.push({ kind, marks: byKey, variables: true, build: (key, upserts, deletes) => {
      const { record, created } = byKey.get(key) as { record: object | null; created: boolean }
      if (record === null || !ctx.vars.holds(record as VariableRecord)) {
        if (!created) deletes.push([kind, key])
        return 0
      }
      const json = variableJson(record as VariableRecord)
      upserts.push([kind, key, json, fieldValues(kind, record)])
      return typeof json === 'string' ? json.length : json.chars
    } })
  }
  let variableChars = 0
  for (let g = 0; g < groups.length && rows.pending === undefined; g++) {
    const group = groups[g]
    const entries = group.marks.keys()
    const built = new Set<string>()
    for (let next = entries.next(); !next.done; next = entries.next()) {
      const chars = group.build(next.value, rows.upserts, rows.deletes)
      if (group.variables) variableChars += chars
      built.add(next.value)
      if (performance.now() >= until || variableChars >= SLICE_CHARS) {
        rows.pending = new PendingRows(groups.slice(g), entries, built)
        break
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

/** Records of one kind a checkpoint marked, and how a row of one is built (into upserts or deletes; its length). */
export interface PendingGroup {
  kind: string
  marks: Map<string, unknown>
  /** records held by reference (variables): told of a change by the variable store */
  variables?: boolean
  build(key: string, upserts: CheckpointRow[], deletes: [kind: string, key: string][]): number
}

/**
 * The records of a checkpoint whose rows were not built in its first hold of the event loop. Every
 * kind of record but messages is changed in place; copying each (DeferredRow) would cost about as
 * much as building its row. Instead, a row is built at the latest just before a command changes or
 * removes its record: every change goes through the record map or the variable store, which tell
 * the tracker first (`get` before the command changes what it got, `set`, `delete`; a variable
 * before its value is set or its scope removed), and the tracker tells this
 * (DirtyTracker.beforeChange). The others are built in slices (`take`), from the marks where the
 * first hold stopped. The rows then hold the state of the checkpoint's turn whatever the commands
 * did since, and no hold grows with the number of records changed: when the writer thread falls
 * behind, a checkpoint may hold more than a million of them (bench/PERFORMANCE.md).
 */
export class PendingRows {
  /** rows built before a change since the last `take` */
  private early: CheckpointRow[] = []
  /** deletes found since the last `take`: records absent at the checkpoint's turn */
  private earlyDeletes: [kind: string, key: string][] = []
  /** keys whose row is built (or was in the first hold), by kind */
  private readonly built = new Map<string, Set<string>>()
  private readonly byKind: Map<string, PendingGroup>
  private g = 0

  /**
   * `groups` are the kinds left, the first one's marks at `entries` (an iterator of its keys, the
   * `first` ones built already), the others' from their start.
   */
  constructor(private readonly groups: PendingGroup[], private entries: MapIterator<string> | undefined, first: Set<string>) {
    this.built.set(groups[0].kind, first)
    this.byKind = new Map(groups.map((group) => [group.kind, group]))
  }

  private builtOf(kind: string): Set<string> {
    let built = this.built.get(kind)
    if (!built) this.built.set(kind, (built = new Set()))
    return built
  }

  /** A command is about to change or remove this record: its row is built now, as the checkpoint holds it. */
  beforeChange(kind: string, key: string): void {
    const group = this.byKind.get(kind)
    if (!group?.marks.has(key)) return
    const built = this.builtOf(kind)
    if (built.has(key)) return
    built.add(key)
    group.build(key, this.early, this.earlyDeletes)
  }

  /** Rows not built yet (at most: some may be deletes, or nothing). */
  get size(): number {
    let left = 0
    for (let g = this.g; g < this.groups.length; g++) left += this.groups[g].marks.size - (this.built.get(this.groups[g].kind)?.size ?? 0)
    return left
  }

  /** True once every row is built and taken. */
  get done(): boolean {
    return this.g >= this.groups.length && this.early.length === 0 && this.earlyDeletes.length === 0
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
    for (const [, , json] of upserts) chars += typeof json === 'string' ? json.length : json.chars
    while (this.g < this.groups.length && chars < maxChars && performance.now() < until) {
      const group = this.groups[this.g]
      const built = this.builtOf(group.kind)
      this.entries ??= group.marks.keys()
      let n = 0
      for (let next = this.entries.next(); ; next = this.entries.next()) {
        if (next.done) {
          this.entries = undefined
          this.g++
          break
        }
        if (built.has(next.value)) continue
        built.add(next.value)
        chars += group.build(next.value, upserts, deletes)
        // (a variable may be MBs: the limits are checked after each; other rows, every 64)
        if ((group.variables === true || (++n & 63) === 0) && (chars >= maxChars || performance.now() >= until)) break
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
