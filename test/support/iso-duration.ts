/**
 * ISO-8601 durations for moving a test clock: `P6M`, `P2DT1M`, `PT30S`, `P1W`. Years and months
 * are calendar units in UTC (clamped to the month's end), as Zeebe adds a Period to a date-time.
 */

/** A parsed ISO-8601 duration: calendar months plus an exact number of milliseconds. */
export interface IsoDuration {
  months: number
  days: number
  milliseconds: number
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

export function parseIsoDuration(text: string): IsoDuration {
  const match = DURATION.exec(text)
  if (!match || text === 'P' || text.endsWith('T')) {
    throw new Error(`'${text}' is not an ISO-8601 duration such as P2D, PT1H30M or P6M`)
  }
  const int = (part: string | undefined): number => (part === undefined ? 0 : Number(part))
  const [, years, months, weeks, days, hours, minutes, seconds] = match
  return {
    months: int(years) * 12 + int(months),
    days: int(weeks) * 7 + int(days),
    milliseconds: Math.round(((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000),
  }
}

/** `epochMs` plus `duration`, calendar parts first (as java.time's plus(Period) then plus(Duration)). */
export function addIsoDuration(epochMs: number, duration: string): number {
  const { months, days, milliseconds } = parseIsoDuration(duration)
  const date = new Date(epochMs)
  if (months !== 0) {
    const day = date.getUTCDate()
    date.setUTCDate(1)
    date.setUTCMonth(date.getUTCMonth() + months)
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()
    date.setUTCDate(Math.min(day, lastDay))
  }
  date.setUTCDate(date.getUTCDate() + days)
  return date.getTime() + milliseconds
}
