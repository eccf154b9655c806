/**
 * Keys of records grouped by a value (a scope, a job type, a correlation): most groups hold one
 * key (the one active child of a waiting instance, the one subscription of a correlation key), so
 * a group of one is held as the key itself and becomes a set from its second key. With a million
 * waiting instances, that is two million sets fewer to build at start and to keep in memory.
 */
export class KeyIndex {
  private readonly groups = new Map<string, string | Set<string>>()

  add(at: string, key: string): void {
    const group = this.groups.get(at)
    if (group === undefined) this.groups.set(at, key)
    else if (typeof group !== 'string') group.add(key)
    else if (group !== key) this.groups.set(at, new Set([group, key]))
  }

  /** Take `key` out of the group `at` (a group left empty goes). */
  remove(at: string, key: string): void {
    const group = this.groups.get(at)
    if (group === undefined) return
    if (typeof group === 'string') {
      if (group === key) this.groups.delete(at)
      return
    }
    group.delete(key)
    if (group.size === 0) this.groups.delete(at)
  }

  /** Drop the group `at`. */
  delete(at: string): void {
    this.groups.delete(at)
  }

  /** The keys of the group `at`, as a copy: the caller may change the index while it goes through them. */
  keys(at: string): string[] {
    const group = this.groups.get(at)
    if (group === undefined) return []
    return typeof group === 'string' ? [group] : [...group]
  }

  /** How many keys the group `at` holds. */
  count(at: string): number {
    const group = this.groups.get(at)
    if (group === undefined) return 0
    return typeof group === 'string' ? 1 : group.size
  }

  clear(): void {
    this.groups.clear()
  }
}
