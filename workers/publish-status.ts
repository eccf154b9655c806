/**
 * publish-status: tells end users on the public status page (USR-1). A cut of a production
 * interconnection opens a notice on the service's component, and its restoration resolves it;
 * a pre-production cut concerns no end user and publishes nothing. End users read plain words in
 * the language of this installation's organisation, never the security details.
 *
 * Task header `event`: cut-opened or cut-resolved.
 */
import { z } from 'zod'
import { selfOrganisation, type Language } from '../src/config'
import { cutContext } from '../src/app/cut-services'
import { JobInputError, requiredHeader, type WorkerContext } from '../src/app/worker-context'
import type { StatusStore } from '../src/status/status-store'

export const TASK_TYPE = 'publish-status' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  cutId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** id of the notice on the status page, or null when the cut concerns no end user */
  statusNoticeId: string | null
}

export const EVENTS = ['cut-opened', 'cut-resolved'] as const

const WORDS: Record<Language, { title: (service: string) => string; opened: (service: string) => string; resolved: (service: string) => string }> = {
  fr: {
    title: (service) => `${service} indisponible depuis le portail`,
    opened: (service) => `Le service ${service} n'est momentanément plus accessible depuis le portail. Les équipes des deux organismes travaillent à son rétablissement ; cette page sera mise à jour.`,
    resolved: (service) => `Le service ${service} est de nouveau accessible depuis le portail.`,
  },
  en: {
    title: (service) => `${service} unavailable from the portal`,
    opened: (service) => `The service ${service} cannot be reached from the portal for the moment. Both organisations' teams are working to restore it; this page will be updated.`,
    resolved: (service) => `The service ${service} can be reached from the portal again.`,
  },
}

export function statusStoreOf(ctx: Pick<WorkerContext, 'status'>): StatusStore {
  if (ctx.status === undefined) throw new JobInputError(['raccord runs without the status page store (WorkerServices.status)'])
  return ctx.status
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  if (!(EVENTS as readonly string[]).includes(event)) throw new JobInputError([`task header event: '${event}' is not one of ${EVENTS.join(', ')}`])
  const store = statusStoreOf(ctx)
  const { services, cut } = cutContext(ctx, input.cutId)
  if (cut.environment !== 'production') return { statusNoticeId: null }

  const words = WORDS[selfOrganisation(ctx.config).language]
  const serviceName = ctx.config.organisations.flatMap((org) => org.services).find((service) => service.id === cut.service)?.name ?? cut.service
  const noticeId = `cut:${cut.id}`
  const at = ctx.now().toISOString()
  const idempotencyKey = `status:${cut.id}:${ctx.job.key}`
  if (event === 'cut-opened') {
    store.open({ id: noticeId, component: cut.service, title: words.title(serviceName), impact: 'major', componentState: 'major_outage', state: 'investigating', createdAt: at, body: words.opened(serviceName), idempotencyKey })
  } else {
    store.update({ noticeId, state: 'resolved', body: words.resolved(serviceName), at, idempotencyKey })
  }
  services.store.append({ idempotencyKey: `cut:${cut.id}:${ctx.job.key}`, cutId: cut.id, at, actor: 'raccord', event: 'status-published', detail: { notice: noticeId, state: event === 'cut-opened' ? 'investigating' : 'resolved' } })
  return { statusNoticeId: noticeId }
}
