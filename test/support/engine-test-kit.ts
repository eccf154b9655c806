/**
 * What the engine tests (test/engine) share: an embedded engine and SDK client per file or per
 * test, polling assertions, gRPC rejections, BPMN/DMN fixtures, the pinned engine clock, REST /v2
 * searches for what gRPC does not expose, and job activation for one instance.
 */
import { status as GrpcStatus } from '@grpc/grpc-js'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from './engine-harness'

export { GrpcStatus }

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** How long a polling helper waits for the engine, which acts asynchronously. */
export const POLL_TIMEOUT_MS = 5_000
const POLL_INTERVAL_MS = 50
/** Long enough for an asynchronous engine to have acted, when a test asserts that nothing happens. */
const SETTLE_MS = 300

const FIXTURES = path.join(__dirname, '../fixtures')

/**
 * Fixtures live in one folder per area of the engine (test/fixtures/bpmn/events/, structure/...),
 * named after the id inside them; ids are unique across areas, so a test names a fixture by its id.
 */
function fixtureIndex(kind: 'bpmn' | 'dmn'): Map<string, string> {
  const index = new Map<string, string>()
  const pending = [path.join(FIXTURES, kind)]
  while (pending.length > 0) {
    const dir = pending.pop() as string
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) pending.push(full)
      else if (entry.name.endsWith(`.${kind}`)) {
        const id = entry.name.slice(0, -kind.length - 1)
        if (index.has(id)) throw new Error(`Two ${kind} fixtures have the id '${id}': ${index.get(id)} and ${full}`)
        index.set(id, full)
      }
    }
  }
  return index
}

const fixtures = { bpmn: fixtureIndex('bpmn'), dmn: fixtureIndex('dmn') }

function fixture(kind: 'bpmn' | 'dmn', id: string): string {
  const found = fixtures[kind].get(id)
  if (found === undefined) throw new Error(`No ${kind} fixture '${id}' under test/fixtures/${kind}/`)
  return found
}

/** The path of the BPMN fixture whose process id is `id`. */
export const bpmnFixture = (id: string): string => fixture('bpmn', id)
/** The path of the DMN fixture whose decision id is `id`. */
export const dmnFixture = (id: string): string => fixture('dmn', id)

// ------------------------------------------------------------------ polling

/** Retry an assertion until it passes or the deadline is over; resolves to what it returned. */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = POLL_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await assertion()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await delay(POLL_INTERVAL_MS)
    }
  }
}

/** Poll `probe` until it returns a value other than undefined, or fail after the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = POLL_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(POLL_INTERVAL_MS)
  }
}

/** An assertion about something that must NOT happen: give the engine time to act, then check. */
export async function stillAfterSettling(assertion: () => Promise<void>): Promise<void> {
  await delay(SETTLE_MS)
  await assertion()
}

// ------------------------------------------------------------------ gRPC rejections

/** The gRPC status of a rejected SDK call. */
export async function grpcFailure(call: Promise<unknown>): Promise<{ code: GrpcStatus; details: string }> {
  try {
    await call
  } catch (error) {
    const { code, details } = error as { code: GrpcStatus; details: string }
    return { code, details }
  }
  throw new Error('expected the call to be rejected')
}

/** The gRPC status code of a rejected SDK call. */
export async function grpcCode(call: Promise<unknown>): Promise<GrpcStatus> {
  return (await grpcFailure(call)).code
}

// ------------------------------------------------------------------ REST /v2 search items

/** A process instance as /v2/process-instances/search answers it. */
export interface ProcessInstanceItem {
  processInstanceKey: string
  processDefinitionId: string
  state: string
  parentProcessInstanceKey?: string
}

export type ElementState = 'ACTIVE' | 'COMPLETED' | 'TERMINATED'

/** An element instance as /v2/element-instances/search answers it. */
export interface ElementInstanceItem {
  elementInstanceKey: string
  elementId: string
  type: string
  state: ElementState
  hasIncident: boolean
}

/** An incident as /v2/incidents/search answers it. */
export interface IncidentItem {
  incidentKey: string
  errorType: string
  errorMessage: string
  elementId: string
  elementInstanceKey: string
  state: string
  jobKey?: string
}

/** A variable as /v2/variables/search answers it: the value is JSON text. */
export interface VariableItem {
  name: string
  value: string
  scopeKey: string
}

/** A job as /v2/jobs/search answers it. */
export interface JobItem {
  jobKey: string
  state: string
  retries: number
  deadline?: string
  errorMessage?: string
}

// ------------------------------------------------------------------ the kit

/** A variables document as the SDK types it. */
export type InstanceVariables = Parameters<TestClient['zeebe']['createProcessInstance']>[0]['variables']
/** A job as the SDK activates it. */
export type ActivatedJob = Awaited<ReturnType<TestClient['zeebe']['activateJobs']>>[number]

/** How engineTestKit runs the engine. */
export interface EngineTestKitOptions {
  /** The worker name the kit activates jobs with. */
  worker?: string
  /** Pin the engine clock at start-up, so that only increaseTime and pinClockAt move it. */
  pinClock?: boolean
  /** Start a fresh engine for every test instead of one for the file. */
  enginePerTest?: boolean
}

/** Activation settings for activate and activateOne. */
export interface ActivationOptions {
  /** The job timeout. */
  timeout?: number
  fetchVariable?: string[]
  /** The long-poll time; negative answers at once. */
  requestTimeout?: number
}

/** A job jobFor activates stays with the test: a clock jump must not time it out. */
const JOB_FOR_TIMEOUT = 365 * DAY
const DEFAULT_JOB_TIMEOUT = 60_000

/**
 * Registers the jest hooks that start an engine and an SDK client, cancel the instances a test
 * started and close everything at the end; call it once, at the top level of a test file. The
 * returned `engine` and `client` resolve to the running ones whenever they are used, so a file can
 * take them, and the helpers, when it loads.
 */
export function engineTestKit(options: EngineTestKitOptions = {}) {
  const worker = options.worker ?? 'engine-test'
  let running: { engine: TestEngine; client: TestClient } | undefined
  /** The engine clock, while pinned by the kit; moved only forward. */
  let pinnedAt: number | undefined
  const startedInstances: string[] = []
  /** Jobs activated while looking for another instance's job, by `${type}/${processInstanceKey}`. */
  const activatedJobs = new Map<string, ActivatedJob[]>()

  const current = () => {
    if (!running) throw new Error('the engine runs only during tests and their hooks')
    return running
  }
  const restClient = () => current().client.camunda.getCamundaRestClient()

  const engine: TestEngine = {
    get grpcPort() { return current().engine.grpcPort },
    get restPort() { return current().engine.restPort },
    get clock() { return current().engine.clock },
    get engine() { return current().engine.engine },
    close: () => current().engine.close(),
  }
  const client: TestClient = {
    get zeebe() { return current().client.zeebe },
    get camunda() { return current().client.camunda },
    close: () => current().client.close(),
  }

  async function start(): Promise<void> {
    const started = await startTestEngine()
    running = { engine: started, client: createTestClient(started) }
    activatedJobs.clear()
    if (options.pinClock) {
      pinnedAt = Date.now()
      await restClient().pinInternalClock(pinnedAt)
    }
  }

  async function stop(): Promise<void> {
    if (options.pinClock) await restClient().resetClock()
    await client.close()
    await engine.close()
    running = undefined
  }

  async function cancelStartedInstances(): Promise<void> {
    // So that signals, messages and clock jumps of later tests meet none of them, nor their jobs.
    for (const key of startedInstances.splice(0)) {
      if ((await instanceState(key)) === 'ACTIVE') await client.zeebe.cancelProcessInstance(key)
    }
  }

  if (options.enginePerTest) {
    beforeEach(start)
    afterEach(async () => {
      await cancelStartedInstances()
      await stop()
    })
  } else {
    beforeAll(start)
    afterEach(cancelStartedInstances)
    afterAll(stop)
  }

  /** Deploy test/fixtures/bpmn/<id>.bpmn for each id, one deployment each. */
  async function deploy(...processIds: string[]): Promise<void> {
    for (const id of processIds) await client.zeebe.deployResource({ processFilename: bpmnFixture(id) })
  }

  /** Create an instance, canceled after the test if it is still active. */
  async function startInstance(bpmnProcessId: string, variables: InstanceVariables = {}): Promise<string> {
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId, variables })
    startedInstances.push(processInstanceKey)
    return processInstanceKey
  }

  /** Cancel an instance the test did not start itself (a message start, say) after the test, if still active. */
  function cancelAfterTest(processInstanceKey: string): void {
    startedInstances.push(processInstanceKey)
  }

  // -------------------------------------------------------------- clock

  function pinned(): number {
    if (pinnedAt === undefined) throw new Error('the clock moves only with engineTestKit({ pinClock: true })')
    return pinnedAt
  }

  /** The engine time the kit pinned. */
  const now = (): number => pinned()

  async function pinClockAt(epochMs: number): Promise<void> {
    if (epochMs < pinned()) throw new Error('this file only moves the clock forward')
    pinnedAt = epochMs
    await restClient().pinInternalClock(epochMs)
  }

  /** Pin the engine clock `ms` later than it is now. */
  async function increaseTime(ms: number): Promise<void> {
    await pinClockAt(pinned() + ms)
  }

  // -------------------------------------------------------------- REST /v2 searches

  /** The items of POST /v2/<entity>/search for a filter (and a sort), up to 1000. */
  async function search<T>(entity: string, filter: Record<string, unknown>, sort?: { field: string; order: 'ASC' | 'DESC' }[]): Promise<T[]> {
    const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/${entity}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter, ...(sort ? { sort } : {}), page: { limit: 1000 } }),
    })
    if (!response.ok) throw new Error(`search ${entity}: HTTP ${response.status} ${await response.text()}`)
    return ((await response.json()) as { items: T[] }).items
  }

  async function instanceState(processInstanceKey: string): Promise<string | undefined> {
    return (await search<ProcessInstanceItem>('process-instances', { processInstanceKey }))[0]?.state
  }

  /** Wait until the instance is in `state`. */
  async function expectInstanceState(processInstanceKey: string, state: 'COMPLETED' | 'TERMINATED'): Promise<void> {
    await until(`instance ${processInstanceKey} ${state}`, async () => ((await instanceState(processInstanceKey)) === state ? true : undefined))
  }

  /** The instances of a process, oldest first; only those holding `variable`, if given. */
  async function instancesOf(processDefinitionId: string, variable?: { name: string; value: unknown }): Promise<ProcessInstanceItem[]> {
    const variables = variable ? { variables: [{ name: variable.name, value: JSON.stringify(variable.value) }] } : {}
    return search<ProcessInstanceItem>('process-instances', { processDefinitionId, ...variables }, [{ field: 'processInstanceKey', order: 'ASC' }])
  }

  async function elementInstances(processInstanceKey: string): Promise<ElementInstanceItem[]> {
    return search<ElementInstanceItem>('element-instances', { processInstanceKey })
  }

  /** States of every instance of `elementId` in the process instance, oldest first. */
  async function elementStates(processInstanceKey: string, elementId: string): Promise<ElementState[]> {
    const items = await search<ElementInstanceItem>('element-instances', { processInstanceKey, elementId }, [{ field: 'elementInstanceKey', order: 'ASC' }])
    return items.map((e) => e.state)
  }

  /** The incidents of an instance, in every state unless one is given. */
  async function incidentsOf(processInstanceKey: string, state?: 'ACTIVE' | 'RESOLVED'): Promise<IncidentItem[]> {
    return search<IncidentItem>('incidents', { processInstanceKey, ...(state ? { state } : {}) })
  }

  /** The one ACTIVE incident of an instance, once it exists. */
  async function activeIncident(processInstanceKey: string): Promise<IncidentItem> {
    return until(`an incident on ${processInstanceKey}`, async () => {
      const items = await incidentsOf(processInstanceKey, 'ACTIVE')
      return items.length === 1 ? items[0] : undefined
    })
  }

  const parseValues = (items: VariableItem[]): Record<string, unknown> =>
    Object.fromEntries(items.map((v) => [v.name, JSON.parse(v.value)]))

  /** The variables of every scope of an instance, as JSON values. */
  async function variablesOf(processInstanceKey: string): Promise<Record<string, unknown>> {
    return parseValues(await search<VariableItem>('variables', { processInstanceKey }))
  }

  /** The variables held by one scope, as JSON values. */
  async function variablesInScope(scopeKey: string): Promise<Record<string, unknown>> {
    return parseValues(await search<VariableItem>('variables', { scopeKey }))
  }

  // -------------------------------------------------------------- jobs

  /** Activate up to 5 jobs of `type`, long-polling for them unless told otherwise. */
  async function activate(type: string, activation: ActivationOptions = {}): Promise<ActivatedJob[]> {
    return client.zeebe.activateJobs({
      type, worker, maxJobsToActivate: 5, timeout: activation.timeout ?? DEFAULT_JOB_TIMEOUT,
      fetchVariable: activation.fetchVariable, requestTimeout: activation.requestTimeout ?? POLL_TIMEOUT_MS,
    })
  }

  /** Activation without waiting: the jobs activatable right now. */
  async function activateNow(type: string): Promise<ActivatedJob[]> {
    return activate(type, { requestTimeout: -1 })
  }

  /** Activate the single job of `type`, expecting it to be this instance's. */
  async function activateOne(type: string, processInstanceKey: string, activation: Omit<ActivationOptions, 'requestTimeout'> = {}): Promise<ActivatedJob> {
    const jobs = await activate(type, activation)
    expect(jobs.map((j) => j.processInstanceKey)).toEqual([processInstanceKey])
    return jobs[0]
  }

  /** Activate the job of `type` that belongs to the given instance, keeping the others' for later. */
  async function jobFor(type: string, processInstanceKey: string): Promise<ActivatedJob> {
    const deadline = Date.now() + POLL_TIMEOUT_MS
    for (;;) {
      const waiting = activatedJobs.get(`${type}/${processInstanceKey}`)?.shift()
      if (waiting) return waiting
      if (Date.now() > deadline) throw new Error(`no '${type}' job appeared for instance ${processInstanceKey}`)
      const jobs = await client.zeebe.activateJobs({
        type, worker, timeout: JOB_FOR_TIMEOUT, maxJobsToActivate: 32, requestTimeout: 500,
      })
      for (const job of jobs) {
        const key = `${job.type}/${job.processInstanceKey}`
        activatedJobs.set(key, [...(activatedJobs.get(key) ?? []), job])
      }
    }
  }

  return {
    engine, client,
    deploy, startInstance, cancelAfterTest,
    now, pinClockAt, increaseTime,
    search, instanceState, expectInstanceState, instancesOf, elementInstances, elementStates,
    incidentsOf, activeIncident, variablesOf, variablesInScope,
    activateNow, activateOne, jobFor,
  }
}

/** The helpers engineTestKit returns. */
export type EngineTestKit = ReturnType<typeof engineTestKit>
