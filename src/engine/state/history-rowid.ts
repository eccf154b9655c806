/**
 * Where the history's rows sit in its table (issue #19, searches over a million finished
 * instances).
 *
 * SQLite keeps a table's rows in the order of their rowid. Given none, a row takes the next one,
 * so a finished instance's records were written side by side: its instance, its elements, its
 * variables. A search of process instances reads instance rows only, one in six or so: at a
 * million, the 10,001 a total needs lay on some 3,700 pages, and a search that read them while
 * SQLite's cache was cold (the first after a start) spent about 110 ms more reading pages.
 *
 * So each row is written at a rowid that orders the table by kind, then by key: the kind's region
 * (below) times 2^56, plus the key's counter (an engine key is KEY_BASE plus a counter below 2^51).
 * Instances of neighbouring keys then share pages, as they would in a table of their own, while
 * every index and statement stays as it was. The rowid is only a place: no statement reads it.
 *
 * A record whose key is not an engine key (none the engine makes) is written below every other
 * row, at a negative rowid counted down by the one thread that writes the history (writer.ts).
 * Rows written before schema version 12 keep the rowids they had (1, 2, 3... below every
 * region), until the retention period prunes them.
 */
import type { HistoryKind } from './history'

/** Each kind's region, in the order the table keeps them. */
export const HISTORY_REGIONS: Record<HistoryKind, number> = {
  instance: 1, element: 2, variable: 3, incident: 4, userTask: 5, decisionInstance: 6,
}

/**
 * The history thread's function giving a row's rowid (JavaScript, as writer.ts's thread runs it):
 * `historyRowid(kind, key)`, a BigInt. `firstRowid` is the lowest rowid in the table when the
 * thread starts (0n when empty): the records of keys that are not engine keys go below it.
 */
export const HISTORY_ROWID_SOURCE = `
const HISTORY_REGIONS = ${JSON.stringify(HISTORY_REGIONS)}
const KEY_BASE = 2n ** 51n
let nextOtherRowid = (firstRowid < 0n ? firstRowid : 0n) - 1n
function historyRowid(kind, key) {
  const region = HISTORY_REGIONS[kind]
  if (region !== undefined && typeof key === 'string' && /^[0-9]{16}$/.test(key)) {
    const counter = BigInt(key) - KEY_BASE
    if (counter >= 0n && counter < KEY_BASE) return (BigInt(region) << 56n) + counter
  }
  return nextOtherRowid--
}
`
