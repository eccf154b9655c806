/**
 * The engine's large maps and sets are chunked (issue #19: growing one past a million entries
 * paused the engine for up to a second). They must behave as a Map and a Set of the same keys.
 */
import { ChunkedMap, ChunkedSet } from '../../src/engine/state/chunked'
import { KEY_BASE, decodeKey, encodeKey } from '../../src/engine/state/key-code'

/** Engine-like keys: 16 digits, ascending from a partition's first key. */
const key = (n: number) => String(2251799813685248 + n)

test('a chunked map answers as a Map would through a long run of sets, updates and deletes, and iterates in the same order when keys come in ascending order', () => {
  // given a chunked map and a Map, fed the same operations: keys made in ascending order, some
  // updated, some deleted (a pseudo-random but fixed sequence)
  const chunked = new ChunkedMap<string, number>()
  const plain = new Map<string, number>()
  let made = 0
  let seed = 7
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  for (let step = 0; step < 20_000; step++) {
    const r = random()
    if (r < 0.6) {
      const k = key(made++ * 3)
      chunked.set(k, step)
      plain.set(k, step)
    } else if (r < 0.8) {
      const k = key(Math.floor(random() * made) * 3)
      if (plain.has(k)) {
        chunked.set(k, -step)
        plain.set(k, -step)
      }
    } else {
      const k = key(Math.floor(random() * made) * 3)
      expect(chunked.delete(k)).toBe(plain.delete(k))
    }
  }
  // then sizes, lookups and the iteration order agree
  expect(chunked.size).toBe(plain.size)
  expect(plain.size).toBeGreaterThan(5_000)
  expect([...chunked.entries()]).toEqual([...plain.entries()])
  expect([...chunked.keys()]).toEqual([...plain.keys()])
  for (const n of [0, 1, 3, 999, 3_000, 30_000]) expect([chunked.has(key(n)), chunked.get(key(n))]).toEqual([plain.has(key(n)), plain.get(key(n))])
  expect(chunked.delete(key(1))).toBe(false)
})

test('a chunked map may be changed while it is iterated, as a Map may, and forEach and clear behave as a Map', () => {
  // given keys spanning several chunks
  const map = new ChunkedMap<string, string>()
  for (let n = 0; n < 3_000; n += 250) map.set(key(n), `v${n}`)
  // when each key is deleted as it is visited, and one new key is added on the way
  const seen: string[] = []
  for (const [k] of map) {
    seen.push(k)
    map.delete(k)
    if (k === key(0)) map.set(key(5_000), 'late')
  }
  // then every key was visited once, the added one last, and the map is empty
  expect(seen).toEqual([...Array.from({ length: 12 }, (_, i) => key(i * 250)), key(5_000)])
  expect(map.size).toBe(0)
  map.set(key(1), 'a').set(key(2), 'b')
  const visited: string[] = []
  map.forEach((value, k, self) => visited.push(`${k}=${value}:${self === map}`))
  expect(visited).toEqual([`${key(1)}=a:true`, `${key(2)}=b:true`])
  map.clear()
  expect([map.size, map.has(key(1))]).toEqual([0, false])
})

test('a chunked set holds each key once, counts, deletes and iterates as a Set would', () => {
  const set = new ChunkedSet<string>()
  const plain = new Set<string>()
  for (let n = 0; n < 5_000; n += 7) {
    set.add(key(n)).add(key(n))
    plain.add(key(n))
  }
  for (let n = 0; n < 5_000; n += 21) expect(set.delete(key(n))).toBe(plain.delete(key(n)))
  expect(set.size).toBe(plain.size)
  expect([...set]).toEqual([...plain])
  expect([set.has(key(7)), set.has(key(21)), set.has('short')]).toEqual([true, false, false])
  // keys shorter than a chunk's suffix share one table
  set.add('a').add('ab')
  expect([set.has('a'), set.has('ab'), set.size]).toEqual([true, true, plain.size + 2])
  set.clear()
  expect(set.size).toBe(0)
})

test('engine keys are held as their counters and any other string as itself, and every key comes back as the same string', () => {
  // given engine keys, strings that look like them but are not, and plain strings
  const engineKeys = [key(0), key(1), key(2 ** 30 - 1)]
  const others = [key(2 ** 30), '1000000000000000', '0x08000000000000', '2251799813686e03', ' 225179981368524', '22517998136852490', 'abc', '']
  // then engine keys become small integers, the others stay strings, and decoding gives each key back
  for (const k of engineKeys) expect(typeof encodeKey(k)).toBe('number')
  for (const k of others) expect(encodeKey(k)).toBe(k)
  for (const k of [...engineKeys, ...others]) expect(decodeKey(encodeKey(k))).toBe(k)
  expect(KEY_BASE).toBe(2 ** 51)
})

test('a chunked map holding engine keys and other strings side by side keeps them apart and gives each back as it was given', () => {
  // given engine keys and strings that are not engine keys, some of which parse to the same number
  const map = new ChunkedMap<string, string>()
  const plain = new Map<string, string>()
  const keys = [key(5), 'job-type', key(6), '2251799813686e03', key(752), '0x08000000000000', key(0), 'a']
  for (const k of keys) {
    map.set(k, `v:${k}`)
    plain.set(k, `v:${k}`)
  }
  // then each is found under its own string only, and the keys iterate back as the same strings
  for (const k of keys) expect(map.get(k)).toBe(`v:${k}`)
  expect(map.size).toBe(keys.length)
  expect(new Set(map.keys())).toEqual(new Set(plain.keys()))
  expect(map.delete('2251799813686e03')).toBe(true)
  expect([map.has(key(752)), map.has('2251799813686e03'), map.size]).toEqual([true, false, keys.length - 1])
  // and a set does the same
  const set = new ChunkedSet<string>()
  for (const k of keys) set.add(k)
  expect(new Set(set)).toEqual(new Set(keys))
})
