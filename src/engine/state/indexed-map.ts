import type { Key } from './records'

const NONE: ReadonlySet<never> = new Set()

/**
 * A map of records that also knows its keys by one field of the record (the process instance
 * they belong to): a finished process instance's records are found without a scan.
 */
export class IndexedMap<K, V> extends Map<K, V> {
  private readonly byField = new Map<Key, Set<K>>()

  constructor(private readonly field: (value: V) => Key | undefined) {
    super()
  }

  override set(key: K, value: V): this {
    const old = super.get(key)
    if (old !== undefined) this.unindex(key, old)
    super.set(key, value)
    const at = this.field(value)
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
    this.unindex(key, old)
    return super.delete(key)
  }

  override clear(): void {
    this.byField.clear()
    super.clear()
  }

  /** The keys of the records whose field is `at`. */
  keysOf(at: Key): ReadonlySet<K> {
    return this.byField.get(at) ?? NONE
  }

  private unindex(key: K, value: V): void {
    const at = this.field(value)
    if (at === undefined) return
    const keys = this.byField.get(at)
    keys?.delete(key)
    if (keys?.size === 0) this.byField.delete(at)
  }
}
