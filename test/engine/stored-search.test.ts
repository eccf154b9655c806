/**
 * A search reading a large stored set (the history) reads it a chunk at a time and lets the engine
 * serve between two chunks, so that no search stops it whatever the history's size (issue #19).
 */
import { STORED_CHUNK, searchWithStored, type StoredSource } from '../../src/engine/rest/stored-search'
import type { SearchSpec } from '../../src/engine/rest/search'

interface Item { key: string; even: boolean; at: number }

const spec: SearchSpec<Item> = { key: 'key', filterable: ['key', 'even', 'at'], sortable: ['key', 'at'] }
const keyOf = (i: number) => String(2251799813685249 + i)

/** A stored set of `size` items in key order, and the turn of the event loop each chunk was read in. */
function storedSet(size: number): { source: StoredSource<Item>; readAt: number[]; stop: () => void } {
  const items: Item[] = Array.from({ length: size }, (_, i) => ({ key: keyOf(i), even: i % 2 === 0, at: size - i }))
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
