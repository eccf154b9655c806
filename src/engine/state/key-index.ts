import { ChunkedMap } from './chunked'
import { decodeKey, encodeKey, type KeyCode } from './key-code'

/**
 * Keys of records grouped by a value (a scope, a job type, a correlation, a process instance):
 * most groups are small (the one active child of a waiting instance, the one subscription of a
 * correlation key, the few records of an instance), so a group of one is held as the key itself,
 * a small group as an array of its exact size (never changed in place: a change makes a new
 * one; spreading or pushing would leave room for 17 more keys in each), and only a large one as a set. With a million waiting instances,
 * that is millions of sets fewer to build at start and to keep in memory. The keys are held as
 * codes (key-code.ts): an engine key is a small integer, no object of its own.
 */
export class KeyIndex<K extends string = string> {
  /** one table per key prefix (chunked.ts): a million groups grow without a long pause */
  private readonly groups = new ChunkedMap<string, Group>()

  add(at: string, key: K): void {
    const where = encodeKey(at)
    const code = encodeKey(key)
    const group = this.groups.getCoded(where)
    if (group === undefined) this.groups.setCoded(where, code)
    else if (isOne(group)) {
      if (group !== code) this.groups.setCoded(where, [group, code])
    } else if (isSmall(group)) {
      if (group.includes(code)) return
      this.groups.setCoded(where, group.length < SMALL_GROUP ? group.concat([code]) : new Set([...group, code]))
    } else group.add(code)
  }

  /** Take `key` out of the group `at` (a group left empty goes). */
  remove(at: string, key: K): void {
    const where = encodeKey(at)
    const group = this.groups.getCoded(where)
    if (group === undefined) return
    const code = encodeKey(key)
    if (isOne(group)) {
      if (group === code) this.groups.deleteCoded(where)
      return
    }
    if (isSmall(group)) {
      if (!group.includes(code)) return
      if (group.length === 1) this.groups.deleteCoded(where)
      else this.groups.setCoded(where, without(group, code))
      return
    }
    group.delete(code)
    if (group.size === 0) this.groups.deleteCoded(where)
  }

  /** Drop the group `at`. */
  delete(at: string): void {
    this.groups.delete(at)
  }

  /** The keys of the group `at`, in the order they were added, as they are now: the caller may change the index while it goes through them. */
  keys(at: string): readonly K[] {
    const group = this.groups.get(at)
    if (group === undefined) return NO_KEYS
    if (isOne(group)) return [decodeKey(group) as K]
    return Array.from(group, (code) => decodeKey(code) as K)
  }

  /** How many keys the group `at` holds. */
  count(at: string): number {
    const group = this.groups.get(at)
    if (group === undefined) return 0
    return isOne(group) ? 1 : isSmall(group) ? group.length : group.size
  }

  clear(): void {
    this.groups.clear()
  }
}

/** A group: one key, a few keys (never changed in place), or many. */
type Group = KeyCode | readonly KeyCode[] | Set<KeyCode>

/** Past this many keys, a group is a set (adding and removing stay constant-time). */
const SMALL_GROUP = 16

const NO_KEYS: readonly never[] = []

function isOne(group: Group): group is KeyCode {
  return typeof group === 'number' || typeof group === 'string'
}

function isSmall(group: readonly KeyCode[] | Set<KeyCode>): group is readonly KeyCode[] {
  return Array.isArray(group)
}

/** `group` without `code`, in an array of its exact size. */
function without(group: readonly KeyCode[], code: KeyCode): KeyCode[] {
  const at = group.indexOf(code)
  return group.slice(0, at).concat(group.slice(at + 1))
}
