/**
 * check-incident-acknowledgement: INC-3, the response target of an incident's priority is reached;
 * did the responsible team take the incident in time? It did when someone took its restore-service
 * task: raccord's console records the first claim on the instance (`acknowledgedAt`,
 * `acknowledgedBy`), and Tasklist leaves the task assigned, which the engine answers. The process
 * escalates when nobody did.
 */
import { z } from 'zod'
import { userTaskLookupOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'check-incident-acknowledgement' as const

/** The user task whose taking acknowledges an incident (src/console/acknowledgement.ts names the same). */
export const ACKNOWLEDGING_ELEMENT = 'restore-service'

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** set by the console on the first claim of restore-service */
  acknowledgedAt: z.string().nullish(),
  acknowledgedBy: z.string().nullish(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** whether the responsible team took the incident before its response target, and who */
  acknowledgement: { acknowledged: boolean; by: string | null; at: string | null }
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  if (typeof input.acknowledgedAt === 'string') {
    return { acknowledgement: { acknowledged: true, by: input.acknowledgedBy ?? null, at: input.acknowledgedAt } }
  }
  const assignee = await userTaskLookupOf(ctx).assigneeOf(ctx.job.processInstanceKey, ACKNOWLEDGING_ELEMENT)
  return { acknowledgement: { acknowledged: assignee !== null, by: assignee, at: null } }
}
