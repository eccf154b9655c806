/**
 * The orders a search of process instances reads the history of finished instances in, a page's
 * worth at a time, without reading all of it (issue #19). Every single-field sort of
 * /v2/process-instances/search has one:
 * - a date, the process, the definition's key, the state, a parent's key, or the key descending:
 *   the history's (field, key) index for it (state/ordered-history.ts);
 * - a field of the instance's definition (its name, version, version tag or tenant): each
 *   definition's instances are read by the definition index in key order, the definitions taken
 *   in the order of their value, and those that share a value merged by key;
 * - hasIncident: no finished instance has an open incident, so the history is one group, read by key.
 */
import { instanceMeets, type EngineQueries, type InstanceOrder, type InstancePosition, type InstanceWhere, type Key, type ProcessInstanceRecord } from '../api'
import { invalidArgument } from './problem'
import type { ProcessInstanceResult } from './results'
import { compareValues } from './search'
import type { OrderedSource } from './stored-search'

/** The sort fields the history has an index for, and the record field each is (history.ts, InstanceOrder). */
const INDEXED_ORDERS: Record<string, InstanceOrder['field']> = {
  startDate: 'startDate', endDate: 'endDate', processDefinitionId: 'bpmnProcessId', processDefinitionKey: 'processDefinitionKey', state: 'state',
  processInstanceKey: 'key', parentProcessInstanceKey: 'parentProcessInstanceKey', parentElementInstanceKey: 'parentElementInstanceKey',
}

/** Fields every instance of one definition shares (the definition's own, or copied from it at creation). */
const DEFINITION_FIELDS = ['processDefinitionName', 'processDefinitionVersion', 'processDefinitionVersionTag', 'tenantId'] as const

/** The conditions of a search's InstanceWhere that are a definition's: a definition failing one has no instance to read. */
const DEFINITION_WHERE = ['bpmnProcessId', 'processDefinitionKey', 'tenantId'] as const

/** A place in an order: the sort field's value (as a cursor holds it) and a key. */
type Position = { value: unknown; key: string }

/** Finished instances sharing one value of the sort field, read in key order after a key. */
interface Group { value: unknown; read: (afterKey: Key | undefined, limit: number) => ProcessInstanceRecord[] }

/**
 * The orders of finished instances a search of process instances may read, as their result items
 * (`toItem`); `where` is the part of its filter the history's indexes apply, and `meets` the whole filter.
 */
export function instanceOrders(queries: EngineQueries, where: InstanceWhere, toItem: (r: ProcessInstanceRecord) => ProcessInstanceResult,
  meets: (item: ProcessInstanceResult) => boolean): OrderedSource<ProcessInstanceResult> {
  const grouped = new Map<string, Group[]>()
  const groupsOf = (field: string): Group[] => {
    let groups = grouped.get(field)
    if (!groups) {
      groups = field === 'hasIncident'
        ? [{ value: false, read: (afterKey, limit) => queries.processInstanceHistory({}, afterKey, limit) }]
        : definitionGroups(queries, where, (r) => (toItem(r) as unknown as Record<string, unknown>)[field])
      grouped.set(field, groups)
    }
    return groups
  }
  return {
    fields: [...Object.keys(INDEXED_ORDERS), ...DEFINITION_FIELDS, 'hasIncident'],
    optional: ['processDefinitionVersionTag', 'parentProcessInstanceKey', 'parentElementInstanceKey'],
    page: (field, descending, after, limit) => {
      const indexed = INDEXED_ORDERS[field]
      const records = indexed !== undefined
        ? queries.processInstanceHistoryBy({ field: indexed, descending }, after && orderPosition(field, after), limit)
        : readGroups(groupsOf(field), descending, after && groupPosition(field, after), limit)
      return records.map(toItem)
    },
    meets,
  }
}

/**
 * The definitions of the finished instances, grouped by the value `valueOf` gives their
 * instances, in ascending order of it (compareValues: as the search compares it). One instance
 * of each is read for it. Definitions whose instances the search's definition conditions leave
 * out are left out.
 */
function definitionGroups(queries: EngineQueries, where: InstanceWhere, valueOf: (r: ProcessInstanceRecord) => unknown): Group[] {
  const definitionWhere: InstanceWhere = {}
  for (const field of DEFINITION_WHERE) if (where[field] !== undefined) definitionWhere[field] = where[field]
  const valued: { value: unknown; definition: Key }[] = []
  for (const definition of queries.processInstanceHistoryDefinitions()) {
    const [first] = queries.processInstanceHistory({ processDefinitionKey: definition }, undefined, 1)
    if (first !== undefined && instanceMeets(first, definitionWhere)) valued.push({ value: valueOf(first), definition })
  }
  valued.sort((a, b) => compareValues(a.value, b.value))
  const groups: Group[] = []
  for (let start = 0; start < valued.length;) {
    let end = start + 1
    while (end < valued.length && compareValues(valued[start].value, valued[end].value) === 0) end++
    const definitions = valued.slice(start, end).map((v) => v.definition)
    groups.push({ value: valued[start].value, read: (afterKey, limit) => readMerged(queries, definitions, afterKey, limit) })
    start = end
  }
  return groups
}

/**
 * Up to `limit` finished instances of `definitions`, in key order, after `afterKey`: each
 * definition's read by its index a few at a time, merged.
 */
function readMerged(queries: EngineQueries, definitions: Key[], afterKey: Key | undefined, limit: number): ProcessInstanceRecord[] {
  const read = (definition: Key, after: Key | undefined, n: number) => queries.processInstanceHistory({ processDefinitionKey: definition }, after, n)
  if (definitions.length === 1) return read(definitions[0], afterKey, limit)
  const batch = Math.min(limit, Math.max(16, Math.ceil(limit / definitions.length)))
  const heads = definitions.map((definition) => ({ definition, rows: [] as ProcessInstanceRecord[], at: 0, after: afterKey, done: false }))
  const out: ProcessInstanceRecord[] = []
  while (out.length < limit) {
    let next: (typeof heads)[number] | undefined
    for (const head of heads) {
      if (head.at === head.rows.length && !head.done) {
        head.rows = read(head.definition, head.after, batch)
        head.at = 0
        head.done = head.rows.length < batch
        if (head.rows.length > 0) head.after = head.rows[head.rows.length - 1].key
      }
      if (head.at < head.rows.length && (next === undefined || head.rows[head.at].key < next.rows[next.at].key)) next = head
    }
    if (next === undefined) break
    out.push(next.rows[next.at++])
  }
  return out
}

/** Up to `limit` finished instances of `groups` (ascending by value) in the order asked, after `after`. */
function readGroups(groups: Group[], descending: boolean, after: Position | undefined, limit: number): ProcessInstanceRecord[] {
  const out: ProcessInstanceRecord[] = []
  for (const group of descending ? [...groups].reverse() : groups) {
    let afterKey: Key | undefined
    if (after !== undefined) {
      const byValue = compareValues(group.value, after.value) * (descending ? -1 : 1)
      if (byValue < 0) continue
      if (byValue === 0) afterKey = after.key
    }
    out.push(...group.read(afterKey, limit - out.length))
    if (out.length >= limit) break
  }
  return out
}

/** A cursor's place (the sort field's value and a key) as the history's: a date as engine time, text as it is, none as null. */
function orderPosition(field: string, after: Position): InstancePosition {
  if ((field === 'parentProcessInstanceKey' || field === 'parentElementInstanceKey') && (after.value === null || after.value === undefined)) return { value: null, key: after.key }
  if (field === 'startDate' || field === 'endDate') {
    const value = typeof after.value === 'string' ? Date.parse(after.value) : NaN
    if (Number.isNaN(value)) throw invalidArgument(`Invalid page cursor: '${String(after.value)}' is not a date`)
    return { value, key: after.key }
  }
  if (typeof after.value !== 'string') throw invalidArgument(`Invalid page cursor: '${String(after.value)}' is not a value of ${field}`)
  return { value: after.value, key: after.key }
}

/** The kind of value a cursor holds for each grouped field (a version tag may be absent). */
const GROUP_VALUES: Record<string, (value: unknown) => boolean> = {
  processDefinitionName: (v) => typeof v === 'string',
  processDefinitionVersion: (v) => typeof v === 'number' && Number.isInteger(v),
  processDefinitionVersionTag: (v) => typeof v === 'string' || v === null || v === undefined,
  tenantId: (v) => typeof v === 'string',
  hasIncident: (v) => typeof v === 'boolean',
}

function groupPosition(field: string, after: Position): Position {
  if (!GROUP_VALUES[field](after.value)) throw invalidArgument(`Invalid page cursor: '${String(after.value)}' is not a value of ${field}`)
  return after
}
