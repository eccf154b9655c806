/**
 * The manager's dashboard figures, as a service desk and Operate show them: incidents by priority
 * and state, time to acknowledge and to restore against each priority's targets, breaches, open
 * cuts with their crisis-cell deadline, pending changes, n-1 retirement deadlines, and instances
 * and incidents per process. Everything is read when asked: from the engine's public /v2 searches
 * (so it works on Camunda 8.8 too) and from the incident trace; the targets come from the deployed
 * priority decision, never from this file.
 */
import { Router, type Response } from 'express'
import { addDuration } from '../app/iso-duration'
import type { IncidentSummary } from '../app/incidents/incidents'
import type { Config } from '../config'
import type { ConsoleEngine, ProcessInstance, Variable } from '../engine-client/console-engine'
import { callerOf } from '../api/auth'
import { incidentParties, sees } from '../api/scope'
import type { ApiRole } from '../config'
import { instanceParties } from './instance-scope'

/** The decision giving each priority its response and resolution targets (INC-3). */
export const PRIORITY_DECISION_ID = 'incident-priority'
const INCIDENT_PROCESS_ID = 'incident-management'
const CUT_PROCESS_ID = 'interconnection-cut'
const RETENTION_PROCESS_ID = 'version-retention'
/** The procedures of change management and production openings (CHG, PRD). */
export const CHANGE_PROCESS_IDS = ['portal-change', 'provider-change', 'service-opening', 'portal-release', 'provider-release', 'preproduction-link'] as const
const LEVELS = ['high', 'medium', 'low'] as const

export interface PriorityTargets {
  priority: string
  /** ISO 8601 duration, e.g. PT1H */
  responseTarget: string | null
  resolutionTarget: string | null
}

/** One clock (acknowledge or restore) of a priority's incidents. */
export interface ClockFigures {
  /** incidents whose clock has stopped */
  measured: number
  /** stopped within the target */
  withinTarget: number
  /** stopped late, or still running past the target */
  breached: number
  /** still running, within the target */
  running: number
  /** mean time of the stopped clocks, in milliseconds */
  averageMs: number | null
}

export interface PriorityFigures extends PriorityTargets {
  states: { open: number; restored: number; closed: number }
  acknowledge: ClockFigures
  restore: ClockFigures
}

export interface Breach {
  incidentId: string
  title: string
  service: string
  priority: string
  clock: 'acknowledge' | 'restore'
  target: string
  dueAt: string
  /** when the clock stopped; null while it still runs */
  stoppedAt: string | null
}

export interface OpenCut {
  cutId: string
  interconnectionId: string | null
  service: string | null
  processInstanceKey: string
  startedAt: string
  /** the crisis cell meets by then (CRI-2) */
  crisisDeadline: string
  crisisRound: number | null
  overdue: boolean
}

export interface PendingChange {
  reference: string
  process: string
  title: string | null
  processInstanceKey: string
  startedAt: string
  /** its open user tasks */
  waitingFor: Array<{ elementId: string; name: string }>
}

export interface Retirement {
  reference: string
  title: string | null
  previousVersion: string | null
  processInstanceKey: string
  releasedAt: string | null
  retirementDeadline: string
}

export interface ProcessFigures {
  processDefinitionId: string
  name: string
  active: number
  completed: number
  terminated: number
  /** open engine incidents (failed jobs and the like) */
  incidents: number
}

export interface DashboardFigures {
  generatedAt: string
  incidents: { priorities: PriorityFigures[]; unprioritised: number; breaches: Breach[] }
  cuts: OpenCut[]
  changes: { pending: PendingChange[]; retirements: Retirement[] }
  processes: ProcessFigures[]
}

/** Whose dashboard: an organisation, and roles (an admin of this installation sees everything). */
type ScopedCaller = { organisation: string; roles: readonly ApiRole[] }

export interface DashboardSources {
  config: Config
  engine: Pick<ConsoleEngine, 'processInstances' | 'processDefinitions' | 'variables' | 'incidents' | 'userTasks' | 'evaluateDecision'>
  incidents: { list(): IncidentSummary[] }
  now?: () => Date
  /** whose figures: only the records and instances this caller's organisation is party to; all when absent */
  caller?: ScopedCaller
}

interface IncidentPriority {
  priority?: unknown
  responseTarget?: unknown
  resolutionTarget?: unknown
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)

/** Every priority the deployed decision can give, with its targets, in the decision's order P1, P2... */
async function decisionTargets(engine: DashboardSources['engine']): Promise<PriorityTargets[]> {
  const outputs = await Promise.all(LEVELS.flatMap((impact) => LEVELS.map((urgency) => engine.evaluateDecision(PRIORITY_DECISION_ID, { impact, urgency }))))
  const found = new Map<string, PriorityTargets>()
  for (const output of outputs as IncidentPriority[]) {
    const priority = text(output?.priority)
    if (priority !== null && !found.has(priority)) {
      found.set(priority, { priority, responseTarget: text(output.responseTarget), resolutionTarget: text(output.resolutionTarget) })
    }
  }
  return [...found.values()].sort((a, b) => a.priority.localeCompare(b.priority))
}

/** The value of `name` in each process instance's own scope, by instance key. */
async function byInstance(engine: DashboardSources['engine'], name: string): Promise<Map<string, unknown>> {
  const values = new Map<string, unknown>()
  for (const variable of await engine.variables({ name })) {
    if (variable.name === name && !values.has(variable.scopeKey)) values.set(variable.scopeKey, variable.value)
  }
  return values
}

function ownScope(variables: readonly Variable[], instanceKey: string): Record<string, unknown> {
  return Object.fromEntries(variables.filter((variable) => variable.scopeKey === instanceKey).map((variable) => [variable.name, variable.value]))
}

const emptyClock = (): ClockFigures => ({ measured: 0, withinTarget: 0, breached: 0, running: 0, averageMs: null })

export async function dashboardFigures(sources: DashboardSources): Promise<DashboardFigures> {
  const { engine, config } = sources
  const now = (sources.now ?? (() => new Date()))()
  const [targets, allInstances, definitions, allEngineIncidents, openTasks, incidentIds, priorities, acknowledged, restored] = await Promise.all([
    decisionTargets(engine),
    engine.processInstances({}),
    engine.processDefinitions(),
    engine.incidents({ state: 'ACTIVE' }),
    engine.userTasks({ state: 'CREATED' }),
    byInstance(engine, 'incidentId'),
    byInstance(engine, 'priority'),
    byInstance(engine, 'acknowledgedAt'),
    byInstance(engine, 'restoredAt'),
  ])
  // A party's dashboard counts only what it is party to, by the same rules as its lists (src/api/scope.ts).
  const caller = sources.caller
  const seesAll = caller === undefined || sees(config, caller, [])
  const instances = seesAll ? allInstances : await visibleInstances(sources, caller, allInstances)
  const instanceByKey = new Map(instances.map((instance) => [instance.processInstanceKey, instance]))
  const engineIncidents = allEngineIncidents.filter((incident) => instanceByKey.has(incident.processInstanceKey))
  const incidentInstance = new Map<string, string>()
  for (const [key, id] of incidentIds) {
    if (typeof id === 'string' && instanceByKey.get(key)?.processDefinitionId === INCIDENT_PROCESS_ID) incidentInstance.set(id, key)
  }

  // Incidents: priority and targets from their instance, state from the trace.
  const rows = new Map<string, PriorityFigures>(targets.map((target) => [target.priority, { ...target, states: { open: 0, restored: 0, closed: 0 }, acknowledge: emptyClock(), restore: emptyClock() }]))
  const totals = new Map<PriorityFigures, { acknowledge: number; restore: number }>()
  const breaches: Breach[] = []
  let unprioritised = 0
  for (const incident of sources.incidents.list().filter((record) => seesAll || sees(config, caller, incidentParties(config, record)))) {
    const key = incidentInstance.get(incident.id)
    const decided = (key === undefined ? undefined : priorities.get(key)) as IncidentPriority | undefined
    const priority = text(decided?.priority) ?? incident.priority
    if (priority === null) {
      unprioritised++
      continue
    }
    let row = rows.get(priority)
    if (row === undefined) {
      row = { priority, responseTarget: text(decided?.responseTarget), resolutionTarget: text(decided?.resolutionTarget), states: { open: 0, restored: 0, closed: 0 }, acknowledge: emptyClock(), restore: emptyClock() }
      rows.set(priority, row)
    }
    row.states[incident.state]++
    const restoredAt = key === undefined ? null : text(restored.get(key))
    // Restoring the service acknowledges the incident, if nobody took its task before.
    const acknowledgedAt = (key === undefined ? null : text(acknowledged.get(key))) ?? restoredAt
    const sum = totals.get(row) ?? { acknowledge: 0, restore: 0 }
    totals.set(row, sum)
    const clocks = [
      { clock: 'acknowledge' as const, figures: row.acknowledge, target: text(decided?.responseTarget) ?? row.responseTarget, stoppedAt: acknowledgedAt },
      { clock: 'restore' as const, figures: row.restore, target: text(decided?.resolutionTarget) ?? row.resolutionTarget, stoppedAt: restoredAt },
    ]
    for (const { clock, figures, target, stoppedAt } of clocks) {
      const dueAt = target === null ? null : addDuration(incident.declaredAt, target)
      if (stoppedAt !== null) {
        figures.measured++
        // A time typed before the declaration (a form takes what people write) counts as at once, never as negative.
        sum[clock] += Math.max(0, Date.parse(stoppedAt) - Date.parse(incident.declaredAt))
        if (dueAt === null || Date.parse(stoppedAt) <= Date.parse(dueAt)) figures.withinTarget++
        else figures.breached++
      } else if (dueAt !== null && now.getTime() > Date.parse(dueAt)) {
        figures.breached++
      } else {
        figures.running++
      }
      const late = dueAt !== null && (stoppedAt === null ? now.getTime() > Date.parse(dueAt) : Date.parse(stoppedAt) > Date.parse(dueAt))
      if (late && target !== null && dueAt !== null) {
        breaches.push({ incidentId: incident.id, title: incident.title, service: incident.service, priority, clock, target, dueAt, stoppedAt })
      }
    }
  }
  for (const [row, sum] of totals) {
    row.acknowledge.averageMs = row.acknowledge.measured === 0 ? null : Math.round(sum.acknowledge / row.acknowledge.measured)
    row.restore.averageMs = row.restore.measured === 0 ? null : Math.round(sum.restore / row.restore.measured)
  }

  const active = (processId: string) => instances.filter((instance) => instance.processDefinitionId === processId && instance.state === 'ACTIVE')
  const scopes = async (list: ProcessInstance[]) => Promise.all(list.map(async (instance) => ({
    instance,
    variables: ownScope(await engine.variables({ processInstanceKey: instance.processInstanceKey, scopeKey: instance.processInstanceKey }), instance.processInstanceKey),
  })))

  const cuts: OpenCut[] = (await scopes(active(CUT_PROCESS_ID))).map(({ instance, variables }) => {
    const meeting = (variables.crisisMeeting ?? {}) as { dueBy?: unknown; round?: unknown }
    const crisisDeadline = text(meeting.dueBy) ?? addDuration(instance.startDate, config.interconnectionCuts.crisisMeetingWithin)
    return {
      cutId: text(variables.cutId) ?? instance.processInstanceKey,
      interconnectionId: text(variables.interconnectionId),
      service: text(variables.service),
      processInstanceKey: instance.processInstanceKey,
      startedAt: instance.startDate,
      crisisDeadline,
      crisisRound: typeof meeting.round === 'number' ? meeting.round : null,
      overdue: now.getTime() > Date.parse(crisisDeadline),
    }
  }).sort((a, b) => a.crisisDeadline.localeCompare(b.crisisDeadline))

  const waitingFor = new Map<string, PendingChange['waitingFor']>()
  for (const task of openTasks) {
    waitingFor.set(task.processInstanceKey, [...(waitingFor.get(task.processInstanceKey) ?? []), { elementId: task.elementId, name: task.name ?? task.elementId }])
  }
  const pending: PendingChange[] = (await scopes(instances.filter((instance) => instance.state === 'ACTIVE' && (CHANGE_PROCESS_IDS as readonly string[]).includes(instance.processDefinitionId))))
    .map(({ instance, variables }) => ({
      reference: text(variables.reference) ?? instance.processInstanceKey,
      process: instance.processDefinitionId,
      title: text(variables.title),
      processInstanceKey: instance.processInstanceKey,
      startedAt: instance.startDate,
      waitingFor: waitingFor.get(instance.processInstanceKey) ?? [],
    }))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))

  const retirements: Retirement[] = (await scopes(active(RETENTION_PROCESS_ID))).flatMap(({ instance, variables }) => {
    const deadline = text(variables.retirementDeadline)
    if (deadline === null) return []
    return [{
      reference: text(variables.reference) ?? instance.processInstanceKey,
      title: text(variables.title),
      previousVersion: text(variables.previousVersion),
      processInstanceKey: instance.processInstanceKey,
      releasedAt: text(variables.releasedAt),
      retirementDeadline: new Date(deadline).toISOString(),
    }]
  }).sort((a, b) => a.retirementDeadline.localeCompare(b.retirementDeadline))

  const names = new Map(definitions.map((definition) => [definition.processDefinitionId, definition.name ?? definition.processDefinitionId]))
  const perProcess = new Map<string, ProcessFigures>()
  const figuresOf = (id: string) => {
    let figures = perProcess.get(id)
    if (figures === undefined) {
      figures = { processDefinitionId: id, name: names.get(id) ?? id, active: 0, completed: 0, terminated: 0, incidents: 0 }
      perProcess.set(id, figures)
    }
    return figures
  }
  for (const instance of instances) {
    const figures = figuresOf(instance.processDefinitionId)
    if (instance.state === 'ACTIVE') figures.active++
    else if (instance.state === 'COMPLETED') figures.completed++
    else figures.terminated++
  }
  for (const incident of engineIncidents) {
    const id = instanceByKey.get(incident.processInstanceKey)?.processDefinitionId
    if (id !== undefined) figuresOf(id).incidents++
  }

  return {
    generatedAt: now.toISOString(),
    incidents: { priorities: [...rows.values()], unprioritised, breaches: breaches.sort((a, b) => a.dueAt.localeCompare(b.dueAt)) },
    cuts,
    changes: { pending, retirements },
    processes: [...perProcess.values()].sort((a, b) => a.processDefinitionId.localeCompare(b.processDefinitionId)),
  }
}

/** GET /dashboard on the console's API router; the caller's permission is checked by `demand`. */
export function dashboardRoutes(sources: DashboardSources, demand: (res: Response) => void): Router {
  const router = Router()
  router.get('/dashboard', async (_req, res) => {
    demand(res)
    res.json(await dashboardFigures({ ...sources, caller: callerOf(res) }))
  })
  return router
}

/** The instances of records this caller's organisation is party to. */
async function visibleInstances(sources: DashboardSources, caller: ScopedCaller, instances: readonly ProcessInstance[]): Promise<ProcessInstance[]> {
  const seen = await Promise.all(instances.map(async (instance) => {
    const variables = await sources.engine.variables({ processInstanceKey: instance.processInstanceKey, scopeKey: instance.processInstanceKey })
    return sees(sources.config, caller, instanceParties(sources.config, variables, instance.processInstanceKey))
  }))
  return instances.filter((_instance, index) => seen[index])
}
