import { ARCHIVE_FIELDS, byKey, compareInOrder, instanceMeets, instanceOf, isAfter, rangesMeet, type ArchivedInstance, type History, type HistoryKind, type HistoryRecords, type InstanceOrder, type InstancePosition, type InstanceRange, type InstanceWhere } from './history'
import type { Key, ProcessInstanceRecord, VariableRecord } from './records'
import type { EngineStore } from './store'

/**
 * The history of a durable engine, in its SQLite file. A finished instance's records are written
 * with a later group commit or checkpoint than the commands that finished it (the store holds them
 * back to write many at once), and are read from the store's pending list until then. The log is
 * only trimmed by a checkpoint, which writes every held instance: after a crash, the replayed
 * commands finish again whatever was not written (and write the same rows).
 */
export class SqliteHistory implements History {
  constructor(private readonly store: EngineStore) {}

  add(archived: ArchivedInstance): void {
    this.store.appendHistory(archived)
  }

  /**
   * The records of `kind` of the finished instances not yet written. Variables left in the live
   * rows when their instance finished are read from there: those rows stay until the write that
   * copies them commits (a checkpoint deletes them in the same transaction, after the copy).
   */
  private pending<K extends HistoryKind>(kind: K): HistoryRecords[K][] {
    const out: HistoryRecords[K][] = []
    for (const archived of this.store.pendingHistory) {
      out.push(...(archived[ARCHIVE_FIELDS[kind]] as HistoryRecords[K][]))
      if (kind !== 'variable') continue
      for (const [scope] of archived.variablesInRows ?? []) {
        for (const json of this.store.variablesOfScope(scope)) out.push(JSON.parse(json) as HistoryRecords[K])
      }
    }
    return out
  }

  *all<K extends HistoryKind>(kind: K, processInstanceKey?: Key): Iterable<HistoryRecords[K]> {
    const pending = this.pending(kind).filter((record) => processInstanceKey === undefined || instanceOf(kind, record) === processInstanceKey)
    const seen = new Set<Key>()
    for (const record of pending) {
      seen.add(record.key)
      yield record
    }
    for (const json of this.store.historyJson(kind, processInstanceKey)) {
      const record = JSON.parse(json) as HistoryRecords[K]
      if (!seen.has(record.key)) yield record
    }
  }

  get<K extends HistoryKind>(kind: K, key: Key): HistoryRecords[K] | undefined {
    const pending = this.pending(kind).find((record) => record.key === key)
    if (pending) return pending
    const json = this.store.historyGet(kind, key)
    return json === undefined ? undefined : JSON.parse(json) as HistoryRecords[K]
  }

  page<K extends HistoryKind>(kind: K, processInstanceKey: Key | undefined, afterKey: Key | undefined, limit: number): HistoryRecords[K][] {
    const pending = this.pending(kind).filter((r) => (processInstanceKey === undefined || instanceOf(kind, r) === processInstanceKey) && (afterKey === undefined || r.key > afterKey))
    const pendingKeys = new Set(pending.map((r) => r.key))
    const stored = this.store.historyPage(kind, processInstanceKey, afterKey, limit).map((json) => JSON.parse(json) as HistoryRecords[K])
    return [...pending, ...stored.filter((r) => !pendingKeys.has(r.key))].sort(byKey).slice(0, limit)
  }

  variablesOf(scopeKey: Key): VariableRecord[] {
    const pending = this.pending('variable').filter((v) => v.scopeKey === scopeKey)
    if (pending.length > 0) return pending
    return this.store.historyOfScope(scopeKey).map((json) => JSON.parse(json) as VariableRecord)
  }

  instancePage(where: InstanceWhere, afterKey: Key | undefined, limit: number): ProcessInstanceRecord[] {
    const pending = this.pending('instance').filter((r) => instanceMeets(r, where) && (afterKey === undefined || r.key > afterKey))
    const pendingKeys = new Set(pending.map((r) => r.key))
    const stored = this.store.instanceReads.page(where, afterKey, limit).map((json) => JSON.parse(json) as ProcessInstanceRecord)
    return [...pending, ...stored.filter((r) => !pendingKeys.has(r.key))].sort(byKey).slice(0, limit)
  }

  instancePageBy(order: InstanceOrder, after: InstancePosition | undefined, limit: number): ProcessInstanceRecord[] {
    const pending = this.pending('instance').filter((r) => after === undefined || isAfter(order, r, after))
    const pendingKeys = new Set(pending.map((r) => r.key))
    const stored = this.store.instanceReads.inOrder(order, after, limit).map((json) => JSON.parse(json) as ProcessInstanceRecord)
    return [...pending, ...stored.filter((r) => !pendingKeys.has(r.key))].sort((a, b) => compareInOrder(order, a, b)).slice(0, limit)
  }

  instanceCount(where: InstanceWhere, cap: number): number {
    // Stored first: counting them waits for the writes in the writer thread, which are then no
    // longer pending. Pending ones are not stored yet (only right after a recovery may one be
    // both, for one group commit).
    const stored = this.store.historyInstanceCount(where, cap)
    const pending = this.pending('instance').filter((r) => instanceMeets(r, where)).length
    return Math.min(cap, pending + stored)
  }

  instanceTally(where: InstanceWhere, ranges: readonly InstanceRange[], afterKey: Key | undefined, limit: number): [Key, boolean][] {
    const pending = this.pending('instance').filter((r) => instanceMeets(r, where) && (afterKey === undefined || r.key > afterKey))
    const pendingKeys = new Set(pending.map((r) => r.key))
    const stored = this.store.instanceReads.tally(where, ranges, afterKey, limit).filter(([key]) => !pendingKeys.has(key))
    return [...pending.map((r): [Key, boolean] => [r.key, rangesMeet(r, ranges)]), ...stored].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit)
  }

  instanceDefinitions(): Key[] {
    const pending = this.pending('instance').map((r) => r.processDefinitionKey)
    return [...new Set([...pending, ...this.store.instanceReads.definitions()])].sort()
  }

  prune(before: number, max: number): Promise<number> {
    return this.store.pruneHistory(before, max)
  }

  size(): number {
    return this.store.historyRoots()
  }
}
