/**
 * Batch operations of the Camunda 8.8 REST API: cancel, resolve the incidents of, migrate or
 * modify the process instances a filter selects (the running ones), then follow, suspend, resume
 * or cancel the operation and search its items.
 */
import type { Router } from 'express'
import { z } from 'zod'
import type { BatchOperationInput, BatchOperationRecord, BatchOperationType, EngineApi, Key } from '../api'
import { notFound } from './problem'
import { processInstanceQuery } from './process-instances'
import { isoDate } from './results'
import { matchesFilter, search, searchRequestSchema, type SearchSpec } from './search'
import { keyParam, keySchema, parseBody } from './validation'

const filterSchema = z.record(z.string(), z.unknown()).nullish()
const mappingSchema = z.array(z.object({ sourceElementId: z.string().min(1), targetElementId: z.string().min(1) }))

const cancellationSchema = z.object({ filter: filterSchema, operationReference: z.unknown().optional() })
const migrationSchema = z.object({
  filter: filterSchema,
  migrationPlan: z.object({ targetProcessDefinitionKey: keySchema, mappingInstructions: mappingSchema }),
  operationReference: z.unknown().optional(),
})
const modificationSchema = z.object({ filter: filterSchema, moveInstructions: mappingSchema.min(1), operationReference: z.unknown().optional() })
const stateChangeSchema = z.object({ operationReference: z.unknown().optional() }).nullish()

interface BatchResult {
  batchOperationKey: Key
  state: BatchOperationRecord['state']
  batchOperationType: BatchOperationType
  startDate: string
  endDate?: string
  operationsTotalCount: number
  operationsFailedCount: number
  operationsCompletedCount: number
  errors: never[]
}

interface BatchItemResult {
  batchOperationKey: Key
  itemKey: Key
  processInstanceKey: Key
  state: string
  processedDate?: string
  errorMessage?: string
  operationType: BatchOperationType
}

function batchResult(b: BatchOperationRecord): BatchResult {
  return {
    batchOperationKey: b.key, state: b.state, batchOperationType: b.type, startDate: isoDate(b.startDate),
    ...(b.endDate !== undefined ? { endDate: isoDate(b.endDate) } : {}),
    operationsTotalCount: b.items.length,
    operationsFailedCount: b.items.filter((i) => i.state === 'FAILED').length,
    operationsCompletedCount: b.items.filter((i) => i.state === 'COMPLETED' || i.state === 'SKIPPED').length,
    errors: [],
  }
}

const batchSpec: SearchSpec<BatchResult> = {
  key: 'batchOperationKey',
  filterable: ['batchOperationKey', 'state', 'batchOperationType'],
  custom: { operationType: (b, condition) => matchesFilter(b, { batchOperationType: condition }, batchSpec) },
  sortable: ['batchOperationKey', 'state', 'batchOperationType', 'startDate', 'endDate'],
}

const itemSpec: SearchSpec<BatchItemResult> = {
  key: 'itemKey',
  filterable: ['batchOperationKey', 'itemKey', 'processInstanceKey', 'state', 'operationType'],
  sortable: ['batchOperationKey', 'itemKey', 'processInstanceKey', 'state'],
}

export function batchOperationRoutes(router: Router, engine: EngineApi): void {
  const { queries } = engine

  /** The running process instances a filter selects. */
  const selected = (filter: Record<string, unknown> | null | undefined): Key[] => {
    const { candidates, spec } = processInstanceQuery(queries, filter ?? {})
    return candidates.filter((pi) => pi.state === 'ACTIVE' && matchesFilter(pi, filter ?? {}, spec)).map((pi) => pi.processInstanceKey)
  }
  const created = (input: BatchOperationInput) => {
    const batch = engine.createBatchOperation(input)
    return { batchOperationKey: batch.key, batchOperationType: batch.type }
  }
  const onInstances = (keys: Key[]) => keys.map((k) => ({ itemKey: k, processInstanceKey: k }))

  router.post('/process-instances/cancellation', (req, res) => {
    const body = parseBody(cancellationSchema, req)
    res.json(created({ type: 'CANCEL_PROCESS_INSTANCE', items: onInstances(selected(body.filter)) }))
  })

  router.post('/process-instances/incident-resolution', (req, res) => {
    const body = parseBody(cancellationSchema, req)
    const instances = new Set(selected(body.filter))
    const items = [...queries.incidents({ live: true })].filter((i) => i.state === 'ACTIVE' && instances.has(i.processInstanceKey))
      .map((i) => ({ itemKey: i.key, processInstanceKey: i.processInstanceKey }))
    res.json(created({ type: 'RESOLVE_INCIDENT', items }))
  })

  router.post('/process-instances/migration', (req, res) => {
    const body = parseBody(migrationSchema, req)
    res.json(created({ type: 'MIGRATE_PROCESS_INSTANCE', items: onInstances(selected(body.filter)), migrationPlan: body.migrationPlan }))
  })

  router.post('/process-instances/modification', (req, res) => {
    const body = parseBody(modificationSchema, req)
    res.json(created({ type: 'MODIFY_PROCESS_INSTANCE', items: onInstances(selected(body.filter)), moveInstructions: body.moveInstructions }))
  })

  router.post('/batch-operations/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    res.json(search([...queries.batchOperations()].map(batchResult), request, batchSpec))
  })

  router.get('/batch-operations/:batchOperationKey', (req, res) => {
    const key = keyParam(req, 'batchOperationKey')
    const batch = [...queries.batchOperations()].find((b) => b.key === key)
    if (!batch) throw notFound('Batch Operation', key)
    res.json(batchResult(batch))
  })

  const stateChange = (path: string, change: (key: Key) => void) => router.post(`/batch-operations/:batchOperationKey/${path}`, (req, res) => {
    const key = keyParam(req, 'batchOperationKey')
    parseBody(stateChangeSchema, req)
    change(key)
    res.status(204).end()
  })
  stateChange('suspension', (key) => engine.suspendBatchOperation(key))
  stateChange('resumption', (key) => engine.resumeBatchOperation(key))
  stateChange('cancellation', (key) => engine.cancelBatchOperation(key))

  router.post('/batch-operation-items/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const items: BatchItemResult[] = []
    for (const b of queries.batchOperations()) {
      for (const i of b.items) {
        items.push({
          batchOperationKey: b.key, itemKey: i.itemKey, processInstanceKey: i.processInstanceKey, state: i.state, operationType: b.type,
          ...(i.processedDate !== undefined ? { processedDate: isoDate(i.processedDate) } : {}),
          ...(i.errorMessage ? { errorMessage: i.errorMessage } : {}),
        })
      }
    }
    res.json(search(items, request, itemSpec))
  })
}
