import type Database from 'better-sqlite3'
import type { InstanceOrder, InstancePosition, InstanceRange, InstanceWhere } from './history'

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
  parentProcessInstanceKey: { index: 'history_instance_parent', column: `json_extract(json, '$.parentProcessInstanceKey')` },
  parentElementInstanceKey: { index: 'history_instance_parent_element', column: `json_extract(json, '$.parentElementInstanceKey')` },
}

/** The fields a finished instance may lack (a root instance has no parent). */
const NULLABLE = new Set<InstanceOrder['field']>(['parentProcessInstanceKey', 'parentElementInstanceKey'])

/**
 * The statements that read an order's index. Ascending, the index's own order is the order asked
 * for. Descending by the field, ties still go by key ascending (the search conventions'), which no
 * single walk of a (field, key) index gives: `ORDER BY field DESC, key` would sort each group of
 * equal values, and one group may be every finished instance (all COMPLETED). So descending reads
 * walk the index backwards (`below`, `top`), which gives whole groups except perhaps the last,
 * and read a group in key order forwards (`group`) where one may go on past what was read.
 */
export function orderStatements(field: InstanceOrder['field']): { ascending: string; ascendingFrom: string; group: string; below: string; top: string; missing?: string } {
  const { index, column } = ORDER_INDEXES[field]
  const table = `FROM history INDEXED BY ${index} WHERE kind = 'instance'`
  // Those lacking a field that some lack are read apart (`missing`, in key order), before or after the others.
  const from = NULLABLE.has(field) ? `${table} AND ${column} IS NOT NULL` : table
  return {
    ...(NULLABLE.has(field) ? { missing: `SELECT json ${table} AND ${column} IS NULL AND key > ? ORDER BY key LIMIT ?` } : {}),
    ascending: `SELECT json ${from} ORDER BY ${column}, key LIMIT ?`,
    ascendingFrom: `SELECT json ${from} AND ${column} >= ? AND (${column} > ? OR key > ?) ORDER BY ${column}, key LIMIT ?`,
    group: `SELECT json ${from} AND ${column} = ? AND key > ? ORDER BY key LIMIT ?`,
    below: `SELECT json, ${column} AS value ${from} AND ${column} < ? ORDER BY ${column} DESC, key DESC LIMIT ?`,
    top: `SELECT json, ${column} AS value ${from} ORDER BY ${column} DESC, key DESC LIMIT ?`,
  }
}

type Value = number | string
type Prepare = (sql: string) => Database.Statement

/** Up to `limit` finished instances' JSON in `order`, after `after` (unfiltered: the caller filters). */
export function readInOrder(db: Database.Database, order: InstanceOrder, after: InstancePosition | undefined, limit: number,
  prepare: Prepare = (sql) => db.prepare(sql)): string[] {
  const missing = orderStatements(order.field).missing
  if (missing === undefined) return readPresent(order, after as Position | undefined, limit, prepare)
  // Those lacking the field come last ascending, first descending, in key order.
  const readMissing = (afterKey: string, n: number) => prepare(missing).pluck().all(afterKey, n) as string[]
  const afterMissing = after !== undefined && after.value === null
  const present = afterMissing ? undefined : after as Position | undefined
  if (!order.descending) {
    const out = afterMissing ? [] : readPresent(order, present, limit, prepare)
    if (out.length < limit) out.push(...readMissing(afterMissing ? after.key : '', limit - out.length))
    return out
  }
  const out = after === undefined || afterMissing ? readMissing(after?.key ?? '', limit) : []
  if (out.length < limit) out.push(...readPresent(order, present, limit - out.length, prepare))
  return out
}

type Position = { value: Value; key: string }

/** Up to `limit` finished instances having the field, in `order`, after `after`. */
function readPresent(order: InstanceOrder, after: Position | undefined, limit: number, prepare: Prepare): string[] {
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
 * The most conditions of single values a search's InstanceWhere is read as (the product of the
 * lengths of its lists): the search applies a longer list to each instance it reads instead.
 */
export const MAX_COMBINATIONS = 64

/** How many conditions of single values `where` is read as (a list of keys stays a list: each is one instance). */
export function combinationCount(where: InstanceWhere): number {
  return Object.entries(where).reduce((n, [field, value]) => n * (Array.isArray(value) && field !== 'key' ? new Set(value).size : 1), 1)
}

/**
 * `where` as conditions of single values, one per combination of its lists' values. Each is read
 * by an index holding its fields then the key, in key order: SQLite, without statistics, may read
 * a list of values by walking every finished instance in key order instead (300 ms at a million).
 */
function combinations(where: InstanceWhere): InstanceWhere[] {
  let out: InstanceWhere[] = [{}]
  for (const [field, value] of Object.entries(where) as [keyof InstanceWhere, string | string[]][]) {
    const values = Array.isArray(value) && field !== 'key' ? [...new Set(value)] : [value]
    out = out.flatMap((combination) => values.map((v) => ({ ...combination, [field]: v })))
  }
  return out
}

/** The statement reading a page of one combination (then `afterKey` if `after`, and the limit): its keys and JSON, in key order. */
export function pageStatement(combination: InstanceWhere, after: boolean): { sql: string; values: string[] } {
  const { sql, values } = instanceConditions(combination)
  return { sql: `SELECT key, json FROM history WHERE ${sql}${after ? ' AND key > ?' : ''} ORDER BY key LIMIT ?`, values }
}

/**
 * The statement telling, for a page of one combination (then `afterKey` if `after`, and the
 * limit), each instance's key and whether it meets `ranges` (then their instants), 1 or 0: read in
 * SQLite, so that the JSON of instances that are only counted never reaches the event loop.
 */
export function tallyStatement(combination: InstanceWhere, ranges: readonly InstanceRange[], after: boolean): { sql: string; values: (string | number)[] } {
  const { sql, values } = instanceConditions(combination)
  const tests = ranges.map(({ field, op }) => {
    const column = `json_extract(json, '$.${field}')`
    return op === 'exists' ? `${column} IS NOT NULL` : op === 'missing' ? `${column} IS NULL` : `${column} ${op} ?`
  })
  const instants = ranges.flatMap(({ op, ms }) => (op === 'exists' || op === 'missing' ? [] : [ms as number]))
  const meets = tests.length === 0 ? '1' : `COALESCE(${tests.join(' AND ')}, 0)`
  return { sql: `SELECT key, ${meets} FROM history WHERE ${sql}${after ? ' AND key > ?' : ''} ORDER BY key LIMIT ?`, values: [...instants, ...values] }
}

/** The statement counting one combination's instances (then the cap). */
export function countStatement(combination: InstanceWhere): { sql: string; values: string[] } {
  const { sql, values } = instanceConditions(combination)
  return { sql: `SELECT COUNT(*) FROM (SELECT 1 FROM history WHERE ${sql} LIMIT ?)`, values }
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

  /**
   * Up to `limit` instances meeting `where`, in key order, after `afterKey`: those of each
   * combination of its values (combinations), merged by key.
   */
  page(where: InstanceWhere, afterKey: string | undefined, limit: number): string[] {
    const pages = combinations(where).map((combination) => {
      const { sql, values } = pageStatement(combination, afterKey !== undefined)
      return this.prepare(sql).raw().all(...values, ...(afterKey === undefined ? [] : [afterKey]), limit) as [string, string][]
    })
    if (pages.length === 1) return pages[0].map(([, json]) => json)
    return pages.flat().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit).map(([, json]) => json)
  }

  /**
   * The keys of up to `limit` instances meeting `where`, in key order, after `afterKey`, each with
   * whether it meets `ranges`: SQLite reads their JSON, the event loop gets a key and a flag.
   */
  tally(where: InstanceWhere, ranges: readonly InstanceRange[], afterKey: string | undefined, limit: number): [string, boolean][] {
    const pages = combinations(where).map((combination) => {
      const { sql, values } = tallyStatement(combination, ranges, afterKey !== undefined)
      return this.prepare(sql).raw().all(...values, ...(afterKey === undefined ? [] : [afterKey]), limit) as [string, number][]
    })
    const rows = pages.length === 1 ? pages[0] : pages.flat().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit)
    return rows.map(([key, meets]) => [key, meets === 1])
  }

  /** How many instances meet `where`, counted up to `cap`: each combination of its values counted by index. */
  count(where: InstanceWhere, cap: number): number {
    let counted = 0
    for (const combination of combinations(where)) {
      const { sql, values } = countStatement(combination)
      counted += this.prepare(sql).pluck().get(...values, cap - counted) as number
      if (counted >= cap) break
    }
    return counted
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
