/**
 * A map and a set of string keys held as many small hash tables instead of one large one.
 *
 * A JavaScript Map or Set grows by building a table twice its size and moving every entry there,
 * in one step: with a million entries, one `set` took up to a second on two busy cores (the engine
 * answered nothing meanwhile; issue #19, a million waiting instances). Here the keys sharing all
 * but their last three characters go to one table: engine keys are numbers of equal length, so a
 * table holds at most 1,000 of them and growing one moves at most that many.
 *
 * Iteration goes table by table in the order the tables were made, then in insertion order
 * within a table. For keys made in ascending order, as the engine makes them, that is the order a
 * single Map would give.
 */
const SUFFIX = 3

function chunkOf(key: string): string {
  return key.length > SUFFIX ? key.slice(0, key.length - SUFFIX) : ''
}

/** What the map and the set share: the tables by prefix, and the count of keys. */
abstract class Chunks<K extends string, C extends { has(key: K): boolean; delete(key: K): boolean; readonly size: number }> {
  protected readonly chunks = new Map<string, C>()
  protected count = 0

  has(key: K): boolean {
    return this.chunks.get(chunkOf(key))?.has(key) === true
  }

  /** The table of `key`, made if there is none. */
  protected chunkFor(key: K, make: () => C): C {
    const at = chunkOf(key)
    let chunk = this.chunks.get(at)
    if (!chunk) this.chunks.set(at, (chunk = make()))
    return chunk
  }

  delete(key: K): boolean {
    const at = chunkOf(key)
    const chunk = this.chunks.get(at)
    if (!chunk?.delete(key)) return false
    this.count--
    if (chunk.size === 0) this.chunks.delete(at)
    return true
  }

  clear(): void {
    this.chunks.clear()
    this.count = 0
  }

  get size(): number {
    return this.count
  }
}

export class ChunkedMap<K extends string, V> extends Chunks<K, Map<K, V>> implements Map<K, V> {
  get(key: K): V | undefined {
    return this.chunks.get(chunkOf(key))?.get(key)
  }

  set(key: K, value: V): this {
    const chunk = this.chunkFor(key, () => new Map())
    const before = chunk.size
    chunk.set(key, value)
    this.count += chunk.size - before
    return this
  }

  *entries(): MapIterator<[K, V]> {
    for (const chunk of this.chunks.values()) yield* chunk.entries()
  }

  *keys(): MapIterator<K> {
    for (const chunk of this.chunks.values()) yield* chunk.keys()
  }

  *values(): MapIterator<V> {
    for (const chunk of this.chunks.values()) yield* chunk.values()
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries()
  }

  forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) fn.call(thisArg, value, key, this)
  }

  get [Symbol.toStringTag](): string {
    return 'ChunkedMap'
  }
}

/** The set counterpart: the same tables, holding keys only. */
export class ChunkedSet<K extends string> extends Chunks<K, Set<K>> {
  add(key: K): this {
    const chunk = this.chunkFor(key, () => new Set())
    const before = chunk.size
    chunk.add(key)
    this.count += chunk.size - before
    return this
  }

  *[Symbol.iterator](): Generator<K> {
    for (const chunk of this.chunks.values()) yield* chunk
  }
}
