/**
 * Structure through the real SDK: embedded subprocesses, call activities and multi-instance
 * activities behave as in Zeebe 8.8 (engine-semantics §2, §11). State the gRPC API does not expose
 * (incidents, element instances, child instances) is read from the REST /v2 search endpoints.
 */
import { readFileSync } from 'node:fs'
import {
  GrpcStatus, bpmnFixture, engineTestKit, eventually, grpcFailure, type InstanceVariables, type ProcessInstanceItem,
} from '../support/engine-test-kit'

type Variables = Record<string, unknown>
interface Job { key: string; type: string; processInstanceKey: string; elementId: string; variables: Variables }

const { client, search, instanceState, elementInstances, incidentsOf } = engineTestKit()

let unique = 0
/** A value no other test uses (correlation keys, business keys). */
const uniqueId = (prefix: string) => `${prefix}-${Date.now()}-${++unique}`

beforeAll(async () => {
  await client.zeebe.deployResources([
    { processFilename: bpmnFixture('embedded-subprocess') },
    { processFilename: bpmnFixture('call-child') },
    { processFilename: bpmnFixture('call-parent') },
    { processFilename: bpmnFixture('multi-instance-body') },
  ])
})

const childrenOf = (parentProcessInstanceKey: string) => search<ProcessInstanceItem>('process-instances', { parentProcessInstanceKey })
/** state per element id (the last instance of each id wins) */
async function statesOf(processInstanceKey: string): Promise<Record<string, string>> {
  return Object.fromEntries((await elementInstances(processInstanceKey)).map((e) => [e.elementId, e.state]))
}

/** Activate exactly `count` jobs of `type`, polling until they are all there. */
async function activate(type: string, count = 1): Promise<Job[]> {
  const jobs: Job[] = []
  await eventually(async () => {
    const batch = await client.zeebe.activateJobs({
      type, worker: 'structure-test', timeout: 60_000, maxJobsToActivate: count - jobs.length, requestTimeout: -1,
    })
    jobs.push(...(batch as unknown as Job[]))
    expect(jobs.length).toBe(count)
  })
  return jobs
}

async function runToCompletion(bpmnProcessId: string, variables: InstanceVariables): Promise<Variables> {
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId, variables, requestTimeout: 10_000 })
  return result.variables as Variables
}

describe('embedded subprocess', () => {
  test('is its own variable scope: locals are dropped, job results propagate, output mappings copy out', async () => {
    // given
    const caseId = uniqueId('case')
    const result = runToCompletion('st-subprocess-scope', { caseId })
    // when
    const [job] = await activate('st-sub-work')
    await client.zeebe.completeJob({ jobKey: job.key, variables: { fromJob: 'done', subLocal: 'updated in place' } })
    // then: the job saw the subprocess local and the root variable
    expect(job.variables).toEqual({ caseId, subLocal: 'inner only' })
    // then: a result named like a subprocess local updates that local, which ends with its scope;
    // only the propagated job result and the mapped output survive the subprocesses
    await expect(result).resolves.toEqual({ caseId, fromJob: 'done', keptOut: 10 })
  })

  test('an interrupting boundary event on a subprocess terminates everything inside it', async () => {
    // given
    const requestId = uniqueId('request')
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'st-subprocess-boundary', variables: { requestId } })
    const [work] = await activate('st-guarded-work')
    const [nested] = await activate('st-guarded-nested')
    // when
    await client.zeebe.publishMessage({ name: 'st-cancel-guarded', correlationKey: requestId, variables: {} })
    // then
    await eventually(async () => expect(await instanceState(processInstanceKey)).toBe('COMPLETED'))
    expect(await statesOf(processInstanceKey)).toEqual({
      'b-start': 'COMPLETED', guarded: 'TERMINATED', 'guarded-start': 'COMPLETED', 'guarded-fork': 'COMPLETED',
      'guarded-work': 'TERMINATED', nested: 'TERMINATED', 'nested-start': 'COMPLETED', 'nested-work': 'TERMINATED',
      'cancel-requested': 'COMPLETED', 'cancelled-end': 'COMPLETED',
    })
    const late = await grpcFailure(client.zeebe.completeJob({ jobKey: work.key, variables: {} }))
    expect(late.code).toBe(GrpcStatus.NOT_FOUND)
    expect((await grpcFailure(client.zeebe.completeJob({ jobKey: nested.key, variables: {} }))).code).toBe(GrpcStatus.NOT_FOUND)
  })
})

describe('call activity', () => {
  test('a static processId starts the child with all parent variables and returns all child variables', async () => {
    // when
    const variables = await runToCompletion('st-call-static', { base: 21 })
    // then
    expect(variables).toEqual({ base: 21, doubled: 42, childExtra: 'from child' })
  })

  test('a FEEL processId is evaluated on activation', async () => {
    // when
    const variables = await runToCompletion('st-call-feel', { base: 4, childId: 'call-child' })
    // then
    expect(variables).toEqual({ base: 4, childId: 'call-child', doubled: 8, childExtra: 'from child' })
  })

  test('propagateAllChildVariables=false without output mappings returns nothing', async () => {
    // when
    const variables = await runToCompletion('st-call-no-child-vars', { base: 21 })
    // then
    expect(variables).toEqual({ base: 21 })
  })

  test('with output mappings only the mapped variables come back', async () => {
    // when
    const variables = await runToCompletion('st-call-outputs', { base: 21 })
    // then
    expect(variables).toEqual({ base: 21, answer: 42 })
  })

  test('propagateAllParentVariables=false copies only the call activity locals into the child', async () => {
    // given
    const result = runToCompletion('st-call-locals-only', { base: 1, secret: 'parent only' })
    // when
    const [job] = await activate('st-child-work')
    await client.zeebe.completeJob({ jobKey: job.key, variables: { fromChild: true } })
    // then: the child is its own instance and saw only the input mapping's target
    expect(job.variables).toEqual({ given: 2 })
    const children = await search<ProcessInstanceItem>('process-instances', { processInstanceKey: job.processInstanceKey })
    expect(children[0]).toMatchObject({ processDefinitionId: 'st-call-child-job' })
    expect(children[0].parentProcessInstanceKey).toBeDefined()
    await expect(result).resolves.toEqual({ base: 1, secret: 'parent only', fromChild: true })
  })

  test('bindingType deployment calls the child of the same deployment, latest calls the newest', async () => {
    // given: parents and child v1 in one deployment, then child v2 alone
    const xml = readFileSync(bpmnFixture('call-binding'), 'utf8')
    await client.zeebe.deployResource({ name: 'structure/call-binding.bpmn', process: Buffer.from(xml.replace('CHILD_VERSION', 'v1')) })
    const childOnly = xml.replace(/<bpmn:process id="st-call-binding-[\s\S]*?<\/bpmn:process>\s*/g, '').replace('CHILD_VERSION', 'v2')
    const v2 = await client.zeebe.deployResource({ name: 'st-call-versioned.bpmn', process: Buffer.from(childOnly) })
    expect(v2.deployments.map((d) => d.process.bpmnProcessId)).toEqual(['st-call-versioned'])
    // when
    const pinned = await runToCompletion('st-call-binding-deployment', {})
    const latest = await runToCompletion('st-call-binding-latest', {})
    // then
    expect(pinned).toEqual({ childVersion: 'v1' })
    expect(latest).toEqual({ childVersion: 'v2' })
  })

  test('a child that is not deployed raises CALLED_ELEMENT_ERROR, resolved after deploying it', async () => {
    // given
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'st-call-missing', variables: {} })
    const [incident] = await eventually(async () => {
      const found = await incidentsOf(processInstanceKey, 'ACTIVE')
      expect(found).toHaveLength(1)
      return found
    })
    expect(incident).toMatchObject({ errorType: 'CALLED_ELEMENT_ERROR', elementId: 'st-call-missing-call', state: 'ACTIVE' })
    expect(incident.errorMessage).toContain("'call-late-child'")
    // when
    await client.zeebe.deployResource({ processFilename: bpmnFixture('call-late-child') })
    await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
    // then
    await eventually(async () => expect(await instanceState(processInstanceKey)).toBe('COMPLETED'))
    const [child] = await childrenOf(processInstanceKey)
    expect(child).toMatchObject({ processDefinitionId: 'call-late-child', state: 'COMPLETED' })
    expect(await incidentsOf(processInstanceKey, 'ACTIVE')).toEqual([])
  })

  test('a child cannot be cancelled directly; cancelling the root cancels the child', async () => {
    // given
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'st-call-wait', variables: { ticket: uniqueId('t') } })
    const [job] = await activate('st-child-work')
    const [child] = await childrenOf(processInstanceKey)
    expect(child.processInstanceKey).toBe(job.processInstanceKey)
    // when
    const direct = await grpcFailure(client.zeebe.cancelProcessInstance(child.processInstanceKey))
    // then
    expect(direct.code).toBe(GrpcStatus.FAILED_PRECONDITION)
    expect(direct.details).toContain(`Cancel the root process instance '${processInstanceKey}' instead.`)
    expect(await instanceState(child.processInstanceKey)).toBe('ACTIVE')
    // when
    await client.zeebe.cancelProcessInstance(processInstanceKey)
    // then
    await eventually(async () => expect(await instanceState(child.processInstanceKey)).toBe('TERMINATED'))
    expect(await instanceState(processInstanceKey)).toBe('TERMINATED')
    expect((await statesOf(processInstanceKey))['st-call-wait-call']).toBe('TERMINATED')
    expect((await grpcFailure(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))).code).toBe(GrpcStatus.NOT_FOUND)
  })

  test('an error thrown in the child is caught by a boundary event on the call activity', async () => {
    // when
    const order = uniqueId('o')
    const variables = await runToCompletion('st-call-error', { order })
    // then: the boundary path ran and no child variables came back
    expect(variables).toEqual({ order, handled: 'caught on the call activity' })
    const [parent] = await search<ProcessInstanceItem>('process-instances', { processDefinitionId: 'st-call-error' })
    const [child] = await childrenOf(parent.processInstanceKey)
    expect(child).toMatchObject({ processDefinitionId: 'st-call-error-child', state: 'TERMINATED' })
    expect(await statesOf(parent.processInstanceKey)).toMatchObject({
      'st-call-error-call': 'TERMINATED', 'st-call-error-caught': 'COMPLETED', 'st-call-error-handle': 'COMPLETED',
    })
    expect(await statesOf(parent.processInstanceKey)).not.toHaveProperty('st-call-error-end')
  })
})

describe('multi-instance', () => {
  test('parallel: all inner instances at once, 1-based loopCounter, outputCollection in input order', async () => {
    // given
    const result = runToCompletion('st-mi-parallel', { items: ['a', 'b', 'c'] })
    const jobs = await activate('st-mi-parallel-item', 3)
    // when: completed in reverse order
    for (const job of [...jobs].reverse()) {
      await client.zeebe.completeJob({ jobKey: job.key, variables: { processed: String(job.variables.item).toUpperCase() } })
    }
    // then
    expect(jobs.map((j) => [j.variables.item, j.variables.loopCounter])).toEqual([['a', 1], ['b', 2], ['c', 3]])
    const variables = await result
    expect(variables.results).toEqual(['A', 'B', 'C'])
    expect(variables).not.toHaveProperty('item')
    expect(variables).not.toHaveProperty('loopCounter')
  })

  test('sequential: one inner instance at a time, in collection order', async () => {
    // given
    const result = runToCompletion('st-mi-sequential', { items: ['x', 'y'] })
    // when / then
    const seen: unknown[][] = []
    for (const expected of ['x', 'y']) {
      const [job] = await activate('st-mi-sequential-item')
      const more = await client.zeebe.activateJobs({ type: 'st-mi-sequential-item', worker: 'structure-test', timeout: 60_000, maxJobsToActivate: 5, requestTimeout: -1 })
      expect(more).toEqual([])
      expect(job.variables.item).toBe(expected)
      seen.push([job.variables.item, job.variables.loopCounter])
      await client.zeebe.completeJob({ jobKey: job.key, variables: { processed: `${expected}!` } })
    }
    expect(seen).toEqual([['x', 1], ['y', 2]])
    expect((await result).results).toEqual(['x!', 'y!'])
  })

  test('completionCondition on numberOfCompletedInstances terminates the remaining instances', async () => {
    // given
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'st-mi-completion', variables: { items: [1, 2, 3, 4] } })
    const jobs = await activate('st-mi-completion-item', 4)
    const byCounter = new Map(jobs.map((j) => [j.variables.loopCounter, j]))
    // when
    for (const counter of [4, 2]) {
      const job = byCounter.get(counter) as Job
      await client.zeebe.completeJob({ jobKey: job.key, variables: { processed: `done-${counter}` } })
    }
    // then
    await eventually(async () => expect(await instanceState(processInstanceKey)).toBe('COMPLETED'))
    const results = (await search<{ name: string; value: string }>('variables', { processInstanceKey, scopeKey: processInstanceKey, name: 'results' }))[0]
    expect(JSON.parse(results.value)).toEqual([null, 'done-2', null, 'done-4'])
    const inner = (await elementInstances(processInstanceKey)).filter((e) => e.elementId === 'st-mi-completion-each' && e.type === 'SERVICE_TASK')
    expect(inner.map((e) => e.state).sort()).toEqual(['COMPLETED', 'COMPLETED', 'TERMINATED', 'TERMINATED'])
    for (const counter of [1, 3]) {
      const job = byCounter.get(counter) as Job
      expect((await grpcFailure(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))).code).toBe(GrpcStatus.NOT_FOUND)
    }
  })

  test('an empty inputCollection completes at once with an empty outputCollection', async () => {
    // when
    const variables = await runToCompletion('st-mi-parallel', { items: [] })
    // then
    expect(variables).toEqual({ items: [], results: [] })
  })

  test('a non-array inputCollection raises EXTRACT_VALUE_ERROR on the body', async () => {
    // when
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'st-mi-parallel', variables: { items: 'not a list' } })
    // then
    const [incident] = await eventually(async () => {
      const found = await incidentsOf(processInstanceKey, 'ACTIVE')
      expect(found).toHaveLength(1)
      return found
    })
    expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'st-mi-parallel-each' })
    expect(incident.errorMessage).toContain("Expected result of the expression 'items' to be 'ARRAY', but was 'STRING'.")
    const body = (await elementInstances(processInstanceKey)).find((e) => e.elementId === 'st-mi-parallel-each')
    expect(body).toMatchObject({ type: 'MULTI_INSTANCE_BODY', state: 'ACTIVE' })
    await client.zeebe.cancelProcessInstance(processInstanceKey)
  })
})
