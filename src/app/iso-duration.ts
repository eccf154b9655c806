/**
 * ISO 8601 durations as the priority decision gives its targets (PT4H, P2D, P1DT12H): added to an
 * instant to tell both parties when a response or a resolution is due.
 */

/** The text is not an ISO 8601 duration. */
export class DurationError extends Error {
  override name = 'DurationError'
}

const PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/** `instant` + `duration`, as an ISO 8601 UTC string. Years and months are calendar ones. */
export function addDuration(instant: string | Date, duration: string): string {
  const match = PATTERN.exec(duration)
  if (match === null || duration === 'P' || duration.endsWith('T')) {
    throw new DurationError(`'${duration}' is not an ISO 8601 duration such as PT4H or P2D`)
  }
  const [years, months, weeks, days, hours, minutes] = match.slice(1, 7).map((part) => Number(part ?? 0))
  const seconds = Number(match[7] ?? 0)
  const date = new Date(instant)
  if (Number.isNaN(date.getTime())) throw new DurationError(`'${String(instant)}' is not a date`)
  date.setUTCFullYear(date.getUTCFullYear() + years, date.getUTCMonth() + months, date.getUTCDate() + weeks * 7 + days)
  date.setTime(date.getTime() + ((hours * 60 + minutes) * 60 + seconds) * 1000)
  return date.toISOString()
}
