/**
 * Process instance migration through the SDK (gRPC MigrateProcessInstance and REST
 * /v2/process-instances/{key}/migration), as Zeebe 8.8 does it: docs
 * components/concepts/process-instance-migration ("Limitations", "Dealing with catch events",
 * "Correcting mistakes in a process instance"), rejection wording from Zeebe's
 * ProcessInstanceMigrationPreconditions (issue #17).
 */
import { engineTestKit, grpcFailure, GrpcStatus, MINUTE, until } from '../support/engine-test-kit'

/** The process definition key of the i-th resource of a deployment. */
const processKey = (deployment: { deployments: unknown[] }, i = 0): string =>
  (deployment.deployments[i] as { process: { processDefinitionKey: string } }).process.processDefinitionKey


const { client, engine, cancelAfterTest, expectInstanceState, elementInstances, elementStates, activateOne, increaseTime, search, incidentsOf, activeIncident } =
  engineTestKit({ worker: 'migration', pinClock: true })

const definitions = (id: string, body: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`
const task = (id: string, type: string): string =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
const timer = (id: string, on: string, duration: string): string =>
  `<bpmn:boundaryEvent id="${id}" attachedToRef="${on}"><bpmn:timerEventDefinition><bpmn:timeDuration>${duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`
const flow = (id: string, from: string, to: string, condition?: string): string => condition
  ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression>${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`
  : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`

/** v1: A (timer T1, 1 h) → end. */
const V1 = definitions('mig-p', `<bpmn:startEvent id="start" />${task('A', 'mig-a')}${timer('T1', 'A', 'PT1H')}<bpmn:endEvent id="end" /><bpmn:endEvent id="late1" />
${flow('f1', 'start', 'A')}${flow('f2', 'A', 'end')}${flow('f3', 'T1', 'late1')}
<bpmn:subProcess id="S"><bpmn:startEvent id="cs" />${task('C', 'mig-c')}${flow('c1', 'cs', 'C')}</bpmn:subProcess>`)
/** v2: A2 (timer T2, 2 h) → B → end; S2 holds C2 and an extra user task; U is a user task. */
const V2 = definitions('mig-p', `<bpmn:startEvent id="start" />${task('A2', 'mig-a2')}${timer('T2', 'A2', 'PT2H')}${task('B', 'mig-b')}<bpmn:endEvent id="end" /><bpmn:endEvent id="late2" />
${flow('f1', 'start', 'A2')}${flow('f2', 'A2', 'B')}${flow('f4', 'B', 'end')}${flow('f3', 'T2', 'late2')}
<bpmn:subProcess id="S2"><bpmn:startEvent id="cs2" />${task('C2', 'mig-c2')}${task('inner', 'mig-inner')}${flow('c2', 'cs2', 'C2')}</bpmn:subProcess>
<bpmn:userTask id="U"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>`)

/** A gateway whose condition reads a variable that is never set (an incident), and its fixed version. */
const FIX_V1 = definitions('mig-fix', `<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="gw" />${task('ok', 'mig-ok')}
${flow('g1', 's', 'gw')}${flow('g2', 'gw', 'ok', '=missing.flag')}`)
const FIX_V2 = definitions('mig-fix', `<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="gw" />${task('ok', 'mig-ok')}
${flow('g1', 's', 'gw')}${flow('g2', 'gw', 'ok', '=flag')}`)

let v1 = ''
let v2 = ''
let fixV2 = ''

beforeAll(async () => {
  const deployed1 = await client.zeebe.deployResources([{ name: 'mig-p.bpmn', process: Buffer.from(V1) }, { name: 'mig-fix.bpmn', process: Buffer.from(FIX_V1) }])
  v1 = processKey(deployed1, 0)
  const deployed2 = await client.zeebe.deployResources([{ name: 'mig-p.bpmn', process: Buffer.from(V2) }, { name: 'mig-fix.bpmn', process: Buffer.from(FIX_V2) }])
  v2 = processKey(deployed2, 0)
  fixV2 = processKey(deployed2, 1)
})

/** An instance of v1 waiting at A. */
async function waitingAtA(): Promise<string> {
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'mig-p', version: 1, variables: {} })
  cancelAfterTest(processInstanceKey)
  await until('A active', async () => ((await elementStates(processInstanceKey, 'A')).includes('ACTIVE') ? true : undefined))
  return processInstanceKey
}

async function definitionOf(processInstanceKey: string): Promise<{ processDefinitionKey: string; processDefinitionVersion: number }> {
  return (await search<{ processDefinitionKey: string; processDefinitionVersion: number }>('process-instances', { processInstanceKey }))[0]
}

test('A mapped to A2 and T1 to T2 over gRPC: the instance is on v2, its job keeps its type, the timer keeps its due date', async () => {
  // given an instance of v1 at A, 30 minutes in
  const key = await waitingAtA()
  await increaseTime(30 * MINUTE)
  // when it is migrated to v2
  await client.zeebe.migrateProcessInstance({
    processInstanceKey: key,
    migrationPlan: { targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'A', targetElementId: 'A2' }, { sourceElementId: 'T1', targetElementId: 'T2' }] },
  })
  // then the instance belongs to v2 and waits at A2, with the job created for A
  expect(await definitionOf(key)).toMatchObject({ processDefinitionKey: v2, processDefinitionVersion: 2 })
  expect(await elementStates(key, 'A2')).toEqual(['ACTIVE'])
  const job = await activateOne('mig-a', key)
  expect(job).toMatchObject({ elementId: 'A2', processDefinitionKey: v2, processDefinitionVersion: 2 })
  // and the timer fires one hour after A started (not two): 31 minutes later
  await increaseTime(31 * MINUTE)
  await until('T2 fired', async () => ((await elementStates(key, 'late2')).includes('COMPLETED') ? true : undefined))
  await expectInstanceState(key, 'COMPLETED')
})

test('A mapped alone: the timer of v1 is closed and v2\'s is opened from now; completing the job follows v2 to B', async () => {
  const key = await waitingAtA()
  await increaseTime(30 * MINUTE)
  await client.camunda.getCamundaRestClient().migrateProcessInstance({
    processInstanceKey: key, targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'A', targetElementId: 'A2' }],
  })
  // when one hour and a half passes (past v1's timer, before v2's)
  await increaseTime(90 * MINUTE)
  // then nothing fired; the job completes and B, which v1 did not have, runs
  expect(await elementStates(key, 'T2')).toEqual([])
  const job = await activateOne('mig-a', key)
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  await activateOne('mig-b', key)
  expect(await elementStates(key, 'B')).toEqual(['ACTIVE'])
})

test('an active subprocess and its task move together, each to its mapped element', async () => {
  const { processInstanceKey: key } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'mig-p', version: 1, variables: {} })
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: '-1', variableInstructions: [] }] })
  const [a] = (await elementInstances(key)).filter((e) => e.elementId === 'A')
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, terminateInstructions: [{ elementInstanceKey: a.elementInstanceKey }] })
  await client.zeebe.migrateProcessInstance({
    processInstanceKey: key,
    migrationPlan: { targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'S', targetElementId: 'S2' }, { sourceElementId: 'C', targetElementId: 'C2' }] },
  })
  expect(await elementStates(key, 'S2')).toEqual(['ACTIVE'])
  const job = await activateOne('mig-c', key)
  expect(job.elementId).toBe('C2')
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  // S2 completes when C2 does: what S2 holds besides was never started
  await until('S2 completed', async () => ((await elementStates(key, 'S2')).includes('COMPLETED') ? true : undefined))
  expect(await elementStates(key, 'inner')).toEqual([])
})

test('an incident is fixed by migrating to the corrected version, then resolving it', async () => {
  // given an instance stuck at the gateway of v1
  const { processInstanceKey: key } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'mig-fix', version: 1, variables: { flag: true } })
  const incident = await activeIncident(key)
  expect(incident.elementId).toBe('gw')
  // when it moves to v2, whose condition reads the variable the instance has, and the incident is resolved
  await client.zeebe.migrateProcessInstance({ processInstanceKey: key, migrationPlan: { targetProcessDefinitionKey: fixV2, mappingInstructions: [{ sourceElementId: 'gw', targetElementId: 'gw' }] } })
  expect((await incidentsOf(key, 'ACTIVE'))[0]).toMatchObject({ processDefinitionKey: fixV2, elementId: 'gw' })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  // then the corrected condition takes the instance on
  await activateOne('mig-ok', key)
})

test('Zeebe\'s rejections name the problem, and a rejected migration leaves the instance on its version', async () => {
  const key = await waitingAtA()
  const migrate = (targetProcessDefinitionKey: string, mappingInstructions: { sourceElementId: string; targetElementId: string }[]) =>
    grpcFailure(client.zeebe.migrateProcessInstance({ processInstanceKey: key, migrationPlan: { targetProcessDefinitionKey, mappingInstructions } }))
  const cases: [Promise<{ code: GrpcStatus; details: string }>, GrpcStatus, string][] = [
    [migrate(v2, []), GrpcStatus.FAILED_PRECONDITION, "no mapping instruction defined for active element with id 'A'. Elements cannot be migrated without a mapping."],
    [migrate(v2, [{ sourceElementId: 'A', targetElementId: 'U' }]), GrpcStatus.FAILED_PRECONDITION, "active element with id 'A' and type 'SERVICE_TASK' is mapped to an element with id 'U' and different type 'USER_TASK'"],
    [migrate(v2, [{ sourceElementId: 'A', targetElementId: 'inner' }]), GrpcStatus.FAILED_PRECONDITION, "the flow scope of active element with id 'A' is changed"],
    [migrate(v2, [{ sourceElementId: 'A', targetElementId: 'A2' }, { sourceElementId: 'A', targetElementId: 'B' }]), GrpcStatus.INVALID_ARGUMENT, "duplicate source element ids '[A]'"],
    [migrate(v2, [{ sourceElementId: 'nowhere', targetElementId: 'A2' }]), GrpcStatus.INVALID_ARGUMENT, "non-existing source element id 'nowhere'"],
    [migrate(v2, [{ sourceElementId: 'A', targetElementId: 'nowhere' }]), GrpcStatus.INVALID_ARGUMENT, "non-existing target element id 'nowhere'"],
    [migrate(v2, [{ sourceElementId: 'A', targetElementId: 'A2' }, { sourceElementId: 'T1', targetElementId: 'late2' }]), GrpcStatus.FAILED_PRECONDITION, "catch event with id 'T1' that is mapped to an element with id 'late2'"],
    [migrate('2251799813999999', [{ sourceElementId: 'A', targetElementId: 'A2' }]), GrpcStatus.NOT_FOUND, "no process definition found with key '2251799813999999'"],
  ]
  for (const [call, code, detail] of cases) {
    const failure = await call
    expect({ code: failure.code, detail }).toEqual({ code, detail })
    expect(failure.details).toContain(detail)
  }
  expect(await definitionOf(key)).toMatchObject({ processDefinitionKey: v1, processDefinitionVersion: 1 })
  expect(await elementStates(key, 'A')).toEqual(['ACTIVE'])
  // over REST: an unknown instance is 404, a missing mapping 409, a malformed plan 400
  const post = (instance: string, body: unknown) => fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances/${instance}/migration`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  expect((await post('2251799813999998', { targetProcessDefinitionKey: v2, mappingInstructions: [] })).status).toBe(404)
  expect((await post(key, { targetProcessDefinitionKey: v2, mappingInstructions: [] })).status).toBe(409)
  const malformed = await post(key, { mappingInstructions: [] })
  expect(malformed.status).toBe(400)
  expect(await malformed.text()).toContain('targetProcessDefinitionKey')
})

test('a Camunda user task keeps its assignee and is found under its new element and definition', async () => {
  const { processInstanceKey: key } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'mig-p', version: 2, variables: {} })
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'U', ancestorElementInstanceKey: '-1', variableInstructions: [] }] })
  const [a2] = (await elementInstances(key)).filter((e) => e.elementId === 'A2')
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, terminateInstructions: [{ elementInstanceKey: a2.elementInstanceKey }] })
  const rest = client.camunda.getCamundaRestClient()
  const [task] = await until('the user task', async () => { const found = await search<{ userTaskKey: string }>('user-tasks', { processInstanceKey: key }); return found.length > 0 ? found : undefined })
  await rest.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'camille' })
  // a third version where U is called U3
  const v3 = processKey((await client.zeebe.deployResources([{ name: 'mig-p.bpmn', process: Buffer.from(V2.replace(/"U"/g, '"U3"')) }])), 0)
  await client.zeebe.migrateProcessInstance({ processInstanceKey: key, migrationPlan: { targetProcessDefinitionKey: v3, mappingInstructions: [{ sourceElementId: 'U', targetElementId: 'U3' }] } })
  const [moved] = await search<{ userTaskKey: string; elementId: string; processDefinitionKey: string; assignee: string }>('user-tasks', { processInstanceKey: key })
  expect(moved).toMatchObject({ userTaskKey: task.userTaskKey, elementId: 'U3', processDefinitionKey: v3, assignee: 'camille' })
  await rest.completeUserTask({ userTaskKey: task.userTaskKey })
  await expectInstanceState(key, 'COMPLETED')
})

test('a job worker user task migrated to a Camunda user task keeps its candidates, dates and headers, takes the target\'s priority and assignee; an incident on it must be resolved first; the reverse is refused', async () => {
  // given an instance waiting at a job worker user task with candidates, a due date and a header
  const jobTask = '<bpmn:userTask id="J"><bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="reviewers" /><zeebe:taskSchedule dueDate="2027-01-15T10:00:00Z" />'
    + '<zeebe:taskHeaders><zeebe:header key="desk" value="north" /></zeebe:taskHeaders></bpmn:extensionElements></bpmn:userTask>'
  const camundaTask = '<bpmn:userTask id="C"><bpmn:extensionElements><zeebe:userTask /><zeebe:assignmentDefinition assignee="camille" /><zeebe:priorityDefinition priority="70" /></bpmn:extensionElements></bpmn:userTask>'
  const around = (inner: string) => `<bpmn:startEvent id="s" />${inner}<bpmn:endEvent id="e" />${flow('f1', 's', inner.includes('id="J"') ? 'J' : 'C')}${flow('f2', inner.includes('id="J"') ? 'J' : 'C', 'e')}`
  const v1 = processKey(await client.zeebe.deployResources([{ name: 'mig-ut.bpmn', process: Buffer.from(definitions('mig-ut', around(jobTask))) }]))
  const v2 = processKey(await client.zeebe.deployResources([{ name: 'mig-ut.bpmn', process: Buffer.from(definitions('mig-ut', around(camundaTask))) }]))
  const { processInstanceKey: key } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'mig-ut', version: 1, variables: {} })
  cancelAfterTest(key)
  const job = await activateOne('io.camunda.zeebe:userTask', key)
  // when the job fails with no retries left, the migration is refused until the incident is resolved
  await client.zeebe.failJob({ jobKey: job.key, errorMessage: 'no desk', retries: 0, retryBackOff: 0 })
  const incident = await activeIncident(key)
  const migrate = () => client.zeebe.migrateProcessInstance({ processInstanceKey: key, migrationPlan: { targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'J', targetElementId: 'C' }] } })
  const refused = await grpcFailure(migrate())
  expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION)
  expect(refused.details).toContain("active job worker user task with id 'J' has an incident")
  await client.zeebe.updateJobRetries({ jobKey: job.key, retries: 1 })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  await migrate()
  // then a Camunda user task stands in for the job, as the docs describe
  const [task] = await until('the Camunda user task', async () => {
    const found = await search<{ userTaskKey: string; elementId: string; candidateGroups: string[]; dueDate: string; priority: number; assignee: string; customHeaders: Record<string, string> }>('user-tasks', { processInstanceKey: key })
    return found.length > 0 ? found : undefined
  })
  expect(task).toMatchObject({ elementId: 'C', candidateGroups: ['reviewers'], priority: 70, assignee: 'camille', customHeaders: { desk: 'north' } })
  expect(Date.parse(task.dueDate)).toBe(Date.parse('2027-01-15T10:00:00Z'))
  expect(await client.zeebe.activateJobs({ type: 'io.camunda.zeebe:userTask', worker: 'w', timeout: MINUTE, maxJobsToActivate: 5, requestTimeout: -1 })).toEqual([])
  // and back to the job worker version is refused; completing the task completes the instance
  const back = await grpcFailure(client.zeebe.migrateProcessInstance({ processInstanceKey: key, migrationPlan: { targetProcessDefinitionKey: v1, mappingInstructions: [{ sourceElementId: 'C', targetElementId: 'J' }] } }))
  expect(back.details).toContain('Elements must be mapped to elements of the same implementation.')
  await client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task.userTaskKey })
  await expectInstanceState(key, 'COMPLETED')
})
