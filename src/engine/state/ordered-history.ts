import type Database from 'better-sqlite3'
import type { InstanceOrder, InstancePosition, InstanceWhere } from './history'

/**
 * Finished process instances read from the history in an InstanceOrder, by the index on (field,
 * key) that each order has: the dates' of schema version 8, the filter indexes of version 6 for
 * the text fields, and the primary key for the key. Every statement here walks its index in one direction, with no sort: a page
 * costs the rows it reads, whatever the history's size (issue #19).
 */
const ORDER_INDEXES: Record<InstanceOrder['field'], { index: string; column: string }> = {
  startDate: { index: 'history_instance_start', column: `json_extract(json, '$.startDate')` },
  endDate: { index: 'history_instance_end', column: `json_extract(json, '$.endDate')` },
  bpmnProcessId: { index: 'history_instance_process', column: `json_extract(json, '$.bpmnProcessId')` },
  processDefinitionKey: { index: 'history_instance_definition', column: `json_extract(json, '$.processDefinitionKey')` },
  state: { index: 'history_instance_state', column: `json_extract(json, '$.state')` },
  // the table's primary key, (kind, key)
  key: { index: 'sqlite_autoindex_history_1', column: 'key' },
}

/**
 * The statements that read an order's index. Ascending, the index's own order is the order asked
 * for. Descending by the field, ties still go by key ascending (the search conventions'), which no
 * single walk of a (field, key) index gives: `ORDER BY field DESC, key` would sort each group of
 * equal values, and one group may be every finished instance (all COMPLETED). So descending reads
 * walk the index backwards (`below`, `top`), which gives whole groups except perhaps the last,
 * and read a group in key order forwards (`group`) where one may go on past what was read.
 */
export function orderStatements(field: InstanceOrder['field']): { ascending: string; ascendingFrom: string; group: string; below: string; top: string } {
  const { index, column } = ORDER_INDEXES[field]
  const from = `FROM history INDEXED BY ${index} WHERE kind = 'instance'`
  return {
    ascending: `SELECT json ${from} ORDER BY ${column}, key LIMIT ?`,
    ascendingFrom: `SELECT json ${from} AND ${column} >= ? AND (${column} > ? OR key > ?) ORDER BY ${column}, key LIMIT ?`,
    group: `SELECT json ${from} AND ${column} = ? AND key > ? ORDER BY key LIMIT ?`,
    below: `SELECT json, ${column} AS value ${from} AND ${column} < ? ORDER BY ${column} DESC, key DESC LIMIT ?`,
    top: `SELECT json, ${column} AS value ${from} ORDER BY ${column} DESC, key DESC LIMIT ?`,
  }
}

type Value = number | string

/** Up to `limit` finished instances' JSON in `order`, after `after` (unfiltered: the caller filters). */
export function readInOrder(db: Database.Database, order: InstanceOrder, after: InstancePosition | undefined, limit: number,
  prepare: (sql: string) => Database.Statement = (sql) => db.prepare(sql)): string[] {
  const sql = orderStatements(order.field)
  if (!order.descending) {
    const rows = after === undefined
      ? prepare(sql.ascending).pluck().all(limit)
      : prepare(sql.ascendingFrom).pluck().all(after.value, after.value, after.key, limit)
    return rows as string[]
  }
  const group = prepare(sql.group).pluck()
  const out: string[] = []
  // the rest of the group the cursor is in, in key order
  if (after !== undefined) out.push(...group.all(after.value, after.key, limit) as string[])
  let value: Value | undefined = after?.value
  while (out.length < limit) {
    const need = limit - out.length
    const batch = (value === undefined ? prepare(sql.top).pluck(false).all(need) : prepare(sql.below).pluck(false).all(value, need)) as { json: string; value: Value }[]
    if (batch.length === 0) break
    const last = batch[batch.length - 1].value
    // Every group but the last value's is whole in the batch, keys descending: each is turned round.
    let start = 0
    while (start < batch.length && batch[start].value !== last && out.length < limit) {
      let end = start
      while (batch[end].value === batch[start].value) end++
      for (let i = end - 1; i >= start && out.length < limit; i--) out.push(batch[i].json)
      start = end
    }
    if (out.length >= limit) break
    // The last value's group may go on past the batch: read it from its first key.
    out.push(...group.all(last, '', limit - out.length) as string[])
    value = last
  }
  return out
}

/**
 * The SQL of each condition a search of finished process instances may put (the history's
 * InstanceWhere); the first four are the expressions of schema version 6's indexes.
 */
const INSTANCE_COLUMNS: Record<keyof InstanceWhere, string> = {
  bpmnProcessId: `json_extract(json, '$.bpmnProcessId')`,
  processDefinitionKey: `json_extract(json, '$.processDefinitionKey')`,
  parentProcessInstanceKey: `json_extract(json, '$.parentProcessInstanceKey')`,
  state: `json_extract(json, '$.state')`,
  key: 'key',
  tenantId: `json_extract(json, '$.tenantId')`,
}

export function instanceConditions(where: InstanceWhere): { sql: string; values: string[] } {
  const parts = [`kind = 'instance'`]
  const values: string[] = []
  for (const [field, value] of Object.entries(where) as [keyof InstanceWhere, string | string[]][]) {
    if (Array.isArray(value)) {
      parts.push(`${INSTANCE_COLUMNS[field]} IN (${value.map(() => '?').join(', ')})`)
      values.push(...value)
    } else {
      parts.push(`${INSTANCE_COLUMNS[field]} = ?`)
      values.push(value)
    }
  }
  return { sql: parts.join(' AND '), values }
}

/** Statements an InstanceReads keeps prepared. */
const MAX_STATEMENTS = 100

/**
 * Stored finished instances read by the history's indexes, as their JSON: their statements are
 * prepared once each (a search sorted by a definition's field reads each definition's instances
 * with a statement of its own, a few rows at a time).
 */
export class InstanceReads {
  private readonly statements = new Map<string, Database.Statement>()

  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      // filters with lists of every length make as many statements: only the recent ones are kept
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear()
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** Up to `limit` instances meeting `where`, in key order, after `afterKey`. */
  page(where: InstanceWhere, afterKey: string | undefined, limit: number): string[] {
    const { sql, values } = instanceConditions(where)
    const after = afterKey === undefined ? '' : ' AND key > ?'
    const args = afterKey === undefined ? values : [...values, afterKey]
    return this.prepare(`SELECT json FROM history WHERE ${sql}${after} ORDER BY key LIMIT ?`).pluck().all(...args, limit) as string[]
  }

  /**
   * Up to `limit` instances in `order`, after `after`, read by that order's index with no sort:
   * one call reads at most three times `limit` rows, whatever a search's filter, which its caller applies.
   */
  inOrder(order: InstanceOrder, after: InstancePosition | undefined, limit: number): string[] {
    return readInOrder(this.db, order, after, limit, (sql) => this.prepare(sql))
  }

  /** The definitions of the instances, each once, in key order: one seek of the definition index per definition, past the last one found. */
  definitions(): string[] {
    const { index, column } = ORDER_INDEXES.processDefinitionKey
    const next = this.prepare(`SELECT ${column} FROM history INDEXED BY ${index} WHERE kind = 'instance' AND ${column} > ? ORDER BY ${column} LIMIT 1`).pluck()
    const out: string[] = []
    for (let found = next.get('') as string | undefined; found !== undefined; found = next.get(found) as string | undefined) out.push(found)
    return out
  }
}
