/**
 * A search over a few live items and a large stored set (the history of finished instances): the
 * stored set is read in key order, a chunk at a time, and the engine serves other requests between
 * two chunks, so that no search stops it, whatever the history's size (issue #19).
 *
 * - Sorted by key (the default) and paged forward, a search reads the stored set only as far as its
 *   page reaches, and counts it up to TOTAL_ITEMS_CAP, past which the total is a lower bound flagged
 *   by hasMoreTotalItems, as Camunda's secondary storage flags it.
 * - When the store's index applies the whole filter (`count` is given), reading is by index.
 *   Otherwise the index narrows what it can, and the rest of the filter is applied to each item.
 * - Sorted first by a field the store has an index for (OrderedSource), it reads in that order, as
 *   far as the page reaches (searchOrdered), unless the index narrows the search to a few items, or
 *   (sorted by more fields) a group of equal first values is long.
 * - Any other sort, or a page before a cursor, reads the whole stored set, keeping a page's worth.
 */
import type { EngineQueries, HistoryKind, HistoryRecords, QueryScope } from '../api'
import { compareValues, DEFAULT_LIMIT, decodeCursor, encodeCursor, matchesFilter, PageSelector, TOTAL_ITEMS_CAP, type SearchRequest, type SearchResult, type SearchSpec } from './search'

/** Items of a stored set, read by index in key order. */
export interface StoredSource<T> {
  /** at most `limit` items, in key order, after `afterKey` if given, narrowed by the store's index */
  page(afterKey: string | undefined, limit: number): T[]
  /** How many stored items meet the whole filter, counted up to `cap`: given only when `page` applies the whole filter. */
  count?: (cap: number) => number
  /** does a stored item meet the whole filter (when `count` is not given) */
  meets?: (item: T) => boolean
  /**
   * The keys of the next `limit` stored items the index narrows the search to (after `afterKey`),
   * each with whether it meets the whole filter, told by the store without reading the items:
   * given when `count` is not but the store can apply the rest of the filter itself. A count then
   * reads these, not the items.
   */
  tally?: (afterKey: string | undefined, limit: number) => [key: string, meets: boolean][]
  /** How many stored items the store's index narrows the search to, counted up to `cap`: given when it narrows it at all. */
  narrowed?: (cap: number) => number
  /** The stored items in the order of a field the store has an index for: see OrderedSource. */
  ordered?: OrderedSource<T>
}

/**
 * Stored items in the order of one of `fields` (ascending or descending), then by key, read by the
 * store's index for it: `page` gives up to `limit` of them after the place (sort value, key) given,
 * unfiltered, and `meets` tells whether one meets the whole filter.
 */
export interface OrderedSource<T> {
  fields: readonly string[]
  /** Those of `fields` some stored items lack: `page` is given a cursor without a value as it is. */
  optional?: readonly string[]
  page(field: string, descending: boolean, after: { value: unknown; key: string } | undefined, limit: number): T[]
  meets(item: T): boolean
}

/**
 * Past this many stored items narrowed by index, a search sorted by a field with an index of its
 * own reads the stored set in that order, only as far as its page reaches; below it, reading
 * what the index narrows it to and sorting that is less work.
 */
export const ORDERED_FROM = 2_000

/**
 * Sorted by more fields than one, a group of equal first values this long is read in key order
 * instead, with the whole stored set: reading rows by an index costs several times more per row
 * than in key order (the state then the start date, 200,000 finished instances all COMPLETED:
 * 4.9 to 6.1 s by the state's index, 1.0 to 1.1 s by key; bench/PERFORMANCE.md).
 */
export const GROUP_BY_KEY_FROM = 2_000

/** The stored items read per step: a few milliseconds of work between two turns of the event loop. */
export const STORED_CHUNK = 500

/** The keys and flags of stored items told per step (StoredSource.tally): each costs a few µs. */
export const TALLY_CHUNK = 2_000

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Reads a stored set in key order from `afterKey`, a chunk at a time, giving the items that meet the filter. */
class StoredScan<T> {
  /** the key of the last stored item read */
  cursor: string | undefined
  private steps = 0
  done = false

  constructor(private readonly stored: StoredSource<T>, private readonly keyOf: (item: T) => string, afterKey: string | undefined,
    private readonly skip: Set<string>) {
    this.cursor = afterKey
  }

  async next(limit = STORED_CHUNK): Promise<T[]> {
    // the engine serves between two chunks (not before the first: a short search answers at once)
    if (this.steps++ > 0) await turn()
    const chunk = this.stored.page(this.cursor, limit)
    if (chunk.length < limit) this.done = true
    if (chunk.length > 0) this.cursor = this.keyOf(chunk[chunk.length - 1])
    const meets = this.stored.meets
    // an instance that finished between two chunks may be among the live ones already: it counts once
    return chunk.filter((item) => !this.skip.has(this.keyOf(item)) && (meets === undefined || meets(item)))
  }
}

/**
 * Search live items (`live`: each already meeting the whole filter) and a stored set together, as
 * `search` would search them all.
 */
export async function searchWithStored<T>(live: T[], stored: StoredSource<T>, request: SearchRequest, spec: SearchSpec<T>): Promise<SearchResult<T>> {
  const keyOf = (item: T) => String((item as Record<string, unknown>)[spec.key])
  const liveKeys = new Set(live.map(keyOf))
  const page = request.page ?? {}
  const keyOrdered = !page.before && (request.sort ?? []).every((s) => s.field === spec.key && (s.order ?? 'ASC').toUpperCase() === 'ASC')
  if (!keyOrdered) {
    const ordered = orderedBy(stored, request)
    const found = ordered && await searchOrdered(live, liveKeys, stored, ordered, request, spec, new PageSelector(request, spec))
    if (found) return found
    const selector = new PageSelector(request, spec)
    for (const item of live) selector.add(item)
    const scan = new StoredScan(stored, keyOf, undefined, liveKeys)
    while (!scan.done) for (const item of await scan.next()) selector.add(item)
    return selector.result()
  }

  const limit = page.limit ?? DEFAULT_LIMIT
  const from = page.after ? 0 : page.from ?? 0
  const afterKey = page.after ? String(decodeCursor(page.after, 1)[0]) : undefined
  const byKey = (a: T, b: T) => compareValues(keyOf(a), keyOf(b))
  const liveAfter = (afterKey === undefined ? live : live.filter((item) => compareValues(keyOf(item), afterKey) > 0)).sort(byKey)

  // The stored items the page may hold: the first from + limit after the cursor.
  const wanted = from + limit
  const storedItems: T[] = []
  const scan = new StoredScan(stored, keyOf, afterKey, liveKeys)
  while (storedItems.length < wanted && !scan.done) {
    for (const item of await scan.next(stored.count ? Math.min(STORED_CHUNK, wanted - storedItems.length) : STORED_CHUNK)) storedItems.push(item)
  }
  const selected = [...liveAfter, ...storedItems].sort(byKey).slice(from, from + limit)

  const storedCount = stored.count ? stored.count(TOTAL_ITEMS_CAP + 1) : await countStored(stored, keyOf, liveKeys, afterKey === undefined ? { scan, counted: storedItems.length } : undefined)
  const result: SearchResult<T> = {
    items: selected,
    page: { totalItems: live.length + Math.min(storedCount, TOTAL_ITEMS_CAP), hasMoreTotalItems: storedCount > TOTAL_ITEMS_CAP },
  }
  if (selected.length > 0) {
    result.page.startCursor = encodeCursor([keyOf(selected[0])])
    result.page.endCursor = encodeCursor([keyOf(selected[selected.length - 1])])
  }
  return result
}

/** How the stored set is read for a search sorted first by a field the store has an index for. */
interface OrderedRead<T> {
  source: OrderedSource<T>
  field: string
  descending: boolean
  /** the sort fields after the first, if any: each group of equal first values is then read whole */
  thenBy: number
}

/**
 * The field and direction to read the stored set in, when the search sorts first by a field the
 * store has an index for, and reading that way pays.
 */
function orderedBy<T>(stored: StoredSource<T>, request: SearchRequest): OrderedRead<T> | undefined {
  const sort = request.sort ?? []
  const source = stored.ordered
  if (!source || sort.length === 0 || !source.fields.includes(sort[0].field) || request.page?.before) return undefined
  if (stored.narrowed && stored.narrowed(ORDERED_FROM + 1) <= ORDERED_FROM) return undefined
  return { source, field: sort[0].field, descending: (sort[0].order ?? 'ASC').toUpperCase() === 'DESC', thenBy: sort.length - 1 }
}

/**
 * A search sorted by a field the store has an index for: the stored set is read in that order from
 * the cursor, a chunk at a time, until the page's worth of items meeting the filter is found.
 *
 * Sorted by more fields, the first one's order is read the same way, and the page is known once
 * the group of equal first values that completes it has been read to its end: every item after
 * that sorts after the page, whatever its other fields. A page after a cursor reads the cursor's
 * group from its start (the page selector leaves out what comes before the cursor). A date then
 * the key reads a page's worth; a group of GROUP_BY_KEY_FROM or more (the state first: every
 * finished instance is COMPLETED) is given up for a read in key order (undefined is returned).
 */
async function searchOrdered<T>(live: T[], liveKeys: Set<string>, stored: StoredSource<T>, ordered: OrderedRead<T>,
  request: SearchRequest, spec: SearchSpec<T>, selector: PageSelector<T>): Promise<SearchResult<T> | undefined> {
  const { source, field, descending, thenBy } = ordered
  const keyOf = (item: T) => String((item as Record<string, unknown>)[spec.key])
  const valueOf = (item: T) => (item as Record<string, unknown>)[field]
  for (const item of live) selector.add(item)
  const page = request.page ?? {}
  const wanted = (page.after ? 0 : page.from ?? 0) + (page.limit ?? DEFAULT_LIMIT)
  let after: { value: unknown; key: string } | undefined
  let done = false
  if (page.after) {
    const cursor = decodeCursor(page.after, thenBy + 2)
    const value = cursor[0]
    // ('' comes before every key: the cursor's group from its start)
    after = { value, key: thenBy > 0 ? '' : String(cursor[1]) }
    // An item without the field sorts last ascending and first descending (compareValues): after
    // one, ascending, no stored item comes; descending, all of them do (unless some lack it too).
    if ((value === undefined || value === null) && !source.optional?.includes(field)) {
      if (descending) after = undefined
      else done = true
    }
  }
  // the items read that may be on the page, and (sorted by more fields) the first value of the one that completed it
  let found = 0
  let completedAt: { value: unknown } | undefined
  // (sorted by more fields: how many items in a row read so far share the first value of the last)
  let run = 0
  let runValue: unknown
  for (let step = 0; !done && (found < wanted || (thenBy > 0 && completedAt !== undefined)); step++) {
    if (step > 0) await turn()
    const chunk = source.page(field, descending, after, STORED_CHUNK)
    if (chunk.length < STORED_CHUNK) done = true
    for (const item of chunk) {
      if (completedAt !== undefined && compareValues(valueOf(item), completedAt.value) !== 0) {
        // past the group that completed the page
        done = true
        break
      }
      if (thenBy > 0) {
        if (run > 0 && compareValues(valueOf(item), runValue) === 0) run++
        else [run, runValue] = [1, valueOf(item)]
        if (run >= GROUP_BY_KEY_FROM) return undefined
      }
      if (liveKeys.has(keyOf(item)) || !source.meets(item) || !selector.add(item)) continue
      if (++found === wanted && thenBy > 0) completedAt = { value: valueOf(item) }
    }
    const last = chunk[chunk.length - 1]
    if (last !== undefined) after = { value: valueOf(last), key: keyOf(last) }
  }
  const storedCount = stored.count ? stored.count(TOTAL_ITEMS_CAP + 1) : await countStored(stored, keyOf, liveKeys)
  return selector.result({ totalItems: live.length + Math.min(storedCount, TOTAL_ITEMS_CAP), hasMoreTotalItems: storedCount > TOTAL_ITEMS_CAP })
}

/** Stored items meeting the filter, counted up to TOTAL_ITEMS_CAP + 1: from the start, or on from a scan that began there. */
async function countStored<T>(stored: StoredSource<T>, keyOf: (item: T) => string, liveKeys: Set<string>, started?: { scan: StoredScan<T>; counted: number }): Promise<number> {
  const scan = started?.scan ?? new StoredScan(stored, keyOf, undefined, liveKeys)
  let counted = started?.counted ?? 0
  if (stored.tally) {
    // (the first step of a scan not begun serves at once, as a scan's first chunk does)
    let after = scan.cursor
    for (let step = started ? 1 : 0, done = scan.done; counted <= TOTAL_ITEMS_CAP && !done; step++) {
      if (step > 0) await turn()
      const told = stored.tally(after, TALLY_CHUNK)
      done = told.length < TALLY_CHUNK
      if (told.length > 0) after = told[told.length - 1][0]
      for (const [key, meets] of told) if (meets && !liveKeys.has(key)) counted++
    }
    return counted
  }
  while (counted <= TOTAL_ITEMS_CAP && !scan.done) counted += (await scan.next()).length
  return counted
}

/**
 * Search records of one kind, the running instances' and the history's, as their result items:
 * the live ones the scope selects, and the history's (of one instance, if the scope names it) read
 * in key order a chunk at a time (none when the scope is live only). An item's key is its record's;
 * `only` leaves out the history's items this search never shows.
 */
export function searchLiveAndHistory<K extends HistoryKind, T, L = HistoryRecords[K]>(queries: EngineQueries, kind: K, scope: QueryScope,
  live: Iterable<L>, toItem: (record: L | HistoryRecords[K]) => T, request: SearchRequest, spec: SearchSpec<T>,
  only: (item: T) => boolean = () => true): Promise<SearchResult<T>> {
  const filter = request.filter ?? {}
  const meets = (item: T) => only(item) && matchesFilter(item, filter, spec)
  const liveItems: T[] = []
  for (const record of live) {
    const item = toItem(record)
    if (meets(item)) liveItems.push(item)
  }
  const stored: StoredSource<T> = scope.live ? { page: () => [], count: () => 0 } : {
    page: (afterKey, limit) => queries.history(kind, scope.processInstanceKey, afterKey, limit).map(toItem),
    meets,
  }
  return searchWithStored(liveItems, stored, request, spec)
}
