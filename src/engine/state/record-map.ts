import type { Key } from './records'

const NONE: ReadonlySet<never> = new Set()

/** A record held by reference: null once removed; created when it did not exist at the last checkpoint. */
export interface RefMark { record: object | null; created: boolean }

/** Records marked as changed: kind -> key -> created since the last checkpoint; records held by reference: kind -> key -> their mark. */
export interface DirtyMarks {
  marks: Map<string, Map<string, boolean>>
  refs: Map<string, Map<string, RefMark>>
}

/**
 * The records changed since the last checkpoint, by kind and key, so that a checkpoint writes only
 * those rows. Records are changed in place, by whoever got them, so getting one by key marks it
 * too (a command often reads a record to check it, then changes it). Iterating marks nothing:
 * searches iterate, and the few commands that change a record they found by iterating mark it
 * with `touch`. Inactive while a stored state is loaded.
 */
export class DirtyTracker {
  active = false
  /** kind -> key -> true when the record did not exist at the last checkpoint (its removal needs no delete) */
  private marks = new Map<string, Map<string, boolean>>()
  /** records of stores that have no map by key (variables): kind -> key -> the record (null once removed) */
  private refs = new Map<string, Map<string, RefMark>>()
  private count = 0

  mark(kind: string, key: string, created: boolean): void {
    let byKey = this.marks.get(kind)
    if (!byKey) this.marks.set(kind, (byKey = new Map()))
    if (byKey.has(key)) return
    byKey.set(key, created)
    this.count++
  }

  /** Mark a record held by reference: `record` is null once it is removed; `created` when it is new. */
  markRef(kind: string, key: string, record: object | null, created = false): void {
    let byKey = this.refs.get(kind)
    if (!byKey) this.refs.set(kind, (byKey = new Map()))
    const known = byKey.get(key)
    if (known) {
      known.record = record
      return
    }
    byKey.set(key, { record, created })
    this.count++
  }

  /** Is this record marked as changed since the last checkpoint? */
  isMarked(kind: string, key: string): boolean {
    return this.marks.get(kind)?.has(key) === true
  }

  /** Is this record held by reference marked as changed since the last checkpoint? */
  isRefMarked(kind: string, key: string): boolean {
    return this.refs.get(kind)?.has(key) === true
  }

  /** Records marked since the last `take`. */
  get size(): number {
    return this.count
  }

  /** What was marked, and a clean slate. */
  take(): DirtyMarks {
    const taken = { marks: this.marks, refs: this.refs }
    this.marks = new Map()
    this.refs = new Map()
    this.count = 0
    return taken
  }

  /** Put back marks taken for a checkpoint that could not be written (marks made since win). */
  restore(taken: DirtyMarks): void {
    for (const [kind, byKey] of taken.marks) for (const [key, created] of byKey) this.mark(kind, key, created)
    for (const [kind, byKey] of taken.refs) {
      for (const [key, { record, created }] of byKey) if (!this.refs.get(kind)?.has(key)) this.markRef(kind, key, record, created)
    }
  }
}

/** Where a record left out of memory is read again: its row in the last checkpoint. */
export interface ColdRows {
  /** The JSON of the stored row, or undefined when there is none. */
  read(kind: string, key: string): string | undefined
}

/** The value a map holds for a record left out of memory (its row in the data dir holds it). */
const COLD: unique symbol = Symbol('cold')

/**
 * A map of records of one kind. It tells its tracker (if any) which keys a command read or
 * changed, and it may also know its keys by one field of the record (the process instance they
 * belong to): a finished process instance's records are found without a scan.
 *
 * With cold rows (a durable engine), a record that is not marked as changed may be left out of
 * memory (`evict`): the map keeps its key, and the record is read again from its row on first
 * use, then stays in memory until evicted again. A loaded checkpoint starts with every record
 * cold (`setCold`), so only the indexes are built at start.
 */
export class RecordMap<K extends string, V> extends Map<K, V> {
  private readonly byField = new Map<Key, Set<K>>()
  tracker: DirtyTracker | undefined
  /** where cold records are read (undefined: every record stays in memory) */
  private coldRows: ColdRows | undefined
  /** what a record read from its row needs added (an element instance's model element) */
  private revive: ((value: V) => V) | undefined
  /** records in memory that may be evicted, oldest first (kept only with cold rows) */
  private readonly hot = new Set<K>()

  constructor(readonly kind: string, private readonly field?: (value: V) => Key | undefined) {
    super()
  }

  /** Let records be left out of memory, read again from `rows`; `revive` completes a record read. */
  useColdRows(rows: ColdRows, revive?: (value: V) => V): void {
    this.coldRows = rows
    this.revive = revive
  }

  override get(key: K): V | undefined {
    const value = this.read(key)
    if (value !== undefined && this.tracker?.active) this.tracker.mark(this.kind, key, false)
    return value
  }

  override set(key: K, value: V): this {
    const old = this.read(key)
    if (this.tracker?.active) this.tracker.mark(this.kind, key, old === undefined)
    if (old !== undefined) this.unindex(key, old)
    super.set(key, value)
    if (this.coldRows) this.hot.add(key)
    this.index(key, value)
    return this
  }

  /** A stored record, left in its row: `fields` holds at least the field the map is indexed by. */
  setCold(key: K, fields: Partial<V>): void {
    super.set(key, COLD as V)
    this.index(key, fields as V)
  }

  override delete(key: K): boolean {
    const old = this.read(key)
    if (old === undefined) return false
    if (this.tracker?.active) this.tracker.mark(this.kind, key, false)
    this.unindex(key, old)
    this.hot.delete(key)
    return super.delete(key)
  }

  override clear(): void {
    if (this.tracker?.active) for (const key of this.keys()) this.tracker.mark(this.kind, key, false)
    this.byField.clear()
    this.hot.clear()
    super.clear()
  }

  /** The record, without telling the tracker: for checkpoints and searches. */
  peek(key: K): V | undefined {
    return this.read(key)
  }

  /** A record changed in place that the command found by iterating, not by `get`. */
  touch(key: K): void {
    if (this.tracker?.active && super.has(key)) this.tracker.mark(this.kind, key, false)
  }

  /** The keys of the records whose field is `at`. */
  keysOf(at: Key): ReadonlySet<K> {
    return this.byField.get(at) ?? NONE
  }

  override *entries(): MapIterator<[K, V]> {
    for (const [key, value] of super.entries()) yield [key, value === COLD ? this.load(key) : value]
  }

  override *values(): MapIterator<V> {
    for (const [key, value] of super.entries()) yield value === COLD ? this.load(key) : value
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries()
  }

  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) fn.call(thisArg, value, key, this)
  }

  /**
   * The records for reading only (counts, searches): a cold record is parsed from its row for
   * the caller and left cold, so a scan of a large state does not bring it all into memory.
   */
  *scan(): Generator<V> {
    for (const [key, value] of super.entries()) yield value === COLD ? this.parse(key) : value
  }

  /** Records in memory (all of them without cold rows). */
  get inMemory(): number {
    return this.coldRows ? this.hot.size : this.size
  }

  /** Records in memory that could be evicted. */
  get hotCount(): number {
    return this.hot.size
  }

  /**
   * Leave records out of memory, oldest first, until at most `keep` are left in it: only records
   * not marked as changed (their row is current), so never one a checkpoint has still to write.
   * Returns how many were evicted.
   */
  evict(keep: number): number {
    if (!this.coldRows || this.hot.size <= keep) return 0
    let evicted = 0
    for (const key of this.hot) {
      if (this.hot.size <= keep) break
      if (this.tracker?.isMarked(this.kind, key)) continue
      this.hot.delete(key)
      super.set(key, COLD as V)
      evicted++
    }
    return evicted
  }

  private read(key: K): V | undefined {
    const value = super.get(key)
    return value === COLD ? this.load(key) : value
  }

  /** Bring a cold record back into memory. */
  private load(key: K): V {
    const value = this.parse(key)
    super.set(key, value)
    this.hot.add(key)
    return value
  }

  private parse(key: K): V {
    const json = this.coldRows?.read(this.kind, key)
    if (json === undefined) throw new Error(`the ${this.kind} record ${key} has no row in the data dir`)
    const value = JSON.parse(json) as V
    return this.revive ? this.revive(value) : value
  }

  private index(key: K, value: V): void {
    const at = this.field?.(value)
    if (at === undefined) return
    let keys = this.byField.get(at)
    if (!keys) this.byField.set(at, (keys = new Set()))
    keys.add(key)
  }

  private unindex(key: K, value: V): void {
    const at = this.field?.(value)
    if (at === undefined) return
    const keys = this.byField.get(at)
    keys?.delete(key)
    if (keys?.size === 0) this.byField.delete(at)
  }
}
