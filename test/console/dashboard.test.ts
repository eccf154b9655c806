/**
 * The dashboard's arithmetic on figures an engine would give, at a fixed instant: clocks against
 * the targets, breaches still running or stopped late, the crisis-cell deadline of an open cut,
 * a retirement deadline, counts per process. The browser test reads the same figures from a real
 * engine; this one reaches the breaches, which a real clock would take hours to show.
 */
import type { IncidentSummary } from '../../src/app/incidents/incidents'
import { dashboardFigures, type DashboardSources } from '../../src/console/dashboard'
import type { EngineIncident, ProcessInstance, UserTask, Variable } from '../../src/engine-client/console-engine'
import { exampleConfig } from '../workers/fixtures'

const NOW = new Date('2026-12-07T13:00:00Z')

const TARGETS: Record<string, { priority: string; responseTarget: string; resolutionTarget: string }> = {
  'high/high': { priority: 'P1', responseTarget: 'PT15M', resolutionTarget: 'PT4H' },
  'high/medium': { priority: 'P2', responseTarget: 'PT1H', resolutionTarget: 'PT8H' },
}

function instance(key: string, processDefinitionId: string, state: ProcessInstance['state'], startDate: string): ProcessInstance {
  return { processInstanceKey: key, processDefinitionKey: '1', processDefinitionId, processDefinitionVersion: 1, state, hasIncident: false, startDate }
}

function incident(id: string, declaredAt: string, state: IncidentSummary['state'] = 'open'): IncidentSummary {
  return { id, title: `Incident ${id}`, service: 'demarches-alpha', state, priority: null, reportingOrganisation: 'portail', declaredAt, updatedAt: declaredAt }
}

function sources(): DashboardSources {
  const instances = [
    instance('10', 'incident-management', 'ACTIVE', '2026-12-07T09:00:00Z'),
    instance('11', 'incident-management', 'ACTIVE', '2026-12-07T12:30:00Z'),
    instance('12', 'incident-management', 'COMPLETED', '2026-12-06T09:00:00Z'),
    instance('20', 'interconnection-cut', 'ACTIVE', '2026-12-06T12:00:00Z'),
    instance('30', 'portal-change', 'ACTIVE', '2026-12-01T08:00:00Z'),
    instance('40', 'version-retention', 'ACTIVE', '2026-11-01T08:00:00Z'),
  ]
  const variables: Variable[] = [
    // P1 declared at 09:00, acknowledged at 09:10 (within 15 min), not restored by 13:00 (4 h target passed at 13:00 sharp: still running).
    { name: 'incidentId', value: 'INC-A', scopeKey: '10' },
    { name: 'priority', value: TARGETS['high/high'], scopeKey: '10' },
    { name: 'acknowledgedAt', value: '2026-12-07T09:10:00Z', scopeKey: '10' },
    // P2 declared at 12:30: not acknowledged after 30 min, within its hour.
    { name: 'incidentId', value: 'INC-B', scopeKey: '11' },
    { name: 'priority', value: TARGETS['high/medium'], scopeKey: '11' },
    // P2 of yesterday, never claimed, restored 10 h later (8 h target: breached), with a first restoration typed before its declaration.
    { name: 'incidentId', value: 'INC-C', scopeKey: '12' },
    { name: 'priority', value: TARGETS['high/medium'], scopeKey: '12' },
    { name: 'restoredAt', value: '2026-12-06T19:00:00Z', scopeKey: '12' },
    // The cut's incidentId is not an incident's instance.
    { name: 'incidentId', value: 'INC-A', scopeKey: '20' },
    { name: 'cutId', value: 'CUT-1', scopeKey: '20' },
    { name: 'service', value: 'demarches-alpha', scopeKey: '20' },
    { name: 'crisisMeeting', value: { round: 1, dueBy: '2026-12-08T12:00:00.000Z', meetingAt: '2026-12-07T15:00:00Z' }, scopeKey: '20' },
    { name: 'reference', value: 'CHG-1', scopeKey: '30' },
    { name: 'title', value: 'Portail 5.0', scopeKey: '30' },
    { name: 'reference', value: 'CHG-0', scopeKey: '40' },
    { name: 'previousVersion', value: '4.2', scopeKey: '40' },
    { name: 'releasedAt', value: '2026-11-01T08:00:00Z', scopeKey: '40' },
    { name: 'retirementDeadline', value: '2027-05-01T08:00:00Z', scopeKey: '40' },
  ]
  const openTasks = [{ processInstanceKey: '30', elementId: 'give-green-light', name: "Give the client's green light" }] as UserTask[]
  const engineIncidents = [{ processInstanceKey: '30', state: 'ACTIVE' }] as EngineIncident[]
  return {
    config: exampleConfig(),
    now: () => NOW,
    incidents: { list: () => [incident('INC-A', '2026-12-07T09:00:00Z'), incident('INC-B', '2026-12-07T12:30:00Z'), incident('INC-C', '2026-12-06T09:00:00Z', 'closed'), incident('INC-D', '2026-12-07T12:59:00Z')] },
    engine: {
      evaluateDecision: async (_id, input) => TARGETS[`${String(input.impact)}/${String(input.urgency)}`] ?? { priority: 'P4', responseTarget: 'PT8H', resolutionTarget: 'PT72H' },
      processInstances: async () => instances,
      processDefinitions: async () => [{ processDefinitionKey: '1', processDefinitionId: 'incident-management', name: 'Incident management', version: 1 }],
      incidents: async () => engineIncidents,
      userTasks: async () => openTasks,
      variables: async (filter) => variables.filter((variable) => (filter.name === undefined || variable.name === filter.name) && (filter.scopeKey === undefined || variable.scopeKey === filter.scopeKey)),
    },
  }
}

test('clocks against the targets of the decision, breaches, the cut, the change, the retirement and the processes', async () => {
  const figures = await dashboardFigures(sources())
  expect(figures.generatedAt).toBe(NOW.toISOString())
  expect(figures.incidents.priorities.map((row) => row.priority)).toEqual(['P1', 'P2', 'P4'])
  const [p1, p2] = figures.incidents.priorities
  expect(p1).toMatchObject({
    responseTarget: 'PT15M', resolutionTarget: 'PT4H', states: { open: 1, restored: 0, closed: 0 },
    acknowledge: { measured: 1, withinTarget: 1, breached: 0, running: 0, averageMs: 10 * 60_000 },
    restore: { measured: 0, withinTarget: 0, breached: 0, running: 1, averageMs: null },
  })
  expect(p2).toMatchObject({
    states: { open: 1, restored: 0, closed: 1 },
    // INC-C: restoring acknowledged it, 10 h after its declaration: both clocks breached.
    acknowledge: { measured: 1, withinTarget: 0, breached: 1, running: 1, averageMs: 10 * 3_600_000 },
    restore: { measured: 1, withinTarget: 0, breached: 1, running: 1, averageMs: 10 * 3_600_000 },
  })
  // INC-D has no instance with a priority yet.
  expect(figures.incidents.unprioritised).toBe(1)
  expect(figures.incidents.breaches).toEqual([
    { incidentId: 'INC-C', title: 'Incident INC-C', service: 'demarches-alpha', priority: 'P2', clock: 'acknowledge', target: 'PT1H', dueAt: '2026-12-06T10:00:00.000Z', stoppedAt: '2026-12-06T19:00:00Z' },
    { incidentId: 'INC-C', title: 'Incident INC-C', service: 'demarches-alpha', priority: 'P2', clock: 'restore', target: 'PT8H', dueAt: '2026-12-06T17:00:00.000Z', stoppedAt: '2026-12-06T19:00:00Z' },
  ])
  expect(figures.cuts).toEqual([{
    cutId: 'CUT-1', interconnectionId: null, service: 'demarches-alpha', processInstanceKey: '20', startedAt: '2026-12-06T12:00:00Z',
    crisisDeadline: '2026-12-08T12:00:00.000Z', crisisRound: 1, overdue: false,
  }])
  expect(figures.changes.pending).toEqual([{
    reference: 'CHG-1', process: 'portal-change', title: 'Portail 5.0', processInstanceKey: '30', startedAt: '2026-12-01T08:00:00Z',
    waitingFor: [{ elementId: 'give-green-light', name: "Give the client's green light" }],
  }])
  expect(figures.changes.retirements).toEqual([{
    reference: 'CHG-0', title: null, previousVersion: '4.2', processInstanceKey: '40', releasedAt: '2026-11-01T08:00:00Z', retirementDeadline: '2027-05-01T08:00:00.000Z',
  }])
  expect(figures.processes).toEqual([
    { processDefinitionId: 'incident-management', name: 'Incident management', active: 2, completed: 1, terminated: 0, incidents: 0 },
    { processDefinitionId: 'interconnection-cut', name: 'interconnection-cut', active: 1, completed: 0, terminated: 0, incidents: 0 },
    { processDefinitionId: 'portal-change', name: 'portal-change', active: 1, completed: 0, terminated: 0, incidents: 1 },
    { processDefinitionId: 'version-retention', name: 'version-retention', active: 1, completed: 0, terminated: 0, incidents: 0 },
  ])
})

test('a restoration typed before its declaration counts as at once, never as a negative time', async () => {
  const given = sources()
  const engine = given.engine
  const figures = await dashboardFigures({
    ...given,
    engine: {
      ...engine,
      variables: async (filter) => (await engine.variables(filter)).map((variable) =>
        (variable.name === 'restoredAt' ? { ...variable, value: '2025-03-14T16:45:00+01:00' } : variable)),
    },
  })
  const p2 = figures.incidents.priorities.find((row) => row.priority === 'P2')
  expect(p2?.restore).toMatchObject({ measured: 1, withinTarget: 1, breached: 0, averageMs: 0 })
})

test('a cut not yet convened has its deadline from its start and the configured delay, and is overdue past it', async () => {
  const given = sources()
  const engine = given.engine
  const figures = await dashboardFigures({
    ...given,
    now: () => new Date('2026-12-09T00:00:00Z'),
    engine: { ...engine, variables: async (filter) => (await engine.variables(filter)).filter((variable) => variable.name !== 'crisisMeeting') },
  })
  // crisisMeetingWithin is P2D in the example configuration.
  expect(figures.cuts[0]).toMatchObject({ crisisDeadline: '2026-12-08T12:00:00.000Z', crisisRound: null, overdue: true })
})

test('a party\'s dashboard counts only what it is party to: Beta sees none of the portal\'s and Alpha\'s records; Alpha sees the cut of its service, not the portal\'s change', async () => {
  // given the same records, asked by a provider's manager
  const beta = await dashboardFigures({ ...sources(), caller: { organisation: 'provider-beta', roles: ['operator', 'manager'] } })
  const alpha = await dashboardFigures({ ...sources(), caller: { organisation: 'fournisseur-alpha', roles: ['manager'] } })
  const admin = await dashboardFigures({ ...sources(), caller: { organisation: 'portail', roles: ['admin'] } })
  // then
  // the targets of the decision are everyone's; the counts are Beta's: none
  expect(beta.incidents.priorities.length).toBeGreaterThan(0)
  for (const row of beta.incidents.priorities) {
    expect([row.priority, row.states, row.acknowledge.measured + row.acknowledge.running + row.acknowledge.breached]).toEqual([row.priority, { open: 0, restored: 0, closed: 0 }, 0])
  }
  expect([beta.incidents.unprioritised, beta.incidents.breaches]).toEqual([0, []])
  expect([beta.cuts, beta.changes.pending, beta.changes.retirements, beta.processes]).toEqual([[], [], [], []])
  expect(alpha.cuts.map((cut) => cut.cutId)).toEqual(['CUT-1'])
  expect(alpha.changes.pending).toEqual([])
  expect(alpha.changes.retirements).toEqual([])
  expect(alpha.processes.map((figures) => figures.processDefinitionId)).toEqual(['interconnection-cut'])
  // the installation's admin sees what an unscoped call sees
  expect(admin).toEqual(await dashboardFigures(sources()))
})
