import { ChunkedMap, ChunkedSet } from './chunked'
import { decodeKey, encodeKey, type KeyCode } from './key-code'
import { KeyIndex } from './key-index'
import type { Key } from './records'

/** A record held by reference: null once removed; created when it did not exist at the last checkpoint. */
export interface RefMark { record: object | null; created: boolean }

/** Records marked as changed: kind -> key -> created since the last checkpoint; records held by reference: kind -> key -> their mark. */
export interface DirtyMarks {
  marks: Map<string, Map<string, boolean>>
  refs: Map<string, Map<string, RefMark>>
  /** variable scopes removed while their variables were only in their rows: a checkpoint deletes those rows by scope */
  scopes: Set<string>
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
  private scopes = new Set<string>()
  private count = 0
  /** told once when the marks reach `full.at` (a durable engine checkpoints then, not at its next check) */
  full: { at: number; then: () => void } | undefined
  /**
   * Told of every record about to be changed or removed, before it is (a checkpoint whose rows are
   * still being built builds that record's first: checkpoint.ts, PendingRows). The variable store
   * marks a variable before it changes its value or removes its scope, for the same reason.
   */
  beforeChange: ((kind: string, key: string) => void) | undefined

  mark(kind: string, key: string, created: boolean): void {
    this.beforeChange?.(kind, key)
    let byKey = this.marks.get(kind)
    if (!byKey) this.marks.set(kind, (byKey = new Map()))
    if (byKey.has(key)) return
    byKey.set(key, created)
    this.counted()
  }

  /**
   * A record removed. One created since the last checkpoint has no row to delete: it is no change
   * at all, and no longer counts towards the next checkpoint. Short-lived records (an instance
   * that starts and ends between two checkpoints) then do not make checkpoints come sooner.
   */
  removed(kind: string, key: string): void {
    this.beforeChange?.(kind, key)
    const byKey = this.marks.get(kind)
    if (byKey?.get(key) === true) {
      byKey.delete(key)
      this.count--
      return
    }
    this.mark(kind, key, false)
  }

  private counted(): void {
    if (++this.count === this.full?.at) this.full.then()
  }

  /** Mark a record held by reference: `record` is null once it is removed; `created` when it is new. */
  markRef(kind: string, key: string, record: object | null, created = false): void {
    this.beforeChange?.(kind, key)
    let byKey = this.refs.get(kind)
    if (!byKey) this.refs.set(kind, (byKey = new Map()))
    const known = byKey.get(key)
    if (known && known.created && record === null) {
      // (created and removed since the last checkpoint: no change, as in `removed`)
      byKey.delete(key)
      this.count--
      return
    }
    if (known) {
      known.record = record
      return
    }
    byKey.set(key, { record, created })
    this.counted()
  }

  /**
   * A variable scope removed whose variables were never read back from their rows: the next
   * checkpoint deletes its rows by scope (their keys are not known without reading them).
   */
  droppedScope(scopeKey: string): void {
    if (this.scopes.has(scopeKey)) return
    this.scopes.add(scopeKey)
    this.counted()
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
    const taken = { marks: this.marks, refs: this.refs, scopes: this.scopes }
    this.marks = new Map()
    this.refs = new Map()
    this.scopes = new Set()
    this.count = 0
    return taken
  }

  /** Put back marks taken for a checkpoint that could not be written (marks made since win). */
  restore(taken: DirtyMarks): void {
    for (const [kind, byKey] of taken.marks) for (const [key, created] of byKey) this.mark(kind, key, created)
    for (const [kind, byKey] of taken.refs) {
      for (const [key, { record, created }] of byKey) if (!this.refs.get(kind)?.has(key)) this.markRef(kind, key, record, created)
    }
    for (const scopeKey of taken.scopes) this.droppedScope(scopeKey)
  }
}

/** Where a record left out of memory is read again: its row in the last checkpoint. */
export interface ColdRows {
  /** The JSON of the stored row, or undefined when there is none. */
  read(kind: string, key: string): string | undefined
}

/** The value a map holds for a record left out of memory (its row in the data dir holds it). */
const COLD: unique symbol = Symbol('cold')
/** A slot of the loaded segment whose record was deleted since. */
const GONE: unique symbol = Symbol('gone')

/**
 * A map of records of one kind. It tells its tracker (if any) which keys a command read or
 * changed, and it may also know its keys by one field of the record (the process instance they
 * belong to): a finished process instance's records are found without a scan.
 *
 * With cold rows (a durable engine), a record that is not marked as changed may be left out of
 * memory (`evict`): the map keeps its key, and the record is read again from its row on first
 * use, then stays in memory until evicted again. A loaded checkpoint starts with every record
 * cold (`setCold`), so only the indexes are built at start.
 *
 * The records of a loaded checkpoint are held apart from the map itself, in a segment of two
 * arrays in key order (their keys' counters, small integers with no object of their own:
 * key-code.ts; and their values or COLD or GONE): a start with a million
 * records pushes their keys onto an array instead of growing a hash table, and a key is found
 * there by binary search. Every key made since is greater than theirs, so iterating the segment
 * first and then the map goes in the same order as a map holding them all would. The map itself
 * is chunked (chunked.ts), so that growing it past a million records has no long pause.
 */
export class RecordMap<K extends string, V> extends ChunkedMap<K, V> {
  private readonly byField = new KeyIndex<K>()
  tracker: DirtyTracker | undefined
  /** where cold records are read (undefined: every record stays in memory) */
  private coldRows: ColdRows | undefined
  /** what a record read from its row needs added (an element instance's model element) */
  private revive: ((value: V) => V) | undefined
  /** records in memory that may be evicted, oldest first (kept only with cold rows) */
  private readonly hot = new ChunkedSet<K>()
  /** the counters of the loaded checkpoint's records' keys, ascending (engine keys only) */
  private segKeys: number[] = []
  /** their values: the record in memory, COLD (in its row), or GONE (deleted since) */
  private segValues: (V | typeof COLD | typeof GONE)[] = []
  /** slots of the segment not GONE */
  private segLive = 0

  constructor(readonly kind: string, private readonly field?: (value: V) => Key | undefined) {
    super()
  }

  /** Let records be left out of memory, read again from `rows`; `revive` completes a record read. */
  useColdRows(rows: ColdRows, revive?: (value: V) => V): void {
    this.coldRows = rows
    this.revive = revive
  }

  override get(key: K): V | undefined {
    const value = this.read(encodeKey(key))
    if (value !== undefined && this.tracker?.active) this.tracker.mark(this.kind, key, false)
    return value
  }

  override set(key: K, value: V): this {
    const code = encodeKey(key)
    const old = this.read(code)
    if (this.tracker?.active) this.tracker.mark(this.kind, key, old === undefined)
    if (old !== undefined) this.unindex(key, old)
    const slot = old === undefined ? -1 : this.slot(code)
    if (slot >= 0) this.segValues[slot] = value
    else this.setCoded(code, value)
    if (this.coldRows) this.hot.add(key)
    this.index(key, value)
    return this
  }

  /**
   * A stored record, left in its row: `fields` holds at least the field the map is indexed by.
   * Records given in ascending key order go to the segment.
   */
  setCold(key: K, fields: Partial<V>): void {
    const code = encodeKey(key)
    const keys = this.segKeys
    if (super.size === 0 && typeof code === 'number' && (keys.length === 0 || code > keys[keys.length - 1])) {
      keys.push(code)
      this.segValues.push(COLD)
      this.segLive++
    } else {
      this.setCoded(code, COLD as V)
    }
    this.index(key, fields as V)
  }

  override has(key: K): boolean {
    const code = encodeKey(key)
    return this.hasCoded(code) || this.slot(code) >= 0
  }

  override get size(): number {
    return super.size + this.segLive
  }

  override delete(key: K): boolean {
    const code = encodeKey(key)
    const old = this.read(code)
    if (old === undefined) return false
    if (this.tracker?.active) this.tracker.removed(this.kind, key)
    this.unindex(key, old)
    this.hot.delete(key)
    const slot = this.slot(code)
    if (slot < 0) return this.deleteCoded(code)
    this.segValues[slot] = GONE
    this.segLive--
    return true
  }

  override clear(): void {
    if (this.tracker?.active) for (const key of this.keys()) this.tracker.mark(this.kind, key, false)
    this.byField.clear()
    this.hot.clear()
    this.segKeys = []
    this.segValues = []
    this.segLive = 0
    super.clear()
  }

  /** Where the key coded `key` is in the segment (not GONE), or -1. */
  private slot(key: KeyCode): number {
    const keys = this.segKeys
    if (typeof key !== 'number' || keys.length === 0 || key > keys[keys.length - 1] || key < keys[0]) return -1
    let low = 0
    let high = keys.length - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const at = keys[mid]
      if (at === key) return this.segValues[mid] === GONE ? -1 : mid
      if (at < key) low = mid + 1
      else high = mid - 1
    }
    return -1
  }

  /** The record, without telling the tracker: for checkpoints and searches. */
  peek(key: K): V | undefined {
    return this.read(encodeKey(key))
  }

  /** A record changed in place that the command found by iterating, not by `get`. */
  touch(key: K): void {
    if (this.tracker?.active && this.has(key)) this.tracker.mark(this.kind, key, false)
  }

  /** The keys of the records whose field is `at` (a copy: the caller may change the map meanwhile). */
  keysOf(at: Key): readonly K[] {
    return this.byField.keys(at)
  }

  override *keys(): MapIterator<K> {
    for (let i = 0; i < this.segKeys.length; i++) if (this.segValues[i] !== GONE) yield decodeKey(this.segKeys[i]) as K
    yield* super.keys()
  }

  override *entries(): MapIterator<[K, V]> {
    for (let i = 0; i < this.segKeys.length; i++) {
      const value = this.segValues[i]
      if (value !== GONE) yield [decodeKey(this.segKeys[i]) as K, value === COLD ? this.loadSlot(i) : value]
    }
    for (const [code, value] of this.codedEntries()) yield [decodeKey(code) as K, value === COLD ? this.load(code) : value]
  }

  override *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value
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
    for (let i = 0; i < this.segKeys.length; i++) {
      const value = this.segValues[i]
      if (value !== GONE) yield value === COLD ? this.parse(decodeKey(this.segKeys[i]) as K) : value
    }
    for (const [code, value] of this.codedEntries()) yield value === COLD ? this.parse(decodeKey(code) as K) : value
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
   * Leave records out of memory, oldest first, until at most `keep` are left in it (or `max` have
   * left): only records not marked as changed (their row is current), so never one a checkpoint
   * has still to write. Returns how many were evicted.
   */
  evict(keep: number, max = Infinity): number {
    if (!this.coldRows || this.hot.size <= keep) return 0
    let evicted = 0
    for (const key of this.hot) {
      if (this.hot.size <= keep || evicted >= max) break
      if (this.tracker?.isMarked(this.kind, key)) continue
      this.hot.delete(key)
      const code = encodeKey(key)
      const slot = this.hasCoded(code) ? -1 : this.slot(code)
      if (slot >= 0) this.segValues[slot] = COLD
      else this.setCoded(code, COLD as V)
      evicted++
    }
    return evicted
  }

  private read(key: KeyCode): V | undefined {
    const value = this.getCoded(key)
    if (value !== undefined) return value === COLD ? this.load(key) : value
    const slot = this.slot(key)
    if (slot < 0) return undefined
    const held = this.segValues[slot] as V | typeof COLD
    return held === COLD ? this.loadSlot(slot) : held
  }

  /** Bring a cold record of the segment back into memory. */
  private loadSlot(slot: number): V {
    const key = decodeKey(this.segKeys[slot]) as K
    const value = this.parse(key)
    this.segValues[slot] = value
    this.hot.add(key)
    return value
  }

  /** Bring a cold record back into memory. */
  private load(code: KeyCode): V {
    const key = decodeKey(code) as K
    const value = this.parse(key)
    this.setCoded(code, value)
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
    if (at !== undefined) this.byField.add(at, key)
  }

  private unindex(key: K, value: V): void {
    const at = this.field?.(value)
    if (at !== undefined) this.byField.remove(at, key)
  }
}
