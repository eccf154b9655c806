/** The engine's notion of "now", in epoch milliseconds. Timers, FEEL now(), job deadlines read it. */
export interface Clock {
  now(): number
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now()
  }
}

/**
 * A clock that can be pinned, as Zeebe's `ZEEBE_CLOCK_CONTROLLED=true`: PUT /v2/clock freezes it
 * at an instant, reset returns to system time.
 */
export class ControllableClock implements Clock {
  private pinnedAt: number | undefined

  now(): number {
    return this.pinnedAt ?? Date.now()
  }

  pin(epochMs: number): void {
    this.pinnedAt = epochMs
  }

  reset(): void {
    this.pinnedAt = undefined
  }

  get isPinned(): boolean {
    return this.pinnedAt !== undefined
  }
}
