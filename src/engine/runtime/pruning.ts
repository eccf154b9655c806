import type { Clock } from '../clock'
import type { History } from '../state/history'

/** The history is pruned this often, at most PRUNE_BATCH root instances a turn of the event loop. */
const PRUNE_EVERY_MS = 60_000
const PRUNE_BATCH = 500

/**
 * Forgets finished instances older than the retention period, a batch at a time with a turn of
 * the event loop in between, so that a large backlog never holds the engine.
 */
export class HistoryPruner {
  private readonly timer: NodeJS.Timeout
  private stopped = false

  constructor(
    private readonly history: () => History,
    private readonly clock: Clock,
    readonly retentionMs: number,
  ) {
    this.timer = setInterval(() => void this.round(), PRUNE_EVERY_MS)
    this.timer.unref()
  }

  /** One batch (and the next ones, on later turns, while batches come back full). Resolves to the count; never rejects. */
  async round(): Promise<number> {
    if (this.stopped) return 0
    let pruned: number
    try {
      pruned = await this.history().prune(this.clock.now() - this.retentionMs, PRUNE_BATCH)
    } catch (error) {
      // (a full disk, say: the history stays as it is and the next round tries again)
      console.error(`[engine] pruning the history failed (${error instanceof Error ? error.message : String(error)}); it is tried again in ${PRUNE_EVERY_MS / 1000} s`)
      return 0
    }
    if (pruned === PRUNE_BATCH) setImmediate(() => void this.round())
    return pruned
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }
}
