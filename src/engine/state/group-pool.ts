/**
 * Small groups of key counters, held side by side in one typed array instead of an array each
 * (issue #19: a million waiting instances had a million three-key groups, two objects each, for
 * V8's collector to mark again and again).
 *
 * A group lives in a block of cells: its length, then room for 2, 4, 8 or 16 counters. A block
 * is found by its offset; freed blocks are reused by the next group of their size. The counters
 * are those of key-code.ts (below 2^30), so they fit an Int32Array.
 */
const CAPACITIES = [2, 4, 8, 16] as const
/** The most counters a block holds. */
export const POOLED_MAX = CAPACITIES[CAPACITIES.length - 1]

export class GroupPool {
  private cells = new Int32Array(4096)
  /** first cell never used */
  private end = 0
  /** offsets of freed blocks, by capacity class */
  private free: number[][] = CAPACITIES.map(() => [])

  /** A new block holding `counters` (at most POOLED_MAX), in that order. */
  make(counters: readonly number[]): number {
    const cls = classFor(counters.length)
    const at = this.alloc(cls)
    this.cells[at] = (cls << CLASS_SHIFT) | counters.length
    this.cells.set(counters, at + 1)
    return at
  }

  length(at: number): number {
    return this.cells[at] & LENGTH_MASK
  }

  counters(at: number): number[] {
    const length = this.length(at)
    return Array.from(this.cells.subarray(at + 1, at + 1 + length))
  }

  includes(at: number, counter: number): boolean {
    return this.indexOf(at, counter) >= 0
  }

  /**
   * `counter` added at the end of the block at `at`: the block's offset afterwards (a full block
   * moves to a larger one), or -1 when the group is already POOLED_MAX long.
   */
  append(at: number, counter: number): number {
    const length = this.length(at)
    const cls = this.cells[at] >>> CLASS_SHIFT
    if (length < CAPACITIES[cls]) {
      this.cells[at + 1 + length] = counter
      this.cells[at] = (cls << CLASS_SHIFT) | (length + 1)
      return at
    }
    if (length >= POOLED_MAX) return -1
    const moved = this.make([...this.counters(at), counter])
    this.release(at)
    return moved
  }

  /** Take `counter` out of the block, keeping the others' order; the length left. */
  remove(at: number, counter: number): number {
    const index = this.indexOf(at, counter)
    const length = this.length(at)
    if (index < 0) return length
    this.cells.copyWithin(at + 1 + index, at + 2 + index, at + 1 + length)
    this.cells[at] = (this.cells[at] & ~LENGTH_MASK) | (length - 1)
    return length - 1
  }

  /** The block is free for another group (the header keeps its capacity class, below). */
  release(at: number): void {
    this.free[this.cells[at] >>> CLASS_SHIFT].push(at)
  }

  clear(): void {
    this.cells = new Int32Array(4096)
    this.end = 0
    this.free = CAPACITIES.map(() => [])
  }

  private indexOf(at: number, counter: number): number {
    const length = this.length(at)
    for (let i = 0; i < length; i++) if (this.cells[at + 1 + i] === counter) return i
    return -1
  }

  private alloc(cls: number): number {
    const reused = this.free[cls].pop()
    const at = reused ?? this.end
    if (reused === undefined) {
      const size = 1 + CAPACITIES[cls]
      while (this.end + size > this.cells.length) {
        const grown = new Int32Array(this.cells.length * 2)
        grown.set(this.cells)
        this.cells = grown
      }
      this.end += size
    }
    return at
  }
}

/** A block's first cell: its capacity class above its length. */
const CLASS_SHIFT = 8
const LENGTH_MASK = (1 << CLASS_SHIFT) - 1

function classFor(length: number): number {
  const cls = CAPACITIES.findIndex((capacity) => capacity >= length)
  if (cls < 0) throw new Error(`a pooled group holds at most ${POOLED_MAX} keys, not ${length}`)
  return cls
}
