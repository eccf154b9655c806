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

export const DEFAULT_LIMIT = 100

/** A string compareValues reads as an instant (when Date.parse reads it). */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T/
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

/** The patterns of recent `$like` conditions, as expressions (a search tests one against each item it reads). */
const likeExpressions = new Map<string, RegExp>()
const MAX_LIKE_EXPRESSIONS = 100

function likeToRegExp(pattern: string): RegExp {
  let expression = likeExpressions.get(pattern)
  if (!expression) {
    if (likeExpressions.size >= MAX_LIKE_EXPRESSIONS) likeExpressions.clear()
    expression = compileLike(pattern)
    likeExpressions.set(pattern, expression)
  }
  return expression
}

function compileLike(pattern: string): RegExp {
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
  for (const [op, value] of operatorsOf(condition)) {
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

/**
 * A filter's and an operator object's entries, listed once per object: a search tests the same
 * filter against each item it reads, up to 10,001 of them to count.
 */
const filterEntries = new WeakMap<object, { spec: unknown; conditions: FilterCondition[] }>()
const operatorEntries = new WeakMap<object, [string, unknown][]>()

interface FilterCondition { field: string; condition: unknown; custom?: CustomFilter<never>; known: boolean }

function operatorsOf(condition: Record<string, unknown>): [string, unknown][] {
  let entries = operatorEntries.get(condition)
  if (!entries) {
    entries = Object.entries(condition)
    operatorEntries.set(condition, entries)
  }
  return entries
}

function conditionsOf<T>(filter: Record<string, unknown>, spec: SearchSpec<T>): FilterCondition[] {
  let entry = filterEntries.get(filter)
  if (!entry || entry.spec !== spec) {
    const conditions = Object.entries(filter).filter(([, condition]) => condition !== undefined && condition !== null).map(([field, condition]) => ({
      field, condition, custom: spec.custom?.[field] as CustomFilter<never> | undefined, known: (spec.filterable as readonly string[]).includes(field),
    }))
    entry = { spec, conditions }
    // (a filter that is not an object, as an alternative of `$or` may be, is listed each time)
    if (typeof filter === 'object' && filter !== null) filterEntries.set(filter, entry)
  }
  return entry.conditions
}

/** Does an item match every property of a filter object (an unknown one is refused when an item comes to it). */
export function matchesFilter<T>(item: T, filter: Record<string, unknown>, spec: SearchSpec<T>): boolean {
  for (const { field, condition, custom, known } of conditionsOf(filter, spec)) {
    if (custom) {
      if (!(custom as CustomFilter<T>)(item, condition)) return false
    } else if (known) {
      if (!matchesProperty(field, (item as Record<string, unknown>)[field], condition)) return false
    } else {
      throw invalidArgument(`Invalid filter: unknown property '${field}'`)
    }
  }
  return true
}

type SortKey = { field: string; descending: boolean }

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64')
}

export function decodeCursor(cursor: string, length: number): unknown[] {
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

/**
 * The page a search asks for, taken from items offered one at a time (each already meeting the
 * filter): it keeps only the items that may still be on the page, so a search reading a large
 * stored set a chunk at a time holds a page's worth of it, not the whole set.
 */
export class PageSelector<T> {
  private readonly sortKeys: SortKey[]
  private readonly cursor: unknown[] | undefined
  private readonly mode: 'offset' | 'after' | 'before'
  private readonly from: number
  private readonly limit: number
  /** how many items the page is taken from, in sort order (before a cursor: the last ones) */
  private readonly keep: number
  private kept: { tuple: unknown[]; item: T }[] = []
  private offered = 0

  constructor(request: SearchRequest, spec: SearchSpec<T>) {
    this.sortKeys = (request.sort ?? []).map(({ field, order }) => {
      if (!(spec.sortable as readonly string[]).includes(field)) {
        throw invalidArgument(`Invalid sort field '${field}': expected one of ${spec.sortable.join(', ')}`)
      }
      return { field, descending: (order ?? 'ASC').toUpperCase() === 'DESC' }
    })
    this.sortKeys.push({ field: spec.key, descending: false })
    const page = request.page ?? {}
    this.limit = page.limit ?? DEFAULT_LIMIT
    this.mode = page.after ? 'after' : page.before ? 'before' : 'offset'
    this.cursor = page.after ? decodeCursor(page.after, this.sortKeys.length) : page.before ? decodeCursor(page.before, this.sortKeys.length) : undefined
    this.from = this.mode === 'offset' ? page.from ?? 0 : 0
    this.keep = this.from + this.limit
  }

  private tuple(item: T): unknown[] {
    return this.sortKeys.map((k) => (item as Record<string, unknown>)[k.field])
  }

  private compare(a: unknown[], b: unknown[]): number {
    for (let i = 0; i < this.sortKeys.length; i++) {
      const c = compareValues(a[i], b[i])
      if (c !== 0) return this.sortKeys[i].descending ? -c : c
    }
    return 0
  }

  /** Offer an item that meets the filter: it counts in totalItems, and is kept if it may be on the page (on the cursor's side): whether it was. */
  add(item: T): boolean {
    this.offered++
    const tuple = this.tuple(item)
    if (this.cursor && this.mode === 'after' && this.compare(tuple, this.cursor) <= 0) return false
    if (this.cursor && this.mode === 'before' && this.compare(tuple, this.cursor) >= 0) return false
    this.kept.push({ tuple, item })
    if (this.kept.length >= 2 * this.keep + 1024) this.trim()
    return true
  }

  private trim(): void {
    this.kept.sort((a, b) => this.compare(a.tuple, b.tuple))
    this.kept = this.mode === 'before' ? this.kept.slice(Math.max(0, this.kept.length - this.keep)) : this.kept.slice(0, this.keep)
  }

  /** The page, with totalItems the number of items offered (or `total` when the caller counted otherwise). */
  result(total: { totalItems: number; hasMoreTotalItems: boolean } = { totalItems: this.offered, hasMoreTotalItems: false }): SearchResult<T> {
    this.trim()
    const selected = this.mode === 'offset' ? this.kept.slice(this.from, this.from + this.limit) : this.kept
    const result: SearchResult<T> = { items: selected.map((k) => k.item), page: { ...total } }
    if (selected.length > 0) {
      result.page.startCursor = encodeCursor(selected[0].tuple)
      result.page.endCursor = encodeCursor(selected[selected.length - 1].tuple)
    }
    return result
  }
}

/** Filter, sort and page `items` per the request. */
export function search<T>(items: Iterable<T>, request: SearchRequest, spec: SearchSpec<T>): SearchResult<T> {
  const selector = new PageSelector(request, spec)
  const filter = request.filter ?? {}
  for (const item of items) {
    if (matchesFilter(item, filter, spec)) selector.add(item)
  }
  return selector.result()
}
