/**
 * Process instances (create, search, get, cancel), element instances (search, get, set
 * variables), variables (search, get) and incidents (search, get, resolve).
 */
import type { RequestHandler, Router } from 'express'
import { z } from 'zod'
import { combinationCount, MAX_COMBINATIONS, type EngineApi, type EngineQueries, type InstanceRange, type InstanceWhere } from '../api'
import type { ElementInstanceRecord, Key, VariableDocument } from '../api'
import { instanceOrders } from './instance-orders'
import { defaultTenantOnly, HttpProblem, invalidArgument, notFound } from './problem'
import {
  ResultContext, incidentResult, variableResult, type ElementInstanceResult, type ProcessInstanceResult,
} from './results'
import { instanceScope, ISO_DATE, matchesFilter, matchesProperty, search, searchRequestSchema, type SearchSpec } from './search'
import { searchLiveAndHistory, searchWithStored, type StoredSource } from './stored-search'
import { searchVariables } from './variable-search'
import { keyParam, keySchema, parseBody, variablesSchema } from './validation'

/** Await-completion requests without their own timeout wait this long (Zeebe's default request timeout). */
const DEFAULT_AWAIT_TIMEOUT_MS = 15_000

const createSchema = z.object({
  processDefinitionId: z.string().min(1).nullish(),
  processDefinitionVersion: z.number().int().nullish(),
  processDefinitionKey: keySchema.nullish(),
  variables: variablesSchema.nullish(),
  tenantId: z.string().nullish(),
  operationReference: z.unknown().optional(),
  startInstructions: z.array(z.object({ elementId: z.string().min(1) })).nullish(),
  runtimeInstructions: z.array(z.object({ type: z.literal('TERMINATE_PROCESS_INSTANCE'), afterElementId: z.string().min(1) })).nullish(),
  awaitCompletion: z.boolean().nullish(),
  fetchVariables: z.array(z.string()).nullish(),
  requestTimeout: z.number().int().nonnegative().nullish(),
}).superRefine((b, ctx) => {
  if (!b.processDefinitionId && !b.processDefinitionKey) {
    ctx.addIssue({ code: 'custom', message: 'at least one of [processDefinitionId, processDefinitionKey] is required' })
  } else if (b.processDefinitionId && b.processDefinitionKey) {
    ctx.addIssue({ code: 'custom', message: 'only one of [processDefinitionId, processDefinitionKey] is allowed' })
  }
})

const cancellationSchema = z.object({ operationReference: z.unknown().optional() })

const setVariablesSchema = z.object({
  variables: variablesSchema,
  local: z.boolean().nullish(),
  operationReference: z.unknown().optional(),
})

const resolutionSchema = z.object({ operationReference: z.unknown().optional() })

const ELEMENT_FILTERS = ['elementId', 'elementInstanceState', 'hasElementInstanceIncident'] as const

/** A variables filter entry: `value` is compared with the JSON serialisation of the value. */
const variableFilterSchema = z.array(z.object({ name: z.string(), value: z.unknown() }))

function variableFilter(field: string, condition: unknown): { name: string; value: unknown }[] {
  const parsed = variableFilterSchema.safeParse(condition)
  if (!parsed.success) throw invalidArgument(`Invalid filter '${field}': expected [{name, value}]`)
  return parsed.data
}

export function processInstanceRoutes(router: Router, engine: EngineApi): void {
  const { queries } = engine

  router.post('/process-instances', async (req, res) => {
    const body = parseBody(createSchema, req)
    const created = engine.createProcessInstance({
      bpmnProcessId: body.processDefinitionId ?? undefined,
      version: body.processDefinitionVersion ?? undefined,
      processDefinitionKey: body.processDefinitionKey ?? undefined,
      variables: body.variables ?? undefined,
      startInstructions: body.startInstructions ?? undefined,
      runtimeInstructions: body.runtimeInstructions ?? undefined,
      tenantId: defaultTenantOnly('Create Process Instance', body.tenantId),
    })
    let variables: VariableDocument = {}
    if (body.awaitCompletion) {
      const fetch = body.fetchVariables && body.fetchVariables.length > 0 ? body.fetchVariables : undefined
      const timeout = body.requestTimeout || DEFAULT_AWAIT_TIMEOUT_MS
      try {
        variables = await engine.awaitCompletion(created.processInstanceKey, fetch, timeout)
      } catch (err) {
        // Still running when the wait ended: a gateway timeout, as Camunda answers it.
        if (queries.processInstance(created.processInstanceKey)?.state === 'ACTIVE') {
          throw new HttpProblem(504, 'DEADLINE_EXCEEDED',
            `Expected to complete process instance '${created.processInstanceKey}' within ${timeout} ms, but it did not complete in time`)
        }
        throw err
      }
    }
    res.json({
      processDefinitionId: created.bpmnProcessId,
      processDefinitionVersion: created.version,
      tenantId: created.tenantId,
      variables,
      processDefinitionKey: created.processDefinitionKey,
      processInstanceKey: created.processInstanceKey,
    })
  })

  router.post('/process-instances/search', async (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const filter = request.filter ?? {}
    const { candidates, spec, meets } = processInstanceQuery(queries, filter, true)
    const live = candidates.filter((pi) => matchesFilter(pi, filter, spec))
    // Finished instances are read from the history by index, as far as the page reaches; what the
    // index cannot apply is applied to each one read (stored-search.ts).
    const { where, ranges, whole, none } = historyConditions(filter)
    const context = new ResultContext(queries)
    const meetsAll = (pi: ProcessInstanceResult) => meets(pi) && matchesFilter(pi, filter, spec)
    const finished: StoredSource<ProcessInstanceResult> = where.state === 'ACTIVE' || none ? NO_HISTORY : {
      page: (afterKey, limit) => queries.processInstanceHistory(where, afterKey, limit).map((r) => context.processInstance(r)),
      ...(whole && ranges.length === 0 ? { count: (cap: number) => queries.processInstanceHistoryCount(where, cap) } : { meets: meetsAll }),
      ...(whole && ranges.length > 0 ? { tally: (afterKey: string | undefined, limit: number) => queries.processInstanceHistoryTally(where, ranges, afterKey, limit) } : {}),
      ...(Object.keys(where).length > 0 ? { narrowed: (cap: number) => queries.processInstanceHistoryCount(where, cap) } : {}),
      ordered: instanceOrders(queries, where, (r) => context.processInstance(r), meetsAll),
    }
    res.json(await searchWithStored(live, finished, request, spec))
  })

  router.get('/process-instances/:processInstanceKey', (req, res) => {
    const key = keyParam(req, 'processInstanceKey')
    const record = queries.processInstance(key)
    if (!record) throw notFound('Process Instance', key)
    res.json(new ResultContext(queries).processInstance(record))
  })

  router.post('/process-instances/:processInstanceKey/cancellation', (req, res) => {
    const key = keyParam(req, 'processInstanceKey')
    parseBody(cancellationSchema, req)
    engine.cancelProcessInstance(key)
    res.status(204).end()
  })

  router.post('/element-instances/search', async (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const context = new ResultContext(queries)
    const scope = instanceScope(request.filter, ['ACTIVE'])
    const scopeOf = new WeakMap<ElementInstanceResult, Key | undefined>()
    const toItem = (r: ElementInstanceRecord) => {
      const item = context.elementInstance(r)
      scopeOf.set(item, r.scopeKey)
      return item
    }
    res.json(await searchLiveAndHistory(queries, 'element', scope, queries.elementInstances({ ...scope, live: true }), toItem, request, {
      key: 'elementInstanceKey',
      filterable: ['processDefinitionId', 'state', 'type', 'elementId', 'elementName', 'hasIncident', 'tenantId',
        'elementInstanceKey', 'processInstanceKey', 'processDefinitionKey', 'incidentKey', 'startDate', 'endDate'],
      custom: {
        elementInstanceScopeKey: (e, scopeKey) => matchesProperty('elementInstanceScopeKey', scopeOf.get(e), scopeKey),
      },
      sortable: ['elementInstanceKey', 'processInstanceKey', 'processDefinitionKey', 'processDefinitionId', 'startDate',
        'endDate', 'elementId', 'elementName', 'type', 'state', 'incidentKey', 'tenantId'],
    }, (e) => e.type !== 'PROCESS'))
  })

  router.get('/element-instances/:elementInstanceKey', (req, res) => {
    const key = keyParam(req, 'elementInstanceKey')
    const context = new ResultContext(queries)
    const record = queries.elementInstance(key)
    if (!record) throw notFound('Element Instance', key)
    res.json(context.elementInstance(record))
  })

  // The spec says PUT; the SDK's indexed source says POST (§12.5): both are served.
  const setVariables: RequestHandler = async (req, res) => {
    const key = keyParam(req, 'elementInstanceKey')
    const body = parseBody(setVariablesSchema, req)
    engine.setVariables(key, body.variables, body.local ?? false)
    await engine.variablesSettled(key)
    res.status(204).end()
  }
  router.put('/element-instances/:elementInstanceKey/variables', setVariables)
  router.post('/element-instances/:elementInstanceKey/variables', setVariables)

  router.post('/variables/search', async (req, res) => {
    res.json(await searchVariables(queries, parseBody(searchRequestSchema, req)))
  })

  router.get('/variables/:variableKey', (req, res) => {
    const key = keyParam(req, 'variableKey')
    const record = queries.variable(key)
    if (!record) throw notFound('Variable', key)
    const { name, value, tenantId, variableKey, scopeKey, processInstanceKey } = variableResult(record)
    res.json({ name, value, tenantId, variableKey, scopeKey, processInstanceKey })
  })

  const incidentSearch = {
    key: 'incidentKey' as const,
    filterable: ['processDefinitionId', 'errorType', 'errorMessage', 'elementId', 'creationTime', 'state', 'tenantId',
      'incidentKey', 'processDefinitionKey', 'processInstanceKey', 'elementInstanceKey', 'jobKey'] as const,
    sortable: ['incidentKey', 'processDefinitionKey', 'processDefinitionId', 'processInstanceKey', 'errorType',
      'errorMessage', 'elementId', 'elementInstanceKey', 'creationTime', 'state', 'jobKey', 'tenantId'] as const,
  }

  router.post('/incidents/search', async (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const scope = instanceScope(request.filter, ['ACTIVE'])
    res.json(await searchLiveAndHistory(queries, 'incident', scope, queries.incidents({ ...scope, live: true }), incidentResult, request, incidentSearch))
  })

  // 8.8: the incidents of one process instance, with the search's own filter, sort and page (Operate's instance view).
  router.post('/process-instances/:processInstanceKey/incidents/search', (req, res) => {
    const key = keyParam(req, 'processInstanceKey')
    if (!queries.processInstance(key)) throw notFound('Process instance', key)
    const request = parseBody(searchRequestSchema, req)
    res.json(search([...queries.incidents({ processInstanceKey: key })].map(incidentResult), request, incidentSearch))
  })

  // 8.8: the message subscriptions elements wait on; an open one is CREATED (a correlated or deleted one is not kept).
  router.post('/message-subscriptions/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const items = [...queries.messageSubscriptions()].map((subscription) => ({
      messageSubscriptionKey: subscription.key,
      processDefinitionId: subscription.bpmnProcessId,
      processDefinitionKey: subscription.processDefinitionKey,
      processInstanceKey: subscription.processInstanceKey,
      elementId: subscription.elementId,
      elementInstanceKey: subscription.elementInstanceKey,
      messageSubscriptionState: 'CREATED',
      messageName: subscription.messageName,
      correlationKey: subscription.correlationKey,
      tenantId: subscription.tenantId,
    }))
    res.json(search(items, request, {
      key: 'messageSubscriptionKey',
      filterable: ['messageSubscriptionKey', 'processDefinitionId', 'processDefinitionKey', 'processInstanceKey', 'elementId',
        'elementInstanceKey', 'messageSubscriptionState', 'messageName', 'correlationKey', 'tenantId'],
      sortable: ['messageSubscriptionKey', 'processDefinitionId', 'processInstanceKey', 'elementId', 'messageName', 'correlationKey', 'tenantId'],
    }))
  })

  router.get('/incidents/:incidentKey', (req, res) => {
    const key = keyParam(req, 'incidentKey')
    const record = queries.incident(key)
    if (!record) throw notFound('Incident', key)
    res.json(incidentResult(record))
  })

  router.post('/incidents/:incidentKey/resolution', (req, res) => {
    const key = keyParam(req, 'incidentKey')
    parseBody(resolutionSchema, req)
    engine.resolveIncident(key)
    res.status(204).end()
  })
}

/**
 * The process instances a filter selects (its element conditions applied), and the search spec
 * that applies the rest of it: the search route and the batch operations share them.
 */
/** Search filter fields the history of process instances is indexed by, with their record fields. */
const HISTORY_FIELDS: Record<string, keyof InstanceWhere> = {
  processDefinitionId: 'bpmnProcessId', processDefinitionKey: 'processDefinitionKey', parentProcessInstanceKey: 'parentProcessInstanceKey',
  processInstanceKey: 'key', state: 'state', tenantId: 'tenantId',
}

/**
 * The conditions of a filter the history can apply itself: plain values, `$eq` and `$in` of the
 * indexed fields (`where`, by index), and comparisons of the start and end dates with instants
 * (`ranges`, in SQLite as it reads each instance). `whole` tells whether they are the whole
 * filter; `none`, that no finished instance meets it (hasIncident true).
 */
function historyConditions(filter: Record<string, unknown>): { where: InstanceWhere; ranges: InstanceRange[]; whole: boolean; none: boolean } {
  const where: InstanceWhere = {}
  const ranges: InstanceRange[] = []
  let whole = true
  let none = false
  for (const [field, condition] of Object.entries(filter)) {
    if (condition === undefined || condition === null) continue
    // No finished instance has an open incident: hasIncident false holds for all of them, true for none.
    const incident = field === 'hasIncident' ? plainBoolean(condition) : undefined
    if (incident !== undefined) {
      none ||= incident
      continue
    }
    const dates = field === 'startDate' || field === 'endDate' ? dateRanges(field, condition) : undefined
    if (dates !== undefined) {
      ranges.push(...dates)
      continue
    }
    const column = HISTORY_FIELDS[field] as keyof InstanceWhere | undefined
    const value = indexedValue(condition)
    if (column === undefined || value === undefined) whole = false
    else where[column] = value
  }
  // Lists whose values make too many combinations for the history to read each by index are
  // applied item by item, the longest first.
  while (combinationCount(where) > MAX_COMBINATIONS) {
    const longest = (Object.keys(where) as (keyof InstanceWhere)[]).filter((f) => f !== 'key' && Array.isArray(where[f]))
      .reduce((a, b) => ((where[b] as string[]).length > (where[a] as string[]).length ? b : a))
    delete where[longest]
    whole = false
  }
  return { where, ranges, whole, none }
}

const RANGE_OPERATORS: Record<string, InstanceRange['op']> = { $eq: '=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }

/**
 * A date condition as the ranges the history applies, if it is only comparisons with ISO-8601
 * instants and `$exists`: an item's date and such an instant compare as instants (compareValues),
 * so an instance's engine time compares with the instant's ms the same way.
 */
function dateRanges(field: InstanceRange['field'], condition: unknown): InstanceRange[] | undefined {
  const instant = (value: unknown) => (typeof value === 'string' && ISO_DATE.test(value) ? Date.parse(value) : NaN)
  if (typeof condition === 'string') {
    const ms = instant(condition)
    return Number.isNaN(ms) ? undefined : [{ field, op: '=', ms }]
  }
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return undefined
  const ranges: InstanceRange[] = []
  for (const [operator, value] of Object.entries(condition)) {
    if (value === undefined || value === null) continue
    if (operator === '$exists') {
      ranges.push({ field, op: value ? 'exists' : 'missing' })
      continue
    }
    const op = RANGE_OPERATORS[operator]
    const ms = instant(value)
    if (op === undefined || Number.isNaN(ms)) return undefined
    ranges.push({ field, op, ms })
  }
  return ranges
}

/** A condition as the boolean it asks for, if it is only that (a value or `$eq`). */
function plainBoolean(condition: unknown): boolean | undefined {
  if (typeof condition === 'boolean') return condition
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return undefined
  const operators = Object.entries(condition).filter(([, v]) => v !== undefined && v !== null)
  return operators.length === 1 && operators[0][0] === '$eq' && typeof operators[0][1] === 'boolean' ? operators[0][1] : undefined
}

/** A longer `$in` list is applied item by item (SQLite binds a limited number of values). */
const MAX_INDEXED_VALUES = 500

/** A condition as the value or values the history's index can look up, if it is only that. */
function indexedValue(condition: unknown): string | string[] | undefined {
  if (typeof condition === 'string') return condition
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return undefined
  const operators = Object.entries(condition).filter(([, v]) => v !== undefined && v !== null)
  if (operators.length !== 1) return undefined
  const [op, value] = operators[0]
  if (op === '$eq' && typeof value === 'string') return value
  if (op === '$in' && Array.isArray(value) && value.length > 0 && value.length <= MAX_INDEXED_VALUES && value.every((v) => typeof v === 'string')) return value as string[]
  return undefined
}

/** Finished instances are never ACTIVE, and have no open incident. */
const NO_HISTORY: StoredSource<ProcessInstanceResult> = { page: () => [], count: () => 0 }

export function processInstanceQuery(queries: EngineQueries, topLevel: Record<string, unknown>, liveOnly = false): {
  candidates: ProcessInstanceResult[]
  spec: SearchSpec<ProcessInstanceResult>
  /** does an instance meet the filter's element conditions (which the candidates already meet) */
  meets: (pi: ProcessInstanceResult) => boolean
} {
  const context = new ResultContext(queries)
  const scope = { ...instanceScope(topLevel, ['ACTIVE']), ...(liveOnly ? { live: true } : {}) }
  const instances = [...queries.processInstances(scope)].map((r) => context.processInstance(r))

  // Facts about an instance's insides, read by instance when a filter asks for them (the
  // history's by its index), kept for the instances of this search.
  const variablesByInstance = new Map<Key, { name: string; value: string }[]>()
  // (a running instance has nothing in the history: it is not looked up there)
  const scopeOf = (pi: ProcessInstanceResult) => ({ processInstanceKey: pi.processInstanceKey, ...(pi.state === 'ACTIVE' ? { live: true } : {}) })
  const variablesOf = (pi: ProcessInstanceResult) => {
    let list = variablesByInstance.get(pi.processInstanceKey)
    if (!list) {
      list = [...queries.variables(scopeOf(pi))].map((v) => ({ name: v.name, value: JSON.stringify(v.value) }))
      variablesByInstance.set(pi.processInstanceKey, list)
    }
    return list
  }
  const elementsByInstance = new Map<Key, ElementInstanceResult[]>()
  const elementsOf = (pi: ProcessInstanceResult) => {
    let list = elementsByInstance.get(pi.processInstanceKey)
    if (!list) {
      list = [...queries.elementInstances(scopeOf(pi))].filter((e) => e.type !== 'PROCESS').map((e) => context.elementInstance(e))
      elementsByInstance.set(pi.processInstanceKey, list)
    }
    return list
  }
  const activeIncidentsOf = (key: Key) =>
    [...queries.incidents({ processInstanceKey: key, live: true })].filter((i) => i.state === 'ACTIVE')

  // elementId, elementInstanceState and hasElementInstanceIncident describe one element instance together.
  const matchesElements = (pi: ProcessInstanceResult, filter: Record<string, unknown>): boolean => {
    const conditions = ELEMENT_FILTERS.filter((f) => filter[f] !== undefined && filter[f] !== null)
    if (conditions.length === 0) return true
    return elementsOf(pi).some((e) => conditions.every((f) => f === 'hasElementInstanceIncident'
      ? e.hasIncident === Boolean(filter[f])
      : matchesProperty(f, f === 'elementId' ? e.elementId : e.state, filter[f])))
  }
  const spec: SearchSpec<ProcessInstanceResult> = {
    key: 'processInstanceKey',
    filterable: ['processDefinitionId', 'processDefinitionName', 'processDefinitionVersion',
      'processDefinitionVersionTag', 'processDefinitionKey', 'startDate', 'endDate', 'state', 'hasIncident',
      'tenantId', 'processInstanceKey', 'parentProcessInstanceKey', 'parentElementInstanceKey'],
    custom: {
      variables: (pi, condition) => variableFilter('variables', condition).every(({ name, value }) =>
        variablesOf(pi).some((v) => v.name === name && matchesProperty('variables.value', v.value, value))),
      errorMessage: (pi, condition) => activeIncidentsOf(pi.processInstanceKey)
        .some((i) => matchesProperty('errorMessage', i.errorMessage, condition)),
      hasRetriesLeft: (pi, wanted) => [...queries.jobs()]
        .some((j) => j.processInstanceKey === pi.processInstanceKey && j.retries > 0) === Boolean(wanted),
      // checked by matchesElements, jointly
      elementId: () => true,
      elementInstanceState: () => true,
      hasElementInstanceIncident: () => true,
      batchOperationId: (pi, condition) => [...queries.batchOperations()]
        .some((b) => matchesProperty('batchOperationId', b.key, condition) && b.items.some((i) => i.processInstanceKey === pi.processInstanceKey)),
      $or: (pi, alternatives) => {
        if (!Array.isArray(alternatives)) throw invalidArgument("Invalid filter '$or': expected an array of filters")
        return alternatives.length === 0 || alternatives.some((alt: Record<string, unknown>) =>
          matchesElements(pi, alt) && matchesFilter(pi, alt, spec))
      },
    },
    sortable: ['processInstanceKey', 'processDefinitionId', 'processDefinitionName', 'processDefinitionVersion',
      'processDefinitionVersionTag', 'processDefinitionKey', 'parentProcessInstanceKey', 'parentElementInstanceKey',
      'startDate', 'endDate', 'state', 'hasIncident', 'tenantId'],
  }
  return { candidates: instances.filter((pi) => matchesElements(pi, topLevel)), spec, meets: (pi) => matchesElements(pi, topLevel) }
}
