/**
 * The history of finished process instances: what a root instance (and the instances it called)
 * left once it completed or was terminated. The engine's live state no longer holds it (Zeebe
 * deletes it too); the /v2 searches read it here, as Operate reads its exported records. A
 * retention period prunes it, oldest first, in small batches.
 */
import type { DecisionInstanceRecord, ElementInstanceRecord, IncidentRecord, Key, ProcessInstanceRecord, UserTaskRecord, VariableRecord } from './records'

/** Everything a finished root instance leaves, as plain records. */
export interface ArchivedInstance {
  /** the root process instance's key */
  root: Key
  /** when it finished, engine time */
  ended: number
  instances: ProcessInstanceRecord[]
  elements: ElementInstanceRecord[]
  variables: VariableRecord[]
  /**
   * Scopes whose variables were still only in the live rows of the last checkpoint when the
   * instance finished (a durable engine): [scope, process instance]. They are not read back; the
   * history copies them from those rows when it writes the instance.
   */
  variablesInRows?: [scope: Key, processInstanceKey: Key][]
  incidents: IncidentRecord[]
  userTasks: UserTaskRecord[]
  decisionInstances: DecisionInstanceRecord[]
}

export interface HistoryRecords {
  instance: ProcessInstanceRecord
  element: ElementInstanceRecord
  variable: VariableRecord
  incident: IncidentRecord
  userTask: UserTaskRecord
  decisionInstance: DecisionInstanceRecord
}
export type HistoryKind = keyof HistoryRecords

/** Where each kind sits in an ArchivedInstance. */
export const ARCHIVE_FIELDS: { [K in HistoryKind]: keyof ArchivedInstance } = {
  instance: 'instances', element: 'elements', variable: 'variables', incident: 'incidents', userTask: 'userTasks', decisionInstance: 'decisionInstances',
}

/**
 * The conditions a search of process instances may put to the history's indexes: each a record
 * field's exact value, or a list of values one of which it has.
 */
export type InstanceWhere = { [F in 'key' | 'bpmnProcessId' | 'state' | 'tenantId' | 'processDefinitionKey' | 'parentProcessInstanceKey']?: string | string[] }

/**
 * A condition on a date of finished process instances (engine time, ms) that the history applies
 * without reading each instance into the event loop: compared as Camunda compares instants, and
 * met by none lacking the date (`missing`, as `$exists: false`, asks for that).
 */
export interface InstanceRange {
  field: 'startDate' | 'endDate'
  op: '=' | '>' | '>=' | '<' | '<=' | 'exists' | 'missing'
  /** the instant compared with (not for exists and missing) */
  ms?: number
}

/** Does an instance record meet every range? */
export function rangesMeet(record: ProcessInstanceRecord, ranges: readonly InstanceRange[]): boolean {
  for (const { field, op, ms } of ranges) {
    const value = record[field] as number | undefined | null
    const present = value !== undefined && value !== null
    if (op === 'exists' || op === 'missing') {
      if (present !== (op === 'exists')) return false
      continue
    }
    if (!present || ms === undefined) return false
    const ok = op === '=' ? value === ms : op === '>' ? value > ms : op === '>=' ? value >= ms : op === '<' ? value < ms : value <= ms
    if (!ok) return false
  }
  return true
}

/** Does an instance record meet every condition? */
export function instanceMeets(record: ProcessInstanceRecord, where: InstanceWhere): boolean {
  for (const [field, value] of Object.entries(where)) {
    const actual = record[field as keyof InstanceWhere]
    if (Array.isArray(value) ? !value.includes(actual as string) : actual !== value) return false
  }
  return true
}

/**
 * An order of finished process instances other than by key, which the history has an index for:
 * by a date field (engine time, ms), by a text field every finished instance has (its process,
 * its definition's key, its state, its own key) or by a parent's key, which a root instance lacks,
 * ascending or descending, then by key ascending (the search conventions' tie-break). Text
 * compares by its characters, as SQLite's BINARY collation does for the identifiers and
 * fixed-width keys these fields hold. An instance lacking the field comes after every other
 * ascending, and before every other descending (as the searches order a missing value).
 */
export interface InstanceOrder {
  field: 'startDate' | 'endDate' | 'bpmnProcessId' | 'processDefinitionKey' | 'state' | 'key' | 'parentProcessInstanceKey' | 'parentElementInstanceKey'
  descending: boolean
}
/** A place in an InstanceOrder: reading on from there gives the records after it (`value` null: one lacking the field). */
export interface InstancePosition { value: number | string | null; key: Key }

/** An instance's value in `order`, null if it has none. */
function orderValue(order: InstanceOrder, record: ProcessInstanceRecord): number | string | null {
  return record[order.field] ?? null
}

/** -1, 0 or 1 as `x` comes before, with or after `y` ascending (numbers by value, text by characters, none last). */
function compareOrderValues(x: number | string | null, y: number | string | null): number {
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1
  return x < y ? -1 : x > y ? 1 : 0
}

/** Compare two instances in `order`. */
export function compareInOrder(order: InstanceOrder, a: ProcessInstanceRecord, b: ProcessInstanceRecord): number {
  const byValue = compareOrderValues(orderValue(order, a), orderValue(order, b))
  if (byValue !== 0) return order.descending ? -byValue : byValue
  return byKey(a, b)
}

/** Does an instance come after `position` in `order`? */
export function isAfter(order: InstanceOrder, record: ProcessInstanceRecord, position: InstancePosition): boolean {
  const byValue = compareOrderValues(orderValue(order, record), position.value)
  if (byValue !== 0) return order.descending ? byValue < 0 : byValue > 0
  return record.key > position.key
}

/** Keys are fixed-width decimal strings (Zeebe's partition-1 range), so their text order is their numeric order. */
export const byKey = (a: { key: Key }, b: { key: Key }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

export interface History {
  /** Keep a finished root instance's records. */
  add(archived: ArchivedInstance): void
  /** Every record of `kind`, or only those of one process instance (for instances, that instance). */
  all<K extends HistoryKind>(kind: K, processInstanceKey?: Key): Iterable<HistoryRecords[K]>
  get<K extends HistoryKind>(kind: K, key: Key): HistoryRecords[K] | undefined
  /** Up to `limit` records of `kind` (of one process instance, if given), in key order, after `afterKey` if given. */
  page<K extends HistoryKind>(kind: K, processInstanceKey: Key | undefined, afterKey: Key | undefined, limit: number): HistoryRecords[K][]
  /** The variables of one scope (a finished instance's own, at its root). */
  variablesOf(scopeKey: Key): VariableRecord[]
  /** Up to `limit` finished process instances meeting `where`, in key order, after `afterKey` if given. */
  instancePage(where: InstanceWhere, afterKey: Key | undefined, limit: number): ProcessInstanceRecord[]
  /** Up to `limit` finished process instances, in `order`, after `after` if given (those meeting `where` are for the caller to pick). */
  instancePageBy(order: InstanceOrder, after: InstancePosition | undefined, limit: number): ProcessInstanceRecord[]
  /** How many finished process instances meet `where`, counted up to `cap` (a count past it is cut there). */
  instanceCount(where: InstanceWhere, cap: number): number
  /**
   * The keys of up to `limit` finished process instances meeting `where`, in key order, after
   * `afterKey` if given, each with whether it meets `ranges` too: told without reading them.
   */
  instanceTally(where: InstanceWhere, ranges: readonly InstanceRange[], afterKey: Key | undefined, limit: number): [Key, boolean][]
  /** The definitions of the finished process instances: their keys, each once, in key order. */
  instanceDefinitions(): Key[]
  /**
   * Forget up to `max` root instances that finished before `before`; resolves to how many. A
   * durable history deletes them in its writer thread, after the writes handed to it before: the
   * event loop does not wait for them.
   */
  prune(before: number, max: number): Promise<number>
  /** Root instances held. */
  size(): number
}

/** The process instance a history record belongs to (an instance record, to itself). */
export function instanceOf(kind: HistoryKind, record: { key: Key; processInstanceKey?: Key }): Key | undefined {
  return kind === 'instance' ? record.key : record.processInstanceKey
}

/** The history of an engine without a data dir: plain maps, the same contract. */
export class MemoryHistory implements History {
  private readonly records: { [K in HistoryKind]: Map<Key, HistoryRecords[K]> } = {
    instance: new Map(), element: new Map(), variable: new Map(), incident: new Map(), userTask: new Map(), decisionInstance: new Map(),
  }
  private readonly scopes = new Map<Key, VariableRecord[]>()
  /** root instances in the order they finished (engine time only moves forward) */
  private readonly roots = new Map<Key, ArchivedInstance>()

  add(archived: ArchivedInstance): void {
    this.roots.delete(archived.root)
    this.roots.set(archived.root, archived)
    for (const kind of Object.keys(ARCHIVE_FIELDS) as HistoryKind[]) {
      const map = this.records[kind] as Map<Key, HistoryRecords[HistoryKind]>
      for (const record of archived[ARCHIVE_FIELDS[kind]] as HistoryRecords[HistoryKind][]) map.set(record.key, record)
    }
    for (const v of archived.variables) {
      const list = this.scopes.get(v.scopeKey) ?? []
      list.push(v)
      this.scopes.set(v.scopeKey, list)
    }
  }

  *all<K extends HistoryKind>(kind: K, processInstanceKey?: Key): Iterable<HistoryRecords[K]> {
    for (const record of this.records[kind].values()) {
      if (processInstanceKey === undefined || instanceOf(kind, record) === processInstanceKey) yield record
    }
  }

  get<K extends HistoryKind>(kind: K, key: Key): HistoryRecords[K] | undefined {
    return this.records[kind].get(key)
  }

  page<K extends HistoryKind>(kind: K, processInstanceKey: Key | undefined, afterKey: Key | undefined, limit: number): HistoryRecords[K][] {
    return [...this.all(kind, processInstanceKey)].filter((r) => afterKey === undefined || r.key > afterKey).sort(byKey).slice(0, limit)
  }

  variablesOf(scopeKey: Key): VariableRecord[] {
    return this.scopes.get(scopeKey) ?? []
  }

  instancePage(where: InstanceWhere, afterKey: Key | undefined, limit: number): ProcessInstanceRecord[] {
    return this.meeting(where).filter((r) => afterKey === undefined || r.key > afterKey).sort(byKey).slice(0, limit)
  }

  instancePageBy(order: InstanceOrder, after: InstancePosition | undefined, limit: number): ProcessInstanceRecord[] {
    const records = [...this.records.instance.values()].filter((r) => after === undefined || isAfter(order, r, after))
    return records.sort((a, b) => compareInOrder(order, a, b)).slice(0, limit)
  }

  instanceCount(where: InstanceWhere, cap: number): number {
    return Math.min(cap, this.meeting(where).length)
  }

  instanceTally(where: InstanceWhere, ranges: readonly InstanceRange[], afterKey: Key | undefined, limit: number): [Key, boolean][] {
    return this.instancePage(where, afterKey, limit).map((r) => [r.key, rangesMeet(r, ranges)])
  }

  instanceDefinitions(): Key[] {
    return [...new Set([...this.records.instance.values()].map((r) => r.processDefinitionKey))].sort()
  }

  private meeting(where: InstanceWhere): ProcessInstanceRecord[] {
    return [...this.records.instance.values()].filter((r) => instanceMeets(r, where))
  }

  prune(before: number, max: number): Promise<number> {
    let pruned = 0
    for (const archived of this.roots.values()) {
      if (pruned >= max || archived.ended >= before) break
      this.roots.delete(archived.root)
      for (const kind of Object.keys(ARCHIVE_FIELDS) as HistoryKind[]) {
        for (const record of archived[ARCHIVE_FIELDS[kind]] as { key: Key }[]) this.records[kind].delete(record.key)
      }
      for (const v of archived.variables) this.scopes.delete(v.scopeKey)
      pruned++
    }
    return Promise.resolve(pruned)
  }

  size(): number {
    return this.roots.size
  }
}
