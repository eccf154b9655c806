/**
 * check-interconnection-cut: an interconnection that is cut stays down until its cut is restored,
 * on the crisis cell's agreement (CUT-1, CRI-3). A pre-production link is therefore neither
 * reactivated nor declared ready while its interconnection has an open cut: this worker finds that
 * cut in the trail, and the process routes on it.
 */
import { z } from 'zod'
import { cutServicesOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'check-interconnection-cut' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** id of the interconnection in the configuration */
  interconnectionId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** the latest cut of the interconnection not restored yet, or null when there is none */
  openCut: { cutId: string; state: string; requestedAt: string; reason: string } | null
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const cut = cutServicesOf(ctx).store.openCutOf(input.interconnectionId)
  return { openCut: cut === undefined ? null : { cutId: cut.id, state: cut.state, requestedAt: cut.requestedAt, reason: cut.reason } }
}
