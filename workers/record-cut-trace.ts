/**
 * record-cut-trace: appends a step of an interconnection cut to its evidence trail, with who and
 * when. The task header `event` names the step. `cut-requested` opens the cut (SEC-4, CUT-2) and
 * answers what the rest of the process needs: the other party, the crisis cell (CRI-1) and the
 * configured delays. `crisis-decision` records each party's decision by name (CRI-2, CRI-3).
 */
import { z } from 'zod'
import { crisisCell, findInterconnection, otherPartyOf } from '../src/app/cuts/cut-services'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import { cutServicesOf, type WorkerContext } from '../src/app/worker-kit/worker-context'
import type { NewCutEntry } from '../src/app/cuts/cut-store'

export const TASK_TYPE = 'record-cut-trace' as const

const call = z.object({
  calledBy: z.string().nullish(),
  reachedName: z.string().nullish(),
  reachedAt: z.string().nullish(),
  notes: z.string().nullish(),
})
const confirmation = z.object({ by: z.string(), at: z.string(), channel: z.string() })
const decision = z.enum(['restore', 'keep-cut'])

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  cutId: z.string().min(1),
  interconnectionId: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
  requestedBy: z.string().min(1).optional(),
  /** who cut first: this party (default) or the other party, as an operator recorded it */
  origin: z.enum(['self', 'other-party']).default('self'),
  /** how the other party announced its cut, when it cut first */
  announcement: z.object({ by: z.string().min(1), channel: z.enum(['phone', 'mail']), at: z.string().min(1) }).optional(),
  incidentId: z.string().min(1).optional(),
  requestedAt: z.iso.datetime({ offset: true }).optional(),
  /** the adapter's cut, or the cut-interconnection-by-hand form */
  ourCutAt: z.string().optional(),
  cutBy: z.string().optional(),
  cutAt: z.string().optional(),
  cutNotes: z.string().nullish(),
  /** the phone calls of the escalations, and the confirmations by link or API */
  acknowledgementCall: call.optional(),
  cutConfirmationCall: call.optional(),
  restoreConfirmationCall: call.optional(),
  otherSideCutConfirmation: confirmation.optional(),
  otherSideRestoreConfirmation: confirmation.optional(),
  /** the crisis-meeting-outcome form */
  crisisMeeting: z.object({ round: z.number().int() }).optional(),
  heldAt: z.string().optional(),
  attendees: z.string().optional(),
  causes: z.string().optional(),
  restorationTerms: z.string().nullish(),
  clientDecision: decision.optional(),
  clientDecidedBy: z.string().optional(),
  providerDecision: decision.optional(),
  providerDecidedBy: z.string().optional(),
  /** when each party's cell member agreed, set by raccord from the member's own credential (CRI-3) */
  clientDecidedAt: z.string().optional(),
  providerDecidedAt: z.string().optional(),
  /** the crisis-cell member who recorded the outcome, set by the API */
  decisionRecordedBy: z.string().optional(),
  /** the restore-interconnection-by-hand form */
  ourRestoredAt: z.string().optional(),
  restoredBy: z.string().optional(),
  restoredAt: z.string().optional(),
  restoreNotes: z.string().nullish(),
})

export type Input = z.output<typeof inputSchema>

/** What cut-requested answers; the other steps answer nothing. */
export interface CutFacts {
  otherParty: string
  selfOrganisation: string
  service: string
  environment: 'preproduction' | 'production'
  /** emails of the crisis cell members: the candidates of hold-crisis-meeting */
  crisisCell: string[]
  otherPartyOnCall: { name: string; phone: string }
  acknowledgementDelay: string
  requestedAt: string
}

export type Output = CutFacts | Record<string, never>

export const EVENTS = ['cut-requested', 'our-side-cut', 'other-side-cut', 'crisis-decision', 'cut-closed'] as const

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  const services = cutServicesOf(ctx)
  const at = ctx.now().toISOString()
  const key = (suffix = '') => `cut:${input.cutId}:${ctx.job.key}${suffix}`
  const append = (entry: Omit<NewCutEntry, 'cutId' | 'idempotencyKey'>, suffix = '') => services.store.append({ ...entry, cutId: input.cutId, idempotencyKey: key(suffix) })

  switch (event) {
    case 'cut-requested':
      return openCut(input, ctx, at)
    case 'our-side-cut': {
      const manual = input.cutBy !== undefined
      const cutAt = manual ? (input.cutAt ?? at) : (input.ourCutAt ?? at)
      append({ at: cutAt, actor: input.cutBy ?? 'raccord', event: 'our-side-cut', detail: { how: manual ? 'by hand' : 'link control', notes: input.cutNotes ?? null } })
      services.store.markOurSideCut(input.cutId, cutAt)
      return {}
    }
    case 'other-side-cut': {
      if (input.acknowledgementCall) append(callEntry('acknowledged-by-phone', input.acknowledgementCall, at), ':ack-call')
      if (input.origin === 'other-party') {
        append({ at, actor: input.announcement?.by ?? 'other party', event: 'other-side-cut', detail: { how: 'announced by the other party', channel: input.announcement?.channel ?? null } })
      } else if (input.cutConfirmationCall) {
        append({ ...callEntry('other-side-cut', input.cutConfirmationCall, at), detail: { how: 'phone', ...input.cutConfirmationCall } })
      } else if (input.otherSideCutConfirmation) {
        const { by, channel } = input.otherSideCutConfirmation
        append({ at: input.otherSideCutConfirmation.at, actor: by, event: 'other-side-cut', detail: { how: channel } })
      } else {
        throw new JobInputError(['the other side is said to be cut, but no confirmation, call or announcement is in the variables'])
      }
      return {}
    }
    case 'crisis-decision': {
      const missing = (['clientDecision', 'clientDecidedBy', 'providerDecision', 'providerDecidedBy'] as const).filter((name) => input[name] === undefined)
      if (missing.length > 0) throw new JobInputError(missing.map((name) => `variable ${name}: Required`))
      const bothAgree = input.clientDecision === 'restore' && input.providerDecision === 'restore'
      append({
        at: input.heldAt ?? at,
        actor: input.decisionRecordedBy ?? 'crisis cell',
        event: 'crisis-decision',
        detail: {
          round: input.crisisMeeting?.round ?? 1,
          attendees: input.attendees ?? null,
          causes: input.causes ?? null,
          restorationTerms: input.restorationTerms ?? null,
          decisions: [
            { party: 'client', decision: input.clientDecision, decidedBy: input.clientDecidedBy, decidedAt: input.clientDecidedAt ?? null },
            { party: 'provider', decision: input.providerDecision, decidedBy: input.providerDecidedBy, decidedAt: input.providerDecidedAt ?? null },
          ],
          outcome: bothAgree ? 'restore' : 'keep-cut',
        },
      })
      if (bothAgree) services.store.setState(input.cutId, 'restoring', at)
      return {}
    }
    case 'cut-closed': {
      const restoredAt = input.restoredAt ?? input.ourRestoredAt ?? at
      append({ at: restoredAt, actor: input.restoredBy ?? 'raccord', event: 'our-side-restored', detail: { how: input.restoredBy === undefined ? 'link control' : 'by hand', notes: input.restoreNotes ?? null } }, ':ours')
      if (input.restoreConfirmationCall) {
        append({ ...callEntry('other-side-restored', input.restoreConfirmationCall, at), detail: { how: 'phone', ...input.restoreConfirmationCall } }, ':theirs')
      } else if (input.otherSideRestoreConfirmation) {
        append({ at: input.otherSideRestoreConfirmation.at, actor: input.otherSideRestoreConfirmation.by, event: 'other-side-restored', detail: { how: input.otherSideRestoreConfirmation.channel } }, ':theirs')
      }
      append({ at, actor: 'raccord', event: 'cut-closed', detail: {} })
      services.store.setState(input.cutId, 'restored', at)
      return {}
    }
    default:
      throw new JobInputError([`task header event: '${event}' is not one of ${EVENTS.join(', ')}`])
  }
}

function callEntry(event: string, recorded: z.output<typeof call>, at: string): Omit<NewCutEntry, 'cutId' | 'idempotencyKey'> {
  return { at: recorded.reachedAt ?? at, actor: recorded.calledBy ?? 'operations', event, detail: { reachedName: recorded.reachedName ?? null, notes: recorded.notes ?? null } }
}

function openCut(input: Input, ctx: WorkerContext, at: string): CutFacts {
  const services = cutServicesOf(ctx)
  const problems: string[] = []
  if (input.interconnectionId === undefined) problems.push('variable interconnectionId: Required')
  if (input.reason === undefined) problems.push('variable reason: Required')
  if (input.requestedBy === undefined) problems.push('variable requestedBy: Required')
  if (input.origin === 'other-party' && input.announcement === undefined) problems.push('variable announcement: Required when origin is other-party')
  const located = input.interconnectionId === undefined ? undefined : findInterconnection(ctx.config, input.interconnectionId)
  if (input.interconnectionId !== undefined && located === undefined) problems.push(`variable interconnectionId: unknown interconnection '${input.interconnectionId}'`)
  if (problems.length > 0 || located === undefined) throw new JobInputError(problems)

  const other = otherPartyOf(ctx.config, located)
  const requestedAt = input.requestedAt ?? at
  services.store.openCut({
    id: input.cutId,
    interconnectionId: located.interconnection.id,
    service: located.interconnection.service,
    environment: located.interconnection.environment,
    otherParty: other.id,
    origin: input.origin,
    reason: input.reason as string,
    requestedBy: input.requestedBy as string,
    ...(input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
    processInstanceKey: ctx.job.processInstanceKey,
    requestedAt,
  })
  services.store.append({
    idempotencyKey: `cut:${input.cutId}:${ctx.job.key}`,
    cutId: input.cutId,
    at: requestedAt,
    actor: input.requestedBy as string,
    event: 'cut-requested',
    detail: { interconnection: located.interconnection.id, reason: input.reason, origin: input.origin, incidentId: input.incidentId ?? null, announcement: input.announcement ?? null },
  })
  return {
    otherParty: other.id,
    selfOrganisation: ctx.config.self,
    service: located.interconnection.service,
    environment: located.interconnection.environment,
    crisisCell: crisisCell(ctx.config, other.id).map((member) => member.email),
    otherPartyOnCall: { name: other.contacts.operations.name, phone: other.contacts.operations.onCallPhone },
    acknowledgementDelay: services.settings.acknowledgementDelay,
    requestedAt,
  }
}
