/**
 * What a worker's `handle(input, ctx)` may use: the configuration, the mailer, the trace, a clock,
 * the hand-off to other processes (publish a message, start a process),
 * and the facts of the job it works on. No SDK type appears here, so a worker is testable alone.
 */
import type { Logger } from 'pino'
import type { z } from 'zod'
import { formatPath, type Config } from '../../config'
import type { Mailer } from '../../notify'
import type { StatusStore } from '../../status/status-store'
import type { CutServices } from '../cuts/cut-services'
import type { ProcessHandoff } from '../../engine-client/process-handoff'
import type { ValidationRecords } from '../changes/release-validation'
import type { TraceStore } from '../incidents/trace-store'

/** The job being handled, as far as a worker needs it. */
export interface JobInfo {
  /** Unique per job: the root of every idempotency key. */
  key: string
  processInstanceKey: string
  /** The BPMN element the job belongs to. */
  elementId: string
  /** Retries left, this attempt included. */
  retries: number
  /** The task headers of the BPMN element (zeebe:taskHeaders). */
  headers: Readonly<Record<string, string>>
}

/** Shared by every job. */
export interface WorkerServices {
  config: Config
  mailer: Pick<Mailer, 'send'>
  trace: TraceStore
  now(): Date
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
  /** interconnection cuts: their trail, links and link control (the cut workers need them) */
  cuts?: CutServices
  /** the public status page's notices (publish-status needs it) */
  status?: StatusStore
  /** hands work to another process: publish a message, start a process (the hand-off workers need it) */
  processes?: ProcessHandoff
  /** the changes raccord recorded, where a provider release's validation reference is checked (PRD-5) */
  validations?: ValidationRecords
}

export interface WorkerContext extends WorkerServices {
  job: JobInfo
}

/**
 * Retrying cannot help: the job's variables or headers, or the model, are wrong. The job fails
 * with no retries left, so the process raises an incident that names each problem.
 */
export class JobInputError extends Error {
  override name = 'JobInputError'
  constructor(readonly problems: string[]) {
    super(problems.join('; '))
  }
}

/** Validates the job's variables against a worker's input schema. Throws JobInputError. */
export function parseInput<S extends z.ZodType>(schema: S, variables: unknown): z.output<S> {
  const parsed = schema.safeParse(variables)
  if (parsed.success) return parsed.data
  throw new JobInputError(parsed.error.issues.map((issue) => `variable ${formatPath(issue.path) || '(all)'}: ${issue.message}`))
}

/** A task header the element must carry. Throws JobInputError. */
export function requiredHeader(job: JobInfo, name: string): string {
  const value = job.headers[name]
  if (typeof value !== 'string' || value.trim() === '') throw new JobInputError([`task header '${name}' is missing on element '${job.elementId}'`])
  return value.trim()
}
