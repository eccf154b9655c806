/**
 * enable-interconnection: restores our side of the interconnection through the same link control
 * as the cut, once the crisis cell agreed (CRI-3); for a manual link control the process asks an
 * operator.
 */
import { z } from 'zod'
import { switchInterconnection } from '../src/app/cuts/cut-jobs'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'enable-interconnection' as const

export const inputSchema = z.object({
  cutId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** false: the link control is manual, an operator must restore it */
  ourSideRestored: boolean
  ourRestoredAt?: string
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const { done, at } = await switchInterconnection(ctx, input.cutId, 'enable')
  return done ? { ourSideRestored: true, ourRestoredAt: at } : { ourSideRestored: false }
}
