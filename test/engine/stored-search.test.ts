/**
 * A search reading a large stored set (the history) reads it a chunk at a time and lets the engine
 * serve between two chunks, so that no search stops it whatever the history's size (issue #19).
 */
import { GROUP_BY_KEY_FROM, STORED_CHUNK, searchWithStored, type StoredSource } from '../../src/engine/rest/stored-search'
import type { SearchSpec } from '../../src/engine/rest/search'

interface Item { key: string; even: boolean; at: number }

const spec: SearchSpec<Item> = { key: 'key', filterable: ['key', 'even', 'at'], sortable: ['key', 'at', 'even'] }
const keyOf = (i: number) => String(2251799813685249 + i)

/** The dates of storedSet's items: in reverse key order, each its own unless told otherwise. */
type DateOf = (i: number, size: number) => number
const ownDate: DateOf = (i, size) => size - i

/** A stored set of `size` items in key order, and the turn of the event loop each chunk was read in. */
function storedSet(size: number, dateOf = ownDate): { source: StoredSource<Item>; readAt: number[]; stop: () => void } {
  const items: Item[] = Array.from({ length: size }, (_, i) => ({ key: keyOf(i), even: i % 2 === 0, at: dateOf(i, size) }))
  const readAt: number[] = []
  let turn = 0
  let stopped = false
  const tick = () => {
    turn++
    if (!stopped) setImmediate(tick)
  }
  setImmediate(tick)
  const source: StoredSource<Item> = {
    page: (afterKey, limit) => {
      readAt.push(turn)
      const start = afterKey === undefined ? 0 : items.findIndex((item) => item.key > afterKey)
      return start < 0 ? [] : items.slice(start, start + limit)
    },
    meets: (item) => item.even,
  }
  return { source, readAt, stop: () => { stopped = true } }
}

test('a filter the index cannot apply reads chunk by chunk, the event loop turning between two chunks', async () => {
  // given 24,000 stored items, half of which meet the filter
  const { source, readAt, stop } = storedSet(24_000)
  // when the first page is searched (the capped total needs 10,001 matching items)
  const result = await searchWithStored([], source, { filter: { even: true }, page: { limit: 3 } }, spec)
  stop()
  // then the page and the capped total are right
  expect(result.items.map((i) => i.key)).toEqual([keyOf(0), keyOf(2), keyOf(4)])
  expect(result.page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
  // and the set was read in chunks, each in a later turn of the event loop than the one before
  expect(readAt.length).toBeGreaterThanOrEqual(Math.ceil(10_001 * 2 / STORED_CHUNK))
  for (let i = 1; i < readAt.length; i++) expect(readAt[i]).toBeGreaterThan(readAt[i - 1])
})

test('a sort other than by key reads the whole set chunk by chunk and keeps the page it asks for', async () => {
  // given 3,000 stored items, dated in reverse key order, and one live item dated in between
  const { source, readAt, stop } = storedSet(3_000)
  const live: Item = { key: keyOf(5_000), even: true, at: 1_500.5 }
  // when sorted by date, page 3 of 4 by offset
  const result = await searchWithStored([live], source, { filter: { even: true }, sort: [{ field: 'at', order: 'ASC' }], page: { from: 748, limit: 4 } }, spec)
  stop()
  // then the live item sits in date order among the stored ones, the total is exact, and every chunk came in its own turn
  expect(result.items.map((i) => i.at)).toEqual([1_498, 1_500, 1_500.5, 1_502])
  expect(result.page).toEqual(expect.objectContaining({ totalItems: 1_501, hasMoreTotalItems: false }))
  expect(readAt.length).toBe(Math.ceil(3_000 / STORED_CHUNK) + 1)
  for (let i = 1; i < readAt.length; i++) expect(readAt[i]).toBeGreaterThan(readAt[i - 1])
})

describe('a sort by a field the store has an index for', () => {
  /** The stored set of storedSet(size), also readable in date order; `read` counts the items the ordered reads gave. */
  function orderedSet(size: number, narrowedTo?: number, dateOf = ownDate) {
    const set = storedSet(size, dateOf)
    const items: Item[] = Array.from({ length: size }, (_, i) => ({ key: keyOf(i), even: i % 2 === 0, at: dateOf(i, size) }))
    const counter = { read: 0, keyPages: 0 }
    const keyPage = set.source.page
    const source: StoredSource<Item> = {
      ...set.source,
      page: (afterKey, limit) => {
        counter.keyPages++
        return keyPage(afterKey, limit)
      },
      count: (cap) => Math.min(cap, size / 2),
      ...(narrowedTo === undefined ? {} : { narrowed: (cap: number) => Math.min(cap, narrowedTo) }),
      ordered: {
        fields: ['at'],
        page: (field, descending, after, limit) => {
          const sorted = [...items].sort((a, b) => (descending ? b.at - a.at : a.at - b.at) || (a.key < b.key ? -1 : 1))
          const from = after === undefined ? 0 : sorted.findIndex((item) => (descending ? item.at < Number(after.value) : item.at > Number(after.value)) || (item.at === after.value && item.key > after.key))
          const chunk = from < 0 ? [] : sorted.slice(from, from + limit)
          counter.read += chunk.length
          return chunk
        },
        meets: (item) => item.even,
      },
    }
    return { source, counter, stop: set.stop }
  }

  test('reads the stored set in that order only as far as the page reaches, live items in their place, page after page by cursor', async () => {
    // given 24,000 stored items dated in reverse key order, half of which meet the filter, and a live item dated among the newest
    const { source, counter, stop } = orderedSet(24_000)
    const live: Item = { key: keyOf(30_000), even: true, at: 23_995.5 }
    const request = { filter: { even: true }, sort: [{ field: 'at', order: 'DESC' }] }
    // when the newest first are searched, then the next page after its cursor
    const first = await searchWithStored([live], source, { ...request, page: { limit: 3 } }, spec)
    const second = await searchWithStored([live], source, { ...request, page: { limit: 3, after: first.page.endCursor } }, spec)
    stop()
    // then each page is the next items in date order, the live one among them, and the total is the live item and the capped count
    expect(first.items.map((i) => i.at)).toEqual([24_000, 23_998, 23_996])
    expect(second.items.map((i) => i.at)).toEqual([23_995.5, 23_994, 23_992])
    expect(first.page).toEqual(expect.objectContaining({ totalItems: 1 + 10_000, hasMoreTotalItems: true }))
    // and no more than a chunk was read for each page, none of it in key order
    expect(counter.read).toBeLessThanOrEqual(2 * STORED_CHUNK)
    expect(counter.keyPages).toBe(0)
  })

  test('sorted by that field then another, reads whole groups of equal values only as far as the page reaches, page after page by cursor', async () => {
    // given 24,000 stored items dated four by four (a group of equal dates), half of them meeting the filter, and a live item with one of those dates
    const fourByFour: DateOf = (i, size) => Math.floor((size - i) / 4)
    const { source, counter, stop } = orderedSet(24_000, undefined, fourByFour)
    const live: Item = { key: keyOf(30_000), even: true, at: 5_999 }
    const request = { filter: { even: true }, sort: [{ field: 'at', order: 'DESC' }, { field: 'key', order: 'DESC' }] }
    // when the newest first, keys descending among equal dates, are searched 5 at a time, then the next page after its cursor, and a page by offset
    const first = await searchWithStored([live], source, { ...request, page: { limit: 5 } }, spec)
    const second = await searchWithStored([live], source, { ...request, page: { limit: 5, after: first.page.endCursor } }, spec)
    const third = await searchWithStored([live], source, { ...request, page: { from: 10, limit: 5 } }, spec)
    stop()
    // then each page is the next items in that order, as sorting every item would give them
    const all = [live, ...Array.from({ length: 24_000 }, (_, i) => ({ key: keyOf(i), even: i % 2 === 0, at: fourByFour(i, 24_000) }))]
      .filter((item) => item.even).sort((a, b) => b.at - a.at || (a.key < b.key ? 1 : -1))
    expect(first.items).toEqual(all.slice(0, 5))
    expect(second.items).toEqual(all.slice(5, 10))
    expect(third.items).toEqual(all.slice(10, 15))
    expect(first.items.map((i) => i.at)).toEqual([6_000, 5_999, 5_999, 5_999, 5_998])
    // and a chunk at most was read for each page, none of it in key order
    expect(counter.read).toBeLessThanOrEqual(3 * STORED_CHUNK)
    expect(counter.keyPages).toBe(0)
  })

  test('sorted by that field then another, a group that goes on past the chunk is read to its end, and no further', async () => {
    // given 3,000 stored items in two dates only, half of them meeting the filter
    const twoDates: DateOf = (i) => (i < 1_800 ? 2 : 1)
    const { source, counter, stop } = orderedSet(3_000, undefined, twoDates)
    // when the first page is sorted by date, then by key descending
    const result = await searchWithStored([], source, { filter: { even: true }, sort: [{ field: 'at', order: 'ASC' }, { field: 'key', order: 'DESC' }], page: { limit: 3 } }, spec)
    stop()
    // then the page holds the greatest keys of the earliest date: the whole group was read, and the next date's not past its first chunk
    expect(result.items.map((i) => i.key)).toEqual([keyOf(2_998), keyOf(2_996), keyOf(2_994)])
    expect(counter.read).toBe(1_200 + STORED_CHUNK - 1_200 % STORED_CHUNK)
  })

  test('sorted by that field then another, a group of GROUP_BY_KEY_FROM or more is given up for a read of every item in key order', async () => {
    // given 6,000 stored items, the first 1,000 of one date and the 5,000 others of an earlier one
    const twoDates: DateOf = (i) => (i < 1_000 ? 2 : 1)
    const { source, counter, stop } = orderedSet(6_000, undefined, twoDates)
    // when the first page is sorted by date, then by key descending
    const result = await searchWithStored([], source, { filter: { even: true }, sort: [{ field: 'at', order: 'ASC' }, { field: 'key', order: 'DESC' }], page: { limit: 3 } }, spec)
    stop()
    // then the page is right, read in date order only until the group was long enough, then in key order
    expect(result.items.map((i) => i.key)).toEqual([keyOf(5_998), keyOf(5_996), keyOf(5_994)])
    expect(counter.read).toBe(Math.ceil(GROUP_BY_KEY_FROM / STORED_CHUNK) * STORED_CHUNK)
    expect(counter.keyPages).toBeGreaterThanOrEqual(6_000 / STORED_CHUNK)
  })

  test('after an item without the field, ascending reads no stored item and descending reads from the first', async () => {
    // given a stored set and a live item without a date (last ascending, first descending)
    const { source, stop } = orderedSet(1_000)
    const undated = { key: keyOf(5_000), even: true } as unknown as Item
    const cursor = Buffer.from(JSON.stringify([null, undated.key]), 'utf8').toString('base64')
    // when searched after that item, both ways
    const ascending = await searchWithStored([undated], source, { filter: { even: true }, sort: [{ field: 'at', order: 'ASC' }], page: { limit: 2, after: cursor } }, spec)
    const descending = await searchWithStored([undated], source, { filter: { even: true }, sort: [{ field: 'at', order: 'DESC' }], page: { limit: 2, after: cursor } }, spec)
    stop()
    // then ascending nothing comes after it, and descending the newest stored items do
    expect(ascending.items).toEqual([])
    expect(descending.items.map((i) => i.at)).toEqual([1_000, 998])
  })

  test('when the index narrows the search to a few items, those are read by key and sorted instead', async () => {
    // given a stored set whose index narrows the filter to 100 items
    const { source, counter, stop } = orderedSet(200, 100)
    // when sorted by date
    const result = await searchWithStored([], source, { filter: { even: true }, sort: [{ field: 'at', order: 'ASC' }], page: { limit: 2 } }, spec)
    stop()
    // then the page is right, and nothing was read in date order
    expect(result.items.map((i) => i.at)).toEqual([2, 4])
    expect(counter.read).toBe(0)
    expect(counter.keyPages).toBeGreaterThan(0)
  })
})
