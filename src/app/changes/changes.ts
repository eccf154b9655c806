/**
 * Change management and production openings as people start them (CHG-1..8, PRD-1..6): each
 * request becomes one process instance under a reference both parties quote. Who may start what
 * follows the agreement: the client alone changes or releases its portal (CHG-3, PRD-3), a
 * provider alone changes or releases its own service (CHG-6, PRD-5), and either party may ask for
 * an opening, a pre-production link or the early retirement of version n-1 (PRD-4, CHG-1, CHG-8).
 */
import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Config, Organisation } from '../../config'
import { addDuration } from '../iso-duration'
import { generatedDate, generatedTexts } from './generated-texts'
import { checkPreproductionValidation, engineValidationRecords, type ValidationCheck } from './release-validation'
import { EngineUnavailableError, type Caller } from '../incidents/incidents'
import type { ChangeEngine } from '../../engine-client/change-engine'
import type { InstanceProgress } from '../../engine-client/process-engine'
import type { CutStore } from '../cuts/cut-store'

/** The agreement caps the retention of version n-1 at 6 months (CHG-8). */
export const MAX_RETENTION_MONTHS = 6

/** Message the operator of version n-1 sends to retire it before the deadline (CHG-8); correlated by the change reference. */
export const EARLY_RETIREMENT_MESSAGE = 'version-retirement-requested'

/** Message a party that does not operate version n-1 sends to propose its early retirement to the operator (CHG-8). */
export const EARLY_RETIREMENT_PROPOSAL_MESSAGE = 'version-retirement-proposed'

/**
 * RFC 9745 `Deprecation` (version n-1 is deprecated since the release of n) and RFC 8594 `Sunset`
 * (it goes at the deadline): what a portal keeping n-1 online can send with every n-1 response.
 */
export function retentionHeaders(releasedAt: string, retirementDeadline: string): { deprecation: string; sunset: string } {
  return { deprecation: `@${Math.floor(Date.parse(releasedAt) / 1000)}`, sunset: new Date(retirementDeadline).toUTCString() }
}

/** The retirement deadline of version n-1: the release of n plus the agreed months, never more than 6. */
export function retirementDeadline(releasedAt: string, retentionMonths: number): string {
  return addDuration(releasedAt, `P${Math.min(retentionMonths, MAX_RETENTION_MONTHS)}M`)
}

/** The caller's organisation may not start this (e.g. a provider releasing the portal). */
export class NotThePartyError extends Error {
  override name = 'NotThePartyError'
}

/**
 * The interconnection of a pre-production link is cut and not restored: keeping or reactivating
 * the link would undo the cut, which only its restoration on the crisis cell's agreement does (CUT-1, CRI-3).
 */
export class InterconnectionStillCutError extends Error {
  override name = 'InterconnectionStillCutError'
  constructor(readonly interconnectionId: string, readonly cutId: string) {
    super(`Interconnection ${interconnectionId} is still cut (${cutId}): its link comes back only when that cut is restored, on the crisis cell's agreement`)
  }
}

/** PRD-5: a provider release quoting no validation on the client's pre-production that raccord recorded: refused before anything starts. */
export class ReleaseRefusedError extends Error {
  override name = 'ReleaseRefusedError'
  constructor(readonly check: ValidationCheck) {
    super(check.reason ?? `The release is refused (${check.verdict})`)
  }
}

/** No change, opening or release has this reference. */
export class UnknownReferenceError extends Error {
  override name = 'UnknownReferenceError'
  constructor(readonly reference: string) {
    super(`Unknown reference '${reference}'`)
  }
}

/** The processes this module starts, by kind of request. */
export const PROCEDURES = {
  'portal-change': 'CHG',
  'provider-change': 'CHG',
  'preproduction-link': 'PPL',
  'service-opening': 'OPN',
  'portal-release': 'REL',
  'provider-release': 'REL',
} as const
export type Procedure = keyof typeof PROCEDURES

const text = (max: number) => z.string().trim().min(1, 'Required').max(max)
const version = z.string().trim().min(1, 'Required').max(100)
const isoDateTime = z.iso.datetime({ offset: true, error: 'Invalid date: use ISO 8601 with an offset, e.g. 2026-03-14T09:00:00+01:00' })

/** What each request carries; ids must name configured organisations and services. */
export function requestSchemas(config: Config) {
  const providerIds = config.organisations.filter((org) => org.role === 'provider').map((org) => org.id)
  const serviceIds = config.organisations.filter((org) => org.role === 'provider').flatMap((org) => org.services.map((service) => service.id))
  const providerId = z.string().refine((id) => providerIds.includes(id), { error: `Unknown provider: expected one of ${providerIds.join(', ')}` })
  const serviceId = z.string().refine((id) => serviceIds.includes(id), { error: `Unknown provider service: expected one of ${serviceIds.join(', ')}` })
  const agreed = config.changes.versionRetentionMonths
  const retention = {
    /** CHG-8: keep version n-1 online after the release, by agreement */
    retainPreviousVersion: z.boolean().default(false),
    retentionMonths: z.int().min(1).max(agreed, `At most ${agreed} months: the agreement's retention of version n-1 (CHG-8)`).optional(),
  }
  return {
    change: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('portal-change'), title: text(200), description: text(4000), version, previousVersion: version.optional(), ...retention }),
      z.strictObject({
        kind: z.literal('provider-change'),
        title: text(200),
        description: text(4000),
        providerId: providerId.optional(),
        serviceId,
        version,
        previousVersion: version.optional(),
        /** CHG-7 when true, CHG-6 when false */
        relatedToPortal: z.boolean(),
        ...retention,
      }),
    ]),
    preproductionLink: z.strictObject({ providerId, interconnectionId: z.string().min(1).optional(), action: z.enum(['keep', 'reactivate']) }),
    opening: z.strictObject({ providerId, serviceId, plannedAt: isoDateTime.optional() }),
    release: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('portal-release'), version, plannedAt: isoDateTime, title: text(200).optional() }),
      z.strictObject({
        kind: z.literal('provider-release'),
        providerId: providerId.optional(),
        serviceId,
        version,
        previousVersion: version,
        /** PRD-5: the reference of the change (CHG-...) in which raccord recorded the validation through the client's pre-production portal */
        validationReference: z.string().trim().max(200).optional(),
      }),
    ]),
    retirement: z.strictObject({ reason: text(2000).optional() }),
  }
}

type Schemas = ReturnType<typeof requestSchemas>
export type ChangeRequest = z.output<Schemas['change']>
export type PreproductionLinkRequest = z.output<Schemas['preproductionLink']>
export type OpeningRequest = z.output<Schemas['opening']>
export type ReleaseRequest = z.output<Schemas['release']>
export type RetirementRequest = z.output<Schemas['retirement']>

/** A security fix to carry through change management (SEC-2). */
export interface FixToChange {
  vulnerabilityId: string
  cveId?: string
  title: string
  description?: string
  /** the affected service */
  service: string
  severity?: string
  remediationDueAt?: string
  reportedAt: string
}

/** A change this installation can start for a fix, or why it cannot. */
export type FixChange =
  | { startable: true; process: 'portal-change' | 'provider-change'; reference: string; variables: Record<string, unknown> }
  | { startable: false; reason: string }

/** The change that carries a fix gets a reference derived from the vulnerability: a retry finds the same one. */
export function fixChangeReference(vulnerabilityId: string, reportedAt: string): string {
  const day = new Date(reportedAt).toISOString().slice(0, 10).replaceAll('-', '')
  return `${PROCEDURES['portal-change']}-${day}-${createHash('sha256').update(`fix:${vulnerabilityId}`).digest('hex').slice(0, 6)}`
}

/**
 * The change carrying a security fix (SEC-2). Each party changes only what it runs (CHG-3, CHG-6),
 * so this installation starts the change for its own service only: a portal change when it is the
 * client (CHG-3..5), a provider change unrelated to portal features when it is a provider (CHG-6,
 * the provider decides alone: the fastest gate the agreement gives a fix). A service of the other
 * party is fixed through that party's change management, which runs on its side, out of reach.
 */
export function fixChange(config: Config, fix: FixToChange): FixChange {
  const owner = config.organisations.find((org) => org.services.some((service) => service.id === fix.service))
  const texts = generatedTexts(config)
  if (owner === undefined) return { startable: false, reason: texts.unknownService(fix.service) }
  if (owner.id !== config.self) {
    return {
      startable: false,
      reason: texts.otherPartysService(fix.service, owner.name, owner.id),
    }
  }
  const client = config.organisations.find((org) => org.role === 'client') as Organisation
  const variables = {
    title: texts.fixTitle(fix.title).slice(0, 200),
    description: texts.fixDescription(fix, fix.remediationDueAt ? generatedDate(config, fix.remediationDueAt) : undefined),
    version: `fix ${fix.cveId ?? fix.vulnerabilityId}`,
    previousVersion: null,
    clientId: client.id,
    providers: config.organisations.filter((org) => org.role === 'provider').map((org) => org.id),
    providerAnswerDelay: config.changes.providerAnswerDelay,
    retainPreviousVersion: false,
    retentionMonths: config.changes.versionRetentionMonths,
    requestedBy: `vulnerability-handling (${fix.vulnerabilityId})`,
    vulnerabilityId: fix.vulnerabilityId,
    remediationDueAt: fix.remediationDueAt ?? null,
  }
  const reference = fixChangeReference(fix.vulnerabilityId, fix.reportedAt)
  if (owner.role === 'client') return { startable: true, process: 'portal-change', reference, variables: { reference, ...variables } }
  return { startable: true, process: 'provider-change', reference, variables: { reference, ...variables, providerId: owner.id, serviceId: fix.service, relatedToPortal: false } }
}

/** A started procedure. */
export interface Started {
  reference: string
  process: Procedure
  processInstanceKey: string
}

/** A procedure as the API shows it. */
export interface ProcedureView {
  reference: string
  process: string
  processInstanceKey: string
  state: string | null
  waitingAt: InstanceProgress['waitingAt']
  incidents: InstanceProgress['incidents']
  variables: Record<string, unknown>
  /** CHG-8: while version n-1 is kept, its deadline and the headers the portal can send */
  previousVersion?: { retirementDeadline: string; headers: { deprecation: string; sunset: string } }
}

/** Variables shown in a view: what the parties decided and when. */
const VIEW_VARIABLES = ['clientId', 'providers', 'title', 'version', 'previousVersion', 'providerId', 'serviceId', 'plannedAt', 'releasedAt', 'refusalReasons', 'providerAnswers',
  'functionalDecision', 'clientDecision', 'providerDecision', 'retainPreviousVersion', 'retentionMonths', 'validationReference', 'validationCheck', 'adapterOutcome'] as const

/** A procedure as lists show it; `variables` holds what its parties are read from. */
export interface ProcedureSummary {
  reference: string
  process: string
  processInstanceKey: string
  state: string
  startedAt: string
  title: string | null
  serviceId: string | null
  version: string | null
  providerId: string | null
  variables: Record<string, unknown>
}

/** The variables a list reads of each procedure: what it shows and whose it is. */
const SUMMARY_VARIABLES = ['reference', 'title', 'serviceId', 'version', 'providerId', 'clientId', 'providers'] as const

export interface ChangeServiceOptions {
  config: Config
  engine: ChangeEngine
  /** the cut trail: a pre-production link whose interconnection is cut is not reactivated */
  cuts: Pick<CutStore, 'openCutOf'>
  now?: () => Date
}

export class ChangeService {
  private readonly now: () => Date

  constructor(private readonly options: ChangeServiceOptions) {
    this.now = options.now ?? (() => new Date())
  }

  private get config(): Config {
    return this.options.config
  }

  private client(): Organisation {
    return this.config.organisations.find((org) => org.role === 'client') as Organisation
  }

  private providers(): string[] {
    return this.config.organisations.filter((org) => org.role === 'provider').map((org) => org.id)
  }

  /** The provider a request acts for: the caller's own organisation, unless the client acts for the procedure. */
  private ownProvider(caller: Caller, requested: string | undefined): string {
    const callerOrg = this.config.organisations.find((org) => org.id === caller.organisation)
    if (callerOrg?.role !== 'provider') throw new NotThePartyError(`Only a provider may do this for its own service; ${caller.organisation} is not a provider`)
    if (requested !== undefined && requested !== callerOrg.id) throw new NotThePartyError(`${caller.organisation} may act only for itself, not for ${requested}`)
    return callerOrg.id
  }

  private requireClient(caller: Caller, what: string): void {
    if (caller.organisation !== this.client().id) throw new NotThePartyError(`Only the client (${this.client().id}) may ${what}; ${caller.organisation} is not the client`)
  }

  private requireClientOr(caller: Caller, providerId: string): void {
    if (caller.organisation !== this.client().id && caller.organisation !== providerId) {
      throw new NotThePartyError(`Only the client or ${providerId} may do this; ${caller.organisation} is neither`)
    }
  }

  /** CHG-3..8: a portal change (client only) or a provider change (that provider only). */
  async startChange(request: ChangeRequest, caller: Caller): Promise<Started> {
    const changes = this.config.changes
    const common = {
      title: request.title,
      description: request.description,
      version: request.version,
      previousVersion: request.previousVersion ?? null,
      clientId: this.client().id,
      providers: this.providers(),
      providerAnswerDelay: changes.providerAnswerDelay,
      retainPreviousVersion: request.retainPreviousVersion,
      retentionMonths: request.retentionMonths ?? changes.versionRetentionMonths,
      requestedBy: caller.actor,
    }
    if (request.kind === 'portal-change') {
      this.requireClient(caller, 'change the portal')
      return this.start('portal-change', common)
    }
    const providerId = this.ownProvider(caller, request.providerId)
    const owner = this.config.organisations.find((org) => org.services.some((service) => service.id === request.serviceId))
    if (owner?.id !== providerId) throw new NotThePartyError(`Service ${request.serviceId} is not a service of ${providerId}`)
    return this.start('provider-change', { ...common, providerId, serviceId: request.serviceId, relatedToPortal: request.relatedToPortal })
  }

  /** CHG-1: keep or reactivate the pre-production link; either party asks. */
  async startPreproductionLink(request: PreproductionLinkRequest, caller: Caller): Promise<Started> {
    this.requireClientOr(caller, request.providerId)
    const provider = this.config.organisations.find((org) => org.id === request.providerId) as Organisation
    const link = provider.interconnections.find((candidate) => candidate.environment === 'preproduction' && (request.interconnectionId === undefined || candidate.id === request.interconnectionId))
    if (link === undefined) throw new NotThePartyError(`${request.providerId} has no pre-production interconnection${request.interconnectionId ? ` '${request.interconnectionId}'` : ''}`)
    const openCut = this.options.cuts.openCutOf(link.id)
    if (openCut !== undefined) throw new InterconnectionStillCutError(link.id, openCut.id)
    return this.start('preproduction-link', {
      title: generatedTexts(this.config, caller.organisation).preproductionLink(request.action, link.id),
      providerId: provider.id,
      clientId: this.client().id,
      serviceId: link.service,
      interconnectionId: link.id,
      action: request.action,
      preproductionLinkDelay: this.config.changes.preproductionLinkDelay,
      requestedBy: caller.actor,
    })
  }

  /** PRD-4: open a provider service on the portal; either party proposes, both decide. */
  async startOpening(request: OpeningRequest, caller: Caller): Promise<Started> {
    this.requireClientOr(caller, request.providerId)
    const provider = this.config.organisations.find((org) => org.id === request.providerId) as Organisation
    const service = provider.services.find((candidate) => candidate.id === request.serviceId)
    if (service === undefined) throw new NotThePartyError(`Service ${request.serviceId} is not a service of ${provider.id}`)
    return this.start('service-opening', {
      title: generatedTexts(this.config, caller.organisation).opening(service.name),
      providerId: provider.id,
      clientId: this.client().id,
      serviceId: service.id,
      plannedAt: request.plannedAt ?? null,
      requestedBy: caller.actor,
    })
  }

  /** PRD-3: a portal release (client only); PRD-5, PRD-6: a provider release (that provider only). */
  async startRelease(request: ReleaseRequest, caller: Caller): Promise<Started> {
    if (request.kind === 'portal-release') {
      this.requireClient(caller, 'decide a portal release')
      return this.start('portal-release', {
        title: request.title ?? generatedTexts(this.config, caller.organisation).portalVersion(request.version),
        version: request.version,
        plannedAt: request.plannedAt,
        clientId: this.client().id,
        providers: this.providers(),
      })
    }
    const providerId = this.ownProvider(caller, request.providerId)
    const owner = this.config.organisations.find((org) => org.services.some((service) => service.id === request.serviceId))
    if (owner?.id !== providerId) throw new NotThePartyError(`Service ${request.serviceId} is not a service of ${providerId}`)
    // PRD-5: the requester learns at once that nothing can go to production; the process checks again when it runs.
    const check = await checkPreproductionValidation(engineValidationRecords(this.options.engine), request.validationReference, providerId)
    if (check.verdict !== 'validated') throw new ReleaseRefusedError(check)
    return this.start('provider-release', {
      title: generatedTexts(this.config, caller.organisation).serviceVersion(request.serviceId, request.version),
      providerId,
      clientId: this.client().id,
      serviceId: request.serviceId,
      version: request.version,
      previousVersion: request.previousVersion,
      validationReference: request.validationReference === undefined || request.validationReference === '' ? null : request.validationReference,
      releaseWatchWindow: this.config.changes.releaseWatchWindow,
      declaredBy: caller.actor,
    })
  }

  /** CHG-8: either party retires version n-1 before the deadline. */
  async requestEarlyRetirement(reference: string, request: RetirementRequest, caller: Caller): Promise<void> {
    await this.find(reference, ['portal-change', 'provider-change', 'version-retention'])
    try {
      await this.options.engine.publishMessage(EARLY_RETIREMENT_MESSAGE, reference, {
        retirementRequestedBy: caller.actor,
        retirementReason: request.reason ?? null,
      })
    } catch (error) {
      throw new EngineUnavailableError(`Cannot publish ${EARLY_RETIREMENT_MESSAGE}: ${(error as Error).message}`, { cause: error })
    }
  }

  /** CHG-8: a party that does not operate version n-1 proposes its early retirement; the operator decides in its own task. */
  async proposeEarlyRetirement(reference: string, request: RetirementRequest, caller: Caller): Promise<void> {
    await this.find(reference, ['portal-change', 'provider-change', 'version-retention'])
    try {
      await this.options.engine.publishMessage(EARLY_RETIREMENT_PROPOSAL_MESSAGE, reference, {
        retirementProposedBy: caller.actor,
        retirementProposalReason: request.reason ?? null,
      })
    } catch (error) {
      throw new EngineUnavailableError(`Cannot publish ${EARLY_RETIREMENT_PROPOSAL_MESSAGE}: ${(error as Error).message}`, { cause: error })
    }
  }

  /** Every procedure of these processes, as lists show them. Throws EngineUnavailableError. */
  async list(processIds: readonly Procedure[] | readonly string[]): Promise<ProcedureSummary[]> {
    let found
    try {
      found = await this.options.engine.summaries(processIds, SUMMARY_VARIABLES)
    } catch (error) {
      throw new EngineUnavailableError(`Cannot list ${processIds.join(', ')}: ${(error as Error).message}`, { cause: error })
    }
    return found.flatMap((item) => {
      const reference = item.variables.reference
      if (typeof reference !== 'string') return []
      const text = (name: string) => (typeof item.variables[name] === 'string' ? (item.variables[name] as string) : null)
      return [{
        reference,
        process: item.processDefinitionId,
        processInstanceKey: item.processInstanceKey,
        state: item.state,
        startedAt: item.startDate,
        title: text('title'),
        serviceId: text('serviceId'),
        version: text('version'),
        providerId: text('providerId'),
        variables: item.variables,
      }]
    })
  }

  /** The procedure with this reference, where it waits, and what was decided. Throws UnknownReferenceError. */
  async view(reference: string, processIds: readonly Procedure[] | readonly string[]): Promise<ProcedureView> {
    const found = await this.find(reference, processIds)
    let progress: InstanceProgress
    try {
      progress = await this.options.engine.progress(found.processInstanceKey, [...VIEW_VARIABLES])
    } catch (error) {
      throw new EngineUnavailableError(`Cannot read process instance ${found.processInstanceKey}: ${(error as Error).message}`, { cause: error })
    }
    const view: ProcedureView = {
      reference,
      process: found.processDefinitionId,
      processInstanceKey: found.processInstanceKey,
      state: progress.state ?? null,
      waitingAt: progress.waitingAt,
      incidents: progress.incidents,
      variables: progress.variables,
    }
    const { releasedAt, retainPreviousVersion, retentionMonths } = progress.variables
    if (retainPreviousVersion === true && typeof releasedAt === 'string' && typeof retentionMonths === 'number') {
      const deadline = retirementDeadline(releasedAt, retentionMonths)
      view.previousVersion = { retirementDeadline: deadline, headers: retentionHeaders(releasedAt, deadline) }
    }
    return view
  }

  private async find(reference: string, processIds: readonly string[]): Promise<{ processInstanceKey: string; processDefinitionId: string }> {
    let found
    try {
      found = await this.options.engine.findByReference(reference, processIds)
    } catch (error) {
      throw new EngineUnavailableError(`Cannot search for ${reference}: ${(error as Error).message}`, { cause: error })
    }
    if (found.length === 0) throw new UnknownReferenceError(reference)
    return found[0]
  }

  private async start(process: Procedure, variables: Record<string, unknown>): Promise<Started> {
    const reference = this.newReference(PROCEDURES[process])
    let processInstanceKey: string
    try {
      processInstanceKey = await this.options.engine.startProcess(process, { reference, ...variables })
    } catch (error) {
      throw new EngineUnavailableError(`Cannot start process '${process}': ${(error as Error).message}`, { cause: error })
    }
    return { reference, process, processInstanceKey }
  }

  /** PREFIX-YYYYMMDD-xxxxxx, the date in UTC. */
  private newReference(prefix: string): string {
    const day = this.now().toISOString().slice(0, 10).replaceAll('-', '')
    return `${prefix}-${day}-${randomBytes(3).toString('hex')}`
  }
}
