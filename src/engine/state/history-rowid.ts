/**
 * Where the history's rows sit in its table (issue #19, searches over a million finished
 * instances).
 *
 * SQLite keeps a table's rows in the order of their rowid. Given none, a row takes the one after
 * the last, so a finished instance's records were written side by side: its instance, its
 * elements, its variables. A search of process instances reads instance rows only, one in six or
 * so: at a million, the 10,001 a total needs lay on some 3,700 pages, and a search that read them
 * while SQLite's cache was cold (the first after a start) spent about 110 ms more reading pages.
 *
 * So an instance row is written at a rowid of a region of its own, below every other row, in the
 * order of its key: INSTANCE_ROWIDS_FROM plus the key's counter (an engine key is KEY_BASE plus a
 * counter below 2^51). Instances of neighbouring keys then share pages, as they would in a table of
 * their own, while every index and statement stays as it was. Every other row goes after the last
 * row, as SQLite would put it: so the records written most (elements, variables) are still
 * appended, and fill their pages. (A region for each kind, tried first, put most writes in the
 * middle of the table: 22 % slower and 14 % larger at 200,000 finished instances, against 6 % and
 * 2 % for this.) The rowid is only a place: no statement reads it.
 *
 * Rows written by an earlier raccord keep their rowids (1, 2, 3...), until the retention period
 * prunes them; one that numbered its rows again after this (a downgrade) would put them after the
 * last too. No schema version marks it: the file is read and written the same way.
 */

/** The first rowid of the instance rows' region (an engine key's counter is added to it). */
export const INSTANCE_ROWIDS_FROM = -(2n ** 62n)

/**
 * The history thread's function giving a row's rowid (JavaScript, as writer.ts's thread runs it):
 * `historyRowid(kind, key)`, a BigInt. `lastRowid` is the highest rowid in the table when the
 * thread starts (0n when empty): only that thread writes the history, so it counts on from there.
 */
export const HISTORY_ROWID_SOURCE = `
const INSTANCE_ROWIDS_FROM = ${INSTANCE_ROWIDS_FROM}n
const KEY_BASE = 2n ** 51n
let nextRowid = (lastRowid > 0n ? lastRowid : 0n) + 1n
function historyRowid(kind, key) {
  if (kind === 'instance' && typeof key === 'string' && /^[0-9]{16}$/.test(key)) {
    const counter = BigInt(key) - KEY_BASE
    if (counter >= 0n && counter < KEY_BASE) return INSTANCE_ROWIDS_FROM + counter
  }
  return nextRowid++
}
`
