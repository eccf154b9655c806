import { FeelDateTime, FeelDuration } from 'feelin'
import { CronError, nextCronInstant, parseCron } from '../model/cron'
import {
  addDuration, nonAdvancingInterval, parseIsoDateTime, parseIsoDuration, parseRepeatingInterval,
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
    try {
      return { dueDate: nextCronInstant(parseCron(text), now, text), repetitions: -1, cron: text }
    } catch (error) {
      throw error instanceof CronError ? new TimerDefinitionError(error.message) : error
    }
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
    if (error instanceof CronError) return undefined
    throw error
  }
}
