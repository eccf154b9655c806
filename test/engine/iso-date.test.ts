/**
 * The REST results' dates (rest/results.ts isoDate) are formatted from a kept day and tables of
 * digits, for speed (issue #19): they must read exactly as Date's toISOString reads them.
 */
import { isoDate } from '../../src/engine/rest/results'

const reference = (ms: number) => new Date(ms).toISOString()

test('every engine time reads as toISOString gives it: day edges, leap days, the far ends, in any order', () => {
  // given times around midnights, a leap day, the epoch, year 9999's last ms, and a sweep in between
  const edges = [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000,
    Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1), Date.UTC(2026, 11, 7, 15, 32, 1, 250), 253_402_300_799_999]
  const sweep = Array.from({ length: 20_000 }, (_, i) => Math.floor(1.7e12 + i * 7_919_731.7))
  // when each is formatted, also alternating between far apart days (the kept day changes each time)
  const times = [...edges, ...sweep, ...sweep.flatMap((t, i) => [t, edges[i % edges.length]])]
  // then each reads as the Date object's
  const differing = times.filter((t) => isoDate(t) !== reference(t))
  expect(differing).toEqual([])
})

test('times the tables do not cover are formatted by the Date object, and an invalid one is refused as it refuses it', () => {
  // given times before 1970, from year 10000 on, with a fraction of a ms, after a kept day of the same date
  isoDate(Date.UTC(2026, 0, 1, 12))
  for (const t of [-1, -86_400_001, 253_402_300_800_000, 8.64e15, Date.UTC(2026, 0, 1, 12) + 0.5, 1.5]) {
    // then each reads as the Date object's
    expect(isoDate(t)).toBe(reference(t))
  }
  // and what Date cannot format is refused with its error
  for (const t of [NaN, Infinity, 8.64e15 + 1]) expect(() => isoDate(t)).toThrow(RangeError)
})
