/**
 * Interconnection cuts as people drive them (SEC-4, CUT-1..4, CRI-1..3): an operations team
 * requests a cut or records the other party's; operators record confirmations and complete their
 * tasks; a crisis-cell member records the cell's decision; the other party uses its signed links.
 * Every action joins the cut's trail with who and when.
 */
import { randomBytes } from 'node:crypto'
import type { Camunda8 } from '@camunda8/sdk'
import { z } from 'zod'
import type { Config } from '../config'
import { crisisCell, findInterconnection, otherPartyOf, type CutServices } from './cut-services'
import type { CutEntry, CutRecord } from './cut-store'
import { EngineUnavailableError, type Caller } from './incidents'
import type { InstanceProgress, ProcessEngine } from './process-engine'
import type { LinkClaims, LinkPurpose } from './signed-links'

/** Id of the process every cut runs. */
export const CUT_PROCESS_ID = 'interconnection-cut'

/** How long a confirmation waits for the process to reach its receive task. */
const MESSAGE_TTL_MS = 2 * 24 * 3_600_000

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
    requestedBy: z.string().trim().min(1).max(200).optional(),
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

const decision = z.enum(['restore', 'keep-cut'])
export const crisisDecisionSchema = z.strictObject({
  heldAt: z.iso.datetime({ offset: true }),
  attendees: z.string().trim().min(1).max(4000),
  causes: z.string().trim().min(1).max(4000),
  restorationTerms: z.string().trim().max(4000).optional(),
  clientDecision: decision,
  clientDecidedBy: z.string().trim().min(1).max(200),
  providerDecision: decision,
  providerDecidedBy: z.string().trim().min(1).max(200),
})

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

/** What the SDK gives the cut service beyond ProcessEngine: messages and user tasks. */
export interface CutEngine extends Pick<ProcessEngine, 'startProcess' | 'progress'> {
  publishMessage(name: string, correlationKey: string, variables: Record<string, unknown>, messageId: string): Promise<void>
  /** Completes the open user task of `elementId` in the instance; false when none is open. */
  completeUserTask(processInstanceKey: string, elementId: string, variables: Record<string, unknown>): Promise<boolean>
}

export function sdkCutEngine(camunda: Camunda8, base: ProcessEngine): CutEngine {
  const zeebe = camunda.getZeebeGrpcApiClient()
  const rest = camunda.getCamundaRestClient()
  return {
    startProcess: (id, variables) => base.startProcess(id, variables),
    progress: (key, names) => base.progress(key, names),
    async publishMessage(name, correlationKey, variables, messageId) {
      await zeebe.publishMessage({ name, correlationKey, variables: variables as never, timeToLive: MESSAGE_TTL_MS, messageId })
    },
    async completeUserTask(processInstanceKey, elementId, variables) {
      const page = await rest.callApiEndpoint<Record<string, unknown>, { items: Array<{ userTaskKey: string }> }>({
        method: 'POST',
        urlPath: 'user-tasks/search',
        body: { filter: { processInstanceKey, elementId, state: 'CREATED' } },
      })
      const task = page.items[0]
      if (task === undefined) return false
      await rest.completeUserTask({ userTaskKey: task.userTaskKey, variables })
      return true
    },
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
    const requestedAt = this.now().toISOString()
    const requestedBy = request.requestedBy ?? `${caller.name} (${caller.organisation})`
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
      actor: `${caller.name} (${caller.organisation})`,
      event: `${confirmation.kind}-recorded`,
      detail: { confirmedBy: confirmation.by, channel: confirmation.channel, confirmedAt: at },
    })
  }

  /** An operator completes one of the operations tasks of the cut (by hand, phone calls). */
  async completeTask(id: string, elementId: string, variables: Record<string, unknown>, caller: Caller): Promise<void> {
    if (!(OPERATIONS_TASKS as readonly string[]).includes(elementId)) throw new CutConflictError(`'${elementId}' is not a task operators complete here: expected one of ${OPERATIONS_TASKS.join(', ')}`)
    const cut = this.requireRunning(id)
    const done = await this.engine.completeUserTask(cut.processInstanceKey, elementId, variables)
    if (!done) throw new CutConflictError(`Cut ${id} has no open task '${elementId}'`)
    this.services.store.append({
      idempotencyKey: `api:${cut.id}:${elementId}:${randomBytes(6).toString('hex')}`,
      cutId: cut.id,
      at: this.now().toISOString(),
      actor: `${caller.name} (${caller.organisation})`,
      event: 'task-completed',
      detail: { task: elementId, variables },
    })
  }

  /**
   * A crisis-cell member records the meeting's outcome (CRI-2, CRI-3). Only members may, and each
   * party's decision must be given by a member of that party.
   */
  async decide(id: string, outcome: z.output<typeof crisisDecisionSchema>, caller: Caller): Promise<void> {
    const cut = this.requireRunning(id)
    const cell = crisisCell(this.config, cut.otherParty)
    const contact = this.config.api.tokens.find((token) => token.tokenEnv === caller.name)?.contact
    const member = cell.find((candidate) => candidate.email === contact)
    if (member === undefined) {
      throw new CutForbiddenError(`Only a member of the crisis cell of ${cut.id} may record its decision (${cell.map((m) => m.name).join(', ')}); token ${caller.name} belongs to ${contact ?? 'no named person'}`)
    }
    const client = this.config.organisations.find((org) => org.role === 'client')?.id
    const problems: string[] = []
    for (const [party, name] of [['client', outcome.clientDecidedBy], ['provider', outcome.providerDecidedBy]] as const) {
      const ofParty = cell.filter((candidate) => (party === 'client') === (candidate.organisation === client))
      if (!ofParty.some((candidate) => candidate.name === name)) problems.push(`${party}DecidedBy: '${name}' is not in the crisis cell for the ${party}; expected one of ${ofParty.map((m) => m.name).join(', ')}`)
    }
    if (problems.length > 0) throw new CutConflictError(problems.join('; '))
    const done = await this.engine.completeUserTask(cut.processInstanceKey, 'hold-crisis-meeting', { ...outcome, decisionRecordedBy: member.name })
    if (!done) throw new CutConflictError(`Cut ${id} is not waiting for a crisis-cell decision`)
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

