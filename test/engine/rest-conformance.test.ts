/**
 * Conformance of the /v2 adapter with Camunda 8.8's REST contract, checked by the official 8.8
 * client (@camunda8/orchestration-cluster-api) in its strictest mode: 'fanatical' validates every
 * request strictly and rejects any response with a missing or mistyped field or an unknown one.
 * Each endpoint the adapter serves is exercised on its happy path and its documented errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createCamundaClient, ProcessInstanceKey, UserTaskKey, type CamundaClient,
} from '@camunda8/orchestration-cluster-api'
import { startTestEngine, type TestEngine } from '../support/engine-harness'

const BPMN = join(__dirname, '..', 'fixtures', 'bpmn')

const FORM = JSON.stringify({
  id: 'ph-conformance-form',
  type: 'default',
  schemaVersion: 16,
  components: [{ key: 'approved', label: 'Approved', type: 'checkbox' }],
})

const DMN = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="ph-conformance-drg" name="Conformance DRG" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="ph-conformance-discount" name="Discount">
    <decisionTable id="ph-conformance-table" hitPolicy="FIRST">
      <input id="in-tier" label="Tier"><inputExpression id="in-tier-expr" typeRef="string"><text>tier</text></inputExpression></input>
      <output id="out-discount" name="discount" typeRef="number" />
      <rule id="rule-gold"><inputEntry id="rule-gold-in"><text>"gold"</text></inputEntry><outputEntry id="rule-gold-out"><text>15</text></outputEntry></rule>
      <rule id="rule-other"><inputEntry id="rule-other-in"><text>-</text></inputEntry><outputEntry id="rule-other-out"><text>0</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`

/** No eventual-consistency wait: the embedded engine's searches are immediately consistent. */
const NOW = { consistency: { waitUpToMs: 0 } }
const UNKNOWN_KEY = '2251799813999999'

let engine: TestEngine
let baseUrl: string
let captureDir: string
/** The strict client: every request and response validated, unknown response fields rejected. */
let camunda: CamundaClient
/** Sends requests unchecked (to provoke 400s); responses still validated fanatically. */
let unchecked: CamundaClient

function client(validation: string): CamundaClient {
  return createCamundaClient({
    config: {
      CAMUNDA_REST_ADDRESS: baseUrl,
      CAMUNDA_AUTH_STRATEGY: 'NONE',
      CAMUNDA_SDK_VALIDATION: validation,
      CAMUNDA_SDK_LOG_LEVEL: 'silent',
      CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
    },
  })
}

beforeAll(async () => {
  // Fanatical mode writes samples of unknown fields to a directory: keep them out of the repo.
  captureDir = mkdtempSync(join(tmpdir(), 'raccord-conformance-'))
  process.env.CAMUNDA_SDK_VALIDATION_CAPTURE_DIR = captureDir
  engine = await startTestEngine()
  baseUrl = `http://127.0.0.1:${engine.restPort}`
  camunda = client('fanatical')
  unchecked = client('req:none,res:fanatical')
})

afterAll(async () => {
  camunda.stopAllWorkers()
  unchecked.stopAllWorkers()
  await engine.close()
  rmSync(captureDir, { recursive: true, force: true })
})

interface ProblemJson { type: string; title: string; status: number; detail: string; instance: string }

/** A raw call, for what the official client refuses to send (malformed bodies). */
async function raw(method: string, path: string, body?: unknown): Promise<{ status: number; contentType: string | null; problem: ProblemJson }> {
  const response = await fetch(`${baseUrl}/v2${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, contentType: response.headers.get('content-type'), problem: (text ? JSON.parse(text) : undefined) as ProblemJson }
}

/** The HTTP error the official client throws, as a plain object for matching. */
async function httpFailure(call: Promise<unknown>): Promise<{ name: string; status: number; title?: string; detail?: string }> {
  try {
    await call
  } catch (err) {
    const e = err as { name: string; status: number; title?: string; detail?: string }
    return { name: e.name, status: e.status, title: e.title, detail: e.detail }
  }
  throw new Error('expected the call to fail')
}

function file(name: string, content: string): File {
  return new File([content], name, { type: 'application/octet-stream' })
}

let deployedProcessKey: string
let deployedDecisionKey: string
let deployedDrgKey: string

async function startConformanceInstance(orderId: string) {
  return camunda.createProcessInstance({ processDefinitionId: 'conformance' as never, variables: { orderId } })
}

async function createdTaskOf(processInstanceKey: string) {
  const tasks = await camunda.searchUserTasks({ filter: { processInstanceKey: processInstanceKey as never, state: 'CREATED' } }, NOW)
  expect(tasks.items).toHaveLength(1)
  return tasks.items[0]
}

describe('cluster and deployments', () => {
  test('the strict client is live: it rejects a response with an unknown field', async () => {
    // given a client whose responses gain a field 8.8 does not define
    const tampering = createCamundaClient({
      config: { CAMUNDA_REST_ADDRESS: baseUrl, CAMUNDA_AUTH_STRATEGY: 'NONE', CAMUNDA_SDK_VALIDATION: 'fanatical', CAMUNDA_SDK_LOG_LEVEL: 'silent' },
      fetch: async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        const response = await fetch(input, init)
        const body = { ...(await response.json() as object), notInTheSpec: true }
        return new Response(JSON.stringify(body), { status: response.status, headers: response.headers })
      },
    })
    // when / then
    await expect(tampering.getTopology()).rejects.toThrow(/notInTheSpec/)
  })

  test('GET /topology answers the 8.8 topology shape', async () => {
    // when
    const topology = await camunda.getTopology()
    // then
    expect(topology.gatewayVersion).toMatch(/^8\.8\./)
    expect(topology.brokers?.[0].partitions[0]).toMatchObject({ partitionId: 1, role: 'leader', health: 'healthy' })
  })

  test('POST /deployments deploys BPMN, DMN and a form in one deployment', async () => {
    // when
    const deployment = await camunda.createDeployment({
      resources: [
        file('ph-conformance-form.form', FORM),
        file('harness/conformance.bpmn', readFileSync(join(BPMN, 'harness/conformance.bpmn'), 'utf8')),
        file('harness/conformance-quick.bpmn', readFileSync(join(BPMN, 'harness/conformance-quick.bpmn'), 'utf8')),
        file('harness/conformance.dmn', DMN),
      ],
    })
    // then
    const processes = deployment.deployments.flatMap((d) => (d.processDefinition ? [d.processDefinition] : []))
    expect(processes.map((p) => p.processDefinitionId).sort()).toEqual(['conformance', 'conformance-quick'])
    deployedProcessKey = processes.find((p) => p.processDefinitionId === 'conformance')!.processDefinitionKey
    const decision = deployment.deployments.find((d) => d.decisionDefinition)!.decisionDefinition!
    deployedDecisionKey = decision.decisionDefinitionKey!
    deployedDrgKey = decision.decisionRequirementsKey!
    expect(deployment.deployments.some((d) => d.form?.formId === 'ph-conformance-form')).toBe(true)
  })

  test('POST /deployments with an invalid BPMN answers 400 problem JSON', async () => {
    // when
    const failure = await httpFailure(camunda.createDeployment({ resources: [file('broken.bpmn', '<definitions')] }))
    // then
    expect(failure).toMatchObject({ name: 'HttpSdkError', status: 400 })
  })

  test('process definitions: search, get, XML; unknown key 404', async () => {
    // when
    const found = await camunda.searchProcessDefinitions({ filter: { processDefinitionId: 'conformance' as never } }, NOW)
    const definition = await camunda.getProcessDefinition({ processDefinitionKey: deployedProcessKey as never }, NOW)
    const xml = await camunda.getProcessDefinitionXml({ processDefinitionKey: deployedProcessKey as never }, NOW)
    // then
    expect(found.items?.map((d) => d.processDefinitionKey)).toEqual([deployedProcessKey])
    expect(found.page.totalItems).toBe(1)
    expect(definition).toMatchObject({ processDefinitionId: 'conformance', name: 'Conformance flow', version: 1 })
    expect(String(xml)).toContain('<bpmn:process id="conformance"')
    expect(await httpFailure(camunda.getProcessDefinition({ processDefinitionKey: UNKNOWN_KEY as never }, NOW)))
      .toMatchObject({ status: 404, title: 'NOT_FOUND' })
  })

  test('decision definitions and requirements: search and get', async () => {
    // when
    const decisions = await camunda.searchDecisionDefinitions({ filter: { decisionDefinitionId: 'ph-conformance-discount' as never } }, NOW)
    const decision = await camunda.getDecisionDefinition({ decisionDefinitionKey: deployedDecisionKey as never }, NOW)
    const drgs = await camunda.searchDecisionRequirements({ filter: { decisionRequirementsKey: deployedDrgKey as never } }, NOW)
    const drg = await camunda.getDecisionRequirements({ decisionRequirementsKey: deployedDrgKey as never }, NOW)
    // then
    expect(decisions.items).toHaveLength(1)
    expect(decision).toMatchObject({ decisionDefinitionId: 'ph-conformance-discount', name: 'Discount' })
    expect(drgs.items).toHaveLength(1)
    expect(drg.decisionRequirementsId).toBe('ph-conformance-drg')
  })

  test('POST /resources/{key}/deletion deletes a deployed resource', async () => {
    // given a deployment of its own
    const deployment = await camunda.createDeployment({
      resources: [file('harness/conformance-quick.bpmn', readFileSync(join(BPMN, 'harness/conformance-quick.bpmn'), 'utf8')
        .replace(/conformance-quick/g, 'ph-conformance-deleted'))],
    })
    const key = deployment.deployments[0].processDefinition!.processDefinitionKey
    // when
    await camunda.deleteResource({ resourceKey: key as never })
    // then
    expect(await httpFailure(camunda.getProcessDefinition({ processDefinitionKey: key }, NOW))).toMatchObject({ status: 404 })
  })
})

describe('decision evaluation', () => {
  test('POST /decision-definitions/evaluation evaluates by id; failedDecisionDefinitionId is the one tolerated deviation', async () => {
    // when evaluated through the client with responses unchecked
    const lenient = createCamundaClient({
      config: { CAMUNDA_REST_ADDRESS: baseUrl, CAMUNDA_AUTH_STRATEGY: 'NONE', CAMUNDA_SDK_VALIDATION: 'req:strict,res:none', CAMUNDA_SDK_LOG_LEVEL: 'silent' },
    })
    const result = await lenient.evaluateDecision({ decisionDefinitionId: 'ph-conformance-discount' as never, variables: { tier: 'gold' } })
    // then the result is right
    expect(result).toMatchObject({ decisionDefinitionId: 'ph-conformance-discount', output: '15', failureMessage: '' })
    expect(result.evaluatedDecisions[0].matchedRules?.[0].ruleId).toBe('rule-gold')
    // and Camunda 8.8's gateway copies the record's failedDecisionId verbatim, "" when nothing
    // failed, while the 8.8.4 client's schema requires a non-empty id there (later gateways send
    // null): the strict client rejects that field, and only that field.
    expect(result.failedDecisionDefinitionId).toBe('')
    let rejection: { name?: string; message?: string; issues?: string[] } | undefined
    try {
      await camunda.evaluateDecision({ decisionDefinitionId: 'ph-conformance-discount' as never, variables: { tier: 'gold' } })
    } catch (err) {
      rejection = err as typeof rejection
    }
    expect(rejection).toMatchObject({ name: 'ValidationSdkError', message: 'Invalid evaluateDecision response: validation failed' })
    expect(rejection?.issues?.length).toBeGreaterThan(0)
    for (const issue of rejection?.issues ?? []) expect(issue).toMatch(/^failedDecisionDefinitionId: /)
  })

  test('evaluation errors: 400 without an id or key, 404 for an unknown decision', async () => {
    // when / then
    const missing = await raw('POST', '/decision-definitions/evaluation', { variables: {} })
    expect(missing.status).toBe(400)
    expect(missing.problem.detail).toMatch(/decisionDefinitionId.*decisionDefinitionKey/)
    expect(await httpFailure(unchecked.evaluateDecision({ decisionDefinitionId: 'ph-no-such-decision' as never, variables: {} })))
      .toMatchObject({ status: 404 })
  })
})

describe('process instances', () => {
  test('create, get, search and cancel a process instance', async () => {
    // given
    const created = await startConformanceInstance('order-create')
    // when
    const fetched = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    const searched = await camunda.searchProcessInstances({
      filter: { processDefinitionId: 'conformance' as never, state: 'ACTIVE' },
      sort: [{ field: 'startDate', order: 'DESC' }],
      page: { limit: 5 },
    }, NOW)
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
    // then
    expect(created).toMatchObject({ processDefinitionId: 'conformance', processDefinitionVersion: 1 })
    expect(fetched).toMatchObject({ state: 'ACTIVE', hasIncident: false, processDefinitionName: 'Conformance flow' })
    expect(searched.items.map((i) => i.processInstanceKey)).toContain(created.processInstanceKey)
    const canceled = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    expect(canceled.state).toBe('TERMINATED')
    expect(canceled.endDate).toEqual(expect.any(String))
  })

  test('create with awaitCompletion returns the result variables', async () => {
    // when
    const result = await camunda.createProcessInstance({
      processDefinitionId: 'conformance-quick' as never, variables: { a: 41 }, awaitCompletion: true, fetchVariables: ['b'],
    })
    // then
    expect(result.variables).toEqual({ b: 42 })
  })

  test('process instance errors: unknown key 404, bad body 400 naming the field, unknown process 404', async () => {
    // when / then
    expect(await httpFailure(camunda.getProcessInstance({ processInstanceKey: ProcessInstanceKey.assumeExists(UNKNOWN_KEY) }, NOW)))
      .toMatchObject({ name: 'HttpSdkError', status: 404, title: 'NOT_FOUND' })
    expect(await httpFailure(camunda.cancelProcessInstance({ processInstanceKey: ProcessInstanceKey.assumeExists(UNKNOWN_KEY) })))
      .toMatchObject({ status: 404 })
    const badBody = await raw('POST', '/process-instances', { processDefinitionId: 42 })
    expect(badBody.status).toBe(400)
    expect(badBody.contentType).toContain('application/problem+json')
    expect(badBody.problem).toMatchObject({ type: 'about:blank', title: 'INVALID_ARGUMENT', status: 400, instance: '/v2/process-instances' })
    expect(badBody.problem.detail).toContain('processDefinitionId')
    expect(await httpFailure(unchecked.createProcessInstance({ processDefinitionId: 'ph-no-such-process' as never })))
      .toMatchObject({ status: 404, title: 'NOT_FOUND' })
    const badSearch = await raw('POST', '/process-instances/search', { sort: [{ field: 'noSuchField' }] })
    expect(badSearch.status).toBe(400)
    expect(badSearch.problem.detail).toContain('noSuchField')
  })

  test('element instances: search sorted by start date, get by key, set variables; unknown key 404', async () => {
    // given an instance waiting at its user task
    const created = await startConformanceInstance('order-elements')
    // when
    const elements = await camunda.searchElementInstances({
      filter: { processInstanceKey: created.processInstanceKey },
      sort: [{ field: 'startDate', order: 'ASC' }, { field: 'elementInstanceKey', order: 'ASC' }],
    }, NOW)
    const review = (elements.items ?? []).find((e) => e.elementId === 'review')!
    const fetched = await camunda.getElementInstance({ elementInstanceKey: review.elementInstanceKey }, NOW)
    await camunda.createElementInstanceVariables({ elementInstanceKey: review.elementInstanceKey, variables: { note: 'local' }, local: true })
    // then
    expect(elements.items?.map((e) => [e.elementId, e.state])).toEqual([['start', 'COMPLETED'], ['review', 'ACTIVE']])
    expect(fetched).toMatchObject({ elementId: 'review', type: 'USER_TASK', state: 'ACTIVE', hasIncident: false })
    const local = await camunda.searchVariables({ filter: { scopeKey: review.elementInstanceKey as never, name: 'note' } }, NOW)
    expect(local.items.map((v) => v.value)).toEqual(['"local"'])
    expect(await httpFailure(camunda.getElementInstance({ elementInstanceKey: UNKNOWN_KEY as never }, NOW))).toMatchObject({ status: 404 })
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })

  test('variables: search returns JSON-serialised values, get by key; unknown key 404', async () => {
    // given
    const created = await camunda.createProcessInstance({
      processDefinitionId: 'conformance' as never, variables: { orderId: 'order-vars', lines: [{ sku: 'A' }] },
    })
    // when
    const found = await camunda.searchVariables({ filter: { processInstanceKey: created.processInstanceKey }, sort: [{ field: 'name' }] }, NOW)
    const lines = found.items.find((v) => v.name === 'lines')!
    const fetched = await camunda.getVariable({ variableKey: lines.variableKey }, NOW)
    // then
    expect(found.items.map((v) => [v.name, v.value])).toEqual([['lines', '[{"sku":"A"}]'], ['orderId', '"order-vars"']])
    expect(fetched).toMatchObject({ name: 'lines', value: '[{"sku":"A"}]' })
    expect(await httpFailure(camunda.getVariable({ variableKey: UNKNOWN_KEY as never }, NOW))).toMatchObject({ status: 404 })
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })
})

describe('user tasks', () => {
  test('search, get, form, assign, unassign, update and complete a user task', async () => {
    // given
    const created = await startConformanceInstance('order-task')
    const task = await createdTaskOf(created.processInstanceKey)
    // when
    const fetched = await camunda.getUserTask({ userTaskKey: task.userTaskKey }, NOW)
    const form = await camunda.getUserTaskForm({ userTaskKey: task.userTaskKey }, NOW)
    await camunda.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'ann' })
    const assigned = await camunda.getUserTask({ userTaskKey: task.userTaskKey }, NOW)
    await camunda.unassignUserTask({ userTaskKey: task.userTaskKey })
    const unassigned = await camunda.getUserTask({ userTaskKey: task.userTaskKey }, NOW)
    await camunda.updateUserTask({ userTaskKey: task.userTaskKey, changeset: { priority: 80, candidateGroups: ['leads'] } })
    const updated = await camunda.getUserTask({ userTaskKey: task.userTaskKey }, NOW)
    const visible = await camunda.searchUserTaskVariables({ userTaskKey: task.userTaskKey }, NOW)
    await camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } })
    // then
    expect(fetched).toMatchObject({
      elementId: 'review', name: 'Review', state: 'CREATED', candidateGroups: ['reviewers'], priority: 50,
      dueDate: '2030-01-15T10:00:00.000Z', customHeaders: { kind: 'review' }, processDefinitionId: 'conformance',
    })
    expect(form).toMatchObject({ formId: 'ph-conformance-form', version: 1 })
    expect(assigned.assignee).toBe('ann')
    expect(unassigned.assignee).toBeUndefined()
    expect(updated).toMatchObject({ priority: 80, candidateGroups: ['leads'] })
    expect(visible.items.map((v) => v.name)).toEqual(['orderId'])
    const completed = await camunda.getUserTask({ userTaskKey: task.userTaskKey }, NOW)
    expect(completed.state).toBe('COMPLETED')
    expect(completed.completionDate).toEqual(expect.any(String))
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })

  test('user task errors: unknown key 404, empty assignee 400, no override 409, completing twice 404', async () => {
    // given an assigned task
    const created = await startConformanceInstance('order-task-errors')
    const task = await createdTaskOf(created.processInstanceKey)
    await camunda.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'ann' })
    // when / then
    expect(await httpFailure(camunda.getUserTask({ userTaskKey: UserTaskKey.assumeExists(UNKNOWN_KEY) }, NOW)))
      .toMatchObject({ status: 404 })
    expect(await httpFailure(camunda.completeUserTask({ userTaskKey: UserTaskKey.assumeExists(UNKNOWN_KEY) })))
      .toMatchObject({ status: 404 })
    const emptyAssignee = await raw('POST', `/user-tasks/${task.userTaskKey}/assignment`, { assignee: '' })
    expect(emptyAssignee.status).toBe(400)
    expect(emptyAssignee.problem.detail).toContain('assignee')
    expect(await httpFailure(camunda.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'bob', allowOverride: false })))
      .toMatchObject({ status: 409, title: 'INVALID_STATE' })
    await camunda.completeUserTask({ userTaskKey: task.userTaskKey })
    // Zeebe removes a completed task from its state: a second completion is NOT_FOUND, 404 (§12.3).
    expect(await httpFailure(camunda.completeUserTask({ userTaskKey: task.userTaskKey }))).toMatchObject({ status: 404, title: 'NOT_FOUND' })
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })
})

describe('jobs and incidents', () => {
  /** An instance past its user task, with a `ph-conf-work` job. */
  async function instanceAtWork(orderId: string) {
    const created = await startConformanceInstance(orderId)
    const task = await createdTaskOf(created.processInstanceKey)
    await camunda.completeUserTask({ userTaskKey: task.userTaskKey })
    return created
  }

  async function activateOneJob(processInstanceKey: string) {
    const activated = await camunda.activateJobs({ type: 'ph-conf-work', maxJobsToActivate: 10, timeout: 60_000, worker: 'conformance', requestTimeout: 2000 })
    const job = activated.jobs.find((j) => j.processInstanceKey === processInstanceKey)
    expect(job).toBeDefined()
    return job!
  }

  test('activate, complete: the instance moves on; search jobs', async () => {
    // given
    const created = await instanceAtWork('order-job-complete')
    // when
    const job = await activateOneJob(created.processInstanceKey)
    const searched = await camunda.searchJobs({ filter: { jobKey: job.jobKey } }, NOW)
    await camunda.completeJob({ jobKey: job.jobKey, variables: { result: 'done' } })
    // then
    expect(job).toMatchObject({ type: 'ph-conf-work', elementId: 'work', retries: 3, customHeaders: { channel: 'rest' }, worker: 'conformance' })
    expect(job.variables).toMatchObject({ orderId: 'order-job-complete' })
    expect(searched.items).toHaveLength(1)
    const waiting = await camunda.searchElementInstances({ filter: { processInstanceKey: created.processInstanceKey, state: 'ACTIVE' } }, NOW)
    expect(waiting.items?.map((e) => e.elementId)).toEqual(['wait-go'])
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })

  test('fail without retries raises an incident: search, get, update retries, resolve; the job is activatable again', async () => {
    // given a job failed with no retries left
    const created = await instanceAtWork('order-job-fail')
    const job = await activateOneJob(created.processInstanceKey)
    await camunda.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: 'downstream is down' })
    // when
    const incidents = await camunda.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } }, NOW)
    const incident = await camunda.getIncident({ incidentKey: incidents.items![0].incidentKey! }, NOW)
    const instance = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    await camunda.updateJob({ jobKey: job.jobKey, changeset: { retries: 1 } })
    await camunda.resolveIncident({ incidentKey: incident.incidentKey! })
    // then
    expect(incident).toMatchObject({ errorType: 'JOB_NO_RETRIES', errorMessage: 'downstream is down', elementId: 'work', state: 'ACTIVE', jobKey: job.jobKey })
    expect(instance.hasIncident).toBe(true)
    const after = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    expect(after.hasIncident).toBe(false)
    const again = await activateOneJob(created.processInstanceKey)
    expect(again.jobKey).toBe(job.jobKey)
    expect(await httpFailure(camunda.getIncident({ incidentKey: UNKNOWN_KEY as never }, NOW))).toMatchObject({ status: 404 })
    expect(await httpFailure(camunda.resolveIncident({ incidentKey: UNKNOWN_KEY as never }))).toMatchObject({ status: 404 })
    await camunda.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
  })

  test('throw a BPMN error: the boundary event catches it', async () => {
    // given
    const created = await instanceAtWork('order-job-error')
    const job = await activateOneJob(created.processInstanceKey)
    // when
    await camunda.throwJobError({ jobKey: job.jobKey, errorCode: 'REJECTED', errorMessage: 'not allowed' })
    // then
    const instance = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    expect(instance.state).toBe('COMPLETED')
    const ends = await camunda.searchElementInstances({ filter: { processInstanceKey: created.processInstanceKey, elementId: 'rejected' as never } }, NOW)
    expect(ends.items).toHaveLength(1)
  })

  test('job errors: unknown key 404, bad activation body 400 naming the field, empty changeset 400', async () => {
    // when / then
    expect(await httpFailure(camunda.completeJob({ jobKey: UNKNOWN_KEY as never }))).toMatchObject({ status: 404 })
    expect(await httpFailure(camunda.failJob({ jobKey: UNKNOWN_KEY as never, retries: 0 }))).toMatchObject({ status: 404 })
    expect(await httpFailure(camunda.throwJobError({ jobKey: UNKNOWN_KEY as never, errorCode: 'X' }))).toMatchObject({ status: 404 })
    expect(await httpFailure(camunda.updateJob({ jobKey: UNKNOWN_KEY as never, changeset: { retries: 2 } }))).toMatchObject({ status: 404 })
    const badActivation = await raw('POST', '/jobs/activation', { type: 'ph-conf-work', timeout: 1000 })
    expect(badActivation.status).toBe(400)
    expect(badActivation.problem.detail).toContain('maxJobsToActivate')
    const emptyChangeset = await raw('PATCH', `/jobs/${UNKNOWN_KEY}`, { changeset: {} })
    expect(emptyChangeset.status).toBe(400)
  })

  test('activation long-polls and answers no jobs after its request timeout', async () => {
    // when
    const started = Date.now()
    const activated = await camunda.activateJobs({ type: 'ph-conf-nothing', maxJobsToActivate: 1, timeout: 1000, requestTimeout: 300 })
    // then
    expect(activated.jobs).toEqual([])
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
  })
})

describe('messages, signals and the clock', () => {
  test('publish buffers or correlates; correlate answers the instance, or 404 when nothing waits', async () => {
    // given an instance waiting for its message
    const created = await camunda.createProcessInstance({ processDefinitionId: 'conformance' as never, variables: { orderId: 'order-msg' } })
    const task = await createdTaskOf(created.processInstanceKey)
    await camunda.completeUserTask({ userTaskKey: task.userTaskKey })
    const job = await camunda.activateJobs({ type: 'ph-conf-work', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 2000 })
    await camunda.completeJob({ jobKey: job.jobs.find((j) => j.processInstanceKey === created.processInstanceKey)!.jobKey })
    // when
    const published = await camunda.publishMessage({ name: 'ph-conf-go', correlationKey: 'nobody-waits', timeToLive: 0, variables: {} })
    const correlated = await camunda.correlateMessage({ name: 'ph-conf-go', correlationKey: 'order-msg', variables: { go: true } })
    // then
    expect(published.messageKey).toMatch(/^\d+$/)
    expect(correlated.processInstanceKey).toBe(created.processInstanceKey)
    const instance = await camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, NOW)
    expect(instance.state).toBe('COMPLETED')
    expect(await httpFailure(camunda.correlateMessage({ name: 'ph-conf-go', correlationKey: 'nobody-waits' }))).toMatchObject({ status: 404, title: 'NOT_FOUND' })
    const noName = await raw('POST', '/messages/publication', { correlationKey: 'k' })
    expect(noName.status).toBe(400)
    expect(noName.problem.detail).toContain('name')
  })

  test('signals: broadcast answers a signal key; a missing name is 400', async () => {
    // when
    const broadcast = await camunda.broadcastSignal({ signalName: 'ph-conf-signal', variables: {} })
    // then
    expect(broadcast.signalKey).toMatch(/^\d+$/)
    const noName = await raw('POST', '/signals/broadcast', {})
    expect(noName.status).toBe(400)
    expect(noName.problem.detail).toContain('signalName')
  })

  test('clock: pin and reset answer 204; a missing timestamp is 400', async () => {
    // when
    const pinnedAt = Date.UTC(2031, 0, 1)
    await camunda.pinClock({ timestamp: pinnedAt })
    // then
    expect(engine.clock.now()).toBe(pinnedAt)
    await camunda.resetClock()
    expect(engine.clock.isPinned).toBe(false)
    const missing = await raw('PUT', '/clock', {})
    expect(missing.status).toBe(400)
    expect(missing.problem.detail).toContain('timestamp')
    const negative = await raw('PUT', '/clock', { timestamp: -1 })
    expect(negative.status).toBe(400)
  })

  test('an unknown route answers 404 problem JSON', async () => {
    // when
    const unknown = await raw('GET', '/no-such-endpoint')
    // then
    expect(unknown.status).toBe(404)
    expect(unknown.contentType).toContain('application/problem+json')
  })
})
