/**
 * Jobs: activation as a long poll (as the gRPC ActivateJobs), completion, failure, error,
 * update, and search.
 */
import type { Response, Router } from 'express'
import { z } from 'zod'
import type { ActivateJobsInput, ActivatedJob, EngineApi, JobResult } from '../api'
import { defaultTenantOnly, invalidArgument } from './problem'
import { activatedJobResult, jobResult } from './results'
import { search, searchRequestSchema } from './search'
import { keyParam, parseBody, variablesSchema } from './validation'

/** requestTimeout 0 means the gateway's default long-poll timeout. */
const DEFAULT_LONG_POLL_MS = 10_000

const activationSchema = z.object({
  type: z.string().min(1),
  worker: z.string().nullish(),
  timeout: z.number().int().positive(),
  maxJobsToActivate: z.number().int().positive(),
  fetchVariable: z.array(z.string()).nullish(),
  requestTimeout: z.number().int().nullish(),
  tenantIds: z.array(z.string()).nullish(),
})

/** A job result: a user task listener's (denial, corrections) or an ad-hoc subprocess's. */
const jobResultSchema = z.object({
  type: z.string().nullish(),
  denied: z.boolean().nullish(),
  deniedReason: z.string().nullish(),
  corrections: z.record(z.string(), z.unknown()).nullish(),
  activateElements: z.array(z.object({ elementId: z.string().min(1), variables: variablesSchema.nullish() })).nullish(),
  isCompletionConditionFulfilled: z.boolean().nullish(),
  isCancelRemainingInstances: z.boolean().nullish(),
}).passthrough()

const completionSchema = z.object({
  variables: variablesSchema.nullish(),
  result: jobResultSchema.nullish(),
})

function completionResult(result: z.infer<typeof jobResultSchema> | null | undefined): JobResult | undefined {
  if (!result) return undefined
  return {
    type: result.type ?? undefined,
    denied: result.denied ?? undefined,
    deniedReason: result.deniedReason ?? undefined,
    corrections: result.corrections ?? undefined,
    activateElements: result.activateElements?.map(({ elementId, variables }) => ({ elementId, variables: variables ?? undefined })),
    isCompletionConditionFulfilled: result.isCompletionConditionFulfilled ?? undefined,
    isCancelRemainingInstances: result.isCancelRemainingInstances ?? undefined,
  }
}

const failureSchema = z.object({
  retries: z.number().int().nullish(),
  errorMessage: z.string().nullish(),
  retryBackOff: z.number().int().nonnegative().nullish(),
  variables: variablesSchema.nullish(),
})

const errorSchema = z.object({
  errorCode: z.string().min(1),
  errorMessage: z.string().nullish(),
  variables: variablesSchema.nullish(),
})

const updateSchema = z.object({
  changeset: z.object({
    retries: z.number().int().nullish(),
    timeout: z.number().int().nullish(),
  }),
  operationReference: z.unknown().optional(),
})

/**
 * Activate now; if nothing is activatable, hold the request until the engine announces jobs of
 * this type or the request timeout passes. A client that hangs up gets nothing activated.
 */
function activateWithLongPoll(
  engine: EngineApi, input: ActivateJobsInput, requestTimeout: number, res: Response,
): Promise<ActivatedJob[]> {
  const immediate = engine.activateJobs(input)
  if (immediate.length > 0 || requestTimeout < 0) return Promise.resolve(immediate)
  const waitMs = requestTimeout === 0 ? DEFAULT_LONG_POLL_MS : requestTimeout

  return new Promise((resolve, reject) => {
    let settled = false
    const settle = (outcome: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      res.off('close', onClose)
      outcome()
    }
    const onClose = (): void => settle(() => resolve([]))
    // Activation runs outside the engine call that announced the jobs, never re-entrantly.
    const unsubscribe = engine.onJobsAvailable(input.type, () => setImmediate(() => {
      if (settled) return
      try {
        const jobs = engine.activateJobs(input)
        if (jobs.length > 0) settle(() => resolve(jobs))
      } catch (err) {
        settle(() => reject(err))
      }
    }))
    const timer = setTimeout(() => settle(() => resolve([])), waitMs)
    res.on('close', onClose)
  })
}

export function jobRoutes(router: Router, engine: EngineApi): void {
  router.post('/jobs/activation', async (req, res) => {
    const body = parseBody(activationSchema, req)
    const input: ActivateJobsInput = {
      type: body.type,
      worker: body.worker ?? '',
      timeout: body.timeout,
      maxJobsToActivate: body.maxJobsToActivate,
      fetchVariables: body.fetchVariable && body.fetchVariable.length > 0 ? body.fetchVariable : undefined,
      tenantIds: body.tenantIds && body.tenantIds.length > 0 ? tenantsOf(body.tenantIds) : undefined,
    }
    const jobs = await activateWithLongPoll(engine, input, body.requestTimeout ?? 0, res)
    // The client hung up: jobs activated for it are given back, not left until their timeout.
    if (res.writableEnded || res.destroyed) {
      engine.yieldJobs(jobs.map((job) => job.key))
      return
    }
    res.json({ jobs: jobs.map(activatedJobResult) })
  })

  router.post('/jobs/:jobKey/completion', (req, res) => {
    const key = keyParam(req, 'jobKey')
    const body = parseBody(completionSchema, req)
    engine.completeJob(key, body.variables ?? undefined, completionResult(body.result))
    res.status(204).end()
  })

  router.post('/jobs/:jobKey/failure', (req, res) => {
    const key = keyParam(req, 'jobKey')
    const body = parseBody(failureSchema, req)
    engine.failJob(key, body.retries ?? 0, body.errorMessage ?? '', body.retryBackOff ?? 0, body.variables ?? undefined)
    res.status(204).end()
  })

  router.post('/jobs/:jobKey/error', (req, res) => {
    const key = keyParam(req, 'jobKey')
    const body = parseBody(errorSchema, req)
    engine.throwError(key, body.errorCode, body.errorMessage ?? '', body.variables ?? undefined)
    res.status(204).end()
  })

  router.patch('/jobs/:jobKey', (req, res) => {
    const key = keyParam(req, 'jobKey')
    const { changeset } = parseBody(updateSchema, req)
    const retries = changeset.retries ?? undefined
    const timeout = changeset.timeout ?? undefined
    if (retries === undefined && timeout === undefined) {
      throw invalidArgument('Invalid request body: \'changeset\': at least one of [retries, timeout] is required')
    }
    if (retries !== undefined) engine.updateJobRetries(key, retries)
    if (timeout !== undefined) engine.updateJobTimeout(key, timeout)
    res.status(204).end()
  })

  router.post('/jobs/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    res.json(search([...engine.queries.jobs()].map(jobResult), request, {
      key: 'jobKey',
      filterable: ['deadline', 'elementId', 'elementInstanceKey', 'errorMessage', 'hasFailedWithRetriesLeft', 'jobKey',
        'kind', 'listenerEventType', 'processDefinitionId', 'processDefinitionKey', 'processInstanceKey', 'retries',
        'state', 'tenantId', 'type', 'worker'],
      sortable: ['deadline', 'elementId', 'elementInstanceKey', 'errorMessage', 'jobKey', 'kind', 'listenerEventType',
        'processDefinitionId', 'processDefinitionKey', 'processInstanceKey', 'retries', 'state', 'tenantId', 'type',
        'worker'],
    }))
  })
}

/** The tenants a job activation asks for: '<default>' only, as multi-tenancy is disabled. */
function tenantsOf(tenantIds: string[]): string[] {
  defaultTenantOnly('Activate Jobs', ...tenantIds)
  return tenantIds
}
