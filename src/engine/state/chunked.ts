import { decodeKey, encodeKey, type KeyCode } from './key-code'

/**
 * A map and a set of string keys held as many small hash tables instead of one large one.
 *
 * A JavaScript Map or Set grows by building a table twice its size and moving every entry there,
 * in one step: with a million entries, one `set` took up to a second on two busy cores (the engine
 * answered nothing meanwhile; issue #19, a million waiting instances). Here an engine key goes to
 * the table of its counter's block of 1,024, so growing a table moves at most that many; any other
 * string goes to the table of all but its last three characters.
 *
 * The tables hold engine keys as their counters (key-code.ts), so a key costs no object of its own
 * on the heap; the map gives strings back. Callers holding a code work on it directly (`getCoded`, ...)
 * so that a key is encoded once per operation.
 *
 * Iteration goes table by table in the order the tables were made, then in insertion order
 * within a table. For keys made in ascending order, as the engine makes them, that is the order a
 * single Map would give. (A map of hashes, `spread`, has its numbers go to tables by their low
 * bits instead: its order is not the keys'.)
 */
const BLOCK = 1024
const SUFFIX = 3

function chunkOf(code: KeyCode, spread: boolean): KeyCode {
  if (typeof code === 'number') return spread ? code % BLOCK : Math.floor(code / BLOCK)
  // (a string chunk never equals a number chunk: the two kinds of table never mix)
  return code.length > SUFFIX ? code.slice(0, code.length - SUFFIX) : ''
}

/** What the map and the set share: the tables by chunk, and the count of keys. */
abstract class Chunks<C extends { has(key: KeyCode): boolean; delete(key: KeyCode): boolean; readonly size: number }> {
  protected readonly chunks = new Map<KeyCode, C>()
  protected count = 0

  /** `spread`: the numbers held are hashes, not counters, and go to tables by their low bits */
  constructor(private readonly spread = false) {}

  protected chunkOf(code: KeyCode): KeyCode {
    return chunkOf(code, this.spread)
  }

  has(key: string): boolean {
    return this.hasCoded(encodeKey(key))
  }

  hasCoded(code: KeyCode): boolean {
    return this.chunks.get(this.chunkOf(code))?.has(code) === true
  }

  /** The table of `code`, made if there is none. */
  protected chunkFor(code: KeyCode, make: () => C): C {
    const at = this.chunkOf(code)
    let chunk = this.chunks.get(at)
    if (!chunk) this.chunks.set(at, (chunk = make()))
    return chunk
  }

  delete(key: string): boolean {
    return this.deleteCoded(encodeKey(key))
  }

  deleteCoded(code: KeyCode): boolean {
    const at = this.chunkOf(code)
    const chunk = this.chunks.get(at)
    if (!chunk?.delete(code)) return false
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

export class ChunkedMap<K extends string, V> extends Chunks<Map<KeyCode, V>> implements Map<K, V> {
  get(key: K): V | undefined {
    return this.getCoded(encodeKey(key))
  }

  getCoded(code: KeyCode): V | undefined {
    return this.chunks.get(this.chunkOf(code))?.get(code)
  }

  set(key: K, value: V): this {
    this.setCoded(encodeKey(key), value)
    return this
  }

  setCoded(code: KeyCode, value: V): void {
    const chunk = this.chunkFor(code, () => new Map())
    const before = chunk.size
    chunk.set(code, value)
    this.count += chunk.size - before
  }

  override has(key: K): boolean {
    return super.has(key)
  }

  override delete(key: K): boolean {
    return super.delete(key)
  }

  *entries(): MapIterator<[K, V]> {
    for (const chunk of this.chunks.values()) for (const [code, value] of chunk) yield [decodeKey(code) as K, value]
  }

  /** The entries with their keys as held (codes): for subclasses that go on working on them. */
  protected *codedEntries(): Generator<[KeyCode, V]> {
    for (const chunk of this.chunks.values()) yield* chunk
  }

  *keys(): MapIterator<K> {
    for (const chunk of this.chunks.values()) for (const code of chunk.keys()) yield decodeKey(code) as K
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
export class ChunkedSet<K extends string> extends Chunks<Set<KeyCode>> {
  add(key: K): this {
    const code = encodeKey(key)
    const chunk = this.chunkFor(code, () => new Set())
    const before = chunk.size
    chunk.add(code)
    this.count += chunk.size - before
    return this
  }

  override has(key: K): boolean {
    return super.has(key)
  }

  override delete(key: K): boolean {
    return super.delete(key)
  }

  *[Symbol.iterator](): Generator<K> {
    for (const chunk of this.chunks.values()) for (const code of chunk) yield decodeKey(code) as K
  }
}
