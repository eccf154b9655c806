/**
 * The 8.8 search conventions, applied to REST result items: `filter` (exact values or operator
 * objects), `sort`, and `page` (offset or cursor), answered as `{items, page}`. Searches here are
 * immediately consistent, a compatible choice (real searches are eventually consistent).
 */
import { z } from 'zod'
import { invalidArgument } from './problem'

/**
 * What a search's filter lets the engine skip, the filter still applying in full afterwards: the
 * process instance it names with a plain value (only that instance's records are read, the
 * history's by index), and a plain `state` that only running instances' records can have
 * (`liveStates`: finished instances, in the history, never have them), for which the history is
 * not read at all.
 */
export function instanceScope(filter: Record<string, unknown> | null | undefined, liveStates: readonly string[] = []): { processInstanceKey?: string; live?: boolean } {
  const key = filter?.processInstanceKey
  const state = filter?.state
  return {
    ...(typeof key === 'string' ? { processInstanceKey: key } : {}),
    ...(typeof state === 'string' && liveStates.includes(state) ? { live: true } : {}),
  }
}

/** The body of every POST /v2/<entity>/search. */
export const searchRequestSchema = z.object({
  filter: z.record(z.string(), z.unknown()).nullish(),
  sort: z.array(z.object({
    field: z.string(),
    order: z.string().regex(/^(asc|desc)$/i, "expected 'ASC' or 'DESC'").nullish(),
  })).nullish(),
  page: z.object({
    from: z.number().int().nonnegative().nullish(),
    limit: z.number().int().nonnegative().max(10000).nullish(),
    after: z.string().nullish(),
    before: z.string().nullish(),
  }).nullish(),
})

export type SearchRequest = z.output<typeof searchRequestSchema>

/** A filter on a derived property: receives the item and the filter value as sent. */
export type CustomFilter<T> = (item: T, condition: unknown) => boolean

export interface SearchSpec<T> {
  /** the item's unique key field: the tie-break of every sort, and part of the cursor */
  key: keyof T & string
  /** fields that may be filtered by comparing the item's own value */
  filterable: readonly (keyof T & string)[]
  /** filter properties without an item field of the same name */
  custom?: Record<string, CustomFilter<T>>
  sortable: readonly (keyof T & string)[]
}

export interface SearchResult<T> {
  items: T[]
  page: { totalItems: number; hasMoreTotalItems: boolean; startCursor?: string; endCursor?: string }
}

const DEFAULT_LIMIT = 100

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T/
const INTEGER = /^-?\d+$/

/** Compare two values as Camunda would: keys and numbers numerically, dates by instant. */
export function compareValues(a: unknown, b: unknown): number {
  const aMissing = a === undefined || a === null
  const bMissing = b === undefined || b === null
  if (a === b || (aMissing && bMissing)) return 0
  if (aMissing) return 1
  if (bMissing) return -1
  const aInt = typeof a === 'number' || (typeof a === 'string' && INTEGER.test(a))
  const bInt = typeof b === 'number' || (typeof b === 'string' && INTEGER.test(b))
  if (aInt && bInt) {
    if (typeof a === 'number' && !Number.isInteger(a) || typeof b === 'number' && !Number.isInteger(b)) {
      return Number(a) - Number(b)
    }
    const x = BigInt(a as string | number)
    const y = BigInt(b as string | number)
    return x < y ? -1 : x > y ? 1 : 0
  }
  if (typeof a === 'string' && typeof b === 'string' && ISO_DATE.test(a) && ISO_DATE.test(b)) {
    const x = Date.parse(a)
    const y = Date.parse(b)
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function likeToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\' && i + 1 < pattern.length) {
      source += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    } else if (c === '*') {
      source += '.*'
    } else if (c === '?') {
      source += '.'
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`, 's')
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function asArray(field: string, op: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw invalidArgument(`Invalid filter '${field}': '${op}' expects an array`)
  return value
}

/**
 * Does `actual` satisfy a filter property: an exact value, or `{$eq, $neq, $exists, $in, $notIn,
 * $like, $gt, $gte, $lt, $lte}` (all given operators must hold).
 */
export function matchesProperty(field: string, actual: unknown, condition: unknown): boolean {
  if (condition === undefined || condition === null) return true
  if (!isOperatorObject(condition)) return compareValues(actual, condition) === 0
  const present = actual !== undefined && actual !== null
  for (const [op, value] of Object.entries(condition)) {
    if (value === undefined || value === null) continue
    let ok: boolean
    switch (op) {
      case '$eq': ok = present && compareValues(actual, value) === 0; break
      case '$neq': ok = !present || compareValues(actual, value) !== 0; break
      case '$exists': ok = present === Boolean(value); break
      case '$in': ok = present && asArray(field, op, value).some((v) => compareValues(actual, v) === 0); break
      case '$notIn': ok = !present || !asArray(field, op, value).some((v) => compareValues(actual, v) === 0); break
      case '$like':
        if (typeof value !== 'string') throw invalidArgument(`Invalid filter '${field}': '$like' expects a string`)
        ok = present && likeToRegExp(value).test(String(actual))
        break
      case '$gt': ok = present && compareValues(actual, value) > 0; break
      case '$gte': ok = present && compareValues(actual, value) >= 0; break
      case '$lt': ok = present && compareValues(actual, value) < 0; break
      case '$lte': ok = present && compareValues(actual, value) <= 0; break
      default:
        throw invalidArgument(`Invalid filter '${field}': unknown operator '${op}'`)
    }
    if (!ok) return false
  }
  return true
}

/** Does an item match every property of a filter object. */
export function matchesFilter<T>(item: T, filter: Record<string, unknown>, spec: SearchSpec<T>): boolean {
  for (const [field, condition] of Object.entries(filter)) {
    if (condition === undefined || condition === null) continue
    const custom = spec.custom?.[field]
    if (custom) {
      if (!custom(item, condition)) return false
    } else if ((spec.filterable as readonly string[]).includes(field)) {
      if (!matchesProperty(field, (item as Record<string, unknown>)[field], condition)) return false
    } else {
      throw invalidArgument(`Invalid filter: unknown property '${field}'`)
    }
  }
  return true
}

type SortKey = { field: string; descending: boolean }

function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64')
}

function decodeCursor(cursor: string, length: number): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'))
    if (Array.isArray(values) && values.length === length) return values
  } catch {
    // fall through to the rejection below: a cursor is opaque, any other shape is foreign
  }
  throw invalidArgument(`Invalid page cursor '${cursor}'`)
}

/**
 * The count past which a search's totalItems is a lower bound, flagged by hasMoreTotalItems (as
 * Camunda's secondary storage caps it): counting a large history exactly would cost a scan.
 */
export const TOTAL_ITEMS_CAP = 10_000

/** Items of a large stored set that meet a search's whole filter, read by index in key order. */
export interface KeyOrderedSource<T> {
  /** at most `limit` items, in key order, after `afterKey` if given */
  page(afterKey: string | undefined, limit: number): T[]
  /** how many there are, counted up to `cap` */
  count(cap: number): number
}

/**
 * A search over a few live items and a large stored set (the history), when the request sorts by
 * key only (the default) and pages forward: the stored set is read only as far as the page
 * reaches, and counted up to TOTAL_ITEMS_CAP. Returns undefined for any other request, which
 * then needs every item (`search`).
 */
export function searchKeyOrdered<T>(live: Iterable<T>, stored: KeyOrderedSource<T>, request: SearchRequest, spec: SearchSpec<T>): SearchResult<T> | undefined {
  if ((request.sort ?? []).some((s) => s.field !== spec.key || (s.order ?? 'ASC').toUpperCase() !== 'ASC')) return undefined
  const page = request.page ?? {}
  if (page.before) return undefined
  const keyOf = (item: T) => (item as Record<string, unknown>)[spec.key]
  const byKey = (a: T, b: T) => compareValues(keyOf(a), keyOf(b))
  const filter = request.filter ?? {}
  const limit = page.limit ?? DEFAULT_LIMIT
  const from = page.after ? 0 : page.from ?? 0
  const afterKey = page.after ? String(decodeCursor(page.after, 1)[0]) : undefined
  const liveMatching: T[] = []
  for (const item of live) if (matchesFilter(item, filter, spec)) liveMatching.push(item)
  liveMatching.sort(byKey)
  const liveAfter = afterKey === undefined ? liveMatching : liveMatching.filter((item) => compareValues(keyOf(item), afterKey) > 0)
  const storedPage = stored.page(afterKey, from + limit).filter((item) => matchesFilter(item, filter, spec))
  const selected = [...liveAfter, ...storedPage].sort(byKey).slice(from, from + limit)
  const storedCount = stored.count(TOTAL_ITEMS_CAP + 1)
  const capped = storedCount > TOTAL_ITEMS_CAP
  const result: SearchResult<T> = {
    items: selected,
    page: { totalItems: liveMatching.length + Math.min(storedCount, TOTAL_ITEMS_CAP), hasMoreTotalItems: capped },
  }
  if (selected.length > 0) {
    result.page.startCursor = encodeCursor([keyOf(selected[0])])
    result.page.endCursor = encodeCursor([keyOf(selected[selected.length - 1])])
  }
  return result
}

/** Filter, sort and page `items` per the request. */
export function search<T>(items: Iterable<T>, request: SearchRequest, spec: SearchSpec<T>): SearchResult<T> {
  const filter = request.filter ?? {}
  const sortKeys: SortKey[] = (request.sort ?? []).map(({ field, order }) => {
    if (!(spec.sortable as readonly string[]).includes(field)) {
      throw invalidArgument(`Invalid sort field '${field}': expected one of ${spec.sortable.join(', ')}`)
    }
    return { field, descending: (order ?? 'ASC').toUpperCase() === 'DESC' }
  })
  sortKeys.push({ field: spec.key, descending: false })

  const tuple = (item: T): unknown[] => sortKeys.map((k) => (item as Record<string, unknown>)[k.field])
  const compareTuples = (a: unknown[], b: unknown[]): number => {
    for (let i = 0; i < sortKeys.length; i++) {
      const c = compareValues(a[i], b[i])
      if (c !== 0) return sortKeys[i].descending ? -c : c
    }
    return 0
  }

  const matching: T[] = []
  for (const item of items) {
    if (matchesFilter(item, filter, spec)) matching.push(item)
  }
  matching.sort((a, b) => compareTuples(tuple(a), tuple(b)))

  const page = request.page ?? {}
  const limit = page.limit ?? DEFAULT_LIMIT
  let selected: T[]
  if (page.after) {
    const cursor = decodeCursor(page.after, sortKeys.length)
    selected = matching.filter((item) => compareTuples(tuple(item), cursor) > 0).slice(0, limit)
  } else if (page.before) {
    const cursor = decodeCursor(page.before, sortKeys.length)
    const earlier = matching.filter((item) => compareTuples(tuple(item), cursor) < 0)
    selected = earlier.slice(Math.max(0, earlier.length - limit))
  } else {
    const from = page.from ?? 0
    selected = matching.slice(from, from + limit)
  }

  const result: SearchResult<T> = { items: selected, page: { totalItems: matching.length, hasMoreTotalItems: false } }
  if (selected.length > 0) {
    result.page.startCursor = encodeCursor(tuple(selected[0]))
    result.page.endCursor = encodeCursor(tuple(selected[selected.length - 1]))
  }
  return result
}
