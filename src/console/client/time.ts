/**
 * Dates, durations and relative times for people, with Intl, in the user's language and their
 * organisation's time zone: "lundi 7 décembre 14:00", "8 h", "2 jours", "dans 3 heures".
 */
import { h } from './dom'
import { language, t } from './i18n'

let zone = 'UTC'

export function useTimeZone(timeZone: string): void {
  zone = timeZone
}

export function timeZone(): string {
  return zone
}

function locale(): string {
  return language() === 'fr' ? 'fr-FR' : 'en-GB'
}

/** A weekday, day, month (and the year when it is not this one) then the time: "lundi 7 décembre 14:00". */
export function formatDate(iso: string): string {
  const date = new Date(iso)
  const yearOf = (d: Date) => new Intl.DateTimeFormat('en', { timeZone: zone, year: 'numeric' }).format(d)
  const day = new Intl.DateTimeFormat(locale(), {
    timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', year: yearOf(date) === yearOf(new Date()) ? undefined : 'numeric',
  }).format(date)
  const time = new Intl.DateTimeFormat(locale(), { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(date)
  return `${day} ${time}`
}

export function formatNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  return new Intl.NumberFormat(locale(), options).format(value)
}

const ISO_DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/
const UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const

export function isIsoDuration(value: unknown): value is string {
  return typeof value === 'string' && ISO_DURATION.test(value)
}

/** An ISO 8601 duration for people: PT8H → "8 h", P2D → "2 jours"; anything else as it is. */
export function formatDuration(iso: string): string {
  const match = ISO_DURATION.exec(iso)
  if (!match) return iso
  const parts = UNITS.flatMap((unit, i) => {
    const amount = Number(match[i + 1] ?? 0)
    if (amount === 0) return []
    // "8 h" and "15 min" read well in French; English reads "8 hours" better than "8 hr".
    const short = language() === 'fr' && (unit === 'hour' || unit === 'minute' || unit === 'second')
    return [formatNumber(amount, { style: 'unit', unit, unitDisplay: short ? 'short' : 'long' })]
  })
  return parts.length === 0 ? formatNumber(0, { style: 'unit', unit: 'minute', unitDisplay: 'long' }) : parts.join(' ')
}

/** Milliseconds for people, in the largest unit that fits: "45 min", "3 h", "2 jours". */
export function formatMilliseconds(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000)
  if (minutes < 60) return formatDuration(`PT${minutes}M`)
  if (minutes < 48 * 60) {
    const hours = Math.floor(minutes / 60)
    return formatDuration(`PT${hours}H${minutes % 60 > 0 ? `${minutes % 60}M` : ''}`)
  }
  return formatDuration(`P${Math.round(minutes / (24 * 60))}D`)
}

/** "dans 3 heures", "il y a 2 jours". */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' })
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity]]
  let value = seconds
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return format.format(Math.round(value), unit)
    value /= size
  }
  return format.format(Math.round(value), 'year')
}

/** A <time> element, its full date in the title, or a dash for no date. */
export function timeOf(iso: string | undefined | null): HTMLElement | string {
  return iso ? h('time', { datetime: iso, title: formatRelative(iso) }, formatDate(iso)) : '—'
}

export function isOverdue(dueDate: string | undefined, now = Date.now()): boolean {
  return dueDate !== undefined && Date.parse(dueDate) < now
}

/** A due date with how far off it is, marked in words (not colour alone) when it has passed. */
export function dueOf(dueDate: string | undefined): HTMLElement | string {
  if (!dueDate) return '—'
  if (!isOverdue(dueDate)) return h('span', {}, timeOf(dueDate), ' ', h('small', {}, `(${formatRelative(dueDate)})`))
  return h('span', { class: 'overdue' }, timeOf(dueDate), ' ', h('strong', { class: 'badge badge-overdue' }, t('time.overdue')))
}
