/** What the cut workers do with a job's cut: find it with its parties, switch our side of its interconnection. */
import { organisation } from '../../config'
import { JobInputError } from '../worker-kit/job-input'
import { cutServicesOf, type WorkerContext } from '../worker-kit/worker-context'
import { findInterconnection } from './cut-services'
import type { LinkAction } from './link-control'

/** The cut of a job, with its interconnection and the other party. Throws JobInputError. */
export function cutContext(ctx: WorkerContext, cutId: string) {
  const services = cutServicesOf(ctx)
  const cut = services.store.cut(cutId)
  if (cut === undefined) throw new JobInputError([`variable cutId: cut '${cutId}' is not in the trail`])
  const located = findInterconnection(ctx.config, cut.interconnectionId)
  if (located === undefined) throw new JobInputError([`cut '${cutId}': interconnection '${cut.interconnectionId}' is no longer in the configuration`])
  return { services, cut, located, otherParty: organisation(ctx.config, cut.otherParty) }
}

/**
 * Disables or enables our side through the interconnection's link control, and traces it. Answers
 * whether it is done; false means the link control is manual and an operator must do it.
 */
export async function switchInterconnection(ctx: WorkerContext, cutId: string, action: LinkAction): Promise<{ done: boolean; at?: string }> {
  const { services, located } = cutContext(ctx, cutId)
  const outcome = await services.linkControl.apply({ interconnection: located.interconnection, action, cutId, idempotencyKey: `${cutId}:${action}:${ctx.job.key}` })
  const at = outcome.mode === 'webhook' ? outcome.at : ctx.now().toISOString()
  services.store.append({
    idempotencyKey: `cut:${cutId}:${ctx.job.key}`,
    cutId,
    at,
    actor: 'raccord',
    event: outcome.mode === 'webhook' ? `interconnection-${action}d` : `manual-${action}-requested`,
    detail: outcome.mode === 'webhook'
      ? { linkControl: 'webhook', url: located.interconnection.linkControl.type === 'webhook' ? located.interconnection.linkControl.url : null, status: outcome.status }
      : { linkControl: 'manual', elementId: ctx.job.elementId },
  })
  return outcome.mode === 'webhook' ? { done: true, at } : { done: false }
}
