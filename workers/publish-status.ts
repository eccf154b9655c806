/**
 * publish-status: tells end users on the public status page (USR-1, PRD-4). End users read plain
 * words in the language of this installation's organisation, never the security details.
 *
 * - `cut-opened`, `cut-resolved`: a cut of a production interconnection opens a notice on the
 *   service's component, and its restoration resolves it; a pre-production cut concerns no end
 *   user and publishes nothing.
 * - `incident-opened`, `incident-resolved`: a P1 incident opens a notice on its service's
 *   component, and the restoration resolves it; other priorities publish nothing.
 * - `service-opened`: a provider service newly opened on the portal is announced on its component.
 *
 * Task header `event`: one of EVENTS.
 */
import { z } from 'zod'
import { selfOrganisation, type Config, type Language } from '../src/config'
import { cutContext } from '../src/app/cuts/cut-jobs'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'
import type { StatusStore } from '../src/status/status-store'

export const TASK_TYPE = 'publish-status' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** interconnection-cut */
  cutId: z.string().min(1).optional(),
  /** incident-management: the incident, its service and the incident-priority decision's result */
  incidentId: z.string().min(1).optional(),
  service: z.string().min(1).optional(),
  priority: z.looseObject({ priority: z.string() }).optional(),
  /** service-opening: the opening's reference and the service opened */
  reference: z.string().min(1).optional(),
  serviceId: z.string().min(1).optional(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** id of the notice on the status page, or null when end users are not concerned */
  statusNoticeId: string | null
}

export const EVENTS = ['cut-opened', 'cut-resolved', 'incident-opened', 'incident-resolved', 'service-opened'] as const
type StatusEvent = (typeof EVENTS)[number]

/** Only the highest priority concerns end users (USR-1): the service is down or nearly so for them. */
export const PUBLISHED_PRIORITY = 'P1'

interface Words {
  cutTitle: (service: string) => string
  cutOpened: (service: string) => string
  cutResolved: (service: string) => string
  incidentTitle: (service: string) => string
  incidentOpened: (service: string) => string
  incidentResolved: (service: string) => string
  openedTitle: (service: string) => string
  opened: (service: string) => string
}

const WORDS: Record<Language, Words> = {
  fr: {
    cutTitle: (service) => `${service} indisponible depuis le portail`,
    cutOpened: (service) => `Le service ${service} n'est momentanément plus accessible depuis le portail. Les équipes des deux organismes travaillent à son rétablissement ; cette page sera mise à jour.`,
    cutResolved: (service) => `Le service ${service} est de nouveau accessible depuis le portail.`,
    incidentTitle: (service) => `Incident sur ${service}`,
    incidentOpened: (service) => `Un incident perturbe fortement le service ${service}. Les équipes travaillent à son rétablissement ; cette page sera mise à jour.`,
    incidentResolved: (service) => `Le service ${service} fonctionne de nouveau normalement.`,
    openedTitle: (service) => `Nouveau service : ${service}`,
    opened: (service) => `Le service ${service} est désormais accessible depuis le portail.`,
  },
  en: {
    cutTitle: (service) => `${service} unavailable from the portal`,
    cutOpened: (service) => `The service ${service} cannot be reached from the portal for the moment. Both organisations' teams are working to restore it; this page will be updated.`,
    cutResolved: (service) => `The service ${service} can be reached from the portal again.`,
    incidentTitle: (service) => `Incident on ${service}`,
    incidentOpened: (service) => `An incident severely disrupts the service ${service}. The teams are working to restore it; this page will be updated.`,
    incidentResolved: (service) => `The service ${service} works normally again.`,
    openedTitle: (service) => `New service: ${service}`,
    opened: (service) => `The service ${service} can now be reached from the portal.`,
  },
}

/** The status page's store: the capability of this worker alone, beside the domain's in WorkerServices. */
export interface StatusCapability {
  status?: StatusStore
}

type StatusContext = WorkerContext & StatusCapability

export function statusStoreOf(ctx: StatusCapability): StatusStore {
  if (ctx.status === undefined) throw new JobInputError(['raccord runs without the status page store (StatusCapability.status)'])
  return ctx.status
}

export async function handle(input: Input, ctx: StatusContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  if (!(EVENTS as readonly string[]).includes(event)) throw new JobInputError([`task header event: '${event}' is not one of ${EVENTS.join(', ')}`])
  const words = WORDS[selfOrganisation(ctx.config).language]
  switch (event as StatusEvent) {
    case 'cut-opened':
    case 'cut-resolved':
      return publishCut(event === 'cut-opened', required(input, 'cutId', event), ctx, words)
    case 'incident-opened':
    case 'incident-resolved':
      return publishIncident(event === 'incident-opened', input, ctx, words)
    case 'service-opened':
      return publishOpening(required(input, 'reference', event), required(input, 'serviceId', event), ctx, words)
  }
}

function required<K extends keyof Input>(input: Input, name: K, event: string): NonNullable<Input[K]> {
  const value = input[name]
  if (value === undefined) throw new JobInputError([`variable ${name}: Required for the event ${event}`])
  return value as NonNullable<Input[K]>
}

function serviceName(config: Config, id: string): string {
  return config.organisations.flatMap((org) => org.services).find((service) => service.id === id)?.name ?? id
}

function knownService(config: Config, id: string, variable: 'service' | 'serviceId'): string {
  if (!config.organisations.some((org) => org.services.some((service) => service.id === id))) throw new JobInputError([`variable ${variable}: unknown service '${id}'`])
  return id
}

function publishCut(opened: boolean, cutId: string, ctx: StatusContext, words: Words): Output {
  const store = statusStoreOf(ctx)
  const { services, cut } = cutContext(ctx, cutId)
  if (cut.environment !== 'production') return { statusNoticeId: null }
  const name = serviceName(ctx.config, cut.service)
  const noticeId = `cut:${cut.id}`
  const at = ctx.now().toISOString()
  const idempotencyKey = `status:${cut.id}:${ctx.job.key}`
  if (opened) {
    store.open({ id: noticeId, component: cut.service, title: words.cutTitle(name), impact: 'major', componentState: 'major_outage', state: 'investigating', createdAt: at, body: words.cutOpened(name), idempotencyKey })
  } else {
    store.update({ noticeId, state: 'resolved', body: words.cutResolved(name), at, idempotencyKey })
  }
  services.store.append({ idempotencyKey: `cut:${cut.id}:${ctx.job.key}`, cutId: cut.id, at, actor: 'raccord', event: 'status-published', detail: { notice: noticeId, state: opened ? 'investigating' : 'resolved' } })
  return { statusNoticeId: noticeId }
}

/** The notice of a P1 incident; the restoration resolves only a notice that was opened. */
function publishIncident(opened: boolean, input: Input, ctx: StatusContext, words: Words): Output {
  const event = opened ? 'incident-opened' : 'incident-resolved'
  const incidentId = required(input, 'incidentId', event)
  const noticeId = `incident:${incidentId}`
  const at = ctx.now().toISOString()
  const idempotencyKey = `status:${incidentId}:${ctx.job.key}`
  if (opened) {
    if (required(input, 'priority', event).priority !== PUBLISHED_PRIORITY) return { statusNoticeId: null }
    const component = knownService(ctx.config, required(input, 'service', event), 'service')
    const name = serviceName(ctx.config, component)
    statusStoreOf(ctx).open({ id: noticeId, component, title: words.incidentTitle(name), impact: 'critical', componentState: 'major_outage', state: 'investigating', createdAt: at, body: words.incidentOpened(name), idempotencyKey })
  } else {
    const store = statusStoreOf(ctx)
    const notice = store.notice(noticeId)
    if (notice === undefined) return { statusNoticeId: null }
    store.update({ noticeId, state: 'resolved', body: words.incidentResolved(serviceName(ctx.config, notice.component)), at, idempotencyKey })
  }
  // INC-2: the incident's trace says what end users were told.
  if (ctx.trace.incident(incidentId) !== undefined) {
    ctx.trace.append({ idempotencyKey: `trace:${incidentId}:${ctx.job.key}`, incidentId, at, actor: 'raccord', event: 'status-published', detail: { notice: noticeId, state: opened ? 'investigating' : 'resolved' } })
  }
  return { statusNoticeId: noticeId }
}

function publishOpening(reference: string, serviceId: string, ctx: StatusContext, words: Words): Output {
  const component = knownService(ctx.config, serviceId, 'serviceId')
  const name = serviceName(ctx.config, component)
  const noticeId = `opening:${reference}`
  statusStoreOf(ctx).announce({ id: noticeId, component, title: words.openedTitle(name), body: words.opened(name), at: ctx.now().toISOString(), idempotencyKey: `status:${reference}:${ctx.job.key}` })
  return { statusNoticeId: noticeId }
}
