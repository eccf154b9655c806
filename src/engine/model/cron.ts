/**
 * Spring's 6-field cron expressions (second minute hour day-of-month month day-of-week), the form
 * Zeebe accepts for a timeCycle besides ISO-8601 repeating intervals: parsed here for deployment
 * validation and for the timer scheduler alike.
 */
import { MS_PER_SECOND, addMonths, daysInMonth } from './iso8601'

/** A cron expression that cannot be parsed, or that never matches. */
export class CronError extends Error {
  constructor(expression: string, readonly reason: string) {
    super(`Invalid cron expression '${expression}': ${reason}`)
    this.name = 'CronError'
  }
}

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

export interface CronSchedule {
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

export function parseCron(expression: string): CronSchedule {
  const cached = cronCache.get(expression)
  if (cached !== undefined) return cached
  const text = CRON_MACROS[expression.trim().toLowerCase()] ?? expression.trim()
  const fields = text.split(/\s+/)
  const fail = (reason: string) => new CronError(expression, reason)
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
export function nextCronInstant(cron: CronSchedule, after: number, expression: string): number {
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
  throw new CronError(expression, 'it never matches')
}
