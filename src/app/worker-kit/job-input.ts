/**
 * The job a worker handles and what is wrong with it: its facts, its variables checked against the
 * worker's schema, its task headers. Below every domain, so any of them may refuse a job's input.
 */
import type { z } from 'zod'
import { formatPath } from '../../config'

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
