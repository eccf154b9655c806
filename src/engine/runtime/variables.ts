import { ChunkedMap, ChunkedSet } from '../state/chunked'
import type { DirtyTracker } from '../state/record-map'
import { longValueJson } from '../protocol'
import type { JsonValue, Key, VariableDocument, VariableHead, VariableRecord } from '../state/records'

/** Where the variables of scopes left out of memory are read: their rows in the last checkpoint. */
export interface ColdVariables {
  /** the JSON of the variables of one scope */
  ofScope(scopeKey: Key): readonly string[]
  /** the JSON of every stored variable */
  all(): Iterable<string>
  /** up to `limit` stored variables after `afterKey`, in key order, without their values */
  headsAfter(afterKey: Key | undefined, limit: number): VariableHead[]
  /** the JSON of one stored variable */
  byKey(key: Key): string | undefined
}

/** The kind of variable rows in a checkpoint. */
export const VARIABLE_KIND = 'variable'

/**
 * A variable's value as JSON in UTF-8, when it came with the document that set it (protocol.ts,
 * longValueJson), kept with the value it stands for until a checkpoint takes it.
 */
const valueJson = new WeakMap<VariableRecord, { value: JsonValue; json: Uint8Array }>()

/**
 * The JSON of `record`'s value as UTF-8 bytes, when it came with the document that set it and the
 * record still holds that value; it is forgotten then (a checkpoint hands it over once: a retry
 * hands over the value itself).
 */
export function takeValueJson(record: VariableRecord): Uint8Array | undefined {
  const known = valueJson.get(record)
  if (known === undefined) return undefined
  valueJson.delete(record)
  return known.value === record.value ? known.json : undefined
}

function rememberValueJson(record: VariableRecord, json: Uint8Array | undefined): void {
  if (json === undefined) valueJson.delete(record)
  else valueJson.set(record, { value: record.value, json })
}

/** The parent scope of a variable scope, or undefined at the root of a process instance. */
export type ScopeParent = (scopeKey: Key) => Key | undefined

interface ScopeInfo {
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  tenantId: string
}

/**
 * Zeebe's variable scopes: one map of variables per element instance, lookup from the inner scope
 * outward, propagation per VariableBehavior (engine-semantics §2).
 */
export class VariableStore {
  private readonly byScope = new ChunkedMap<Key, Map<string, VariableRecord>>()
  /** told of every variable a command creates, changes or removes (durable engines) */
  tracker: DirtyTracker | undefined
  /** where the variables of scopes left out of memory are read (durable engines) */
  private cold: ColdVariables | undefined
  /** scopes evicted since the start, whose variables are only in their rows: each is read in whole on first use */
  private readonly coldScopes = new ChunkedSet<Key>()
  /**
   * The greatest scope with variables in the rows of the checkpoint loaded cold: a scope up to it
   * that is not held may have variables there, read on first use. Every scope made since is
   * greater (keys only grow), so a start need not list the scopes.
   */
  private rowsUpTo: Key | undefined
  /** scopes up to `rowsUpTo` known to have nothing to read (read once, or ended since) */
  private readonly noRows = new ChunkedSet<Key>()

  constructor(
    private readonly nextKey: () => Key,
    private readonly parentOf: ScopeParent,
    private readonly scopeInfo: (scopeKey: Key) => ScopeInfo,
  ) {}

  /** All variables visible from `scopeKey`, the innermost definition winning. */
  visible(scopeKey: Key): Record<string, JsonValue> {
    const chain: Key[] = []
    for (let s: Key | undefined = scopeKey; s !== undefined; s = this.parentOf(s)) chain.push(s)
    const out: Record<string, JsonValue> = {}
    for (let i = chain.length - 1; i >= 0; i--) {
      const vars = this.scope(chain[i])
      if (vars) for (const [name, v] of vars) putKey(out, name, v.value)
    }
    return out
  }

  /** Only the named variables visible from `scopeKey` (missing ones are left out). */
  visibleNamed(scopeKey: Key, names: string[]): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {}
    for (const name of names) {
      for (let s: Key | undefined = scopeKey; s !== undefined; s = this.parentOf(s)) {
        const v = this.scope(s)?.get(name)
        if (v) {
          putKey(out, name, v.value)
          break
        }
      }
    }
    return out
  }

  local(scopeKey: Key): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {}
    const vars = this.scope(scopeKey)
    if (vars) for (const [name, v] of vars) putKey(out, name, v.value)
    return out
  }

  getLocal(scopeKey: Key, name: string): JsonValue | undefined {
    return this.scope(scopeKey)?.get(name)?.value
  }

  /** Sets a local variable; `json`: its value's JSON as UTF-8 bytes, when the document that set it gave them. */
  setLocal(scopeKey: Key, name: string, value: JsonValue, json?: Uint8Array): void {
    let vars = this.scope(scopeKey)
    if (!vars) {
      vars = new Map()
      this.byScope.set(scopeKey, vars)
    }
    const existing = vars.get(name)
    if (existing) {
      // (marked before it changes: a checkpoint still building its row builds it first)
      this.changed(existing)
      existing.value = value
      this.rememberJson(existing, json)
      return
    }
    const info = this.scopeInfo(scopeKey)
    const record: VariableRecord = {
      key: this.nextKey(), name, value, scopeKey,
      processInstanceKey: info.processInstanceKey, processDefinitionKey: info.processDefinitionKey,
      bpmnProcessId: info.bpmnProcessId, tenantId: info.tenantId,
    }
    vars.set(name, record)
    if (json !== undefined) this.rememberJson(record, json)
    if (this.tracker?.active) this.tracker.markRef(VARIABLE_KIND, record.key, record, true)
  }

  setLocalDocument(scopeKey: Key, doc: VariableDocument): void {
    for (const [name, value] of Object.entries(doc)) this.setLocal(scopeKey, name, value, longValueJson(doc, name))
  }

  /**
   * Zeebe's mergeDocument: each variable updates the nearest scope (from `scopeKey` outward)
   * that holds it locally, or is created in the root scope. An equal value is not rewritten and
   * propagation continues upward, as Zeebe's VariableBehavior does.
   */
  merge(scopeKey: Key, doc: VariableDocument): void {
    for (const [name, value] of Object.entries(doc)) {
      let root: Key = scopeKey
      let done = false
      for (let s: Key | undefined = scopeKey; s !== undefined; s = this.parentOf(s)) {
        root = s
        const existing = this.scope(s)?.get(name)
        if (existing) {
          if (jsonEqual(existing.value, value)) continue
          this.changed(existing)
          existing.value = value
          this.rememberJson(existing, longValueJson(doc, name))
          done = true
          break
        }
      }
      if (!done && !this.hasAnywhere(scopeKey, name, value)) this.setLocal(root, name, value, longValueJson(doc, name))
    }
  }

  /** Keeps the JSON bytes of `record`'s value for the next checkpoint; without checkpoints (no tracker), not at all. */
  private rememberJson(record: VariableRecord, json: Uint8Array | undefined): void {
    if (this.tracker?.active) rememberValueJson(record, json)
  }

  /** Drop every variable of a scope (the scope ended). */
  dropScope(scopeKey: Key): void {
    this.takeScope(scopeKey)
  }

  /**
   * Remove a scope and return its variables (its instance finished: they go to the history). The
   * variables of a scope held only in its rows are not read back (a few MB each may take tens of
   * ms): `inRows` says they are still there, unchanged since the last checkpoint. The next
   * checkpoint deletes them by scope, after the history (if they go there) has copied them.
   */
  takeScope(scopeKey: Key): { records: VariableRecord[]; inRows: boolean } {
    if (this.cold && this.inRows(scopeKey)) {
      this.coldScopes.delete(scopeKey)
      if (this.mayHaveRows(scopeKey)) this.noRows.add(scopeKey)
      if (this.tracker?.active) this.tracker.droppedScope(scopeKey)
      return { records: [], inRows: true }
    }
    const vars = this.byScope.get(scopeKey)
    if (!vars) return { records: [], inRows: false }
    const records = [...vars.values()]
    // (marked before the scope goes: a checkpoint still building their rows builds them first)
    if (this.tracker?.active) for (const r of records) this.tracker.markRef(VARIABLE_KIND, r.key, null)
    this.byScope.delete(scopeKey)
    // its rows go with the next checkpoint: until then they are not the scope's any more
    if (this.mayHaveRows(scopeKey)) this.noRows.add(scopeKey)
    return { records, inRows: false }
  }

  /** The variables of one scope, each told to the tracker as changed (a migration rewrites them in place). */
  ofScope(scopeKey: Key): VariableRecord[] {
    const records = [...(this.scope(scopeKey)?.values() ?? [])]
    for (const r of records) this.changed(r)
    return records
  }

  /** Is `record` still held (not removed with its scope)? */
  holds(record: VariableRecord): boolean {
    return this.byScope.get(record.scopeKey)?.get(record.name) === record
  }

  private changed(record: VariableRecord): void {
    if (this.tracker?.active) this.tracker.markRef(VARIABLE_KIND, record.key, record)
  }

  /** Read the variables of scopes left out of memory from `rows`. */
  useColdRows(rows: ColdVariables): void {
    this.cold = rows
  }

  /** A checkpoint was loaded cold: the variables of scopes up to `upTo` stay in their rows until used. */
  leaveInRows(upTo: Key | undefined): void {
    this.rowsUpTo = upTo
  }

  /** Is a scope up to the loaded checkpoint's greatest (whether or not it has rows)? */
  private mayHaveRows(scopeKey: Key): boolean {
    return this.rowsUpTo !== undefined && scopeKey <= this.rowsUpTo
  }

  /** Are a scope's variables (if it has any) only in their rows? */
  private inRows(scopeKey: Key): boolean {
    if (this.byScope.has(scopeKey)) return false
    return this.coldScopes.has(scopeKey) || (this.mayHaveRows(scopeKey) && !this.noRows.has(scopeKey))
  }

  /**
   * Leave the variables of the oldest scopes (first held) out of memory, until at most `keep`
   * scopes are held (or `max` have left): only scopes none of whose variables a checkpoint has
   * still to write. Returns how many were.
   */
  evict(keep: number, max = Infinity): number {
    if (!this.cold || this.byScope.size <= keep) return 0
    let evicted = 0
    for (const [scope, vars] of this.byScope) {
      if (this.byScope.size <= keep || evicted >= max) break
      let marked = false
      for (const v of vars.values()) if (this.tracker?.isRefMarked(VARIABLE_KIND, v.key)) marked = true
      if (marked) continue
      this.byScope.delete(scope)
      if (vars.size > 0) this.coldScopes.add(scope)
      else if (this.mayHaveRows(scope)) this.noRows.add(scope)
      evicted++
    }
    return evicted
  }

  /** Variables in memory. */
  get inMemory(): number {
    let count = 0
    for (const vars of this.byScope.values()) count += vars.size
    return count
  }

  /** One stored variable by key, wherever it is held. */
  find(key: Key): VariableRecord | undefined {
    const json = this.cold?.byKey(key)
    if (json !== undefined) {
      const stored = JSON.parse(json) as VariableRecord
      if (this.inRows(stored.scopeKey)) return stored
      const held = this.byScope.get(stored.scopeKey)?.get(stored.name)
      if (held?.key === key) return held
    }
    for (const vars of this.byScope.values()) for (const v of vars.values()) if (v.key === key) return v
    return undefined
  }

  /** The variables of these scopes, for reading only: those of a scope left in its rows stay there. */
  *ofScopes(scopes: Iterable<Key>): Generator<VariableRecord> {
    for (const scope of scopes) {
      const vars = this.byScope.get(scope)
      if (vars) yield* vars.values()
      else if (this.cold && this.inRows(scope)) for (const json of this.cold.ofScope(scope)) yield JSON.parse(json) as VariableRecord
    }
  }

  /** The variables of a scope, read from their rows if it was left there. */
  private scope(scopeKey: Key): Map<string, VariableRecord> | undefined {
    const vars = this.byScope.get(scopeKey)
    if (vars !== undefined || !this.cold || !this.inRows(scopeKey)) return vars
    this.coldScopes.delete(scopeKey)
    const rows = this.cold.ofScope(scopeKey)
    if (rows.length === 0) {
      this.noRows.add(scopeKey)
      return undefined
    }
    const loaded = new Map<string, VariableRecord>()
    for (const json of rows) {
      const record = JSON.parse(json) as VariableRecord
      loaded.set(record.name, record)
    }
    this.byScope.set(scopeKey, loaded)
    return loaded
  }

  /** Restore records from a snapshot. */
  importRecords(records: VariableRecord[]): void {
    for (const r of records) {
      let vars = this.byScope.get(r.scopeKey)
      if (!vars) this.byScope.set(r.scopeKey, (vars = new Map()))
      vars.set(r.name, r)
    }
  }

  /** Every variable, for reading only: those left in their rows are read from there and stay there. */
  *all(): Generator<VariableRecord> {
    for (const vars of this.byScope.values()) yield* vars.values()
    if (!this.cold || (this.coldScopes.size === 0 && this.rowsUpTo === undefined)) return
    for (const json of this.cold.all()) {
      const record = JSON.parse(json) as VariableRecord
      if (this.inRows(record.scopeKey)) yield record
    }
  }

  /** The variables held in memory, for reading only. */
  *held(): Generator<VariableRecord> {
    for (const vars of this.byScope.values()) yield* vars.values()
  }

  /**
   * Up to `limit` of the variables left in their rows, after `afterKey` in key order, as heads:
   * their values are not read (a search reads only those of the page it answers). Fewer only
   * when there are no more.
   */
  headsInRows(afterKey: Key | undefined, limit: number): VariableHead[] {
    const out: VariableHead[] = []
    if (!this.cold || (this.coldScopes.size === 0 && this.rowsUpTo === undefined)) return out
    for (let after = afterKey; out.length < limit;) {
      const heads = this.cold.headsAfter(after, limit)
      for (const head of heads) if (out.length < limit && this.inRows(head.scopeKey)) out.push(head)
      if (heads.length < limit) break
      after = heads[heads.length - 1].key
    }
    return out
  }

  private hasAnywhere(scopeKey: Key, name: string, value: JsonValue): boolean {
    for (let s: Key | undefined = scopeKey; s !== undefined; s = this.parentOf(s)) {
      const existing = this.scope(s)?.get(name)
      if (existing && jsonEqual(existing.value, value)) return true
    }
    return false
  }
}

/** Deep equality of JSON values; iterative, since the nesting depth comes from the client. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  const pending: [JsonValue, JsonValue][] = [[a, b]]
  while (pending.length > 0) {
    const [x, y] = pending.pop() as [JsonValue, JsonValue]
    if (x === y) continue
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false
    if (Array.isArray(x) !== Array.isArray(y)) return false
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]])
      continue
    }
    const xo = x as Record<string, JsonValue>
    const yo = y as Record<string, JsonValue>
    const keys = Object.keys(xo)
    if (keys.length !== Object.keys(yo).length) return false
    for (const k of keys) {
      if (!Object.hasOwn(yo, k)) return false
      pending.push([xo[k], yo[k]])
    }
  }
  return true
}

/**
 * Set an own key of a document. Any JSON key is a variable name in Zeebe, `__proto__` included,
 * which a plain assignment would take as the object's prototype and drop.
 */
export function putKey(doc: Record<string, JsonValue>, name: string, value: JsonValue): void {
  if (name === '__proto__') Object.defineProperty(doc, name, { value, enumerable: true, writable: true, configurable: true })
  else doc[name] = value
}

/** Assign a value to a possibly dotted target path ("a.b.c") inside a document. */
export function assignPath(doc: Record<string, JsonValue>, target: string, value: JsonValue, base: (name: string) => JsonValue | undefined): void {
  const parts = target.split('.')
  if (parts.length === 1) {
    putKey(doc, target, value)
    return
  }
  const head = parts[0]
  const current = Object.hasOwn(doc, head) ? doc[head] : base(head)
  const root: Record<string, JsonValue> = isObject(current) ? { ...current } : {}
  putKey(doc, head, root)
  let node = root
  for (let i = 1; i < parts.length - 1; i++) {
    const child = Object.hasOwn(node, parts[i]) ? node[parts[i]] : undefined
    const copy: Record<string, JsonValue> = isObject(child) ? { ...child } : {}
    putKey(node, parts[i], copy)
    node = copy
  }
  putKey(node, parts[parts.length - 1], value)
}

function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
