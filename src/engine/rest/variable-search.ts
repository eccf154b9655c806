/**
 * `POST /v2/variables/search`. A variable's value may be several MB, and a durable engine keeps
 * those unused since its last checkpoint in the data dir's rows only (issue #19). A search that
 * neither filters nor sorts by value lists the live variables by their heads (key, name, scope,
 * instance, tenant: the rows' index columns) and reads the values of the page it answers only.
 * Reading and parsing every value took over a second for a name filter over 185 variables of
 * 3 MB each, with the engine answering nothing meanwhile.
 */
import type { EngineQueries, VariableHead, VariableRecord } from '../api'
import { variableResult, type VariableSearchResult } from './results'
import { instanceScope, type SearchRequest, type SearchResult, type SearchSpec } from './search'
import { searchLiveAndHistory } from './stored-search'

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

export async function searchVariables(queries: EngineQueries, request: SearchRequest): Promise<SearchResult<VariableSearchResult>> {
  const scope = instanceScope(request.filter)
  // (one instance's variables are read by their scopes, a few rows: whole)
  if (scope.processInstanceKey !== undefined || readsValues(request)) {
    return searchLiveAndHistory(queries, 'variable', scope, queries.variables({ ...scope, live: true }), variableResult, request, SPEC)
  }
  const withoutValue = new WeakSet<VariableSearchResult>()
  const toItem = (record: VariableRecord | VariableHead): VariableSearchResult => {
    if ('value' in record) return variableResult(record)
    const item = { name: record.name, value: '', isTruncated: false, tenantId: record.tenantId, variableKey: record.key, scopeKey: record.scopeKey, processInstanceKey: record.processInstanceKey }
    withoutValue.add(item)
    return item
  }
  const result = await searchLiveAndHistory(queries, 'variable', scope, queries.liveVariableHeads(), toItem, request, SPEC)
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
