/**
 * The /v2 REST adapter, driven through the SDK's CamundaRestClient where it has a method, and
 * plain fetch otherwise, against an in-process engine.
 */
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { Camunda8 } from '@camunda8/sdk'
import type { CamundaRestClient } from '@camunda8/sdk/dist/c8/lib/CamundaRestClient'
import { ControllableClock } from '../../src/engine/clock'
import { createRestApp } from '../../src/engine/rest'
import { Engine } from '../../src/engine/runtime/engine'

const FIXTURES = join(__dirname, '..', 'fixtures', 'bpmn')
const DAY_MS = 24 * 60 * 60 * 1000

const REST_FORM = JSON.stringify({
  id: 'rest-form',
  type: 'default',
  components: [{ key: 'approved', label: 'Approved', type: 'checkbox' }],
  schemaVersion: 16,
})

let clock: ControllableClock
let engine: Engine
let server: Server
let baseUrl: string
let camunda: CamundaRestClient

beforeAll(async () => {
  clock = new ControllableClock()
  engine = new Engine({ clock })
  const app = createRestApp(engine, { clock, clockControlled: true })
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  camunda = new Camunda8({
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    ZEEBE_REST_ADDRESS: baseUrl,
    CAMUNDA_LOG_LEVEL: 'none',
  }).getCamundaRestClient()
  await camunda.deployResources([
    { name: 'flow.bpmn', content: readFileSync(join(FIXTURES, 'rest/flow.bpmn'), 'utf8') },
    { name: 'incident.bpmn', content: readFileSync(join(FIXTURES, 'rest/incident.bpmn'), 'utf8') },
    { name: 'rest-form.form', content: REST_FORM },
  ])
})

afterAll(async () => {
  clock.reset()
  engine.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface ProblemJson { type: string; title: string; status: number; detail: string; instance: string }

/** A plain HTTP call, for what the SDK has no method for or does not let us see (status, headers). */
async function post<T = ProblemJson>(path: string, body: unknown, method = 'POST'): Promise<{ status: number; type: string | null; json: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, type: response.headers.get('content-type'), json: (text ? JSON.parse(text) : undefined) as T }
}

interface ProcessInstanceJson { processInstanceKey: string; state: string; hasIncident: boolean; startDate: string }

/** The SDK 8.8.13 REST client has no getProcessInstance. */
async function getInstance(key: string): Promise<ProcessInstanceJson> {
  const response = await post<ProcessInstanceJson>(`/v2/process-instances/${key}`, undefined, 'GET')
  expect(response.status).toBe(200)
  return response.json
}

const started: string[] = []

/** Start flow; the instance is canceled after the test if it is still active, so no job of it lingers. */
async function startFlow(orderId: string): Promise<string> {
  const created = await camunda.createProcessInstance({ processDefinitionId: 'flow', variables: { orderId } })
  started.push(created.processInstanceKey)
  return created.processInstanceKey
}

afterEach(async () => {
  for (const key of started.splice(0)) {
    if ((await getInstance(key)).state === 'ACTIVE') await camunda.cancelProcessInstance({ processInstanceKey: key })
  }
})

async function elementState(processInstanceKey: string, elementId: string): Promise<string | undefined> {
  const found = await camunda.searchElementInstances({ filter: { processInstanceKey, elementId } })
  return found.items[0]?.state
}

async function userTaskOf(processInstanceKey: string) {
  const found = await camunda.searchUserTasks({ filter: { processInstanceKey } })
  return found.items[0]
}

describe('/v2 through the SDK REST client', () => {
  test('topology answers a one-broker, one-partition 8.8 cluster', async () => {
    const topology = await camunda.getTopology()
    expect(topology).toMatchObject({ clusterSize: 1, partitionsCount: 1, gatewayVersion: expect.stringMatching(/^8\.8/) })
    expect(topology.brokers[0].partitions[0]).toEqual({ partitionId: 1, role: 'leader', health: 'healthy' })
  })

  test('deploy answers each deployed item under its kind', async () => {
    const deployment = await camunda.deployResources([
      { name: 'incident.bpmn', content: readFileSync(join(FIXTURES, 'rest/incident.bpmn'), 'utf8') },
      { name: 'rest-form.form', content: REST_FORM },
    ])
    expect(deployment.deploymentKey).toMatch(/^\d+$/)
    expect(deployment.tenantId).toBe('<default>')
    expect(deployment.processes[0]).toMatchObject({ processDefinitionId: 'incident', resourceName: 'incident.bpmn' })
    expect(deployment.processes[0].processDefinitionKey).toMatch(/^\d+$/)
    expect(deployment.forms[0]).toMatchObject({ formId: 'rest-form', resourceName: 'rest-form.form' })
  })

  test('a broken resource fails the deployment with 400 problem JSON', async () => {
    const form = new FormData()
    form.append('resources', new Blob(['not xml']), 'broken.bpmn')
    const response = await fetch(`${baseUrl}/v2/deployments`, { method: 'POST', body: form })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem = (await response.json()) as ProblemJson
    expect(problem).toMatchObject({ type: 'about:blank', title: 'INVALID_ARGUMENT', status: 400, instance: '/v2/deployments' })
    expect(problem.detail).toMatch(/^Command '.+' rejected with code 'INVALID_ARGUMENT': /)
  })

  test('process definitions: search, get and XML', async () => {
    const found = await camunda.searchProcessDefinitions({ filter: { processDefinitionId: 'flow' } })
    expect(found.items).toHaveLength(1)
    const definition = found.items[0]
    expect(definition).toMatchObject({ processDefinitionId: 'flow', name: 'REST flow', version: 1 })
    const key = String(definition.processDefinitionKey)
    expect(await camunda.getProcessDefinition(key)).toMatchObject({ processDefinitionId: 'flow' })
    expect(await camunda.getProcessDefinitionXML(key)).toContain('<bpmn:process id="flow"')
  })

  test('create, get and search process instances with operators and cursors', async () => {
    const first = await startFlow('search-1')
    const second = await startFlow('search-2')

    const instance = await getInstance(first)
    expect(instance).toMatchObject({
      processInstanceKey: first, processDefinitionId: 'flow', processDefinitionName: 'REST flow',
      state: 'ACTIVE', hasIncident: false, tenantId: '<default>',
    })
    expect(new Date(instance.startDate).toISOString()).toBe(instance.startDate)

    const byIn = await camunda.searchProcessInstances({ filter: { processInstanceKey: { $in: [first, second] } } as never })
    expect(byIn.items.map((i) => i.processInstanceKey)).toEqual([first, second])
    expect(byIn.page.totalItems).toBe(2)

    const byLike = await camunda.searchProcessInstances({
      filter: { processDefinitionId: { $like: 'fl*' }, processInstanceKey: { $in: [first, second] } } as never,
    })
    expect(byLike.page.totalItems).toBe(2)

    const byVariable = await camunda.searchProcessInstances({
      filter: { variables: [{ name: 'orderId', value: '"search-2"' }] } as never,
    })
    expect(byVariable.items.map((i) => i.processInstanceKey)).toEqual([second])

    const newestFirst = await camunda.searchProcessInstances({
      filter: { processInstanceKey: { $in: [first, second] } } as never,
      sort: [{ field: 'processInstanceKey', order: 'DESC' }],
      page: { limit: 1 },
    } as never)
    expect(newestFirst.items.map((i) => i.processInstanceKey)).toEqual([second])
    const next = await camunda.searchProcessInstances({
      filter: { processInstanceKey: { $in: [first, second] } } as never,
      sort: [{ field: 'processInstanceKey', order: 'DESC' }],
      page: { limit: 1, after: newestFirst.page.endCursor },
    } as never)
    expect(next.items.map((i) => i.processInstanceKey)).toEqual([first])
  })

  test('element instances: search by instance, scope and state; get by key', async () => {
    const key = await startFlow('elements')
    const all = await camunda.searchElementInstances({ filter: { processInstanceKey: key } })
    expect(all.items.map((e) => [e.elementId, e.type, e.state])).toEqual([
      ['start', 'START_EVENT', 'COMPLETED'],
      ['review', 'USER_TASK', 'ACTIVE'],
    ])
    const children = await camunda.searchElementInstances({ filter: { elementInstanceScopeKey: key } as never })
    expect(children.page.totalItems).toBe(2)
    const active = await camunda.searchElementInstances({ filter: { processInstanceKey: key, state: 'ACTIVE' } as never })
    const review = active.items[0]
    expect(review).toMatchObject({ elementId: 'review', elementName: 'Review', hasIncident: false, processDefinitionId: 'flow' })
    expect(await camunda.getElementInstance(review.elementInstanceKey)).toMatchObject({ elementId: 'review', state: 'ACTIVE' })
  })

  test('variables: values as JSON strings, set locally or propagated, get by key', async () => {
    const key = await startFlow('vars')
    const review = (await camunda.searchElementInstances({ filter: { processInstanceKey: key, elementId: 'review' } })).items[0]
    await camunda.updateElementInstanceVariables({ elementInstanceKey: review.elementInstanceKey, variables: { note: 'local' }, local: true })
    await camunda.updateElementInstanceVariables({ elementInstanceKey: key, variables: { amount: 42 } })

    const found = await camunda.searchVariables({ filter: { processInstanceKey: key } } as never)
    const byName = Object.fromEntries(found.items.map((v) => [v.name, v]))
    expect(byName.orderId).toMatchObject({ value: '"vars"', isTruncated: false, scopeKey: key, processInstanceKey: key })
    expect(byName.amount).toMatchObject({ value: '42', scopeKey: key })
    expect(byName.note).toMatchObject({ value: '"local"', scopeKey: review.elementInstanceKey })

    const variable = await camunda.getVariable({ variableKey: byName.orderId.variableKey })
    expect(variable).toMatchObject({ name: 'orderId', value: 'vars' })

    const taskVariables = await camunda.searchUserTaskVariables({
      userTaskKey: (await userTaskOf(key)).userTaskKey, filter: { name: 'note' },
    } as never)
    expect(taskVariables.items.map((v) => v.value)).toEqual(['"local"'])
  })

  test('user tasks: form, assign, unassign, update, complete; completing twice is rejected', async () => {
    const key = await startFlow('tasks')
    const task = await userTaskOf(key)
    expect(task).toMatchObject({ elementId: 'review', state: 'CREATED', candidateGroups: ['reviewers'], priority: 50 })

    const form = await fetch(`${baseUrl}/v2/user-tasks/${task.userTaskKey}/form`)
    expect(form.status).toBe(200)
    expect(await form.json()).toMatchObject({ formId: 'rest-form', version: expect.any(Number), schema: { id: 'rest-form' } })

    await camunda.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'ann' })
    expect(await camunda.getUserTask(task.userTaskKey)).toMatchObject({ assignee: 'ann' })
    const byGroup = await camunda.searchUserTasks({ filter: { candidateGroup: 'reviewers', assignee: 'ann', processInstanceKey: key } as never })
    expect(byGroup.page.totalItems).toBe(1)

    await camunda.unassignUserTask({ userTaskKey: task.userTaskKey })
    expect((await camunda.getUserTask(task.userTaskKey)).assignee).toBeUndefined()

    await camunda.updateUserTask({ userTaskKey: task.userTaskKey, changeset: { priority: 90, dueDate: '2031-02-03T04:05:06Z' } } as never)
    expect(await camunda.getUserTask(task.userTaskKey)).toMatchObject({ priority: 90, dueDate: '2031-02-03T04:05:06.000Z' })
    const patched = await post(`/v2/user-tasks/${task.userTaskKey}`, { changeset: { candidateGroups: ['leads'] } }, 'PATCH')
    expect(patched.status).toBe(204)
    expect((await camunda.getUserTask(task.userTaskKey)).candidateGroups).toEqual(['leads'])

    await camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } })
    expect(await camunda.getUserTask(task.userTaskKey)).toMatchObject({ state: 'COMPLETED', completionDate: expect.any(String) })
    await expect(camunda.completeUserTask({ userTaskKey: task.userTaskKey })).rejects.toMatchObject({ statusCode: expect.any(Number) })
    const again = await post(`/v2/user-tasks/${task.userTaskKey}/completion`, {})
    expect([404, 409]).toContain(again.status)
    expect(again.type).toMatch(/^application\/problem\+json/)
  })

  test('jobs: a long poll is answered when the job appears; completion moves the token on', async () => {
    const key = await startFlow('jobs')
    const task = await userTaskOf(key)
    const polling = camunda.activateJobs({ type: 'rest-work', worker: 'rest-test', timeout: 30_000, maxJobsToActivate: 5, requestTimeout: 5000 })
    await new Promise((r) => setTimeout(r, 100))
    await camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } })
    const jobs = await polling
    expect(jobs).toHaveLength(1)
    const job = jobs[0]
    expect(job).toMatchObject({
      type: 'rest-work', processInstanceKey: key, elementId: 'work', worker: 'rest-test', retries: 3,
      processDefinitionId: 'flow', kind: 'BPMN_ELEMENT', listenerEventType: 'UNSPECIFIED',
    })
    expect(job.variables).toMatchObject({ orderId: 'jobs', approved: true })
    expect(Number(job.deadline)).toBeGreaterThan(Date.now())

    const searched = await post<{ items: Record<string, unknown>[] }>('/v2/jobs/search', { filter: { processInstanceKey: key } })
    expect(searched.json.items[0]).toMatchObject({ jobKey: job.jobKey, state: 'CREATED', kind: 'BPMN_ELEMENT', worker: 'rest-test' })

    await camunda.updateJob({ jobKey: job.jobKey, retries: 4 })
    await job.complete({ result: 'done' })
    expect(await elementState(key, 'work')).toBe('COMPLETED')
    expect(await elementState(key, 'wait-two-days')).toBe('ACTIVE')
    await expect(camunda.completeJob({ jobKey: job.jobKey, variables: {} })).rejects.toMatchObject({ statusCode: 404 })
  })

  test('an empty long poll with a negative request timeout answers at once', async () => {
    const started = Date.now()
    const jobs = await camunda.activateJobs({ type: 'rest-nothing', worker: 'w', timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 })
    expect(jobs).toEqual([])
    expect(Date.now() - started).toBeLessThan(1000)
  })

  test('failing a job without retries raises an incident; retries + resolution bring the job back', async () => {
    const key = await startFlow('fail')
    await camunda.completeUserTask({ userTaskKey: (await userTaskOf(key)).userTaskKey })
    const [job] = await camunda.activateJobs({ type: 'rest-work', worker: 'w', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: -1 })
    expect(job.processInstanceKey).toBe(key)
    await job.fail({ errorMessage: 'boom', retries: 0 })

    const incidents = await camunda.searchIncidents({ filter: { processInstanceKey: key } })
    expect(incidents.items[0]).toMatchObject({ errorType: 'JOB_NO_RETRIES', errorMessage: 'boom', state: 'ACTIVE', jobKey: job.jobKey, elementId: 'work' })
    expect((await getInstance(key)).hasIncident).toBe(true)
    const incidentKey = incidents.items[0].incidentKey

    await camunda.updateJob({ jobKey: job.jobKey, retries: 1 })
    await camunda.resolveIncident(incidentKey)
    const [again] = await camunda.activateJobs({ type: 'rest-work', worker: 'w', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: -1 })
    expect(again.jobKey).toBe(job.jobKey)
    await again.complete()
  })

  test('incidents: search, get and resolve after fixing the variables', async () => {
    const created = await camunda.createProcessInstance({ processDefinitionId: 'incident', variables: {} })
    const key = created.processInstanceKey
    const found = await camunda.searchIncidents({ filter: { processInstanceKey: key, state: 'ACTIVE' } })
    expect(found.page.totalItems).toBe(1)
    const incident = found.items[0]
    expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'decide', processDefinitionId: 'incident' })
    const fetched = await post<Record<string, unknown>>(`/v2/incidents/${incident.incidentKey}`, undefined, 'GET')
    expect(fetched.json).toMatchObject({ incidentKey: incident.incidentKey, state: 'ACTIVE' })
    const gateway = await camunda.searchElementInstances({ filter: { processInstanceKey: key, elementId: 'decide' } })
    expect(gateway.items[0]).toMatchObject({ hasIncident: true, incidentKey: incident.incidentKey })

    await camunda.updateElementInstanceVariables({ elementInstanceKey: key, variables: { amount: 50 } })
    await camunda.resolveIncident(incident.incidentKey)
    expect((await getInstance(key)).state).toBe('COMPLETED')
    expect(await elementState(key, 'big-end')).toBe('COMPLETED')
  })

  test('create with awaitCompletion answers the result variables', async () => {
    const response = await post<{ variables: Record<string, unknown> }>('/v2/process-instances', {
      processDefinitionId: 'incident', variables: { amount: 3, other: 'x' }, awaitCompletion: true, fetchVariables: ['amount'],
    })
    expect(response.status).toBe(200)
    expect(response.json).toMatchObject({ processDefinitionId: 'incident', variables: { amount: 3 } })
    expect(response.json.variables).not.toHaveProperty('other')
  })

  test('pinning the clock fires the due timer; messages publish, and correlate or answer 404', async () => {
    const key = await startFlow('clock')
    await camunda.completeUserTask({ userTaskKey: (await userTaskOf(key)).userTaskKey })
    const [job] = await camunda.activateJobs({ type: 'rest-work', worker: 'w', timeout: 30_000, maxJobsToActivate: 10, requestTimeout: -1 })
    await job.complete()
    expect(await elementState(key, 'wait-two-days')).toBe('ACTIVE')

    await camunda.pinInternalClock(Date.now() + 2 * DAY_MS + 60_000)
    await eventually(async () => (await elementState(key, 'wait-two-days')) === 'COMPLETED' || undefined, 'the P2D timer')
    expect(await elementState(key, 'wait-go')).toBe('ACTIVE')
    await camunda.resetClock()

    await expect(camunda.correlateMessage({ name: 'rest-go', correlationKey: 'nobody', variables: {} }))
      .rejects.toMatchObject({ statusCode: 404, title: 'NOT_FOUND' })
    const published = await camunda.publishMessage({ name: 'rest-unrelated', correlationKey: 'x', variables: {}, timeToLive: 0 })
    expect(published.messageKey).toMatch(/^\d+$/)

    const correlated = await camunda.correlateMessage({ name: 'rest-go', correlationKey: 'clock', variables: { go: true } })
    expect(correlated.processInstanceKey).toBe(key)
    expect((await getInstance(key)).state).toBe('COMPLETED')
  })

  test('cancellation terminates the instance', async () => {
    const key = await startFlow('cancel')
    await camunda.cancelProcessInstance({ processInstanceKey: key })
    expect((await getInstance(key)).state).toBe('TERMINATED')
    expect((await userTaskOf(key)).state).toBe('CANCELED')
  })

  test('signals broadcast answers a signal key', async () => {
    const signal = await camunda.broadcastSignal({ signalName: 'rest-nobody-listens', variables: {} })
    expect(signal.signalKey).toMatch(/^\d+$/)
  })
})

describe('/v2 problem JSON', () => {
  test('malformed JSON answers 400 naming the problem', async () => {
    const response = await post('/v2/process-instances', '{"processDefinitionId": ')
    expect(response.status).toBe(400)
    expect(response.type).toMatch(/^application\/problem\+json/)
    expect(response.json).toMatchObject({ type: 'about:blank', status: 400, instance: '/v2/process-instances' })
    expect(response.json.detail).toMatch(/not valid JSON/)
  })

  test('a body over the limit answers 413', async () => {
    const response = await post('/v2/messages/publication', { name: 'big', variables: { blob: 'x'.repeat(5 * 1024 * 1024) } })
    expect(response.status).toBe(413)
  })

  test('a body missing a required field answers 400 naming the field', async () => {
    const task = await post('/v2/user-tasks/2251799813685249/assignment', {})
    expect(task.status).toBe(400)
    expect(task.json.detail).toMatch(/'assignee'/)
    const jobs = await post('/v2/jobs/activation', { type: 'x', maxJobsToActivate: 1 })
    expect(jobs.json.detail).toMatch(/'timeout'/)
  })

  test('unknown keys answer 404; engine rejections keep the command wording', async () => {
    const instance = await fetch(`${baseUrl}/v2/process-instances/2251799813999999`)
    expect(instance.status).toBe(404)
    expect(await instance.json()).toMatchObject({ title: 'NOT_FOUND', instance: '/v2/process-instances/2251799813999999' })
    await expect(camunda.getUserTask('2251799813999999')).rejects.toMatchObject({ statusCode: 404 })
    const job = await post('/v2/jobs/2251799813999999/completion', {})
    expect(job.status).toBe(404)
    expect(job.json.detail).toMatch(/^Command '.+' rejected with code 'NOT_FOUND': /)
    const unknownDefinition = await post('/v2/process-instances', { processDefinitionId: 'no-such-process' })
    expect(unknownDefinition.status).toBe(404)
  })

  test('a key that is not a number answers 400', async () => {
    const response = await fetch(`${baseUrl}/v2/incidents/abc`)
    expect(response.status).toBe(400)
  })

  test('an unknown route answers 404 problem JSON', async () => {
    const response = await post('/v2/no-such-thing', {})
    expect(response.status).toBe(404)
    expect(response.type).toMatch(/^application\/problem\+json/)
  })

  test('the clock rejects a missing or negative timestamp', async () => {
    expect((await post('/v2/clock', {}, 'PUT')).status).toBe(400)
    expect((await post('/v2/clock', { timestamp: -1 }, 'PUT')).status).toBe(400)
  })

  test('an engine started without a controllable clock refuses to move it, naming the setting', async () => {
    // given an engine as `raccord engine` runs it by default
    const fixed = createRestApp(new Engine({ clock: new ControllableClock() }), { clock: new ControllableClock(), clockControlled: false })
    const other = await new Promise<Server>((resolve) => {
      const s = fixed.listen(0, '127.0.0.1', () => resolve(s))
    })
    try {
      // when
      const response = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/v2/clock`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: Date.now() + 86_400_000 }),
      })
      // then
      expect(response.status).toBe(409)
      expect((await response.json() as { detail: string }).detail).toContain('ZEEBE_CLOCK_CONTROLLED=true')
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })

  test('an unknown filter field or sort field answers 400', async () => {
    expect((await post('/v2/process-instances/search', { filter: { nope: 1 } })).status).toBe(400)
    expect((await post('/v2/incidents/search', { sort: [{ field: 'nope' }] })).status).toBe(400)
  })
})
