/**
 * The only registry of job workers: one entry per task type of the models in processes/. Here,
 * and only here, a worker's outcome becomes an SDK job action.
 */
import type { Zeebe } from '@camunda8/sdk'
import type { z } from 'zod'
import { UnknownOrganisationError } from '../src/config'
import { PermanentMailError, TemplateDataError, UnknownTemplateError } from '../src/notify'
import { DurationError } from '../src/app/iso-duration'
import { UnknownIncidentError } from '../src/app/incidents/trace-store'
import { BpmnErrorOutcome } from '../src/app/worker-kit/bpmn-error'
import { UnknownRecordError } from '../src/app/security/security-store'
import { JobInputError, parseInput, type JobInfo } from '../src/app/worker-kit/job-input'
import type { WorkerContext, WorkerServices } from '../src/app/worker-kit/worker-context'
import { LinkControlRejectedError } from '../src/app/cuts/link-control'
import { UnknownCutError } from '../src/app/cuts/cut-store'
import * as disableInterconnection from './disable-interconnection'
import * as enableInterconnection from './enable-interconnection'
import * as publishStatus from './publish-status'
import type { StatusCapability } from './publish-status'
import * as recordCutTrace from './record-cut-trace'
import * as callAdapter from './call-adapter'
import * as checkReleaseValidation from './check-release-validation'
import * as checkInterconnectionCut from './check-interconnection-cut'
import * as checkTraceRequestContacts from './check-trace-request-contacts'
import * as notifyParties from './notify-parties'
import * as notifyTraceRequest from './notify-trace-request'
import * as notifyVulnerability from './notify-vulnerability'
import * as produceTraceLetter from './produce-trace-letter'
import * as recordSecurityEvent from './record-security-event'
import * as recordTraceExchangeEvent from './record-trace-exchange-event'
import * as recordTrace from './record-trace'
import * as sendCutNotification from './send-cut-notification'
import * as sendNotification from './send-notification'
import * as requestInterconnectionCut from './request-interconnection-cut'
import * as startFixChange from './start-fix-change'
import * as prepareWatchReview from './prepare-watch-review'
import * as checkIncidentAcknowledgement from './check-incident-acknowledgement'

/** What the registry gives every job: the domain's capabilities and the status page's store. */
export type JobServices = WorkerServices & StatusCapability

/** What a worker module exports. */
export interface WorkerModule {
  TASK_TYPE: string
  inputSchema: z.ZodObject
  handle(input: never, ctx: JobServices & Pick<WorkerContext, 'job'>): Promise<object>
}

export const WORKERS: readonly WorkerModule[] = [recordTrace, sendNotification, recordCutTrace, disableInterconnection, enableInterconnection, sendCutNotification, publishStatus,
  recordSecurityEvent, notifyVulnerability, recordTraceExchangeEvent, checkTraceRequestContacts, produceTraceLetter, notifyTraceRequest,
  notifyParties, callAdapter, requestInterconnectionCut, startFixChange, checkReleaseValidation, checkInterconnectionCut, prepareWatchReview, checkIncidentAcknowledgement]

/** Retries Zeebe gives a job unless the model says otherwise: the first attempt has this many left. */
export const DEFAULT_JOB_RETRIES = 3

/** How a failed job is answered. */
export interface Failure {
  /** retry: the job comes back after the backoff; incident: no retries left, an operator must act. */
  outcome: 'retry' | 'incident'
  retries: number
  retryBackOff: number
  errorMessage: string
}

/** Failures that no retry can cure: bad variables, headers, model, template data, or a 5xx reply. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof JobInputError ||
    error instanceof PermanentMailError ||
    error instanceof TemplateDataError ||
    error instanceof UnknownTemplateError ||
    error instanceof UnknownOrganisationError ||
    error instanceof UnknownIncidentError ||
    error instanceof UnknownRecordError ||
    error instanceof UnknownCutError ||
    error instanceof LinkControlRejectedError ||
    error instanceof DurationError
  )
}

/**
 * Permanent failures raise an incident at once. Anything else (SMTP unreachable, a 4xx reply, an
 * unexpected error) is retried with an exponential backoff: base, 2 x base, 4 x base...
 */
export function classifyFailure(error: unknown, retriesLeft: number, backoffBaseMs: number): Failure {
  const errorMessage = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  if (isPermanent(error)) return { outcome: 'incident', retries: 0, retryBackOff: 0, errorMessage }
  const retries = Math.max(0, retriesLeft - 1)
  const attempt = Math.max(0, DEFAULT_JOB_RETRIES - retriesLeft)
  return { outcome: retries === 0 ? 'incident' : 'retry', retries, retryBackOff: retries === 0 ? 0 : backoffBaseMs * 2 ** attempt, errorMessage }
}

export interface StartWorkersOptions {
  /** First retry delay of a transient failure; default 10 s. */
  backoffBaseMs?: number
  /** How often a worker asks for jobs; default 200 ms. */
  pollIntervalMs?: number
  /**
   * How long an idle request for jobs stays open; default 0, the gateway's own default (10 s on
   * Zeebe and on raccord's engine). With a positive value the SDK (8.8) also stops reading the
   * request 1 s after it, without cancelling it: a job the gateway hands out in that moment is
   * lost to the worker until its timeout. With 0 the SDK arms no such timer.
   */
  longPollMs?: number
  /** How long a job stays with a worker before the engine gives it to another; default 2 min. */
  jobTimeoutMs?: number
  /** Told of every job handled, for metrics. */
  onJobHandled?(taskType: string, outcome: 'completed' | Failure['outcome']): void
}

/** Running workers; close() stops asking for jobs and waits for those in hand. */
export interface RunningWorkers {
  close(): Promise<void>
}

export function startWorkers(zeebe: Zeebe.ZeebeGrpcClient, services: JobServices, options: StartWorkersOptions = {}): RunningWorkers {
  const { backoffBaseMs = 10_000, pollIntervalMs = 200, jobTimeoutMs = 120_000, longPollMs = 0, onJobHandled } = options
  const workers = WORKERS.map((worker) =>
    zeebe.createWorker({
      taskType: worker.TASK_TYPE,
      fetchVariable: Object.keys(worker.inputSchema.shape),
      pollInterval: pollIntervalMs,
      timeout: jobTimeoutMs,
      longPoll: longPollMs,
      taskHandler: async (job) => {
        const info: JobInfo = {
          key: job.key,
          processInstanceKey: job.processInstanceKey,
          elementId: job.elementId,
          retries: job.retries,
          headers: Object.fromEntries(Object.entries(job.customHeaders).map(([name, value]) => [name, String(value)])),
        }
        try {
          const input = parseInput(worker.inputSchema, job.variables)
          const output = await worker.handle(input as never, { ...services, job: info })
          onJobHandled?.(worker.TASK_TYPE, 'completed')
          return job.complete(output as Record<string, never>)
        } catch (error) {
          if (error instanceof BpmnErrorOutcome) {
            onJobHandled?.(worker.TASK_TYPE, 'completed')
            return job.error({ errorCode: error.code, errorMessage: error.message, variables: error.variables as Record<string, never> })
          }
          const failure = classifyFailure(error, job.retries, backoffBaseMs)
          onJobHandled?.(worker.TASK_TYPE, failure.outcome)
          services.logger?.warn({ taskType: worker.TASK_TYPE, jobKey: job.key, elementId: job.elementId, ...failure }, 'job failed')
          return job.fail({ errorMessage: failure.errorMessage, retries: failure.retries, retryBackOff: failure.retryBackOff })
        }
      },
    }),
  )
  return {
    close: async () => {
      await Promise.all(workers.map((worker) => worker.close()))
    },
  }
}
