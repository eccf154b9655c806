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
 * row, where SQLite puts it: the records written most (elements, variables) are still appended,
 * and fill their pages. (A region for each kind, tried first, put most writes in the middle of the
 * table: 14 % larger at 200,000 finished instances, against 2 % for this.) The rowid is only a
 * place: no statement reads it.
 *
 * Rows written by an earlier raccord keep their rowids (1, 2, 3...), until the retention period
 * prunes them; an earlier raccord writing here again (a downgrade) puts its rows after the last
 * too. No schema version marks it: the file is read and written the same way.
 */

/** The first rowid of the instance rows' region (an engine key's counter is added to it). */
export const INSTANCE_ROWIDS_FROM = -(2n ** 62n)

/**
 * The history thread's function giving an instance row's rowid (JavaScript, as writer.ts's thread
 * runs it): `instanceRowid(kind, key)`, a BigInt for an instance of an engine key, else undefined
 * (the row goes after the last, where SQLite puts it).
 */
export const INSTANCE_ROWID_SOURCE = `
const INSTANCE_ROWIDS_FROM = ${INSTANCE_ROWIDS_FROM}n
const KEY_BASE = 2n ** 51n
function instanceRowid(kind, key) {
  if (kind !== 'instance' || typeof key !== 'string' || !/^[0-9]{16}$/.test(key)) return undefined
  const counter = BigInt(key) - KEY_BASE
  return counter >= 0n && counter < KEY_BASE ? INSTANCE_ROWIDS_FROM + counter : undefined
}
`

/**
 * The row at rowid 0 (kind and key empty: no search, count or pruning reads it), written once:
 * SQLite gives a row the rowid after the last, so with it there that is never in the instances'
 * region, even when the history holds nothing else.
 */
export const KEEPER_ROW = `INSERT OR IGNORE INTO history (rowid, kind, key, root, json) VALUES (0, '', '', '', 'null')`

/**
 * An instance row at its rowid. A row written again (a replay) keeps its place and takes the new
 * content; `INSERT OR REPLACE` with a rowid given was three times as slow for every row.
 */
export const INSTANCE_INSERT = `INSERT INTO history (rowid, kind, key, root, scope, instance, json) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (kind, key) DO UPDATE SET root = excluded.root, scope = excluded.scope, instance = excluded.instance, json = excluded.json`
