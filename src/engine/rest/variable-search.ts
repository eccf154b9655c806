/**
 * `POST /v2/variables/search`. A variable's value may be several MB, and a durable engine keeps
 * those unused since its last checkpoint in the data dir's rows only (issue #19). A search that
 * neither filters nor sorts by value reads those variables as heads (key, name, scope, instance,
 * tenant: the rows' index columns), in key order a chunk at a time, with the history's, as far as
 * its page and its count (TOTAL_ITEMS_CAP) reach, and reads the values of its page only. Before,
 * it read and parsed every live variable: over 2 s for a name filter over 185 variables of 3 MB
 * each, with the engine answering nothing meanwhile.
 */
import type { EngineQueries, VariableHead, VariableRecord } from '../api'
import { variableResult, type VariableSearchResult } from './results'
import { instanceScope, matchesFilter, type SearchRequest, type SearchResult, type SearchSpec } from './search'
import { searchLiveAndHistory, searchWithStored } from './stored-search'

const SPEC: SearchSpec<VariableSearchResult> = {
  key: 'variableKey',
  filterable: ['name', 'value', 'tenantId', 'isTruncated', 'variableKey', 'scopeKey', 'processInstanceKey'],
  sortable: ['value', 'name', 'tenantId', 'variableKey', 'scopeKey', 'processInstanceKey'],
}

/** The fields of a result item that need the variable's value. */
const VALUE_FIELDS = new Set(['value', 'isTruncated'])

/** Does the search filter or sort by a field that needs every variable's value? */
function readsValues(request: SearchRequest): boolean {
  return Object.keys(request.filter ?? {}).some((field) => VALUE_FIELDS.has(field))
    || (request.sort ?? []).some(({ field }) => VALUE_FIELDS.has(field))
}

/** Two lists in key order, merged in key order. */
function mergeByKey(a: VariableSearchResult[], b: VariableSearchResult[]): VariableSearchResult[] {
  const out: VariableSearchResult[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].variableKey < b[j].variableKey)) out.push(a[i++])
    else out.push(b[j++])
  }
  return out
}

export async function searchVariables(queries: EngineQueries, request: SearchRequest): Promise<SearchResult<VariableSearchResult>> {
  const scope = instanceScope(request.filter)
  // (one instance's variables are read by their scopes, a few rows: whole)
  if (scope.processInstanceKey !== undefined || readsValues(request)) {
    return searchLiveAndHistory(queries, 'variable', scope, queries.variables({ ...scope, live: true }), variableResult, request, SPEC)
  }
  const withoutValue = new WeakSet<VariableSearchResult>()
  const headItem = (head: VariableHead): VariableSearchResult => {
    const item = { name: head.name, value: '', isTruncated: false, tenantId: head.tenantId, variableKey: head.key, scopeKey: head.scopeKey, processInstanceKey: head.processInstanceKey }
    withoutValue.add(item)
    return item
  }
  const filter = request.filter ?? {}
  const meets = (item: VariableSearchResult) => matchesFilter(item, filter, SPEC)
  const held = [...queries.heldVariables()].map(variableResult).filter(meets)
  // The variables left in rows and the history's, as one stored set in key order.
  const result = await searchWithStored(held, {
    page: (afterKey, limit) => {
      const inRows = queries.variableHeadsInRows(afterKey, limit).map(headItem)
      const finished = scope.live ? [] : queries.history('variable', undefined, afterKey, limit).map((r: VariableRecord) => variableResult(r))
      return mergeByKey(inRows, finished).slice(0, limit)
    },
    meets,
  }, request, SPEC)
  // The page's values, read now. One gone since it was listed (its instance finished, or was
  // deleted) is found in the history, or left out.
  const items: VariableSearchResult[] = []
  for (const item of result.items) {
    if (!withoutValue.has(item)) items.push(item)
    else {
      const record = queries.variable(item.variableKey)
      if (record) items.push(variableResult(record))
    }
  }
  return { ...result, items }
}
