/**
 * disable-interconnection: cuts our side of the interconnection through its link control (CUT-1):
 * the webhook of the party's gateway or firewall automation, retried by the engine when it is
 * unreachable; or, for a manual link control, nothing, and the process asks an operator.
 */
import { z } from 'zod'
import { switchInterconnection } from '../src/app/cuts/cut-jobs'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'disable-interconnection' as const

export const inputSchema = z.object({
  cutId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** false: the link control is manual, an operator must cut it */
  ourSideCut: boolean
  /** when the webhook cut it */
  ourCutAt?: string
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const { done, at } = await switchInterconnection(ctx, input.cutId, 'disable')
  return done ? { ourSideCut: true, ourCutAt: at } : { ourSideCut: false }
}
