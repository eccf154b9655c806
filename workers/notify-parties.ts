/**
 * notify-parties: mails a step of change management or of a production opening to the parties it
 * concerns (PRD-2: the channels of incident management, so by mail), one mail per organisation in
 * its language. Every gate of CHG-1..8 and PRD-1..6 has two parties: this is how the other one
 * learns what is asked of it, by when, and why something was refused.
 *
 * Task headers: `event` (one of CHANGE_EVENTS) and `recipients`, a comma-separated list of
 * `party:role` with party one of client, provider (the variable providerId), providers (the
 * variable providers, else every provider of the configuration), e.g.
 * `client:functionalLead, providers:technicalLead`.
 */
import { z } from 'zod'
import { organisation, type Config, type ContactRole, type Organisation } from '../src/config'
import { CHANGE_EVENTS, type ChangeEvent } from '../src/notify/templates/change-notice'
import type { TemplateData } from '../src/notify'
import { addDuration } from '../src/app/iso-duration'
import { retentionHeaders } from '../src/app/changes/changes'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'
import { resolveRecipientHeader } from '../src/app/worker-kit/recipients'

export const TASK_TYPE = 'notify-parties' as const

const isoDateTime = z.iso.datetime({ offset: true })

/** Absent or null: processes set null for what a request left out. */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined)

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** CHG-..., OPN-..., REL-..., PPL-...: quoted in every mail */
  reference: z.string().min(1),
  title: z.string().min(1),
  providerId: optional(z.string().min(1)),
  providers: optional(z.array(z.string().min(1))),
  serviceId: optional(z.string().min(1)),
  version: optional(z.string().min(1)),
  previousVersion: optional(z.string().min(1)),
  /** an ISO 8601 duration: the mail gives now + dueIn as the date to answer by */
  dueIn: optional(z.string().min(1)),
  /** portal-release: the planned date */
  plannedAt: optional(isoDateTime),
  /** version-retention: the release of version n and the retirement deadline of n-1 */
  releasedAt: optional(isoDateTime),
  retirementDeadline: optional(isoDateTime),
  refusalReasons: optional(z.string()),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** Message-IDs of the mails, one per recipient organisation */
  messageIds: string[]
}

const PARTIES = ['client', 'provider', 'providers'] as const
type Party = (typeof PARTIES)[number]
const ROLES: readonly ContactRole[] = ['operations', 'technicalLead', 'functionalLead', 'directors', 'traceRequestSenders', 'traceRequestReceivers']

/** One organisation's share of a notification. */
export interface RecipientGroup {
  organisation: Organisation
  emails: string[]
}

/** The mail of this job to this organisation: a redelivered job sends it once. */
export function idempotencyKey(reference: string, jobKey: string, organisationId: string): string {
  return `${reference}:${jobKey}:${organisationId}`
}

function partyOrganisations(config: Config, party: Party, input: Input): Organisation[] {
  switch (party) {
    case 'client':
      return config.organisations.filter((org) => org.role === 'client')
    case 'provider':
      if (input.providerId === undefined) throw new JobInputError([`recipient party 'provider' needs the variable providerId`])
      return [organisation(config, input.providerId)]
    case 'providers':
      return input.providers === undefined ? config.organisations.filter((org) => org.role === 'provider') : input.providers.map((id) => organisation(config, id))
  }
}

/** Resolves the `recipients` header into one group per organisation, in header order. Throws JobInputError. */
export function resolveRecipients(config: Config, header: string, input: Input): RecipientGroup[] {
  return resolveRecipientHeader(config, header, PARTIES, ROLES, (party) => partyOrganisations(config, party, input))
    .map((group) => ({ organisation: group.organisation, emails: group.contacts.map((contact) => contact.email) }))
}

/** The date a mail about this event gives, if any. */
function dueAt(event: ChangeEvent, input: Input, now: Date): string | undefined {
  if (event.startsWith('retention-') || event === 'retirement-overdue' || event === 'previous-version-retired') return input.retirementDeadline
  if (event === 'portal-release-planned') return input.plannedAt
  return input.dueIn === undefined ? undefined : addDuration(now, input.dueIn)
}

/** The template's data, from the process variables. */
export function templateData(event: ChangeEvent, input: Input, config: Config, now: Date): TemplateData<'change-notice'> {
  const provider = input.providerId === undefined ? undefined : organisation(config, input.providerId)
  const service = config.organisations.flatMap((org) => org.services).find((candidate) => candidate.id === input.serviceId)
  const headers = event === 'retention-agreed' && input.releasedAt !== undefined && input.retirementDeadline !== undefined
    ? retentionHeaders(input.releasedAt, input.retirementDeadline)
    : undefined
  return {
    event,
    reference: input.reference,
    title: input.title,
    provider: provider?.name,
    service: service?.name ?? input.serviceId,
    version: input.version,
    previousVersion: input.previousVersion,
    dueAt: dueAt(event, input, now),
    reasons: input.refusalReasons === undefined || input.refusalReasons.trim() === '' ? undefined : input.refusalReasons,
    headers,
  }
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  if (!(CHANGE_EVENTS as readonly string[]).includes(event)) throw new JobInputError([`task header event: '${event}' is not one of ${CHANGE_EVENTS.join(', ')}`])
  const recipients = resolveRecipients(ctx.config, requiredHeader(ctx.job, 'recipients'), input)
  const data = templateData(event as ChangeEvent, input, ctx.config, ctx.now())
  const messageIds: string[] = []
  for (const group of recipients) {
    const sent = await ctx.mailer.send<'change-notice'>({
      idempotencyKey: idempotencyKey(input.reference, ctx.job.key, group.organisation.id),
      to: group.emails,
      template: 'change-notice',
      lang: group.organisation.language,
      data,
      timeZone: group.organisation.timeZone,
    })
    messageIds.push(sent.messageId)
  }
  return { messageIds }
}
