/**
 * Interconnection cuts as people drive them (SEC-4, CUT-1..4, CRI-1..3): an operations team
 * requests a cut or records the other party's; operators record confirmations and complete their
 * tasks; a crisis-cell member records the cell's decision; the other party uses its signed links.
 * Every action joins the cut's trail with who and when.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Config } from '../../config'
import { crisisCell, findInterconnection, otherPartyOf, type CutServices } from './cut-services'
import type { CutEntry, CutRecord } from './cut-store'
import { EngineUnavailableError, type Caller } from '../incidents/incidents'
import type { CutEngine } from '../../engine-client/cut-engine'
import type { InstanceProgress } from '../../engine-client/process-engine'
import type { LinkClaims, LinkPurpose } from './signed-links'
import { checkTaskSubmission, requireTaskParty } from '../access/task-gate'

/** Id of the process every cut runs. */
export const CUT_PROCESS_ID = 'interconnection-cut'

/** The messages of the process, by what they say. */
const MESSAGES = {
  acknowledged: 'cut-acknowledged',
  'other-side-cut': 'other-side-cut-confirmed',
  'other-side-restored': 'other-side-restored',
} as const

const LINK_MESSAGES: Record<LinkPurpose, Array<keyof typeof MESSAGES>> = {
  'acknowledge-cut': ['acknowledged'],
  // Confirming the cut says the warning arrived too.
  'confirm-cut': ['acknowledged', 'other-side-cut'],
  'confirm-restore': ['other-side-restored'],
}

/** The user tasks an operations team completes through the API; the crisis decision has its own route. */
export const OPERATIONS_TASKS = ['cut-by-hand', 'phone-other-party', 'chase-other-side-cut', 'restore-by-hand', 'chase-restore-confirmation'] as const

export function cutRequestSchema(config: Config) {
  const ids = config.organisations.flatMap((org) => org.interconnections.map((link) => link.id))
  return z.strictObject({
    interconnectionId: z.string().refine((id) => ids.includes(id), { error: `Unknown interconnection: expected one of ${ids.join(', ')}` }),
    reason: z.string().trim().min(1, 'Required').max(4000),
    /** self: we cut; other-party: the other party announced its cut, by phone or mail */
    origin: z.enum(['self', 'other-party']).default('self'),
    announcement: z.strictObject({ by: z.string().trim().min(1).max(200), channel: z.enum(['phone', 'mail']), at: z.iso.datetime({ offset: true }) }).optional(),
    incidentId: z.string().trim().min(1).max(100).optional(),
  }).refine((body) => body.origin === 'self' || body.announcement !== undefined, { error: 'Required when origin is other-party', path: ['announcement'] })
}

export type CutRequest = z.output<ReturnType<typeof cutRequestSchema>>

export const confirmationSchema = z.strictObject({
  kind: z.enum(['acknowledged', 'other-side-cut', 'other-side-restored']),
  /** who at the other party confirmed */
  by: z.string().trim().min(1).max(200),
  channel: z.enum(['phone', 'mail']),
  at: z.iso.datetime({ offset: true }).optional(),
})

/**
 * One crisis-cell member's agreement (CRI-3): the decision of that member's own party. Who decided
 * is the member's credential, never a field; the meeting is recorded once both parties agreed.
 */
export const crisisDecisionSchema = z.strictObject({
  heldAt: z.iso.datetime({ offset: true }),
  attendees: z.string().trim().min(1).max(4000),
  causes: z.string().trim().min(1).max(4000),
  restorationTerms: z.string().trim().max(4000).optional(),
  decision: z.enum(['restore', 'keep-cut']),
})

export type CrisisAgreement = z.output<typeof crisisDecisionSchema>

/** The caller may not do this (403). */
export class CutForbiddenError extends Error {
  override name = 'CutForbiddenError'
}

/** The request does not fit the cut's state (409): no such task open, a decider outside the cell... */
export class CutConflictError extends Error {
  override name = 'CutConflictError'
}

/** A link that was used already. */
export class LinkReplayedError extends Error {
  override name = 'LinkReplayedError'
  constructor() {
    super('The link has already been used')
  }
}

export interface CutView extends CutRecord {
  process: InstanceProgress | null
  timeline: CutEntry[]
}

export class CutService {
  constructor(
    private readonly config: Config,
    private readonly services: CutServices,
    private readonly engine: CutEngine,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Opens the cut in the trail and starts its process. Throws EngineUnavailableError. */
  async request(request: CutRequest, caller: Caller): Promise<CutRecord> {
    const located = findInterconnection(this.config, request.interconnectionId)
    if (located === undefined) throw new CutConflictError(`Unknown interconnection '${request.interconnectionId}'`)
    // Either party of the interconnection cuts it (CUT-2); nobody else learns it exists.
    const parties = [located.owner.id, this.config.organisations.find((org) => org.role === 'client')?.id]
    if (!parties.includes(caller.organisation)) throw new CutForbiddenError(`${caller.organisation} is not a party to interconnection '${located.interconnection.id}': only ${parties.join(' and ')} may cut it`)
    const requestedAt = this.now().toISOString()
    const requestedBy = caller.actor
    const id = this.newId()
    const variables = {
      cutId: id,
      interconnectionId: located.interconnection.id,
      reason: request.reason,
      requestedBy,
      origin: request.origin,
      requestedAt,
      ...(request.announcement === undefined ? {} : { announcement: request.announcement }),
      ...(request.incidentId === undefined ? {} : { incidentId: request.incidentId }),
    }
    // The variables go with the record, so that a crash before the key is stored is resumed at start-up (pending-starts.ts).
    const cut = this.services.store.openCut({
      id,
      interconnectionId: located.interconnection.id,
      service: located.interconnection.service,
      environment: located.interconnection.environment,
      otherParty: otherPartyOf(this.config, located).id,
      origin: request.origin,
      reason: request.reason,
      requestedBy,
      ...(request.incidentId === undefined ? {} : { incidentId: request.incidentId }),
      requestedAt,
      startVariables: variables,
    })
    let processInstanceKey: string
    try {
      processInstanceKey = await this.engine.startProcess(CUT_PROCESS_ID, variables)
    } catch (error) {
      throw new EngineUnavailableError(`Cannot start process '${CUT_PROCESS_ID}': ${(error as Error).message}`, { cause: error })
    }
    this.services.store.setProcessInstanceKey(cut.id, processInstanceKey)
    return { ...cut, processInstanceKey }
  }

  list(): CutRecord[] {
    return this.services.store.cuts()
  }

  async view(id: string): Promise<CutView> {
    const cut = this.services.store.requireCut(id)
    let process: InstanceProgress | null = null
    if (cut.processInstanceKey !== undefined) {
      try {
        process = await this.engine.progress(cut.processInstanceKey, ['crisisMeeting', 'clientDecision', 'providerDecision'])
      } catch (error) {
        throw new EngineUnavailableError(`Cannot read process instance ${cut.processInstanceKey}: ${(error as Error).message}`, { cause: error })
      }
    }
    return { ...cut, process, timeline: this.services.store.entries(id) }
  }

  /** An operator records a confirmation the other party gave by phone or mail. */
  async confirm(id: string, confirmation: z.output<typeof confirmationSchema>, caller: Caller): Promise<void> {
    const cut = this.services.store.requireCut(id)
    const at = confirmation.at ?? this.now().toISOString()
    const messageId = `${cut.id}:${confirmation.kind}:api:${randomBytes(6).toString('hex')}`
    await this.publish(cut, confirmation.kind, { by: confirmation.by, at, channel: confirmation.channel }, messageId)
    this.services.store.append({
      idempotencyKey: `api:${messageId}`,
      cutId: cut.id,
      at: this.now().toISOString(),
      actor: caller.actor,
      event: `${confirmation.kind}-recorded`,
      detail: { confirmedBy: confirmation.by, channel: confirmation.channel, confirmedAt: at },
    })
  }

  /**
   * An operator completes one of the operations tasks of the cut (by hand, phone calls): only the
   * task's party, only with its form's fields; who did it is the credential (completedBy).
   */
  async completeTask(id: string, elementId: string, variables: Record<string, unknown>, caller: Caller): Promise<void> {
    if (!(OPERATIONS_TASKS as readonly string[]).includes(elementId)) throw new CutConflictError(`'${elementId}' is not a task operators complete here: expected one of ${OPERATIONS_TASKS.join(', ')}`)
    const cut = this.requireRunning(id)
    const task = await this.engine.openUserTask(cut.processInstanceKey, elementId)
    if (task === undefined) throw new CutConflictError(`Cut ${id} has no open task '${elementId}'`)
    requireTaskParty(caller, task, this.config.organisations.map((org) => org.id))
    await checkTaskSubmission(this.engine, task, variables)
    await this.engine.completeUserTask(task.userTaskKey, { ...variables, completedBy: caller.actor })
    this.services.store.append({
      idempotencyKey: `api:${cut.id}:${elementId}:${randomBytes(6).toString('hex')}`,
      cutId: cut.id,
      at: this.now().toISOString(),
      actor: caller.actor,
      event: 'task-completed',
      detail: { task: elementId, variables },
    })
  }

  /**
   * A crisis-cell member gives their own party's decision, as themselves (CRI-2, CRI-3, CUT-4).
   * The meeting is recorded once a member of each party has agreed in this round, with who and
   * when in the trail; no one records another member's or the other party's decision.
   */
  async decide(id: string, agreement: CrisisAgreement, caller: Caller): Promise<{ recorded: boolean; waitingFor: string[] }> {
    const cut = this.requireRunning(id)
    const member = this.cellMember(cut, caller)
    if (Date.parse(agreement.heldAt) > this.now().getTime()) throw new CutConflictError(`heldAt: the meeting cannot be held in the future (${agreement.heldAt})`)
    const task = await this.engine.openUserTask(cut.processInstanceKey, 'hold-crisis-meeting')
    if (task === undefined) throw new CutConflictError(`Cut ${id} is not waiting for a crisis-cell decision`)
    const at = this.now().toISOString()
    this.services.store.append({
      idempotencyKey: `crisis:${cut.id}:${task.userTaskKey}:${member.email}:${randomBytes(6).toString('hex')}`,
      cutId: cut.id,
      at,
      actor: member.name,
      event: 'crisis-agreement',
      detail: { round: task.userTaskKey, party: member.party, organisation: member.organisation, email: member.email, decision: agreement.decision, heldAt: agreement.heldAt },
    })
    // The latest agreement of each party in this round counts.
    const round = this.services.store.entries(cut.id).filter((entry) => entry.event === 'crisis-agreement' && entry.detail.round === task.userTaskKey)
    const latest = (party: string) => round.filter((entry) => entry.detail.party === party).at(-1)
    const client = latest('client')
    const provider = latest('provider')
    if (client === undefined || provider === undefined) return { recorded: false, waitingFor: client === undefined ? ['client'] : ['provider'] }
    await this.engine.completeUserTask(task.userTaskKey, {
      heldAt: agreement.heldAt,
      attendees: agreement.attendees,
      causes: agreement.causes,
      restorationTerms: agreement.restorationTerms ?? null,
      clientDecision: client.detail.decision,
      clientDecidedBy: client.actor,
      clientDecidedAt: client.at,
      providerDecision: provider.detail.decision,
      providerDecidedBy: provider.actor,
      providerDecidedAt: provider.at,
      decisionRecordedBy: member.name,
    })
    return { recorded: true, waitingFor: [] }
  }

  /** The cell member the caller is, by the credential's person (CRI-1). Throws CutForbiddenError. */
  private cellMember(cut: CutRecord, caller: Caller): { name: string; email: string; organisation: string; party: 'client' | 'provider' } {
    const cell = crisisCell(this.config, cut.otherParty)
    const member = caller.person === undefined ? undefined : cell.find((candidate) => candidate.email === caller.person?.email && candidate.organisation === caller.organisation)
    if (member === undefined) {
      throw new CutForbiddenError(`Only a member of the crisis cell of ${cut.id}, with their own credential, records a decision (${cell.map((m) => m.name).join(', ')}); this credential is ${caller.actor}`)
    }
    const client = this.config.organisations.find((org) => org.role === 'client')?.id
    return { name: member.name, email: member.email, organisation: member.organisation, party: member.organisation === client ? 'client' : 'provider' }
  }

  /** The organisations party to a cut: the two ends of its interconnection. */
  partiesOf(cut: CutRecord): string[] {
    const located = findInterconnection(this.config, cut.interconnectionId)
    const client = this.config.organisations.find((org) => org.role === 'client')?.id
    return [...new Set([located?.owner.id ?? cut.otherParty, client ?? this.config.self, cut.otherParty])]
  }

  /** The claims of a link that may still be used. Throws LinkRefusedError, LinkReplayedError, UnknownCutError. */
  inspectLink(token: string): { claims: LinkClaims; cut: CutRecord } {
    const claims = this.services.links.verify(token, this.now())
    const cut = this.services.store.requireCut(claims.cutId)
    if (this.services.store.isLinkUsed(claims.nonce)) throw new LinkReplayedError()
    return { claims, cut }
  }

  /** Uses a link once: the process hears of it and the trail records it. A failure gives the link back. */
  async useLink(token: string): Promise<{ claims: LinkClaims; cut: CutRecord; at: string }> {
    const { claims, cut } = this.inspectLink(token)
    const at = this.now().toISOString()
    if (!this.services.store.useLink(claims.nonce, cut.id, claims.purpose, at)) throw new LinkReplayedError()
    const org = this.config.organisations.find((candidate) => candidate.id === claims.party)
    const by = `${org?.contacts.operations.name ?? claims.party} (signed link)`
    try {
      for (const kind of LINK_MESSAGES[claims.purpose]) await this.publish(cut, kind, { by, at, channel: 'link' }, `${claims.nonce}:${kind}`)
    } catch (error) {
      this.services.store.releaseLink(claims.nonce)
      throw new EngineUnavailableError(`Cannot tell the process: ${(error as Error).message}`, { cause: error })
    }
    this.services.store.append({ idempotencyKey: `link:${claims.nonce}`, cutId: cut.id, at, actor: by, event: `link-used:${claims.purpose}`, detail: { party: claims.party } })
    return { claims, cut, at }
  }

  private async publish(cut: CutRecord, kind: keyof typeof MESSAGES, confirmation: { by: string; at: string; channel: string }, messageId: string): Promise<void> {
    const variables =
      kind === 'acknowledged'
        ? { acknowledgedBy: confirmation.by, acknowledgedAt: confirmation.at }
        : kind === 'other-side-cut'
          ? { otherSideCutConfirmation: confirmation }
          : { otherSideRestoreConfirmation: confirmation }
    try {
      await this.engine.publishMessage(MESSAGES[kind], cut.id, variables, messageId)
    } catch (error) {
      throw new EngineUnavailableError(`Cannot publish ${MESSAGES[kind]} for ${cut.id}: ${(error as Error).message}`, { cause: error })
    }
  }

  private requireRunning(id: string): CutRecord & { processInstanceKey: string } {
    const cut = this.services.store.requireCut(id)
    if (cut.processInstanceKey === undefined) throw new CutConflictError(`Cut ${id} has no process`)
    return cut as CutRecord & { processInstanceKey: string }
  }

  /** CUT-YYYYMMDD-xxxx, the date in UTC. */
  private newId(): string {
    const day = this.now().toISOString().slice(0, 10).replaceAll('-', '')
    for (;;) {
      const id = `CUT-${day}-${randomBytes(2).toString('hex')}`
      if (this.services.store.cut(id) === undefined) return id
    }
  }
}

