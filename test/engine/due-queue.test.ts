/**
 * The due queue orders timers, job deadlines, back-offs and message expiries by instant, and equal
 * instants by the order they were pushed (issue #19 holds it in typed arrays, not as objects).
 */
import { DueQueue, type DueEntry } from '../../src/engine/runtime/due-queue'

const key = (n: number) => String(2251799813685248 + n)
const KINDS: DueEntry['kind'][] = ['timer', 'job-deadline', 'job-backoff', 'message-expiry']

test('the due queue gives entries back earliest first, equal instants in push order, with their kind and key, through growth and interleaved pops', () => {
  // given a queue and a plain sorted list, fed the same pushes and pops (a fixed pseudo-random
  // sequence: many equal instants, engine keys and other keys, past the first capacity)
  const queue = new DueQueue()
  const expected: Omit<DueEntry, 'seq'>[] = []
  const popped: Omit<DueEntry, 'seq'>[] = []
  const wanted: Omit<DueEntry, 'seq'>[] = []
  let seed = 11
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  for (let step = 0; step < 10_000; step++) {
    if (random() < 0.7) {
      const entry = {
        at: 1_700_000_000_000 + Math.floor(random() * 50) * 1_000,
        kind: KINDS[step % KINDS.length],
        key: step % 97 === 0 ? `other-${step}` : step % 89 === 0 ? '2251799813686e03' : key(step),
      }
      queue.push(entry.at, entry.kind, entry.key)
      // (a stable insert: after every entry with an instant not later than this one)
      let i = expected.length
      while (i > 0 && expected[i - 1].at > entry.at) i--
      expected.splice(i, 0, entry)
    } else if (expected.length > 0) {
      const top = queue.pop() as DueEntry
      popped.push({ at: top.at, kind: top.kind, key: top.key })
      wanted.push(expected.shift() as Omit<DueEntry, 'seq'>)
    }
  }
  // when it is drained
  expect(queue.size).toBe(expected.length)
  expect(queue.nextAt()).toBe(expected[0]?.at)
  while (queue.size > 0) {
    const top = queue.pop() as DueEntry
    popped.push({ at: top.at, kind: top.kind, key: top.key })
  }
  wanted.push(...expected)
  // then every entry came out once, in the list's order
  expect(wanted.length).toBeGreaterThan(3_000)
  expect(popped).toEqual(wanted)
  expect([queue.peek(), queue.pop(), queue.nextAt()]).toEqual([undefined, undefined, undefined])
})
