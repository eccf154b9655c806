import { decodeKey, encodeKey } from '../state/key-code'

/**
 * A min-heap of things that come due at an engine-clock instant: timers, job deadlines, job
 * back-offs, message expiries. Entries are never removed in place; the engine checks, when one
 * comes due, whether it still applies (lazy deletion keeps every operation O(log n)).
 *
 * The heap is held in typed arrays, one per field, not as an object per entry: with a million
 * timers, a million entries (and their instants and keys) were objects that V8's collector marked
 * again and again (issue #19). An entry's key is held as its code (key-code.ts: an engine key's
 * counter); any other key is kept aside, by sequence number.
 */
export interface DueEntry {
  at: number
  kind: DueKind
  key: string
  /** sequence number: equal instants come out in insertion order */
  seq: number
}

type DueKind = 'timer' | 'job-deadline' | 'job-backoff' | 'message-expiry'

const KINDS: readonly DueKind[] = ['timer', 'job-deadline', 'job-backoff', 'message-expiry']
const KIND_CODES = new Map(KINDS.map((kind, code) => [kind, code]))

const FIRST_CAPACITY = 1024

export class DueQueue {
  private at = new Float64Array(FIRST_CAPACITY)
  private seqs = new Float64Array(FIRST_CAPACITY)
  /** the key's counter, or NaN when the key is kept in `otherKeys` */
  private keys = new Float64Array(FIRST_CAPACITY)
  private kinds = new Uint8Array(FIRST_CAPACITY)
  /** keys that are not engine keys, by sequence number */
  private readonly otherKeys = new Map<number, string>()
  private length = 0
  private seq = 0

  get size(): number {
    return this.length
  }

  push(at: number, kind: DueKind, key: string): void {
    if (this.length === this.at.length) this.grow()
    const seq = this.seq++
    const code = encodeKey(key)
    if (typeof code === 'string') this.otherKeys.set(seq, key)
    let i = this.length++
    // sift up: move parents down until the new entry's place is found, then write it there
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(at, seq, this.at[p], this.seqs[p])) break
      this.move(p, i)
      i = p
    }
    this.at[i] = at
    this.seqs[i] = seq
    this.keys[i] = typeof code === 'number' ? code : NaN
    this.kinds[i] = KIND_CODES.get(kind) as number
  }

  peek(): DueEntry | undefined {
    return this.length === 0 ? undefined : this.entry(0)
  }

  /** The instant of the earliest entry (as `peek().at`, without making the entry). */
  nextAt(): number | undefined {
    return this.length === 0 ? undefined : this.at[0]
  }

  pop(): DueEntry | undefined {
    if (this.length === 0) return undefined
    const top = this.entry(0)
    if (Number.isNaN(this.keys[0])) this.otherKeys.delete(top.seq)
    const last = --this.length
    if (last > 0) {
      // sift the last entry down from the root
      const at = this.at[last]
      const seq = this.seqs[last]
      const key = this.keys[last]
      const kind = this.kinds[last]
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= last) break
        const r = l + 1
        const m = r < last && less(this.at[r], this.seqs[r], this.at[l], this.seqs[l]) ? r : l
        if (!less(this.at[m], this.seqs[m], at, seq)) break
        this.move(m, i)
        i = m
      }
      this.at[i] = at
      this.seqs[i] = seq
      this.keys[i] = key
      this.kinds[i] = kind
    }
    return top
  }

  private entry(i: number): DueEntry {
    const seq = this.seqs[i]
    const key = this.keys[i]
    return {
      at: this.at[i],
      kind: KINDS[this.kinds[i]],
      key: Number.isNaN(key) ? (this.otherKeys.get(seq) as string) : decodeKey(key),
      seq,
    }
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from]
    this.seqs[to] = this.seqs[from]
    this.keys[to] = this.keys[from]
    this.kinds[to] = this.kinds[from]
  }

  private grow(): void {
    const capacity = this.at.length * 2
    const grown = <T extends Float64Array | Uint8Array>(old: T, made: T): T => {
      made.set(old)
      return made
    }
    this.at = grown(this.at, new Float64Array(capacity))
    this.seqs = grown(this.seqs, new Float64Array(capacity))
    this.keys = grown(this.keys, new Float64Array(capacity))
    this.kinds = grown(this.kinds, new Uint8Array(capacity))
  }
}

function less(at: number, seq: number, otherAt: number, otherSeq: number): boolean {
  return at < otherAt || (at === otherAt && seq < otherSeq)
}
