/**
 * Incidents as people see them (INC-1..4): declaring one opens its trace and starts the
 * incident-management process; reading one joins the trace with what the process shows.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Config } from '../../config'
import { requireOwnOrganisation, requireServiceParty } from '../../config/identities'
import type { EngineIncident, ProcessEngine, WaitingElement } from '../../engine-client/process-engine'
import { UnknownIncidentError, type IncidentRecord, type IncidentState, type TraceEntry, type TraceStore } from './trace-store'

/** Id of the process every declared incident runs. */
export const INCIDENT_PROCESS_ID = 'incident-management'

const level = z.enum(['high', 'medium', 'low'])

/** What a declaration carries; `service` and `reportingOrganisation` must name configured ones. */
export function declarationSchema(config: Config) {
  const serviceIds = config.organisations.flatMap((org) => org.services.map((service) => service.id))
  const orgIds = config.organisations.map((org) => org.id)
  return z.strictObject({
    title: z.string().trim().min(1, 'Required').max(200),
    description: z.string().trim().min(1, 'Required').max(4000),
    service: z.string().refine((id) => serviceIds.includes(id), { error: `Unknown service: expected one of ${serviceIds.join(', ')}` }),
    impact: level,
    urgency: level,
    /** Accepted for compatibility; the declaring organisation is the caller's, and a different one is refused. */
    reportingOrganisation: z
      .string()
      .refine((id) => orgIds.includes(id), { error: `Unknown organisation: expected one of ${orgIds.join(', ')}` })
      .optional(),
    /** CUT-1: a suspected or confirmed compromise of the service: the process requests a cut of its interconnection */
    suspectedCompromise: z.boolean().default(false),
  })
}

export type Declaration = z.output<ReturnType<typeof declarationSchema>>

/** The engine could not be reached or refused the request. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError'
}

/** Who is asking: a bearer token from the configuration. */
export interface Caller {
  /** the environment variable naming the token, e.g. RACCORD_TOKEN_OPERATOR */
  name: string
  organisation: string
  /** the credential's person or team as trails and mails name it (see config/identities) */
  actor: string
  /** the person holding the credential, when it is a person's */
  person?: { name: string; email: string }
}

/** The priority decision's result (INC-3). */
export interface PriorityView {
  priority: string
  responseTarget?: string
  resolutionTarget?: string
  reminderAt?: string
}

export interface IncidentSummary {
  id: string
  title: string
  service: string
  state: IncidentState
  priority: string | null
  reportingOrganisation: string
  declaredAt: string
  updatedAt: string
}

export interface IncidentView extends Omit<IncidentSummary, 'priority'> {
  description: string | null
  impact: string
  urgency: string
  declaredBy: string
  priority: PriorityView | null
  processInstanceKey: string | null
  restoredAt: string | null
  closedAt: string | null
  /** What the process shows: ACTIVE/COMPLETED, where it waits, its open incidents. */
  process: { state: string | null; waitingAt: WaitingElement[]; incidents: EngineIncident[] } | null
  /** The trace (INC-2), oldest first. */
  timeline: TraceEntry[]
}

export interface IncidentServiceOptions {
  config: Config
  trace: TraceStore
  engine: ProcessEngine
  now?: () => Date
}

export class IncidentService {
  private readonly now: () => Date

  constructor(private readonly options: IncidentServiceOptions) {
    this.now = options.now ?? (() => new Date())
  }

  /** Opens the trace and starts the process. Throws EngineUnavailableError (the trace is then left as it was). */
  async declare(declaration: Declaration, caller: Caller): Promise<IncidentRecord> {
    const { trace, engine } = this.options
    requireOwnOrganisation('reportingOrganisation', declaration.reportingOrganisation, caller)
    requireServiceParty(this.options.config, declaration.service, caller)
    const declaredAt = this.now().toISOString()
    const id = this.newId()
    const reportingOrganisation = caller.organisation
    const declaredBy = caller.actor
    const variables = {
      incidentId: id, title: declaration.title, description: declaration.description ?? '', service: declaration.service, impact: declaration.impact,
      urgency: declaration.urgency, declaredBy, reportingOrganisation, declaredAt, suspectedCompromise: declaration.suspectedCompromise,
    }
    // The variables go with the record, so that a crash before the key is stored is resumed at start-up (pending-starts.ts).
    const incident = trace.openIncident({
      id,
      title: declaration.title,
      description: declaration.description,
      service: declaration.service,
      impact: declaration.impact,
      urgency: declaration.urgency,
      reportingOrganisation,
      declaredBy,
      declaredAt,
      startVariables: variables,
    })
    let processInstanceKey: string
    try {
      processInstanceKey = await engine.startProcess(INCIDENT_PROCESS_ID, variables)
    } catch (error) {
      trace.discardIncident(incident.id)
      throw new EngineUnavailableError(`Cannot start process '${INCIDENT_PROCESS_ID}': ${(error as Error).message}`, { cause: error })
    }
    trace.setProcessInstanceKey(incident.id, processInstanceKey)
    return { ...incident, processInstanceKey }
  }

  list(): IncidentSummary[] {
    return this.options.trace.incidents().map(summary)
  }

  /** The incident with its priority and where its process waits. Throws UnknownIncidentError, EngineUnavailableError. */
  async view(id: string): Promise<IncidentView> {
    const { trace, engine } = this.options
    const incident = trace.incident(id)
    if (incident === undefined) throw new UnknownIncidentError(id)
    let process: IncidentView['process'] = null
    let priority: PriorityView | null = incident.priority === undefined ? null : { priority: incident.priority }
    if (incident.processInstanceKey !== undefined) {
      let progress
      try {
        progress = await engine.progress(incident.processInstanceKey, ['priority'])
      } catch (error) {
        throw new EngineUnavailableError(`Cannot read process instance ${incident.processInstanceKey}: ${(error as Error).message}`, { cause: error })
      }
      process = { state: progress.state ?? null, waitingAt: progress.waitingAt, incidents: progress.incidents }
      const decided = asPriority(progress.variables.priority)
      if (decided !== undefined) {
        priority = decided
        if (decided.priority !== incident.priority) trace.setPriority(id, decided.priority)
      }
    }
    return {
      ...summary(incident),
      description: incident.description ?? null,
      impact: incident.impact,
      urgency: incident.urgency,
      declaredBy: incident.declaredBy,
      priority,
      processInstanceKey: incident.processInstanceKey ?? null,
      restoredAt: incident.restoredAt ?? null,
      closedAt: incident.closedAt ?? null,
      process,
      timeline: trace.entries(id),
    }
  }

  /** INC-YYYYMMDD-xxxx, the date in UTC; drawn again on the rare collision. */
  private newId(): string {
    const day = this.now().toISOString().slice(0, 10).replaceAll('-', '')
    for (;;) {
      const id = `INC-${day}-${randomBytes(2).toString('hex')}`
      if (this.options.trace.incident(id) === undefined) return id
    }
  }
}

function summary(incident: IncidentRecord): IncidentSummary {
  return {
    id: incident.id,
    title: incident.title,
    service: incident.service,
    state: incident.state,
    priority: incident.priority ?? null,
    reportingOrganisation: incident.reportingOrganisation,
    declaredAt: incident.declaredAt,
    updatedAt: incident.updatedAt,
  }
}

const priorityVariable = z.object({
  priority: z.string(),
  responseTarget: z.string().optional(),
  resolutionTarget: z.string().optional(),
  reminderAt: z.string().optional(),
})

function asPriority(value: unknown): PriorityView | undefined {
  const parsed = priorityVariable.safeParse(value)
  return parsed.success ? parsed.data : undefined
}
