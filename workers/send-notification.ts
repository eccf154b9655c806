/**
 * send-notification: mails an incident event to parties of the agreement (INC-4: the parties share
 * no tool, so they learn by email), one mail per recipient organisation in its language, and
 * appends each mail with its Message-ID to the incident's trace (INC-2).
 *
 * Task headers: `template` (a mail template id) and `recipients`, a comma-separated list of
 * `party:role`, e.g. `other-party:operations, both-parties:directors`; for the SLA mails, `target`
 * (`response` or `resolution`, the default) names the target the mail is about (INC-3).
 */
import { z } from 'zod'
import { organisation, type Config, type ContactRole, type Organisation } from '../src/config'
import { isTemplateId, type TemplateData } from '../src/notify'
import { addDuration } from '../src/app/iso-duration'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'
import { resolveRecipientHeader, type RecipientGroup } from '../src/app/worker-kit/recipients'

export const TASK_TYPE = 'send-notification' as const

const level = z.enum(['high', 'medium', 'low'])

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  incidentId: z.string().min(1),
  title: z.string().min(1),
  description: z.string().optional(),
  /** id of a service in the configuration */
  service: z.string().min(1),
  impact: level,
  urgency: level,
  reportingOrganisation: z.string().min(1),
  /** ISO 8601; when absent, the declaration time in the trace */
  declaredAt: z.iso.datetime({ offset: true }).optional(),
  /** the result of the incident-priority decision (INC-3) */
  priority: z.object({
    priority: z.enum(['P1', 'P2', 'P3', 'P4']),
    responseTarget: z.string(),
    resolutionTarget: z.string(),
  }),
  /** from the restore-service form: how, what, when */
  resolutionKind: z.enum(['workaround', 'fix']).optional(),
  resolutionSummary: z.string().optional(),
  restoredAt: z.string().optional(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** Message-IDs of the mails, one per recipient organisation */
  messageIds: string[]
}

/** Whose contacts a recipient entry names, relative to the incident's reporting organisation. */
export const PARTIES = ['reporting-party', 'other-party', 'both-parties', 'self'] as const
export type Party = (typeof PARTIES)[number]

const ROLES: readonly ContactRole[] = ['operations', 'technicalLead', 'functionalLead', 'directors', 'traceRequestSenders', 'traceRequestReceivers']

/** The templates this worker knows how to fill from incident variables. */
const SUPPORTED_TEMPLATES = ['incident-declared', 'incident-sla-reminder', 'incident-sla-breached', 'incident-resolved'] as const
type SupportedTemplate = (typeof SUPPORTED_TEMPLATES)[number]

/**
 * The mail of this job to this organisation: a redelivered job sends it once. The incident id keeps
 * keys (and so Message-IDs) apart when job keys start again, on a fresh engine or cluster.
 */
export function idempotencyKey(incidentId: string, jobKey: string, organisationId: string): string {
  return `${incidentId}:${jobKey}:${organisationId}`
}

/**
 * The other side of an incident: the owner of the affected service when it is not the reporting
 * organisation; otherwise the client for a provider's own service, and every provider for the
 * client's own service (the portal carries all of them).
 */
export function otherPartiesOf(config: Config, reportingOrganisation: string, serviceId: string): Organisation[] {
  const reporting = organisation(config, reportingOrganisation)
  const owner = config.organisations.find((org) => org.services.some((service) => service.id === serviceId))
  if (owner === undefined) throw new JobInputError([`variable service: unknown service '${serviceId}'`])
  if (owner.id !== reporting.id) return [owner]
  return config.organisations.filter((org) => org.id !== reporting.id && (reporting.role === 'provider' ? org.role === 'client' : true))
}

/** Resolves the `recipients` header into one group per organisation, in header order. Throws JobInputError. */
export function resolveRecipients(config: Config, header: string, incident: { reportingOrganisation: string; service: string }): RecipientGroup[] {
  return resolveRecipientHeader(config, header, PARTIES, ROLES, (party) => partyOrganisations(config, party, incident))
}

function partyOrganisations(config: Config, party: Party, incident: { reportingOrganisation: string; service: string }): Organisation[] {
  switch (party) {
    case 'reporting-party':
      return [organisation(config, incident.reportingOrganisation)]
    case 'other-party':
      return otherPartiesOf(config, incident.reportingOrganisation, incident.service)
    case 'both-parties':
      return [organisation(config, incident.reportingOrganisation), ...otherPartiesOf(config, incident.reportingOrganisation, incident.service)]
    case 'self':
      return [organisation(config, config.self)]
  }
}

/** The data a template needs, from the incident's variables. Missing data surfaces as TemplateDataError when rendered. */
/** The target an SLA mail is about, from the task header `target`. */
export type SlaTarget = 'response' | 'resolution'

export function templateData(template: SupportedTemplate, input: Input, declaredAt: string, config: Config, recipients: RecipientGroup[], target: SlaTarget = 'resolution'): TemplateData<SupportedTemplate> {
  const reporting = organisation(config, input.reportingOrganisation)
  const service = config.organisations.flatMap((org) => org.services).find((candidate) => candidate.id === input.service)
  const common = {
    reference: input.incidentId,
    title: input.title,
    service: service?.name ?? input.service,
    priority: input.priority.priority,
    declaringParty: reporting.name,
  }
  const resolutionDueAt = addDuration(declaredAt, input.priority.resolutionTarget)
  const targetDueAt = target === 'response' ? addDuration(declaredAt, input.priority.responseTarget) : resolutionDueAt
  switch (template) {
    case 'incident-declared':
      return {
        ...common,
        description: input.description,
        impact: input.impact,
        urgency: input.urgency,
        declaredAt,
        responseDueAt: addDuration(declaredAt, input.priority.responseTarget),
        resolutionDueAt,
        contact: { name: reporting.contacts.operations.name, email: reporting.contacts.operations.email, phone: reporting.contacts.operations.onCallPhone },
      } satisfies TemplateData<'incident-declared'>
    case 'incident-sla-reminder':
      return { ...common, target, dueAt: targetDueAt } satisfies TemplateData<'incident-sla-reminder'>
    case 'incident-sla-breached':
      return {
        ...common,
        target,
        dueAt: targetDueAt,
        escalatedTo: recipients.flatMap((group) => group.contacts.map((contact) => contact.name)),
      } satisfies TemplateData<'incident-sla-breached'>
    case 'incident-resolved':
      return { ...common, resolvedAt: input.restoredAt, resolution: input.resolutionKind, summary: input.resolutionSummary } as TemplateData<'incident-resolved'>
  }
}

/** The optional `target` header. Throws JobInputError on another value. */
function slaTargetOf(headers: Readonly<Record<string, string>>): SlaTarget {
  const target = headers.target ?? 'resolution'
  if (target !== 'response' && target !== 'resolution') throw new JobInputError([`task header target: '${target}' is not one of response, resolution`])
  return target
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const template = requiredHeader(ctx.job, 'template')
  if (!isTemplateId(template) || !(SUPPORTED_TEMPLATES as readonly string[]).includes(template)) {
    throw new JobInputError([`task header template: '${template}' is not one of ${SUPPORTED_TEMPLATES.join(', ')}`])
  }
  const supported = template as SupportedTemplate
  const recipients = resolveRecipients(ctx.config, requiredHeader(ctx.job, 'recipients'), input)
  const incident = ctx.trace.incident(input.incidentId)
  if (incident === undefined) throw new JobInputError([`variable incidentId: incident '${input.incidentId}' is not in the trace`])
  const declaredAt = input.declaredAt ?? incident.declaredAt
  const data = templateData(supported, input, declaredAt, ctx.config, recipients, slaTargetOf(ctx.job.headers))

  ctx.trace.setPriority(input.incidentId, input.priority.priority)
  // The resolution mail is the first step after the restore-service task: the service is back.
  if (supported === 'incident-resolved') ctx.trace.setState(input.incidentId, 'restored', input.restoredAt ?? ctx.now().toISOString())

  const messageIds: string[] = []
  for (const group of recipients) {
    const key = idempotencyKey(input.incidentId, ctx.job.key, group.organisation.id)
    const sent = await ctx.mailer.send<SupportedTemplate>({
      idempotencyKey: key,
      to: group.contacts.map((contact) => contact.email),
      template: supported,
      lang: group.organisation.language,
      data,
      timeZone: group.organisation.timeZone,
    })
    ctx.trace.append({
      idempotencyKey: `mail:${key}`,
      incidentId: input.incidentId,
      at: ctx.now().toISOString(),
      actor: 'raccord',
      event: 'notification-sent',
      detail: { template: supported, organisation: group.organisation.id, to: group.contacts.map((contact) => contact.email), elementId: ctx.job.elementId },
      messageId: sent.messageId,
    })
    messageIds.push(sent.messageId)
  }
  return { messageIds }
}
