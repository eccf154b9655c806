import { ChunkedMap } from './chunked'

/**
 * Keys of records grouped by a value (a scope, a job type, a correlation, a process instance):
 * most groups are small (the one active child of a waiting instance, the one subscription of a
 * correlation key, the few records of an instance), so a group of one is held as the key itself,
 * a small group as an array of its exact size (never changed in place: a change makes a new
 * one), and only a large one as a set. With a million waiting instances,
 * that is millions of sets fewer to build at start and to keep in memory.
 */
export class KeyIndex<K extends string = string> {
  /** one table per key prefix (chunked.ts): a million groups grow without a long pause */
  private readonly groups = new ChunkedMap<string, K | readonly K[] | Set<K>>()

  add(at: string, key: K): void {
    const group = this.groups.get(at)
    if (group === undefined) this.groups.set(at, key)
    else if (typeof group === 'string') {
      if (group !== key) this.groups.set(at, [group, key])
    } else if (isSmall(group)) {
      if (group.includes(key)) return
      this.groups.set(at, group.length < SMALL_GROUP ? [...group, key] : new Set([...group, key]))
    } else group.add(key)
  }

  /** Take `key` out of the group `at` (a group left empty goes). */
  remove(at: string, key: K): void {
    const group = this.groups.get(at)
    if (group === undefined) return
    if (typeof group === 'string') {
      if (group === key) this.groups.delete(at)
      return
    }
    if (isSmall(group)) {
      if (!group.includes(key)) return
      if (group.length === 1) this.groups.delete(at)
      else this.groups.set(at, group.filter((k) => k !== key))
      return
    }
    group.delete(key)
    if (group.size === 0) this.groups.delete(at)
  }

  /** Drop the group `at`. */
  delete(at: string): void {
    this.groups.delete(at)
  }

  /** The keys of the group `at`, in the order they were added, as they are now: the caller may change the index while it goes through them. */
  keys(at: string): readonly K[] {
    const group = this.groups.get(at)
    if (group === undefined) return NO_KEYS
    return typeof group === 'string' ? [group] : isSmall(group) ? group : [...group]
  }

  /** How many keys the group `at` holds. */
  count(at: string): number {
    const group = this.groups.get(at)
    if (group === undefined) return 0
    return typeof group === 'string' ? 1 : isSmall(group) ? group.length : group.size
  }

  clear(): void {
    this.groups.clear()
  }
}

/** Past this many keys, a group is a set (adding and removing stay constant-time). */
const SMALL_GROUP = 16

const NO_KEYS: readonly never[] = []

function isSmall<K>(group: readonly K[] | Set<K>): group is readonly K[] {
  return Array.isArray(group)
}
