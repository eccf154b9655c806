/**
 * A min-heap of things that come due at an engine-clock instant: timers, job deadlines, job
 * back-offs, message expiries. Entries are never removed in place; the engine checks, when one
 * comes due, whether it still applies (lazy deletion keeps every operation O(log n)).
 */
export interface DueEntry {
  at: number
  kind: 'timer' | 'job-deadline' | 'job-backoff' | 'message-expiry'
  key: string
  /** sequence number: equal instants come out in insertion order */
  seq: number
}

export class DueQueue {
  private readonly heap: DueEntry[] = []
  private seq = 0

  push(at: number, kind: DueEntry['kind'], key: string): void {
    const entry: DueEntry = { at, kind, key, seq: this.seq++ }
    const h = this.heap
    h.push(entry)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i], h[p])) break
      ;[h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  peek(): DueEntry | undefined {
    return this.heap[0]
  }

  pop(): DueEntry | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]
    const last = h.pop() as DueEntry
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l], h[m])) m = l
        if (r < h.length && less(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}

function less(a: DueEntry, b: DueEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
