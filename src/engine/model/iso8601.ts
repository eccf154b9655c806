/**
 * The one ISO-8601 grammar of the engine: durations, date-times and repeating intervals, as
 * java.time (Period, Duration, ZonedDateTime) and Zeebe's Interval read them. Deployment
 * validation (model/) and the timer scheduler (runtime/) both parse with it, so a timer accepted
 * at deployment is one the runtime can schedule.
 */

export const MS_PER_SECOND = 1000
export const MS_PER_MINUTE = 60 * MS_PER_SECOND
export const MS_PER_HOUR = 60 * MS_PER_MINUTE
export const MS_PER_DAY = 24 * MS_PER_HOUR

/** An ISO-8601 duration split as java.time does: calendar months and days, and an exact part. */
export interface IsoDuration {
  months: number
  days: number
  /** hours, minutes and seconds, in ms */
  millis: number
}

// Signs are allowed before P and before each number (java.time accepts "-PT1S" and "PT-90M");
// only seconds take a fraction, as in java.time.Duration.
const DURATION_PATTERN =
  /^([-+]?)P(?:([-+]?\d+)Y)?(?:([-+]?\d+)M)?(?:([-+]?\d+)W)?(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d{1,9})?)S)?)?$/i

/** Parses an ISO-8601 duration (P1Y2M3W4DT5H6M7.5S, with optional signs), or returns undefined. */
export function parseIsoDuration(text: string): IsoDuration | undefined {
  const trimmed = text.trim()
  const match = DURATION_PATTERN.exec(trimmed)
  if (match === null) return undefined
  const [, sign, years, months, weeks, days, hours, minutes, seconds] = match
  const hasDatePart = [years, months, weeks, days].some((part) => part !== undefined)
  const hasTimePart = [hours, minutes, seconds].some((part) => part !== undefined)
  if (!hasDatePart && !hasTimePart) return undefined
  // "P1DT" has a designator T with nothing after it
  if (/T$/i.test(trimmed)) return undefined
  const factor = sign === '-' ? -1 : 1
  const int = (part: string | undefined) => (part === undefined ? 0 : Number.parseInt(part, 10))
  const secondsValue = seconds === undefined ? 0 : Number.parseFloat(seconds.replace(',', '.'))
  return {
    months: factor * (int(years) * 12 + int(months)),
    days: factor * (int(weeks) * 7 + int(days)),
    millis: factor * (int(hours) * MS_PER_HOUR + int(minutes) * MS_PER_MINUTE + Math.round(secondsValue * MS_PER_SECOND)),
  }
}

export function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate()
}

/** Calendar month arithmetic in UTC, clamping to the month's end as java.time's plusMonths does. */
export function addMonths(epochMs: number, months: number): number {
  if (months === 0) return epochMs
  const date = new Date(epochMs)
  const totalMonths = date.getUTCFullYear() * 12 + date.getUTCMonth() + months
  const year = Math.floor(totalMonths / 12)
  const monthIndex = totalMonths - year * 12
  const day = Math.min(date.getUTCDate(), daysInMonth(year, monthIndex))
  const timeOfDay = epochMs - Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())
  return Date.UTC(year, monthIndex, day) + timeOfDay
}

/** The instant `duration` after `epochMs`: months first (calendar, UTC), then days, then the exact part. */
export function addDuration(epochMs: number, duration: IsoDuration): number {
  return addMonths(epochMs, duration.months) + duration.days * MS_PER_DAY + duration.millis
}

/**
 * Whether adding the duration moves every instant forward. A month is at least 28 days and at most
 * 31, so "P1MT-671H" advances from any date while "P1MT-700H" goes back from February 1st: the
 * shortest possible length must be positive. A repeating timer whose interval does not advance
 * would fire again at once, without end.
 */
export function durationAdvances(duration: IsoDuration): boolean {
  const shortestMonth = duration.months >= 0 ? 28 : 31
  return duration.months * shortestMonth * MS_PER_DAY + duration.days * MS_PER_DAY + duration.millis > 0
}

// --------------------------------------------------------------------------------- date-times

const DATE_TIME_PATTERN =
  /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?(?:\[([^\]]+)\]|@(.+))?$/i

/** The offset forms java.time's ISO_ZONED_DATE_TIME reads: Z, +hh:mm or +hhmm. */
const ZONED_OFFSET = /^(?:Z|[+-]\d{2}:?\d{2})$/i

/** A date-time read by parseIsoDateTime. */
export interface IsoDateTime {
  /** epoch ms */
  instant: number
  /** the offset as written ("Z", "+01:00"), if any */
  offset?: string
  /** the region id ("Europe/Paris"), written "[...]" or "@..." */
  zone?: string
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>()

function zoneFormat(zone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(zone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    })
    zoneFormats.set(zone, format)
  }
  return format
}

/** The zone's offset from UTC at an instant, in ms. */
function zoneOffsetAt(zone: string, epochMs: number): number {
  const parts: Record<string, number> = {}
  for (const part of zoneFormat(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  const wallClock = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second)
  return wallClock - (epochMs - (((epochMs % 1000) + 1000) % 1000))
}

/**
 * The instant of a wall-clock time in a region, resolved as java.time's ZonedDateTime.ofLocal: in
 * an overlap the earlier instant, in a gap the time moves forward by the gap's length.
 */
function instantInZone(wallClockAsUtc: number, zone: string): number {
  const offsetBefore = zoneOffsetAt(zone, wallClockAsUtc - MS_PER_DAY)
  const offsetAfter = zoneOffsetAt(zone, wallClockAsUtc + MS_PER_DAY)
  const valid = [offsetBefore, offsetAfter]
    .map((offset) => wallClockAsUtc - offset)
    .filter((instant) => zoneOffsetAt(zone, instant) === wallClockAsUtc - instant)
  return valid.length > 0 ? Math.min(...valid) : wallClockAsUtc - offsetBefore
}

function parseOffset(text: string): number {
  if (text.toUpperCase() === 'Z') return 0
  const digits = text.slice(1).replace(/:/g, '')
  const hours = Number(digits.slice(0, 2))
  const minutes = Number(digits.slice(2, 4) || '0')
  const seconds = Number(digits.slice(4, 6) || '0')
  const sign = text.startsWith('-') ? -1 : 1
  return sign * (hours * MS_PER_HOUR + minutes * MS_PER_MINUTE + seconds * MS_PER_SECOND)
}

/**
 * Parses an ISO date-time with an offset and/or a zone id ("...Z", "...+01:00",
 * "...[Europe/Paris]", "...@Europe/Paris"); one with neither is read as UTC. Returns undefined for
 * text that is not one, or names a date or a zone that does not exist.
 */
export function parseIsoDateTime(text: string): IsoDateTime | undefined {
  const match = DATE_TIME_PATTERN.exec(text.trim())
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second, fraction, offset, bracketZone, atZone] = match
  const wallClockAsUtc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute),
    Number(second ?? '0'), fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000))
  const check = new Date(wallClockAsUtc)
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour) > 23 ||
    Number(minute) > 59 || Number(second ?? '0') > 59) {
    return undefined
  }
  const zone = bracketZone ?? atZone
  let zoned: number | undefined
  if (zone !== undefined) {
    try {
      zoned = instantInZone(wallClockAsUtc, zone)
    } catch {
      return undefined
    }
  }
  const instant = offset !== undefined ? wallClockAsUtc - parseOffset(offset) : zoned ?? wallClockAsUtc
  return { instant, ...(offset !== undefined ? { offset } : {}), ...(zone !== undefined ? { zone } : {}) }
}

/**
 * A static date-time as Zeebe requires it in a model (a timeDate, a cycle's start, a user task's
 * due date): java.time's ISO_ZONED_DATE_TIME, an offset with an optional "[region]".
 */
export function isZonedDateTime(text: string): boolean {
  const parsed = parseIsoDateTime(text)
  return parsed?.offset !== undefined && ZONED_OFFSET.test(parsed.offset) && !text.includes('@')
}

// ------------------------------------------------------------------------- repeating intervals

/** A repeating interval "R<n>/<duration>" or "R<n>/<start>/<duration>". */
export interface RepeatingInterval {
  /** -1 for "R/", otherwise n */
  repetitions: number
  /** the start date-time as written, if any */
  start?: string
  interval: string
  duration: IsoDuration
}

/** A repeating interval, or why the text is not one (to be quoted after the text itself). */
export type RepeatingIntervalResult = { ok: true; value: RepeatingInterval } | { ok: false; reason: string }

/**
 * Reads "R<n>/<duration>", "R/<duration>" (infinite) or "R<n>/<start>/<duration>". The start is
 * checked by the caller, which knows whether a region-only zone is allowed.
 */
export function parseRepeatingInterval(text: string): RepeatingIntervalResult {
  if (!text.startsWith('R')) return { ok: false, reason: "expected 'R<n>/<duration>' or 'R<n>/<start>/<duration>'" }
  const designator = text.indexOf('/')
  if (designator === -1) return { ok: false, reason: 'no interval given' }
  const count = text.slice(1, designator)
  if (count !== '' && !/^\d+$/.test(count)) return { ok: false, reason: `cannot parse the repetitions count '${count}'` }
  const rest = text.slice(designator + 1)
  const startSeparator = rest.lastIndexOf('/')
  const interval = rest.slice(startSeparator + 1)
  const duration = parseIsoDuration(interval)
  if (duration === undefined) return { ok: false, reason: `'${interval}' is not an ISO-8601 duration` }
  const start = startSeparator === -1 ? undefined : rest.slice(0, startSeparator)
  const repetitions = count === '' ? -1 : Number.parseInt(count, 10)
  return { ok: true, value: { repetitions, interval, duration, ...(start !== undefined ? { start } : {}) } }
}

/** Why a cycle with this interval would never stop firing, or undefined when it is fine. */
export function nonAdvancingInterval(interval: string, duration: IsoDuration): string | undefined {
  if (durationAdvances(duration)) return undefined
  return `the interval '${interval}' is not longer than zero, so the timer would fire again at once, without end`
}
