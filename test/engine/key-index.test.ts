/**
 * A key index groups record keys by a value (a process instance, a job type, a correlation). It
 * holds a group of one as the key, a small group as an array, a large one as a set, and engine
 * keys as small integers (issue #19): it must still answer as a map of ordered key lists would.
 */
import { KeyIndex, hash30 } from '../../src/engine/state/key-index'

const key = (n: number) => String(2251799813685248 + n)

/** Add `member` to the group `at` (or remove it) in the index and in a plain map of lists alike. */
function apply(index: KeyIndex, plain: Map<string, string[]>, add: boolean, at: string, member: string): void {
  const list = plain.get(at) ?? []
  if (add) {
    index.add(at, member)
    if (!list.includes(member)) plain.set(at, [...list, member])
    return
  }
  index.remove(at, member)
  const left = list.filter((k) => k !== member)
  if (left.length > 0) plain.set(at, left)
  else plain.delete(at)
}

test('a key index answers as a map of key lists would through adds and removes, as groups grow past a set and shrink back, with engine keys and other keys mixed', () => {
  // given an index and a plain map of lists, fed the same adds and removes: groups named by
  // engine keys and by other strings, members that are engine keys and other strings
  const index = new KeyIndex()
  const plain = new Map<string, string[]>()
  const groups = [key(1), key(2), 'job-type', '2251799813686e03']
  const members = [...Array.from({ length: 30 }, (_, n) => key(100 + n)), 'other-a', 'other-b', '2251799813685348e0']
  let largest = 0
  let seed = 5
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  for (let step = 0; step < 5_000; step++) {
    const at = groups[Math.floor(random() * groups.length)]
    const member = members[Math.floor(random() * members.length)]
    // (more adds than removes early on, so that groups grow past 16 members; the reverse later)
    apply(index, plain, random() < (step < 2_500 ? 0.7 : 0.3), at, member)
    // then each group holds the same keys (in insertion order), as the same strings
    if (step % 50 === 0) for (const g of groups) expect([...index.keys(g)]).toEqual(plain.get(g) ?? [])
    largest = Math.max(largest, index.count(at))
  }
  for (const g of groups) expect(index.count(g)).toBe(plain.get(g)?.length ?? 0)
  expect(largest).toBeGreaterThan(16)
  expect(Math.min(...groups.map((g) => index.count(g)))).toBeLessThan(16)
  // and a dropped group is empty
  index.delete(key(1))
  expect([index.keys(key(1)), index.count(key(1))]).toEqual([[], 0])
})

test('a key index lets its caller change a group while going through the keys it gave', () => {
  // given a group of three
  const index = new KeyIndex()
  for (const n of [1, 2, 3]) index.add('scope', key(n))
  // when each key is removed as it is visited
  const seen: string[] = []
  for (const k of index.keys('scope')) {
    seen.push(k)
    index.remove('scope', k)
  }
  // then all three were visited, and the group is gone
  expect(seen).toEqual([key(1), key(2), key(3)])
  expect(index.count('scope')).toBe(0)
})

test('a key index keeps many groups of engine keys right as they grow through every block size to a set, shrink, and reuse freed blocks', () => {
  // given 300 groups of engine keys, fed random adds and removes (groups of up to 40 keys)
  const index = new KeyIndex()
  const plain = new Map<string, string[]>()
  const groups = Array.from({ length: 300 }, (_, n) => key(1_000_000 + n))
  let seed = 3
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  const sizes = new Set<number>()
  for (let round = 0; round < 4; round++) {
    for (let step = 0; step < 20_000; step++) {
      const at = groups[Math.floor(random() * groups.length)]
      const member = key(Math.floor(random() * 40))
      // (rounds alternate: growing, then shrinking)
      apply(index, plain, random() < (round % 2 === 0 ? 0.75 : 0.25), at, member)
      sizes.add(index.count(at))
    }
    // then after each round, every group holds what the plain map holds, in the same order
    for (const g of groups) expect([...index.keys(g)]).toEqual(plain.get(g) ?? [])
    // and a group dropped whole is empty, its block free for others
    index.delete(groups[round])
    plain.delete(groups[round])
  }
  for (const size of [1, 2, 3, 4, 5, 8, 9, 16, 17, 30]) expect(sizes.has(size)).toBe(true)
  index.clear()
  expect(groups.map((g) => index.count(g))).toEqual(groups.map(() => 0))
})

test('a hashed key index finds a group by a hash of its value: values with the same hash share a group, which the caller tells apart', () => {
  // given two values with the same 30-bit hash (found by trying names in order)
  const seen = new Map<number, string>()
  let pair: [string, string] | undefined
  for (let i = 0; !pair; i++) {
    const value = `correlation-${i}`
    const earlier = seen.get(hash30(value))
    if (earlier !== undefined) pair = [earlier, value]
    else seen.set(hash30(value), value)
  }
  const index = new KeyIndex({ hashed: true })
  // when a key is added under each
  index.add(pair[0], key(1))
  index.add(pair[1], key(2))
  index.add('unrelated', key(3))
  // then both values answer with both keys; another value has its own group
  expect(index.keys(pair[0])).toEqual([key(1), key(2)])
  expect(index.keys(pair[1])).toEqual([key(1), key(2)])
  expect(index.keys('unrelated')).toEqual([key(3)])
  // and removing one value's key leaves the other's
  index.remove(pair[0], key(1))
  expect([index.keys(pair[1]), index.count(pair[0])]).toEqual([[key(2)], 1])
})
