import { FeelDateTime, FeelDuration } from 'feelin'
import {
  MS_PER_SECOND, addDuration, addMonths, daysInMonth, nonAdvancingInterval, parseIsoDateTime, parseIsoDuration,
  parseRepeatingInterval,
} from '../model/iso8601'

/** When a timer is due, and how it repeats (engine-semantics §9). */
export interface TimerSchedule {
  /** Epoch ms of the next fire. */
  dueDate: number
  /** Fires left including the next one: -1 infinite, 1 once. */
  repetitions: number
  /** ISO duration between the fires of a cycle. */
  interval?: string
  /** Spring 6-field cron expression of a cycle. */
  cron?: string
}

/** A timer definition (static or the value of its expression) that cannot be scheduled. */
export class TimerDefinitionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TimerDefinitionError'
  }
}

/**
 * Adds an ISO-8601 duration (P1Y2M3W4DT5H6M7.5S, with optional signs) to an instant. Years and
 * months are calendar arithmetic in UTC: Jan 31 + P1M is the end of February.
 */
export function addIsoDuration(epochMs: number, iso: string): number {
  const duration = parseIsoDuration(iso)
  if (duration === undefined) throw new TimerDefinitionError(`Invalid ISO-8601 duration '${iso}'`)
  return addDuration(epochMs, duration)
}

function durationText(value: unknown, kind: string): string {
  if (value instanceof FeelDuration) return value.iso
  if (typeof value === 'string') {
    if (parseIsoDuration(value) === undefined) {
      throw new TimerDefinitionError(`Invalid ${kind} '${value}': expected an ISO-8601 duration such as 'PT5M' or 'P1Y2M'`)
    }
    return value.trim()
  }
  throw new TimerDefinitionError(`Invalid ${kind} '${describe(value)}': expected a duration or an ISO-8601 duration string`)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'object' && 'toString' in value && value.toString !== Object.prototype.toString) return String(value)
  return JSON.stringify(value) ?? String(value)
}

/** A timeDuration timer: due at now + d; a zero or negative duration is due now. */
export function scheduleTimeDuration(value: unknown, now: number): TimerSchedule {
  const interval = durationText(value, 'timer duration')
  return { dueDate: Math.max(now, addIsoDuration(now, interval)), repetitions: 1 }
}

function dateTimeInstant(value: unknown, kind: string): number {
  if (value instanceof FeelDateTime) {
    return value.unwrap().toZonedDateTime(value.zone ?? 'UTC').epochMilliseconds
  }
  if (typeof value === 'string') {
    const instant = parseIsoDateTime(value)?.instant
    if (instant === undefined) {
      throw new TimerDefinitionError(
        `Invalid ${kind} '${value}': expected an ISO-8601 date-time such as '2026-12-01T10:00:00Z' or '2026-12-01T10:00:00[Europe/Paris]'`)
    }
    return instant
  }
  throw new TimerDefinitionError(`Invalid ${kind} '${describe(value)}': expected a date and time or an ISO-8601 date-time string`)
}

/** A timeDate timer: due at the date itself, even in the past (the runtime then fires at once). */
export function scheduleTimeDate(value: unknown, _now: number): TimerSchedule {
  return { dueDate: dateTimeInstant(value, 'timer date'), repetitions: 1 }
}

/**
 * A timeCycle timer: R<n>/<duration>, R/<duration> (infinite), R<n>/<start>/<duration>, or a
 * Spring 6-field cron expression (infinite). Without a start the first fire is now + d; with a
 * start in the future it is the start, with a start in the past now + d (Zeebe 8.8).
 */
export function scheduleTimeCycle(value: unknown, now: number): TimerSchedule {
  if (typeof value !== 'string') {
    throw new TimerDefinitionError(`Invalid timer cycle '${describe(value)}': expected a string`)
  }
  const text = value.trim()
  if (text.startsWith('R')) return scheduleRepeatingInterval(text, now)
  if (text.startsWith('@') || text.split(/\s+/).length === 6) {
    const cron = parseCron(text)
    return { dueDate: nextCronInstant(cron, now, text), repetitions: -1, cron: text }
  }
  throw new TimerDefinitionError(
    `Invalid timer cycle '${text}': expected 'R<n>/<duration>', 'R<n>/<start>/<duration>' or a 6-field cron expression`)
}

function scheduleRepeatingInterval(text: string, now: number): TimerSchedule {
  const parsed = parseRepeatingInterval(text)
  if (!parsed.ok) throw new TimerDefinitionError(`Invalid timer cycle '${text}': ${parsed.reason}`)
  const { interval, duration, start: startText } = parsed.value
  const endless = nonAdvancingInterval(interval, duration)
  if (endless !== undefined) throw new TimerDefinitionError(`Invalid timer cycle '${text}': ${endless}`)
  // R0 fires once, as R1 does: Zeebe only re-arms a timer with more than one repetition left.
  const repetitions = parsed.value.repetitions === -1 ? -1 : Math.max(1, parsed.value.repetitions)
  const firstFromNow = addDuration(now, duration)
  if (startText === undefined) return { dueDate: firstFromNow, repetitions, interval }
  const start = parseIsoDateTime(startText)?.instant
  if (start === undefined) {
    throw new TimerDefinitionError(`Invalid timer cycle '${text}': '${startText}' is not an ISO-8601 date-time`)
  }
  return { dueDate: start > now ? start : firstFromNow, repetitions, interval }
}

/**
 * The schedule after a fire at lastDue, or undefined when the repetitions are used up. The next
 * fire is lastDue + interval, or now + interval when that is already due: a large clock jump gives
 * one catch-up fire, not many. A cron fires next after max(lastDue, now).
 *
 * The next fire is always later than both lastDue and now, whatever the schedule holds (a record
 * written before intervals were checked, a cron that stops matching): a timer that would be due
 * again at once is not re-armed, so one clock tick can never fire it without end.
 */
export function nextTimerSchedule(s: TimerSchedule, lastDue: number, now: number): TimerSchedule | undefined {
  if (s.repetitions !== -1 && s.repetitions <= 1) return undefined
  const repetitions = s.repetitions === -1 ? -1 : s.repetitions - 1
  const dueDate = nextDueDate(s, lastDue, now)
  if (dueDate === undefined || !(dueDate > lastDue && dueDate > now)) return undefined
  return { ...s, dueDate, repetitions }
}

function nextDueDate(s: TimerSchedule, lastDue: number, now: number): number | undefined {
  try {
    if (s.cron !== undefined) return nextCronInstant(parseCron(s.cron), Math.max(lastDue, now), s.cron)
    if (s.interval === undefined) return undefined
    const duration = parseIsoDuration(s.interval)
    if (duration === undefined) return undefined
    const natural = addDuration(lastDue, duration)
    return natural > now ? natural : addDuration(now, duration)
  } catch (error) {
    // A cron whose next match lies beyond the search window ("0 0 0 29 2 MON" matches once in
    // 28 years) ends the cycle, as a used-up repetition count does.
    if (error instanceof TimerDefinitionError) return undefined
    throw error
  }
}

// Cron ----------------------------------------------------------------------------------------

interface DayOfMonthRule {
  days: Set<number>
  /** "L" or "L-n": n days before the month's last day. */
  lastDayOffset?: number
}

interface DayOfWeekRule {
  /** 0 = Sunday ... 6 = Saturday. */
  days: Set<number>
  /** "FRI#2": the 2nd Friday. */
  nth?: { day: number; n: number }
  /** "5L" / "FRIL": the month's last Friday. */
  last?: number
}

interface CronSchedule {
  seconds: Set<number>
  minutes: Set<number>
  hours: Set<number>
  dayOfMonth: DayOfMonthRule
  months: Set<number>
  dayOfWeek: DayOfWeekRule
}

const CRON_MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

const cronCache = new Map<string, CronSchedule>()

function parseCron(expression: string): CronSchedule {
  const cached = cronCache.get(expression)
  if (cached !== undefined) return cached
  const text = CRON_MACROS[expression.trim().toLowerCase()] ?? expression.trim()
  const fields = text.split(/\s+/)
  const fail = (reason: string) => new TimerDefinitionError(`Invalid cron expression '${expression}': ${reason}`)
  if (fields.length !== 6) throw fail(`expected 6 fields (second minute hour day-of-month month day-of-week), found ${fields.length}`)
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = fields
  const schedule: CronSchedule = {
    seconds: parseCronField(second, 0, 59, [], 'second', fail),
    minutes: parseCronField(minute, 0, 59, [], 'minute', fail),
    hours: parseCronField(hour, 0, 23, [], 'hour', fail),
    dayOfMonth: parseDayOfMonth(dayOfMonth, fail),
    months: parseCronField(month, 1, 12, MONTH_NAMES, 'month', fail, 1),
    dayOfWeek: parseDayOfWeek(dayOfWeek, fail),
  }
  cronCache.set(expression, schedule)
  return schedule
}

function parseCronValue(
  text: string, names: string[], nameBase: number, field: string, fail: (reason: string) => Error,
): number {
  const index = names.indexOf(text.toUpperCase())
  if (index !== -1) return index + nameBase
  if (!/^\d+$/.test(text)) throw fail(`'${text}' is not a valid ${field}`)
  return Number.parseInt(text, 10)
}

function parseCronField(
  text: string, min: number, max: number, names: string[], field: string, fail: (reason: string) => Error,
  nameBase = 0,
): Set<number> {
  const values = new Set<number>()
  for (const item of text.split(',')) {
    const [rangeText, stepText, extra] = item.split('/')
    if (extra !== undefined || rangeText === '') throw fail(`'${item}' is not a valid ${field} entry`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw fail(`'${stepText}' is not a valid step in the ${field} field`)
      step = Number(stepText)
    }
    let from: number
    let to: number
    if (rangeText === '*' || rangeText === '?') {
      from = min
      to = max
    } else {
      const bounds = rangeText.split('-')
      if (bounds.length > 2) throw fail(`'${rangeText}' is not a valid ${field} range`)
      from = parseCronValue(bounds[0], names, nameBase, field, fail)
      // Spring reads "5/10" as 5 to the maximum, every 10
      to = bounds.length === 2 ? parseCronValue(bounds[1], names, nameBase, field, fail) : stepText !== undefined ? max : from
    }
    if (from < min || to > max || from > to) throw fail(`'${item}' is outside ${min}-${max} in the ${field} field`)
    for (let value = from; value <= to; value += step) values.add(value)
  }
  return values
}

function parseDayOfMonth(text: string, fail: (reason: string) => Error): DayOfMonthRule {
  const last = /^L(?:-(\d+))?$/i.exec(text)
  if (last !== null) {
    const offset = last[1] === undefined ? 0 : Number(last[1])
    if (offset > 30) throw fail(`'${text}' is not a valid day-of-month`)
    return { days: new Set(), lastDayOffset: offset }
  }
  if (/W/i.test(text)) throw fail(`'${text}': the W (nearest weekday) form is not supported`)
  return { days: parseCronField(text, 1, 31, [], 'day-of-month', fail) }
}

function parseDayOfWeek(text: string, fail: (reason: string) => Error): DayOfWeekRule {
  const dayValue = (value: string) => {
    const day = parseCronValue(value, DAY_NAMES, 0, 'day-of-week', fail)
    if (day > 7) throw fail(`'${value}' is outside 0-7 in the day-of-week field`)
    return day % 7
  }
  const nth = /^(\w+)#(\d)$/.exec(text)
  if (nth !== null) {
    const n = Number(nth[2])
    if (n < 1 || n > 5) throw fail(`'${text}' is not a valid day-of-week`)
    return { days: new Set(), nth: { day: dayValue(nth[1]), n } }
  }
  const last = /^(\w+)L$/i.exec(text)
  if (last !== null && text.toUpperCase() !== 'L') return { days: new Set(), last: dayValue(last[1]) }
  // Spring accepts MON-SUN and 1-7 (7 = Sunday) as well as 0 = Sunday
  const raw = parseCronField(text, 0, 7, DAY_NAMES, 'day-of-week', fail)
  const withSundayAsSeven = new Set<number>()
  for (const day of raw) withSundayAsSeven.add(day % 7)
  return { days: withSundayAsSeven }
}

function dayMatches(cron: CronSchedule, date: Date): boolean {
  const year = date.getUTCFullYear()
  const monthIndex = date.getUTCMonth()
  const day = date.getUTCDate()
  const weekday = date.getUTCDay()
  const monthLength = daysInMonth(year, monthIndex)
  const { dayOfMonth, dayOfWeek } = cron
  const domMatches = dayOfMonth.lastDayOffset !== undefined
    ? day === monthLength - dayOfMonth.lastDayOffset
    : dayOfMonth.days.has(day)
  if (!domMatches) return false
  if (dayOfWeek.nth !== undefined) return weekday === dayOfWeek.nth.day && Math.ceil(day / 7) === dayOfWeek.nth.n
  if (dayOfWeek.last !== undefined) return weekday === dayOfWeek.last && day + 7 > monthLength
  return dayOfWeek.days.has(weekday)
}

/** Years searched before a cron that never matches (e.g. "0 0 0 30 2 *") is rejected. */
const CRON_SEARCH_YEARS = 8

/** The first instant strictly after `after` (whole seconds, UTC) that the cron matches. */
function nextCronInstant(cron: CronSchedule, after: number, expression: string): number {
  let t = Math.floor(after / MS_PER_SECOND) * MS_PER_SECOND + MS_PER_SECOND
  const limit = addMonths(t, CRON_SEARCH_YEARS * 12)
  while (t <= limit) {
    const date = new Date(t)
    if (!cron.months.has(date.getUTCMonth() + 1)) {
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
    } else if (!dayMatches(cron, date)) {
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
    } else if (!cron.hours.has(date.getUTCHours())) {
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours() + 1)
    } else if (!cron.minutes.has(date.getUTCMinutes())) {
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes() + 1)
    } else if (!cron.seconds.has(date.getUTCSeconds())) {
      t += MS_PER_SECOND
    } else {
      return t
    }
  }
  throw new TimerDefinitionError(`Invalid cron expression '${expression}': it never matches`)
}
