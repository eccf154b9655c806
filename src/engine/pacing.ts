/**
 * Client commands run a slice of the event loop at a time, as a broker takes commands from its
 * log one after the other: a burst (an SDK client with 256 creations in flight delivers them in
 * one read of its socket) does not hold the loop for the whole burst. Once a turn of the loop has
 * run `sliceCommands` commands, or run them for `sliceMs`, the next ones wait for a later turn, in
 * order of arrival. What a command brings about in its turn (its answer, the log commit, a
 * checkpoint of the records it changed) stays in proportion, and other clients' requests, timers
 * and job pushes get their turn in between.
 *
 * Measured with 50,000 waiting instances created 256 at a time (bench/PERFORMANCE.md): without a
 * limit, 256 creations ran in one turn and the longest answer to a 20 ms poll was 141 to 173 ms;
 * with 16 a turn, 96 to 116 ms, and creation was not slower.
 */
export const DEFAULT_SLICE_MS = 10
export const DEFAULT_SLICE_COMMANDS = 16

export class CommandPacer {
  /** when the current turn ran its first command; undefined before it ran any */
  private sliceStart: number | undefined
  private ranInSlice = 0
  private readonly waiting: (() => void)[] = []
  private turnEndScheduled = false
  /** turns of the event loop ended so far, and the one the current slice began in */
  private turn = 0
  private sliceTurn = 0

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS, private readonly sliceCommands = DEFAULT_SLICE_COMMANDS, private readonly now: () => number = () => performance.now()) {}

  /** Runs `command` now when this turn has time left and nothing waits, else in a later turn. */
  run<T>(command: () => T): Promise<Awaited<T>> {
    return new Promise<Awaited<T>>((resolve, reject) => {
      const go = () => {
        try {
          resolve(command() as Awaited<T>)
        } catch (error) {
          reject(error as Error)
        }
      }
      if (this.waiting.length === 0 && this.hasTime()) {
        go()
      } else {
        this.waiting.push(go)
        this.endTurnSoon()
      }
    })
  }

  /** Commands waiting for a later turn. */
  get backlog(): number {
    return this.waiting.length
  }

  private hasTime(): boolean {
    if (this.sliceStart === undefined || this.sliceTurn !== this.turn) {
      this.sliceStart = this.now()
      this.sliceTurn = this.turn
      this.ranInSlice = 1
      this.endTurnSoon()
      return true
    }
    if (this.ranInSlice >= this.sliceCommands || this.now() - this.sliceStart >= this.sliceMs) return false
    this.ranInSlice++
    return true
  }

  /**
   * At the end of this turn (the check phase, after I/O), waiting commands run while the turn's
   * slice has time; then the turn ends, and those still waiting run in the next one. A slice begun
   * in this turn's I/O (a batch of calls) goes on here, not afresh: one slice a turn. With a fresh
   * slice here, a turn could run two, and with commands of MBs each (a 3 MB variable takes 15 to
   * 25 ms to create) the turn held the loop twice as long (bench/PERFORMANCE.md).
   */
  private endTurnSoon(): void {
    if (this.turnEndScheduled) return
    this.turnEndScheduled = true
    setImmediate(() => {
      this.turnEndScheduled = false
      while (this.waiting.length > 0 && this.hasTime()) (this.waiting.shift() as () => void)()
      this.turn++
      if (this.waiting.length > 0) this.endTurnSoon()
    })
  }
}
