/**
 * check-trace-request-contacts: TRC-2, only the named, authorised contacts may ask for traces or
 * receive such a request. The requester must be one of its organisation's trace-request senders
 * and the recipient one of the other organisation's trace-request receivers, as configured.
 */
import { z } from 'zod'
import { contactProblems } from '../src/app/traces/trace-requests'
import { JobInputError } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'check-trace-request-contacts' as const

const party = z.object({ organisation: z.string().min(1), name: z.string().min(1) })

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  direction: z.enum(['outgoing', 'incoming']),
  requester: party,
  recipient: party,
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** authorised: both contacts are; otherwise the reasons, one per contact */
  contactCheck: { authorised: boolean; problems: string[] }
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const problems: string[] = []
  const orgIds = ctx.config.organisations.map((org) => org.id)
  for (const side of ['requester', 'recipient'] as const) {
    if (!orgIds.includes(input[side].organisation)) problems.push(`variable ${side}.organisation: unknown organisation '${input[side].organisation}'`)
  }
  const own = input.direction === 'outgoing' ? input.requester : input.recipient
  if (problems.length === 0 && own.organisation !== ctx.config.self) {
    problems.push(`variable direction: an ${input.direction} request has ${ctx.config.self} as its ${input.direction === 'outgoing' ? 'requester' : 'recipient'}`)
  }
  if (problems.length > 0) throw new JobInputError(problems)
  const refusal = contactProblems(ctx.config, input.requester, input.recipient)
  return { contactCheck: { authorised: refusal.length === 0, problems: refusal } }
}
