/** Dates in the signed-in organisation's time zone, with the zone named. */
import { h } from './dom'

let zone = 'UTC'

export function useTimeZone(timeZone: string): void {
  zone = timeZone
}

export function timeZone(): string {
  return zone
}

export function formatDate(iso: string): string {
  // dateStyle cannot be combined with timeZoneName: the parts are spelled out.
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(new Date(iso))
}

/** A <time> element, or a dash for no date. */
export function timeOf(iso: string | undefined | null): HTMLElement | string {
  return iso ? h('time', { datetime: iso }, formatDate(iso)) : '—'
}

export function isOverdue(dueDate: string | undefined, now = Date.now()): boolean {
  return dueDate !== undefined && Date.parse(dueDate) < now
}

/** A due date, marked in words (not colour alone) when it has passed. */
export function dueOf(dueDate: string | undefined): HTMLElement | string {
  if (!dueDate) return '—'
  if (!isOverdue(dueDate)) return timeOf(dueDate)
  return h('span', { class: 'overdue' }, timeOf(dueDate), ' ', h('strong', { class: 'badge badge-overdue' }, 'Overdue'))
}
