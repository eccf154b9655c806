/**
 * What a worker's `handle(input, ctx)` may use: the configuration, the mailer, the traces, a clock,
 * the capabilities some workers need (cuts, security records, the hand-off to other processes,
 * recorded changes), and the facts of the job it works on. The wiring passes each capability
 * explicitly; no SDK type appears here, so a worker is testable alone.
 */
import type { Logger } from 'pino'
import type { Config } from '../../config'
import type { Mailer } from '../../notify'
import type { ProcessHandoff } from '../../engine-client/process-handoff'
import type { UserTaskLookup } from '../../engine-client/user-task-lookup'
import type { ValidationRecords } from '../changes/release-validation'
import type { CutServices } from '../cuts/cut-services'
import type { TraceStore } from '../incidents/trace-store'
import type { SecurityStore } from '../security/security-store'
import { JobInputError, type JobInfo } from './job-input'

/** Shared by every job. */
export interface WorkerServices {
  config: Config
  mailer: Pick<Mailer, 'send'>
  trace: TraceStore
  now(): Date
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
  /** interconnection cuts: their trail, links and link control (the cut workers need them) */
  cuts?: CutServices
  /** vulnerabilities, watch reviews and trace requests (the security workers need them) */
  security?: SecurityStore
  /** hands work to another process: publish a message, start a process (the hand-off workers need it) */
  processes?: ProcessHandoff
  /** the changes raccord recorded, where a provider release's validation reference is checked (PRD-5) */
  validations?: ValidationRecords
  /** who holds a user task of the job's own instance (the incident's acknowledgement, INC-3) */
  userTasks?: UserTaskLookup
}

export interface WorkerContext extends WorkerServices {
  job: JobInfo
}

/** A capability the job needs but raccord was started without: a wiring mistake, no retry helps. */
function missing(what: string): JobInputError {
  return new JobInputError([`raccord runs without ${what}`])
}

/** The cut services of a job. Throws JobInputError. */
export function cutServicesOf(ctx: Pick<WorkerServices, 'cuts'>): CutServices {
  if (ctx.cuts === undefined) throw missing('interconnection cut services (WorkerServices.cuts)')
  return ctx.cuts
}

/** The security records of a job. Throws JobInputError. */
export function securityStoreOf(ctx: Pick<WorkerServices, 'security'>): SecurityStore {
  if (ctx.security === undefined) throw missing('the security records (WorkerServices.security)')
  return ctx.security
}

/** The hand-off capability of a job. Throws JobInputError. */
export function processHandoffOf(ctx: Pick<WorkerServices, 'processes'>): ProcessHandoff {
  if (ctx.processes === undefined) throw missing('the process hand-off capability (WorkerServices.processes)')
  return ctx.processes
}

/** The user-task lookup of a job. Throws JobInputError. */
export function userTaskLookupOf(ctx: Pick<WorkerServices, 'userTasks'>): UserTaskLookup {
  if (ctx.userTasks === undefined) throw missing('the user-task lookup (WorkerServices.userTasks)')
  return ctx.userTasks
}
