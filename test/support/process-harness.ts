/**
 * The process-test harness: deploy models, start instances, drive them (user tasks, mocked job
 * workers, messages, the clock) and assert what they did, through public APIs only (the SDK's
 * gRPC client and REST /v2). Assertions poll with a bounded timeout, so the same test runs against
 * the embedded engine or, with RACCORD_TEST_TARGET=remote, a Camunda 8.8 cluster configured by the
 * SDK's own environment variables and started with ZEEBE_CLOCK_CONTROLLED=true.
 */
import { isDeepStrictEqual } from 'node:util'
import { Camunda8 } from '@camunda8/sdk'
import type { CamundaRestClient } from '@camunda8/sdk/dist/c8/lib/CamundaRestClient'
import type { JSON as JsonValue, MustReturnJobActionAcknowledgement, ZeebeJob } from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0'
import { createTestClient, startTestEngine, type TestEngine } from './engine-harness'
import { addIsoDuration } from './iso-duration'

/** Where process tests run: `embedded` (default) starts an engine on free ports. */
export type TestTarget = 'embedded' | 'remote'

/** How long an assertion polls before it fails, unless RACCORD_TEST_TIMEOUT_MS says otherwise. */
const DEFAULT_TIMEOUT_MS = 20_000
const PAGE_LIMIT = 1000

/** A variables document: a JSON object. */
export type Variables = { [name: string]: JsonValue }

/** A started process instance. */
export interface ProcessInstanceRef {
  processInstanceKey: string
  processDefinitionId: string
}

/** A Camunda user task as GET /v2/user-tasks/{key} answers it. */
export interface UserTaskView {
  userTaskKey: string
  elementId: string
  elementInstanceKey: string
  processInstanceKey: string
  state: string
  name?: string
  assignee?: string
  candidateGroups: string[]
  candidateUsers: string[]
  dueDate?: string
  followUpDate?: string
  formKey?: string
  externalFormReference?: string
  priority: number
  customHeaders?: Record<string, string>
}

/** A job the mocked worker handled. */
export interface HandledJob {
  jobKey: string
  processInstanceKey: string
  elementId: string
  variables: Record<string, unknown>
}

/** A job worker for one type, answering every job the same way; closed by ProcessHarness.close(). */
export interface MockJobWorker {
  /** Complete each job with these variables. */
  thenComplete(variables?: Variables): MockJobWorker
  /** Throw a BPMN error (caught by an error boundary or event subprocess). */
  thenThrowBpmnError(errorCode: string, variables?: Variables): MockJobWorker
  /** Fail each job with no retries left, so it raises a JOB_NO_RETRIES incident. */
  thenFail(errorMessage: string): MockJobWorker
  /** The jobs handled so far, in order. */
  readonly handledJobs: readonly HandledJob[]
}

/** Asynchronous assertions on one process instance: each polls until it holds or the timeout passes. */
export interface InstanceAssertions {
  toBeActive(): Promise<void>
  toBeCompleted(): Promise<void>
  toBeTerminated(): Promise<void>
  /** Each element has an active element instance. */
  toBeWaitingAt(...elementIds: string[]): Promise<void>
  /** Each element has completed at least once. */
  toHaveCompletedElements(...elementIds: string[]): Promise<void>
  /**
   * The elements completed in this order (other elements may complete in between). Completions
   * are ordered by end date, then by activation order when two end at the same instant.
   */
  toHaveCompletedElementsInOrder(...elementIds: string[]): Promise<void>
  /** A process-level variable equals `value` (deep equality on the JSON value). */
  toHaveVariable(name: string, value: unknown): Promise<void>
  /** An active incident of this error type, e.g. JOB_NO_RETRIES, EXTRACT_VALUE_ERROR. */
  toHaveIncident(errorType: string): Promise<void>
  /** No active incident (holds as soon as none is open). */
  toHaveNoIncidents(): Promise<void>
}

export interface ProcessHarness {
  readonly target: TestTarget
  /** the SDK, for what the harness does not wrap */
  readonly camunda: Camunda8
  /** Deploy BPMN, DMN and form files in one deployment. */
  deploy(...paths: string[]): Promise<void>
  startProcess(processDefinitionId: string, variables?: Variables): Promise<ProcessInstanceRef>
  /** Assertions on an instance; `timeoutMs` overrides the harness's assertion timeout. */
  expectInstance(instance: ProcessInstanceRef, options?: { timeoutMs?: number }): InstanceAssertions
  /** The created user task of an element, once it exists. */
  userTask(instance: ProcessInstanceRef, elementId: string, options?: { timeoutMs?: number }): Promise<UserTaskView>
  completeUserTask(instance: ProcessInstanceRef, elementId: string, variables?: Variables): Promise<void>
  /** Move the engine clock forward by an ISO-8601 duration; due timers fire. */
  increaseTime(duration: string): Promise<void>
  /** The engine time the harness pinned, in epoch ms. */
  now(): number
  mockJobWorker(jobType: string): MockJobWorker
  /** Publish a message; it is buffered for `timeToLiveMs` (default one minute of engine time). */
  publishMessage(name: string, correlationKey: string, variables?: Variables, timeToLiveMs?: number): Promise<void>
  /** Close workers, cancel what is still running, reset the clock, stop the embedded engine. */
  close(): Promise<void>
}

export interface ProcessHarnessOptions {
  target?: TestTarget
  /** assertion timeout; default RACCORD_TEST_TIMEOUT_MS or 20000 */
  timeoutMs?: number
}

/** The target named by RACCORD_TEST_TARGET; anything but `embedded` or `remote` is a mistake. */
export function testTarget(env: NodeJS.ProcessEnv = process.env): TestTarget {
  const value = env.RACCORD_TEST_TARGET ?? 'embedded'
  if (value !== 'embedded' && value !== 'remote') {
    throw new Error(`RACCORD_TEST_TARGET must be 'embedded' or 'remote', not '${value}'`)
  }
  return value
}

function assertionTimeout(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RACCORD_TEST_TIMEOUT_MS
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`RACCORD_TEST_TIMEOUT_MS must be a positive number of milliseconds, not '${raw}'`)
  }
  return value
}

interface ProcessInstanceItem {
  processInstanceKey: string
  processDefinitionId: string
  state: string
}

interface ElementInstanceItem {
  elementInstanceKey: string
  elementId: string
  type: string
  state: string
  startDate: string
  endDate?: string
}

interface IncidentItem {
  errorType: string
  errorMessage: string
  elementId: string
  state: string
}

interface VariableItem {
  variableKey: string
  name: string
  value: string
  isTruncated: boolean
}

interface SearchPage<T> {
  items: T[]
}

/** What an instance has done, as the public search APIs show it. */
interface InstanceSnapshot {
  instance: ProcessInstanceItem | undefined
  elements: ElementInstanceItem[]
  incidents: IncidentItem[]
  variables?: Map<string, unknown>
}

function compareKeys(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Completed element instances in completion order: end date, then activation (key) order. */
function completionOrder(elements: ElementInstanceItem[]): ElementInstanceItem[] {
  return elements
    .filter((e) => e.state === 'COMPLETED')
    .sort((a, b) => (Date.parse(a.endDate ?? '') - Date.parse(b.endDate ?? '')) || compareKeys(a.elementInstanceKey, b.elementInstanceKey))
}

function formatValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value)
}

/** The failure report: what the instance actually did. */
function describeSnapshot(ref: ProcessInstanceRef, snapshot: InstanceSnapshot): string {
  const lines: string[] = []
  const { instance, elements, incidents } = snapshot
  if (!instance) {
    lines.push(`process instance ${ref.processInstanceKey} of '${ref.processDefinitionId}' is not visible (yet) in process-instance search`)
  } else {
    lines.push(`process instance ${ref.processInstanceKey} of '${ref.processDefinitionId}' is ${instance.state}`)
  }
  const path = elements.map((e) => (e.state === 'COMPLETED' ? e.elementId : `${e.elementId} (${e.state.toLowerCase()})`))
  lines.push(`  path taken: ${path.length > 0 ? path.join(' -> ') : '(no element instances)'}`)
  const waiting = elements.filter((e) => e.state === 'ACTIVE').map((e) => e.elementId)
  lines.push(`  waiting at: ${waiting.length > 0 ? waiting.join(', ') : 'nothing'}`)
  const completed = completionOrder(elements).map((e) => e.elementId)
  lines.push(`  completed in order: ${completed.length > 0 ? completed.join(', ') : 'nothing'}`)
  const open = incidents.filter((i) => i.state === 'ACTIVE')
  lines.push(`  incidents: ${open.length > 0 ? '' : 'none'}`)
  for (const incident of open) lines.push(`    ${incident.errorType} at '${incident.elementId}': ${incident.errorMessage}`)
  if (snapshot.variables) {
    const entries = [...snapshot.variables].map(([name, value]) => `${name}=${formatValue(value)}`)
    lines.push(`  variables: ${entries.length > 0 ? entries.join(', ') : 'none'}`)
  }
  return lines.join('\n')
}

/** A failed assertion: the expectation, what was wrong, and the instance's report. */
export class InstanceAssertionError extends Error {
  constructor(expectation: string, mismatch: string, report: string, timeoutMs: number) {
    super(`Expected ${expectation}, but ${mismatch} (after waiting ${timeoutMs} ms).\n${report}`)
    this.name = 'InstanceAssertionError'
  }
}

function isGrpcNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 5
}

export async function processHarness(options: ProcessHarnessOptions = {}): Promise<ProcessHarness> {
  const target = options.target ?? testTarget()
  const timeoutMs = options.timeoutMs ?? assertionTimeout()
  const pollIntervalMs = target === 'embedded' ? 25 : 250

  let engine: TestEngine | undefined
  let camunda: Camunda8
  if (target === 'embedded') {
    engine = await startTestEngine()
    camunda = createTestClient(engine).camunda
  } else {
    // The SDK reads ZEEBE_GRPC_ADDRESS, ZEEBE_REST_ADDRESS, CAMUNDA_AUTH_STRATEGY... itself.
    camunda = new Camunda8()
  }
  const zeebe = camunda.getZeebeGrpcApiClient()
  const rest: CamundaRestClient = camunda.getCamundaRestClient()

  const started: ProcessInstanceRef[] = []
  const workers: { close(): Promise<unknown> }[] = []

  const search = <T>(entity: string, body: Record<string, unknown>): Promise<SearchPage<T>> =>
    rest.callApiEndpoint<Record<string, unknown>, SearchPage<T>>({ method: 'POST', urlPath: `${entity}/search`, body })

  const pinClock = async (epochMs: number): Promise<void> => {
    try {
      await rest.callApiEndpoint({ method: 'PUT', urlPath: 'clock', body: { timestamp: epochMs }, json: false })
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new Error(`Could not pin the engine clock (PUT /v2/clock): ${reason}. `
        + 'A Camunda 8.8 cluster must run with ZEEBE_CLOCK_CONTROLLED=true.', { cause: err })
    }
  }
  let pinnedAt = Date.now()
  try {
    await pinClock(pinnedAt)
  } catch (err) {
    await camunda.closeAllClients()
    await engine?.close()
    throw err
  }

  const snapshot = async (ref: ProcessInstanceRef, withVariables: boolean): Promise<InstanceSnapshot> => {
    const filter = { processInstanceKey: ref.processInstanceKey }
    const [instances, elements, incidents, variables] = await Promise.all([
      search<ProcessInstanceItem>('process-instances', { filter }),
      search<ElementInstanceItem>('element-instances', {
        filter,
        sort: [{ field: 'startDate', order: 'ASC' }, { field: 'elementInstanceKey', order: 'ASC' }],
        page: { limit: PAGE_LIMIT },
      }),
      search<IncidentItem>('incidents', { filter, page: { limit: PAGE_LIMIT } }),
      withVariables ? processVariables(ref) : Promise.resolve(undefined),
    ])
    return { instance: instances.items[0], elements: elements.items, incidents: incidents.items, variables }
  }

  /** Process-level variables, full values (a truncated search value is fetched by key). */
  const processVariables = async (ref: ProcessInstanceRef): Promise<Map<string, unknown>> => {
    const page = await search<VariableItem>('variables', {
      filter: { processInstanceKey: ref.processInstanceKey, scopeKey: ref.processInstanceKey },
      page: { limit: PAGE_LIMIT },
    })
    const values = new Map<string, unknown>()
    for (const item of page.items.sort((a, b) => a.name.localeCompare(b.name))) {
      let serialised = item.value
      if (item.isTruncated) {
        const full = await rest.callApiEndpoint<Record<string, unknown>, VariableItem>({ method: 'GET', urlPath: `variables/${item.variableKey}` })
        serialised = full.value
      }
      values.set(item.name, JSON.parse(serialised) as unknown)
    }
    return values
  }

  /**
   * Poll until `mismatch` finds nothing wrong; on timeout throw the expectation with the last
   * mismatch and the report of what the instance did.
   */
  const poll = async (
    ref: ProcessInstanceRef, waitMs: number, expectation: string, mismatch: (s: InstanceSnapshot) => string | undefined,
    withVariables = false,
  ): Promise<void> => {
    const deadline = Date.now() + waitMs
    for (;;) {
      const current = await snapshot(ref, withVariables)
      const problem = mismatch(current)
      if (problem === undefined) return
      if (Date.now() >= deadline) {
        throw new InstanceAssertionError(expectation, problem, describeSnapshot(ref, current), waitMs)
      }
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs))
    }
  }

  const expectInstance = (ref: ProcessInstanceRef, assertionOptions: { timeoutMs?: number } = {}): InstanceAssertions => {
    const waitMs = assertionOptions.timeoutMs ?? timeoutMs
    const check = (expectation: string, mismatch: (s: InstanceSnapshot) => string | undefined, withVariables = false) =>
      poll(ref, waitMs, expectation, mismatch, withVariables)
    const subject = `process instance ${ref.processInstanceKey} of '${ref.processDefinitionId}'`
    const inState = (state: string) => (s: InstanceSnapshot) =>
      !s.instance ? 'it was not found' : s.instance.state === state ? undefined : `it is ${s.instance.state}`
    const activeIds = (s: InstanceSnapshot) => new Set(s.elements.filter((e) => e.state === 'ACTIVE').map((e) => e.elementId))
    const completedIds = (s: InstanceSnapshot) => new Set(s.elements.filter((e) => e.state === 'COMPLETED').map((e) => e.elementId))
    const list = (ids: string[]) => ids.map((id) => `'${id}'`).join(', ')

    return {
      toBeActive: () => check(`${subject} to be ACTIVE`, inState('ACTIVE')),
      toBeCompleted: () => check(`${subject} to be COMPLETED`, inState('COMPLETED')),
      toBeTerminated: () => check(`${subject} to be TERMINATED`, inState('TERMINATED')),
      toBeWaitingAt: (...ids) => check(`${subject} to be waiting at ${list(ids)}`, (s) => {
        const active = activeIds(s)
        const missing = ids.filter((id) => !active.has(id))
        return missing.length === 0 ? undefined : `it is not waiting at ${list(missing)}`
      }),
      toHaveCompletedElements: (...ids) => check(`${subject} to have completed ${list(ids)}`, (s) => {
        const completed = completedIds(s)
        const missing = ids.filter((id) => !completed.has(id))
        return missing.length === 0 ? undefined : `${list(missing)} did not complete`
      }),
      toHaveCompletedElementsInOrder: (...ids) => check(`${subject} to have completed ${ids.join(', ')} in this order`, (s) => {
        const order = completionOrder(s.elements).map((e) => e.elementId)
        let next = 0
        for (const id of order) if (id === ids[next]) next++
        if (next === ids.length) return undefined
        return `the completion order is ${order.length > 0 ? order.join(', ') : '(nothing completed)'}`
      }),
      toHaveVariable: (name, value) => check(`${subject} to have variable ${name}=${formatValue(value)}`, (s) => {
        const variables = s.variables ?? new Map<string, unknown>()
        if (!variables.has(name)) return `it has no process variable '${name}'`
        const actual = variables.get(name)
        return isDeepStrictEqual(actual, value) ? undefined : `${name} is ${formatValue(actual)}`
      }, true),
      toHaveIncident: (errorType) => check(`${subject} to have an active ${errorType} incident`, (s) => {
        const open = s.incidents.filter((i) => i.state === 'ACTIVE')
        if (open.some((i) => i.errorType === errorType)) return undefined
        return open.length === 0 ? 'it has no active incident' : `its incidents are ${open.map((i) => i.errorType).join(', ')}`
      }),
      toHaveNoIncidents: () => check(`${subject} to have no active incident`, (s) => {
        const open = s.incidents.filter((i) => i.state === 'ACTIVE')
        return open.length === 0 ? undefined : `it has ${open.map((i) => `${i.errorType} at '${i.elementId}'`).join(', ')}`
      }),
    }
  }

  const userTask = async (ref: ProcessInstanceRef, elementId: string, taskOptions: { timeoutMs?: number } = {}): Promise<UserTaskView> => {
    const waitMs = taskOptions.timeoutMs ?? timeoutMs
    const deadline = Date.now() + waitMs
    for (;;) {
      const page = await search<UserTaskView>('user-tasks', {
        filter: { processInstanceKey: ref.processInstanceKey, elementId, state: 'CREATED' },
      })
      if (page.items.length > 0) return page.items[0]
      if (Date.now() >= deadline) {
        const report = describeSnapshot(ref, await snapshot(ref, false))
        throw new InstanceAssertionError(`a created user task at '${elementId}'`, 'there is none', report, waitMs)
      }
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs))
    }
  }

  const mockJobWorker = (jobType: string): MockJobWorker => {
    const handledJobs: HandledJob[] = []
    let started = false
    const start = (respond: (job: Readonly<ZeebeJob>) => MustReturnJobActionAcknowledgement): void => {
      if (started) throw new Error(`the mock worker for '${jobType}' already has a behaviour`)
      started = true
      workers.push(zeebe.createWorker({
        taskType: jobType,
        pollInterval: pollIntervalMs * 2,
        // The gateway's default long poll: the SDK arms no client-side timer that could abandon it (see workers/index.ts).
        longPoll: 0,
        timeout: 30_000,
        taskHandler: (job) => {
          handledJobs.push({
            jobKey: job.key,
            processInstanceKey: job.processInstanceKey,
            elementId: job.elementId,
            variables: { ...job.variables },
          })
          return respond(job)
        },
      }))
    }
    const mock: MockJobWorker = {
      thenComplete(variables = {}) {
        start((job) => job.complete(variables))
        return mock
      },
      thenThrowBpmnError(errorCode, variables = {}) {
        start((job) => job.error({ errorCode, errorMessage: `mocked BPMN error ${errorCode}`, variables }))
        return mock
      },
      thenFail(errorMessage) {
        start((job) => job.fail({ errorMessage, retries: 0 }))
        return mock
      },
      get handledJobs() {
        return handledJobs
      },
    }
    return mock
  }

  return {
    target,
    camunda,
    async deploy(...paths) {
      await zeebe.deployResources(paths.map((path) => (path.endsWith('.dmn')
        ? { decisionFilename: path }
        : path.endsWith('.form') ? { formFilename: path } : { processFilename: path })))
    },
    async startProcess(processDefinitionId, variables = {}) {
      const created = await zeebe.createProcessInstance({ bpmnProcessId: processDefinitionId, variables })
      const ref = { processInstanceKey: created.processInstanceKey, processDefinitionId }
      started.push(ref)
      return ref
    },
    expectInstance,
    userTask,
    async completeUserTask(ref, elementId, variables = {}) {
      const task = await userTask(ref, elementId)
      await rest.callApiEndpoint({
        method: 'POST', urlPath: `user-tasks/${task.userTaskKey}/completion`, body: { variables }, json: false,
      })
    },
    async increaseTime(duration) {
      const next = addIsoDuration(pinnedAt, duration)
      await pinClock(next)
      pinnedAt = next
    },
    now: () => pinnedAt,
    mockJobWorker,
    async publishMessage(name, correlationKey, variables = {}, timeToLiveMs = 60_000) {
      await zeebe.publishMessage({ name, correlationKey, variables, timeToLive: timeToLiveMs })
    },
    async close() {
      try {
        await Promise.all(workers.map((w) => w.close()))
        for (const ref of started) {
          try {
            await zeebe.cancelProcessInstance(ref.processInstanceKey)
          } catch (err) {
            // an instance that already ended cannot be canceled: that is the expected case
            if (!isGrpcNotFound(err)) throw err
          }
        }
        await rest.callApiEndpoint({ method: 'POST', urlPath: 'clock/reset', json: false })
      } finally {
        await camunda.closeAllClients()
        await engine?.close()
      }
    },
  }
}
