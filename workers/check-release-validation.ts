/**
 * check-release-validation: PRD-5, a provider version goes to production only with the reference
 * of its validation through the client's pre-production portal. The reference must name a
 * validation of this provider that raccord recorded (src/app/changes/release-validation.ts); the process
 * routes on the verdict, and a refusal mails the reason to both parties.
 */
import { z } from 'zod'
import { checkPreproductionValidation, type ValidationCheck } from '../src/app/changes/release-validation'
import { JobInputError } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'check-release-validation' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** the provider releasing a new version of its service */
  providerId: z.string().min(1),
  /** CHG-...: the change in which the version was validated; null when the request gave none */
  validationReference: z.string().nullish(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** validated, or the verdict and the reason of the refusal */
  validationCheck: ValidationCheck
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  if (ctx.validations === undefined) throw new JobInputError(['raccord runs without the change records (WorkerServices.validations)'])
  return { validationCheck: await checkPreproductionValidation(ctx.validations, input.validationReference, input.providerId) }
}
