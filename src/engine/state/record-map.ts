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

/**
 * A map of records of one kind. It tells its tracker (if any) which keys a command read or
 * changed, and it may also know its keys by one field of the record (the process instance they
 * belong to): a finished process instance's records are found without a scan.
 */
export class RecordMap<K extends string, V> extends Map<K, V> {
  private readonly byField = new Map<Key, Set<K>>()
  tracker: DirtyTracker | undefined

  constructor(readonly kind: string, private readonly field?: (value: V) => Key | undefined) {
    super()
  }

  override get(key: K): V | undefined {
    const value = super.get(key)
    if (value !== undefined && this.tracker?.active) this.tracker.mark(this.kind, key, false)
    return value
  }

  override set(key: K, value: V): this {
    const old = super.get(key)
    if (this.tracker?.active) this.tracker.mark(this.kind, key, old === undefined)
    if (old !== undefined) this.unindex(key, old)
    super.set(key, value)
    const at = this.field?.(value)
    if (at !== undefined) {
      let keys = this.byField.get(at)
      if (!keys) this.byField.set(at, (keys = new Set()))
      keys.add(key)
    }
    return this
  }

  override delete(key: K): boolean {
    const old = super.get(key)
    if (old === undefined) return false
    if (this.tracker?.active) this.tracker.mark(this.kind, key, false)
    this.unindex(key, old)
    return super.delete(key)
  }

  override clear(): void {
    if (this.tracker?.active) for (const key of this.keys()) this.tracker.mark(this.kind, key, false)
    this.byField.clear()
    super.clear()
  }

  /** The record, without telling the tracker: for checkpoints and searches. */
  peek(key: K): V | undefined {
    return super.get(key)
  }

  /** A record changed in place that the command found by iterating, not by `get`. */
  touch(key: K): void {
    if (this.tracker?.active && super.has(key)) this.tracker.mark(this.kind, key, false)
  }

  /** The keys of the records whose field is `at`. */
  keysOf(at: Key): ReadonlySet<K> {
    return this.byField.get(at) ?? NONE
  }

  private unindex(key: K, value: V): void {
    const at = this.field?.(value)
    if (at === undefined) return
    const keys = this.byField.get(at)
    keys?.delete(key)
    if (keys?.size === 0) this.byField.delete(at)
  }
}
