/**
 * The records of a loaded checkpoint are held in a segment of arrays in key order, not in the map's
 * hash table (issue #19: a start with a million records). The map must behave as if it held them
 * all: found by key, counted, iterated in the same order, deleted, changed, evicted and read again.
 */
import { DirtyTracker, RecordMap } from '../../src/engine/state/record-map'

interface Rec { key: string; instance: string; n: number }

/** A map loaded cold with `keys` (their rows in `rows`), as a start loads a checkpoint. */
function loaded(keys: string[]): { map: RecordMap<string, Rec>; rows: Map<string, string>; reads: string[] } {
  const rows = new Map(keys.map((key, i) => [key, JSON.stringify({ key, instance: `p${i % 2}`, n: i })]))
  const reads: string[] = []
  const map = new RecordMap<string, Rec>('job', (r) => r.instance)
  map.useColdRows({ read: (_kind, key) => { reads.push(key); return rows.get(key) } })
  keys.forEach((key, i) => map.setCold(key, { key, instance: `p${i % 2}` }))
  return { map, rows, reads }
}

test('records loaded cold are found, counted and iterated as a map of them all would, read from their rows on first use', () => {
  // given three records loaded cold, then one made since
  const { map, reads } = loaded(['100', '200', '300'])
  map.set('400', { key: '400', instance: 'p1', n: 3 })
  // then each is there, by key and by instance, and missing keys are not
  expect(map.size).toBe(4)
  expect(['100', '150', '300', '400', '500'].map((k) => map.has(k))).toEqual([true, false, true, true, false])
  expect([...map.keysOf('p0')]).toEqual(['100', '300'])
  expect(reads).toEqual([])
  // and a get reads the row once, then holds the record
  expect(map.get('200')?.n).toBe(1)
  expect(map.get('200')?.n).toBe(1)
  expect(reads).toEqual(['200'])
  // and iterating goes in key order, the loaded ones before the new one
  expect([...map.keys()]).toEqual(['100', '200', '300', '400'])
  expect([...map.values()].map((r) => r.n)).toEqual([0, 1, 2, 3])
})

test('a loaded record can be changed, deleted, made again, evicted and read again', () => {
  // given four records loaded cold, tracked
  const { map, rows, reads } = loaded(['100', '200', '300', '400'])
  const tracker = new DirtyTracker()
  map.tracker = tracker
  tracker.active = true
  // when one is changed, one deleted, and the deleted key made again
  map.set('100', { key: '100', instance: 'p0', n: 10 })
  expect(map.delete('200')).toBe(true)
  expect(map.delete('200')).toBe(false)
  expect(map.has('200')).toBe(false)
  expect(map.size).toBe(3)
  map.set('200', { key: '200', instance: 'p1', n: 20 })
  // then the changes hold, the indexes follow, and the deleted-then-made record is counted once
  expect(map.size).toBe(4)
  expect(map.peek('100')?.n).toBe(10)
  expect(map.peek('200')?.n).toBe(20)
  expect([...map.keysOf('p1')].sort()).toEqual(['200', '400'])
  // when the checkpoint has written them (marks taken) and every record is evicted
  tracker.take()
  rows.set('100', JSON.stringify({ key: '100', instance: 'p0', n: 10 }))
  rows.set('200', JSON.stringify({ key: '200', instance: 'p1', n: 20 }))
  expect(map.evict(0)).toBe(2)
  expect(map.inMemory).toBe(0)
  // then reading brings the stored record back from its row
  reads.length = 0
  expect(map.get('100')?.n).toBe(10)
  expect(reads).toEqual(['100'])
  // and a scan reads the others without bringing them back
  expect([...map.scan()].map((r) => r.n).sort((a, b) => a - b)).toEqual([2, 3, 10, 20])
  expect(map.inMemory).toBe(1)
})

test('eviction takes at most the number asked each time, oldest first, so that one call holds the event loop briefly', () => {
  // given five records made and written (nothing marked), held in memory
  const { map, rows, reads } = loaded([])
  const tracker = new DirtyTracker()
  map.tracker = tracker
  tracker.active = true
  for (const key of ['100', '200', '300', '400', '500']) {
    map.set(key, { key, instance: 'p0', n: Number(key) })
    rows.set(key, JSON.stringify({ key, instance: 'p0', n: Number(key) }))
  }
  tracker.take()
  // when they are evicted down to none, two at most a call
  expect(map.evict(0, 2)).toBe(2)
  // then the first call took the two oldest: they are read back from their rows, the others are not
  expect(map.inMemory).toBe(3)
  expect([map.get('300')?.n, map.get('200')?.n]).toEqual([300, 200])
  expect(reads).toEqual(['200'])
  // and once a checkpoint has taken the marks of those reads, the next calls take two, two, then none
  tracker.take()
  expect([map.evict(0, 2), map.evict(0, 2), map.evict(0, 2)]).toEqual([2, 2, 0])
  expect(map.inMemory).toBe(0)
})

test('records given out of key order at load still count, held in the map itself', () => {
  // given a load whose second key is lower than the first
  const { map } = loaded(['300', '100', '200'])
  // then all three are found and counted, and clear empties everything
  expect(map.size).toBe(3)
  expect(['100', '200', '300'].every((k) => map.has(k))).toBe(true)
  expect(map.get('100')?.n).toBe(1)
  map.clear()
  expect(map.size).toBe(0)
  expect(map.has('300')).toBe(false)
  expect([...map.keys()]).toEqual([])
})
