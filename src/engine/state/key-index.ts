import { ChunkedMap } from './chunked'
import { GroupPool, POOLED_MAX } from './group-pool'
import { decodeKey, encodeKey, type KeyCode } from './key-code'

/**
 * Keys of records grouped by a value (a scope, a job type, a correlation, a process instance).
 *
 * Most groups are small: the one active child of a waiting instance, the one subscription of a
 * correlation key, the few records of an instance. With a million waiting instances, every
 * object a group costs is a million objects for V8's collector to mark (issue #19), so:
 * - a group of one is held as its key's code (key-code.ts: an engine key is a small integer);
 * - a small group of engine keys is a block of a shared typed array (group-pool.ts), held as the
 *   negative number -1 - its offset;
 * - a small group holding any other key is an array of its exact size (never changed in place);
 * - only a large group is a set.
 *
 * With `hashed`, a group is found by a 30-bit hash of its value instead of the value itself, so
 * that values such as correlation keys are not kept as strings: a group may then also hold keys
 * of other values with the same hash, which the caller tells apart by their records.
 */
export class KeyIndex<K extends string = string> {
  /** one table per key prefix (chunked.ts): a million groups grow without a long pause */
  private readonly groups: ChunkedMap<string, Group>
  private readonly pool = new GroupPool()

  constructor(private readonly options: { hashed?: boolean } = {}) {
    this.groups = new ChunkedMap<string, Group>(options.hashed === true)
  }

  add(at: string, key: K): void {
    const where = this.where(at)
    const code = encodeKey(key)
    const group = this.groups.getCoded(where)
    if (group === undefined) this.groups.setCoded(where, code)
    else if (isOne(group)) {
      if (group === code) return
      const both = [group, code]
      this.groups.setCoded(where, isCounters(both) ? -1 - this.pool.make(both) : both)
    } else if (isPooled(group)) this.addToPooled(where, -1 - group, code)
    else if (isSmall(group)) {
      if (group.includes(code)) return
      this.groups.setCoded(where, group.length < POOLED_MAX ? group.concat([code]) : new Set([...group, code]))
    } else group.add(code)
  }

  private addToPooled(where: KeyCode, at: number, code: KeyCode): void {
    if (typeof code === 'number') {
      if (this.pool.includes(at, code)) return
      const moved = this.pool.append(at, code)
      if (moved === at) return
      if (moved >= 0) {
        this.groups.setCoded(where, -1 - moved)
        return
      }
    }
    // a key that is not an engine key, or a group past the pool's largest block
    const codes: KeyCode[] = [...this.pool.counters(at), code]
    this.pool.release(at)
    this.groups.setCoded(where, codes.length <= POOLED_MAX ? codes : new Set(codes))
  }

  /** Take `key` out of the group `at` (a group left empty goes). */
  remove(at: string, key: K): void {
    const where = this.where(at)
    const group = this.groups.getCoded(where)
    if (group === undefined) return
    const code = encodeKey(key)
    if (isOne(group)) {
      if (group === code) this.groups.deleteCoded(where)
    } else if (isPooled(group)) {
      const block = -1 - group
      if (typeof code !== 'number' || this.pool.remove(block, code) > 1) return
      this.groups.setCoded(where, this.pool.counters(block)[0])
      this.pool.release(block)
    } else if (isSmall(group)) {
      if (!group.includes(code)) return
      if (group.length === 1) this.groups.deleteCoded(where)
      else this.groups.setCoded(where, without(group, code))
    } else {
      group.delete(code)
      if (group.size === 0) this.groups.deleteCoded(where)
    }
  }

  /** Drop the group `at`. */
  delete(at: string): void {
    const where = this.where(at)
    const group = this.groups.getCoded(where)
    if (group !== undefined && isPooled(group)) this.pool.release(-1 - group)
    this.groups.deleteCoded(where)
  }

  /** The keys of the group `at`, in the order they were added, as they are now: the caller may change the index while it goes through them. */
  keys(at: string): readonly K[] {
    const group = this.groups.getCoded(this.where(at))
    if (group === undefined) return NO_KEYS
    if (isOne(group)) return [decodeKey(group) as K]
    const codes = isPooled(group) ? this.pool.counters(-1 - group) : group
    return Array.from(codes, (code) => decodeKey(code) as K)
  }

  /** How many keys the group `at` holds. */
  count(at: string): number {
    const group = this.groups.getCoded(this.where(at))
    if (group === undefined) return 0
    if (isOne(group)) return 1
    if (isPooled(group)) return this.pool.length(-1 - group)
    return isSmall(group) ? group.length : group.size
  }

  clear(): void {
    this.groups.clear()
    this.pool.clear()
  }

  private where(at: string): KeyCode {
    return this.options.hashed === true ? hash30(at) : encodeKey(at)
  }
}

/**
 * A group: one key's code (a counter from 0 up, or a string), a pooled block (-1 - its offset),
 * a few codes in an array (never changed in place), or many in a set.
 */
type Group = KeyCode | readonly KeyCode[] | Set<KeyCode>

const NO_KEYS: readonly never[] = []

function isOne(group: Group): group is KeyCode {
  return typeof group === 'string' || (typeof group === 'number' && group >= 0)
}

function isPooled(group: Group): group is number {
  return typeof group === 'number' && group < 0
}

function isSmall(group: readonly KeyCode[] | Set<KeyCode>): group is readonly KeyCode[] {
  return Array.isArray(group)
}

function isCounters(codes: KeyCode[]): codes is number[] {
  return codes.every((code) => typeof code === 'number')
}

/** `group` without `code`, in an array of its exact size. */
function without(group: readonly KeyCode[], code: KeyCode): KeyCode[] {
  const at = group.indexOf(code)
  return group.slice(0, at).concat(group.slice(at + 1))
}

/** FNV-1a over the string's UTF-16 units, folded to 30 bits (a small integer in V8). */
export function hash30(value: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193)
  return h >>> 2
}
