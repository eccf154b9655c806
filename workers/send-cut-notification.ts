/**
 * send-cut-notification: the mails of an interconnection cut, one per recipient organisation in its
 * language, each traced with its Message-ID. The warning (CUT-3) and the restore request (CRI-3)
 * carry signed single-use links; the crisis-cell invitation (CUT-4, CRI-1, CRI-2) carries an .ics
 * calendar invitation for a meeting within 2 days of the cut.
 *
 * Task headers: `template` and `recipients`, a comma-separated list of `party:role` with party one
 * of other-party, both-parties, self.
 */
import { createEvent } from 'ics'
import { z } from 'zod'
import { organisation, selfOrganisation, type Config, type ContactRole, type Organisation } from '../src/config'
import { formatDateTime, type MailAttachment, type TemplateData } from '../src/notify'
import { addDuration } from '../src/app/iso-duration'
import { cutContext } from '../src/app/cuts/cut-jobs'
import { crisisCell, signedLink, type CutServices } from '../src/app/cuts/cut-services'
import type { CutRecord } from '../src/app/cuts/cut-store'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'
import { resolveRecipientHeader, type RecipientGroup } from '../src/app/worker-kit/recipients'

export const TASK_TYPE = 'send-cut-notification' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  cutId: z.string().min(1),
  origin: z.enum(['self', 'other-party']).default('self'),
  ourCutAt: z.string().optional(),
  cutAt: z.string().optional(),
  /** the previous round's meeting, when the cell meets again */
  crisisMeeting: z.object({ round: z.number().int().positive(), meetingAt: z.string(), dueBy: z.string() }).optional(),
  restorationTerms: z.string().nullish(),
})

export type Input = z.output<typeof inputSchema>

/** A crisis-cell meeting as the invitation proposed it. */
export interface CrisisMeeting {
  round: number
  meetingAt: string
  dueBy: string
}

export interface Output {
  /** Message-IDs of the mails, one per recipient organisation */
  messageIds: string[]
  /** the invitation only: the meeting it proposed */
  crisisMeeting?: CrisisMeeting
}

const TEMPLATES = ['interconnection-cut-warning', 'crisis-cell-invitation', 'crisis-meeting-overdue', 'interconnection-restore-requested', 'interconnection-restored'] as const
type CutTemplate = (typeof TEMPLATES)[number]

const PARTIES = ['other-party', 'both-parties', 'self'] as const
const ROLES: readonly ContactRole[] = ['operations', 'technicalLead', 'functionalLead', 'directors']

/** How long the proposed meeting lasts. */
const MEETING_LENGTH_HOURS = 1

/** Resolves the `recipients` header into one group per organisation. Throws JobInputError. */
export function resolveRecipients(config: Config, header: string, otherPartyId: string): RecipientGroup[] {
  return resolveRecipientHeader(config, header, PARTIES, ROLES, (party) =>
    (party === 'other-party' ? [otherPartyId] : party === 'self' ? [config.self] : [config.self, otherPartyId]).map((id) => organisation(config, id)))
}

/**
 * The meeting of this round: due 2 days (the configured delay) after the cut for the first
 * meeting, after the decision to keep the link cut for the next ones. It is proposed a day from
 * now, on the hour, and never later than an hour before it is due.
 */
export function planMeeting(cut: CutRecord, previous: CrisisMeeting | undefined, within: string, now: Date): CrisisMeeting {
  const round = (previous?.round ?? 0) + 1
  const dueBy = addDuration(round === 1 ? cut.requestedAt : now, within)
  const proposed = new Date(Math.min(Date.parse(addDuration(now, 'P1D')), Date.parse(dueBy) - 3_600_000))
  proposed.setUTCMinutes(0, 0, 0)
  const meetingAt = new Date(Math.max(proposed.getTime(), now.getTime())).toISOString()
  return { round, meetingAt, dueBy }
}

/**
 * The .ics of the meeting: one event, the cell's members as attendees, a stable UID per round (so
 * each organisation's copy is the same event), its texts in the recipient organisation's language
 * and the deadline in its time zone.
 */
export function meetingInvitation(config: Config, cut: CutRecord, meeting: CrisisMeeting, serviceName: string, recipient: Organisation): MailAttachment {
  const self = selfOrganisation(config)
  const members = crisisCell(config, cut.otherParty)
  const start = new Date(meeting.meetingAt)
  const { error, value } = createEvent({
    uid: `${cut.id}-round-${meeting.round}@raccord.${config.self}`,
    method: 'REQUEST',
    productId: 'raccord',
    start: start.getTime(),
    startInputType: 'utc',
    startOutputType: 'utc',
    duration: { hours: MEETING_LENGTH_HOURS },
    ...INVITATION_TEXTS[recipient.language]({ cut, meeting, serviceName, dueBy: formatDateTime(meeting.dueBy, recipient.language, { timeZone: recipient.timeZone, senderName: self.name }) }),
    organizer: { name: self.contacts.operations.name, email: self.contacts.operations.email },
    attendees: members.map((member) => ({ name: member.name, email: member.email, rsvp: true, role: 'REQ-PARTICIPANT', partstat: 'NEEDS-ACTION' })),
    status: 'CONFIRMED',
    sequence: 0,
  })
  if (error || value === null || value === undefined) throw new Error(`Cannot build the calendar invitation: ${error?.message ?? 'no value'}`)
  return { filename: 'crisis-cell.ics', content: value, contentType: 'text/calendar; charset=utf-8; method=REQUEST' }
}

interface InvitationFacts { cut: CutRecord; meeting: CrisisMeeting; serviceName: string; dueBy: string }

const INVITATION_TEXTS: Record<Organisation['language'], (facts: InvitationFacts) => { title: string; description: string }> = {
  fr: ({ cut, meeting, serviceName, dueBy }) => ({
    title: `Cellule de crise ${cut.id} – ${serviceName} (${cut.interconnectionId})`,
    description: `Cellule de crise pour la coupure de l'interconnexion ${cut.interconnectionId}, réunion ${meeting.round}. À tenir au plus tard le ${dueBy}.`,
  }),
  en: ({ cut, meeting, serviceName, dueBy }) => ({
    title: `Crisis cell ${cut.id} – ${serviceName} (${cut.interconnectionId})`,
    description: `Crisis cell for the cut of interconnection ${cut.interconnectionId}, meeting ${meeting.round}. To be held by ${dueBy}.`,
  }),
}

function minutes(duration: string, from: Date): number {
  return Math.round((Date.parse(addDuration(from, duration)) - from.getTime()) / 60_000)
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const template = requiredHeader(ctx.job, 'template')
  if (!(TEMPLATES as readonly string[]).includes(template)) throw new JobInputError([`task header template: '${template}' is not one of ${TEMPLATES.join(', ')}`])
  const chosen = template as CutTemplate
  const { services, cut, otherParty } = cutContext(ctx, input.cutId)
  const groups = resolveRecipients(ctx.config, requiredHeader(ctx.job, 'recipients'), otherParty.id)
  const now = ctx.now()
  const self = selfOrganisation(ctx.config)
  const serviceName = ctx.config.organisations.flatMap((org) => org.services).find((service) => service.id === cut.service)?.name ?? cut.service
  const common = {
    reference: cut.id,
    interconnection: cut.interconnectionId,
    service: serviceName,
    environment: cut.environment,
    sendingParty: self.name,
    contact: { name: self.contacts.operations.name, email: self.contacts.operations.email, phone: self.contacts.operations.onCallPhone },
  }
  const meeting = chosen === 'crisis-cell-invitation' ? planMeeting(cut, input.crisisMeeting, services.settings.crisisMeetingWithin, now) : input.crisisMeeting

  const messageIds: string[] = []
  for (const group of groups) {
    const lang = group.organisation.language
    const key = `${cut.id}:${ctx.job.key}:${group.organisation.id}`
    const data = templateData(chosen, { config: ctx.config, input, cut, common, services, now, meeting, lang, recipient: group.organisation })
    const sent = await ctx.mailer.send<CutTemplate>({
      idempotencyKey: key,
      to: group.contacts.map((contact) => contact.email),
      template: chosen,
      lang,
      data,
      timeZone: group.organisation.timeZone,
      ...(chosen === 'crisis-cell-invitation' && meeting ? { attachments: [meetingInvitation(ctx.config, cut, meeting, serviceName, group.organisation)] } : {}),
    })
    services.store.append({
      idempotencyKey: `mail:${key}`,
      cutId: cut.id,
      at: now.toISOString(),
      actor: 'raccord',
      event: 'notification-sent',
      detail: { template: chosen, organisation: group.organisation.id, to: group.contacts.map((contact) => contact.email), elementId: ctx.job.elementId, ...(meeting && chosen === 'crisis-cell-invitation' ? { meeting } : {}) },
      messageId: sent.messageId,
    })
    messageIds.push(sent.messageId)
  }
  return chosen === 'crisis-cell-invitation' && meeting ? { messageIds, crisisMeeting: meeting } : { messageIds }
}

interface DataSources {
  config: Config
  input: Input
  cut: CutRecord
  common: {
    reference: string
    interconnection: string
    service: string
    environment: 'preproduction' | 'production'
    sendingParty: string
    contact: { name: string; email: string; phone: string }
  }
  services: CutServices
  now: Date
  meeting: CrisisMeeting | undefined
  lang: 'fr' | 'en'
  recipient: Organisation
}

const LINK_LABELS = {
  fr: { acknowledge: 'Accuser réception de cet avertissement', confirmCut: 'Confirmer que notre côté est coupé', confirmRestore: 'Confirmer que notre côté est rétabli' },
  en: { acknowledge: 'Acknowledge this warning', confirmCut: 'Confirm that our side is cut', confirmRestore: 'Confirm that our side is restored' },
}

function templateData(template: CutTemplate, s: DataSources): TemplateData<CutTemplate> {
  const labels = LINK_LABELS[s.lang]
  const link = (purpose: 'acknowledge-cut' | 'confirm-cut' | 'confirm-restore') => signedLink(s.services, s.now, { cutId: s.cut.id, purpose, party: s.recipient.id })
  switch (template) {
    case 'interconnection-cut-warning': {
      const answering = s.input.origin === 'other-party'
      return {
        ...s.common,
        cutAt: s.input.cutAt ?? s.input.ourCutAt ?? s.now.toISOString(),
        answeringAnnouncement: answering,
        acknowledgementDelayMinutes: minutes(s.services.settings.acknowledgementDelay, s.now),
        ...(answering
          ? {}
          : { acknowledgeLink: { label: labels.acknowledge, url: link('acknowledge-cut') }, confirmCutLink: { label: labels.confirmCut, url: link('confirm-cut') } }),
      } satisfies TemplateData<'interconnection-cut-warning'>
    }
    case 'crisis-cell-invitation':
      if (s.meeting === undefined) throw new JobInputError(['no crisis meeting planned'])
      return {
        ...s.common,
        round: s.meeting.round,
        meetingAt: s.meeting.meetingAt,
        dueBy: s.meeting.dueBy,
        members: crisisCell(s.config, s.cut.otherParty).map((member) => `${member.name} (${member.organisation})`),
      } satisfies TemplateData<'crisis-cell-invitation'>
    case 'crisis-meeting-overdue':
      if (s.meeting === undefined) throw new JobInputError(['variable crisisMeeting: Required'])
      return { ...s.common, dueBy: s.meeting.dueBy, round: s.meeting.round } satisfies TemplateData<'crisis-meeting-overdue'>
    case 'interconnection-restore-requested':
      return {
        ...s.common,
        ...(s.input.restorationTerms ? { terms: s.input.restorationTerms } : {}),
        confirmRestoreLink: { label: labels.confirmRestore, url: link('confirm-restore') },
      } satisfies TemplateData<'interconnection-restore-requested'>
    case 'interconnection-restored':
      return { ...s.common, restoredAt: s.now.toISOString(), ...(s.input.restorationTerms ? { terms: s.input.restorationTerms } : {}) } satisfies TemplateData<'interconnection-restored'>
  }
}
