/**
 * Variables (scopes, mappings, propagation, SetVariables, fetchVariables) and the job lifecycle
 * (fail, back-off, incidents, retries, timeouts), driven through the real @camunda8/sdk gRPC client
 * (engine-semantics §2, §6, §7). Variable scopes and incidents are read through REST /v2 searches.
 */
import {
  GrpcStatus, MINUTE, bpmnFixture, engineTestKit, grpcFailure, until, type IncidentItem, type JobItem,
} from '../support/engine-test-kit'

const {
  client, startInstance, search, instanceState, expectInstanceState, activeIncident, variablesInScope,
  activateNow, activateOne,
} = engineTestKit({ worker: 'tg-test' })

beforeAll(async () => {
  await client.zeebe.deployResources(['vars-input', 'vars-output', 'vars-subprocess', 'vars-mapping-error', 'job'].map((name) => ({ processFilename: bpmnFixture(name) })))
})

// ------------------------------------------------------------------ helpers

/** A job type of its own for each test, through the FEEL job type of job. */
let jobCounter = 0
function uniqueJobType(): string {
  jobCounter += 1
  return `tg-job-${jobCounter}`
}

// ------------------------------------------------------------------ input mappings and scopes

test('input mappings create task-local variables (nested targets, missing source = null) that shadow outer ones', async () => {
  // given process variables, one of them (shade) also an input-mapping target
  const instance = await startInstance('vars-input', { order: { id: 'A-1' }, customer: { name: 'Ada' }, shade: 'outer', counter: 0 })

  // when the job is activated
  const job = await activateOne('vars-input', instance)

  // then the job sees the mapped locals, the innermost definition winning
  expect(job.variables).toEqual({
    order: { id: 'A-1' }, customer: { name: 'Ada' }, counter: 100, shade: 'inner',
    orderId: 'A-1', request: { customer: { name: 'Ada' }, ref: 'A-1-x' }, absent: null,
  })
  // and the locals live in the task's scope, not in the root scope
  expect(await variablesInScope(job.elementInstanceKey)).toEqual({
    orderId: 'A-1', request: { customer: { name: 'Ada' }, ref: 'A-1-x' }, shade: 'inner', absent: null, counter: 100,
  })
  expect(await variablesInScope(instance)).toEqual({ order: { id: 'A-1' }, customer: { name: 'Ada' }, shade: 'outer', counter: 0 })
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
})

test('without output mappings a job result merges from the task scope: input-mapped names update the local copy (then lost), new names land in the root', async () => {
  // given a task whose input mappings created locals `counter` and `shade`
  const instance = await startInstance('vars-input', { order: { id: 'B-2' }, customer: { name: 'Bo' }, shade: 'outer', counter: 0 })
  const job = await activateOne('vars-input', instance)

  // when the job completes with those names and a new one
  await client.zeebe.completeJob({ jobKey: job.key, variables: { counter: 5, shade: 'from-worker', fresh: 'created' } })

  // then only the new name reached the root; the root's counter and shade are unchanged
  await expectInstanceState(instance, 'COMPLETED')
  expect(await variablesInScope(instance)).toEqual({ order: { id: 'B-2' }, customer: { name: 'Bo' }, shade: 'outer', counter: 0, fresh: 'created' })
})

test('a job result equal to the local value is not rewritten there: propagation continues and updates the outer variable (Zeebe quirk)', async () => {
  // given a task-local counter of 100 (input mapping) over a root counter of 0
  const instance = await startInstance('vars-input', { order: { id: 'C-3' }, customer: { name: 'Cy' }, shade: 'outer', counter: 0 })
  const job = await activateOne('vars-input', instance)

  // when the job completes with counter = 100 and shade = "inner", both equal to the locals
  await client.zeebe.completeJob({ jobKey: job.key, variables: { counter: 100, shade: 'inner' } })

  // then the walk went past the equal locals and updated the root variables
  await expectInstanceState(instance, 'COMPLETED')
  expect(await variablesInScope(instance)).toEqual({ order: { id: 'C-3' }, customer: { name: 'Cy' }, shade: 'inner', counter: 100 })
})

test('with output mappings only mapped values propagate, in order, nested targets merging into the existing object', async () => {
  // given a summary object already in the root scope
  const instance = await startInstance('vars-output', { summary: { keep: true } })
  const job = await activateOne('vars-output', instance)

  // when the job completes with a result and an unmapped key
  await client.zeebe.completeJob({ jobKey: job.key, variables: { result: { total: 21, count: 3 }, extra: 'dropped' } })

  // then the next task sees the mapped values only; `doubled` saw the earlier `total` target
  const next = await activateOne('tg-vars-after-output', instance)
  expect(next.variables).toEqual({ summary: { keep: true, count: 3 }, total: 21, doubled: 42 })
  expect(await variablesInScope(instance)).toEqual({ summary: { keep: true, count: 3 }, total: 21, doubled: 42 })
  await client.zeebe.completeJob({ jobKey: next.key, variables: {} })
})

test('a job result updates a variable where it is defined (the subprocess scope); subprocess locals are discarded on exit', async () => {
  // given a subprocess with a local `temp`
  const instance = await startInstance('vars-subprocess', { input: 1 })
  const first = await activateOne('tg-sub-first', instance)
  const subprocess = (await search<{ elementInstanceKey: string; elementId: string }>('element-instances', { processInstanceKey: instance, elementId: 'sub' }))[0]
  expect(await variablesInScope(subprocess.elementInstanceKey)).toEqual({ temp: 'draft' })

  // when the first task completes with `temp` and a new `result`
  await client.zeebe.completeJob({ jobKey: first.key, variables: { temp: 'changed', result: 'r' } })

  // then `temp` was updated in the subprocess scope and `result` created in the root
  const second = await activateOne('tg-sub-second', instance)
  expect(second.variables).toEqual({ input: 1, temp: 'changed', result: 'r' })
  expect(await variablesInScope(subprocess.elementInstanceKey)).toEqual({ temp: 'changed' })
  expect(await variablesInScope(instance)).toEqual({ input: 1, result: 'r' })

  // when the subprocess completes, its local never reaches the root
  await client.zeebe.completeJob({ jobKey: second.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
  expect(await variablesInScope(instance)).toEqual({ input: 1, result: 'r' })
})

test('a failing input mapping raises IO_MAPPING_ERROR before any job exists; a failing output mapping raises it on completion; each resolves after a fix', async () => {
  // given an instance without the orderRef its input mapping asserts
  const instance = await startInstance('vars-mapping-error', {})

  // then activation stops with IO_MAPPING_ERROR and no job is created
  const onInput = await activeIncident(instance)
  expect(onInput).toMatchObject({ errorType: 'IO_MAPPING_ERROR', elementId: 'lookup' })
  expect(onInput.errorMessage).toContain('orderRef is required')
  expect(await activateNow('tg-vars-lookup')).toEqual([])

  // when orderRef is set and the incident resolved, the input mappings run again and the job appears
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { orderRef: 'R-1' }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: onInput.incidentKey })
  const job = await activateOne('tg-vars-lookup', instance)
  expect(job.variables).toMatchObject({ orderRef: 'R-1', ref: 'R-1' })

  // when the job completes without `found`, the output mapping fails: the task stays, with an incident
  await client.zeebe.completeJob({ jobKey: job.key, variables: { other: 1 } })
  const onOutput = await activeIncident(instance)
  expect(onOutput).toMatchObject({ errorType: 'IO_MAPPING_ERROR', elementId: 'lookup' })
  expect(onOutput.errorMessage).toContain('found is required')
  const task = (await search<{ elementId: string; state: string; hasIncident: boolean }>('element-instances', { processInstanceKey: instance, elementId: 'lookup' }))[0]
  expect(task).toMatchObject({ state: 'ACTIVE', hasIncident: true })
  // the job payload was set locally on the task before the mappings ran
  expect(await variablesInScope(job.elementInstanceKey)).toMatchObject({ ref: 'R-1', other: 1 })

  // when `found` is set on the task and the incident resolved, the output mappings run again
  await client.zeebe.setVariables({ elementInstanceKey: job.elementInstanceKey, variables: { found: { id: 9 } }, local: true })
  await client.zeebe.resolveIncident({ incidentKey: onOutput.incidentKey })

  // then the task completes and only the mapped value reaches the root
  await expectInstanceState(instance, 'COMPLETED')
  expect(await variablesInScope(instance)).toEqual({ orderRef: 'R-1', record: { id: 9 } })
})

// ------------------------------------------------------------------ SetVariables and fetchVariables

test('SetVariables local=true writes into the given scope; local=false updates the nearest holder or creates in the root', async () => {
  // given a task waiting with its job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType, shared: 'root' })
  const job = await activateOne(jobType, instance)

  // when a local variable is set on the task, then a non-local document on the task
  await client.zeebe.setVariables({ elementInstanceKey: job.elementInstanceKey, variables: { note: 'local', shared: 'shadow' }, local: true })
  await client.zeebe.setVariables({ elementInstanceKey: job.elementInstanceKey, variables: { note: 'updated', brandNew: 7 }, local: false })

  // then `note` was updated where it lives (the task) and `brandNew` was created in the root
  expect(await variablesInScope(job.elementInstanceKey)).toEqual({ note: 'updated', shared: 'shadow' })
  expect(await variablesInScope(instance)).toEqual({ jobType, shared: 'root', brandNew: 7 })

  // and a non-local update on the root scope reaches only the root
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { shared: 'root-2' }, local: false })
  expect(await variablesInScope(instance)).toMatchObject({ shared: 'root-2' })
  expect(await variablesInScope(job.elementInstanceKey)).toMatchObject({ shared: 'shadow' })
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
})

test('SetVariables with a non-object document is INVALID_ARGUMENT, and an unknown scope is NOT_FOUND', async () => {
  // given a running instance
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })

  // when the document is an array, or the scope unknown
  const notObject = await grpcFailure(client.zeebe.setVariables({ elementInstanceKey: instance, variables: [1, 2] as unknown as Record<string, unknown>, local: false }))
  const unknownScope = await grpcFailure(client.zeebe.setVariables({ elementInstanceKey: '2251799813999999', variables: { a: 1 }, local: false }))

  // then
  expect(notObject.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(unknownScope.code).toBe(GrpcStatus.NOT_FOUND)
})

test('fetchVariables limits the activated job to the named visible variables (innermost wins, missing names left out)', async () => {
  // given a task-local `b` shadowing the root's
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType, a: 1, b: 'root', c: [3] })
  const first = await activateOne(jobType, instance, { timeout: 200 })
  await client.zeebe.setVariables({ elementInstanceKey: first.elementInstanceKey, variables: { b: 'task' }, local: true })
  await client.zeebe.failJob({ jobKey: first.key, retries: 3, errorMessage: 'again', retryBackOff: 0 })

  // when the job is activated again fetching only a, b and a missing name, through a polling worker
  const fetched = await new Promise<Record<string, unknown>>((resolve) => {
    const worker = client.zeebe.createWorker({
      taskType: jobType, pollInterval: 50, fetchVariable: ['a', 'b', 'missing'],
      taskHandler: async (job) => {
        const ack = await job.complete({})
        await worker.close()
        resolve({ ...job.variables })
        return ack
      },
    })
  })

  // then the job carried exactly those, the task's `b` winning
  expect(fetched).toEqual({ a: 1, b: 'task' })
  await expectInstanceState(instance, 'COMPLETED')
})

test('CreateProcessInstanceWithResult fetchVariables returns only the named root variables', async () => {
  // given an instance whose job adds variables
  const jobType = uniqueJobType()
  const worker = client.zeebe.createWorker({ taskType: jobType, pollInterval: 50, taskHandler: (job) => job.complete({ out: 'o', noise: 'n' }) })
  try {
    // when it completes, fetching `out` only
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'job', variables: { jobType, kept: 1 }, fetchVariables: ['out'], requestTimeout: 10_000 })

    // then
    expect(result.variables).toEqual({ out: 'o' })
  } finally {
    await worker.close()
  }
})

// ------------------------------------------------------------------ failing jobs

test('a failed job with retries left is activatable again with the new retries; its variables are set locally on the task', async () => {
  // given an activated job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const first = await activateOne(jobType, instance)
  expect(first.retries).toBe(3)

  // when it fails with 2 retries left and a variable
  await client.zeebe.failJob({ jobKey: first.key, retries: 2, errorMessage: 'transient', retryBackOff: 0, variables: { attempt: 1 } })

  // then the same job comes back at once with retries 2, seeing the local variable
  const second = await activateOne(jobType, instance)
  expect(second).toMatchObject({ key: first.key, retries: 2, variables: { jobType, attempt: 1 } })
  expect(await variablesInScope(first.elementInstanceKey)).toEqual({ attempt: 1 })
  expect(await variablesInScope(instance)).toEqual({ jobType })
  await client.zeebe.completeJob({ jobKey: second.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
})

test('a failed job with a retry back-off stays invisible until the back-off has passed', async () => {
  // given an activated job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const first = await activateOne(jobType, instance)

  // when it fails with a back-off of 1 s
  const failedAt = Date.now()
  await client.zeebe.failJob({ jobKey: first.key, retries: 1, errorMessage: 'slow down', retryBackOff: 1_000 })

  // then it cannot be activated right away
  expect(await activateNow(jobType)).toEqual([])
  // but becomes activatable once the back-off has elapsed
  const again = await until('the job after its back-off', async () => {
    const jobs = await activateNow(jobType)
    return jobs.length > 0 ? jobs[0] : undefined
  })
  expect(Date.now() - failedAt).toBeGreaterThanOrEqual(1_000)
  expect(again).toMatchObject({ key: first.key, retries: 1 })
})

test('a job failed with 0 retries raises JOB_NO_RETRIES; resolve is rejected until UpdateJobRetries, then the job is activatable again', async () => {
  // given an activated job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)

  // when it fails with no retries left
  await client.zeebe.failJob({ jobKey: job.key, retries: 0, errorMessage: 'service down', retryBackOff: 0 })

  // then an incident names the job and the worker's message
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({ errorType: 'JOB_NO_RETRIES', errorMessage: 'service down', elementId: 'work', jobKey: job.key })
  expect((await search<JobItem>('jobs', { jobKey: job.key }))[0]).toMatchObject({ state: 'FAILED', retries: 0 })
  expect(await activateNow(jobType)).toEqual([])

  // and a FAILED job cannot be completed
  const completeFailed = await grpcFailure(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))
  expect(completeFailed.code).toBe(GrpcStatus.FAILED_PRECONDITION)

  // when resolving without retries
  const rejected = await grpcFailure(client.zeebe.resolveIncident({ incidentKey: incident.incidentKey }))

  // then Zeebe's rejection asks for retries first, and the incident stays
  expect(rejected.code).toBe(GrpcStatus.FAILED_PRECONDITION)
  expect(rejected.details).toContain(`job with key '${job.key}' has no retries left. Please update the job retries and retry resolving the incident`)
  expect((await activeIncident(instance)).incidentKey).toBe(incident.incidentKey)

  // when retries are updated (the incident stays) and the incident resolved
  await client.zeebe.updateJobRetries({ jobKey: job.key, retries: 2 })
  expect((await activeIncident(instance)).incidentKey).toBe(incident.incidentKey)
  expect(await activateNow(jobType)).toEqual([])
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the job is activatable again with the new retries, and completes the instance
  const again = await activateOne(jobType, instance)
  expect(again).toMatchObject({ key: job.key, retries: 2 })
  expect(await search<IncidentItem>('incidents', { processInstanceKey: instance, state: 'ACTIVE' })).toEqual([])
  await client.zeebe.completeJob({ jobKey: again.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
})

test('a job failed with 0 retries and no message raises JOB_NO_RETRIES with "No more retries left."', async () => {
  // given an activated job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)

  // when it fails without a message
  await client.zeebe.failJob({ jobKey: job.key, retries: 0, errorMessage: '', retryBackOff: 0 })

  // then
  expect(await activeIncident(instance)).toMatchObject({ errorType: 'JOB_NO_RETRIES', errorMessage: 'No more retries left.' })
})

test('UpdateJobRetries rejects a non-positive retry count', async () => {
  // given a job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)

  // when retries are set to 0
  const failure = await grpcFailure(client.zeebe.updateJobRetries({ jobKey: job.key, retries: 0 }))

  // then
  expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
})

test('a job type expression evaluating to null raises EXTRACT_VALUE_ERROR; setting the variable and resolving creates the job', async () => {
  // given an instance without `jobType`
  const instance = await startInstance('job', {})

  // then the task cannot create its job
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({
    errorType: 'EXTRACT_VALUE_ERROR', elementId: 'work',
    errorMessage: "Expected result of the expression 'jobType' to be 'STRING', but was 'NULL'. " +
      "The evaluation reported the following warnings:\n[NO_VARIABLE_FOUND] No variable found with name 'jobType'",
  })

  // when the variable is set and the incident resolved
  const jobType = uniqueJobType()
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { jobType }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the job exists with its evaluated type
  const job = await activateOne(jobType, instance)
  expect(job.type).toBe(jobType)
})

// ------------------------------------------------------------------ timeouts

test('a job whose timeout passes is activatable again with its retries unchanged; the late worker may still complete it, a second completion is NOT_FOUND', async () => {
  // given a job activated with a 300 ms timeout after one failure (retries 2)
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const first = await activateOne(jobType, instance)
  await client.zeebe.failJob({ jobKey: first.key, retries: 2, errorMessage: 'once', retryBackOff: 0 })
  const slow = await activateOne(jobType, instance, { timeout: 300 })

  // when the timeout passes, another worker activates it
  const again = await until('the timed-out job', async () => {
    const jobs = await activateNow(jobType)
    return jobs.length > 0 ? jobs[0] : undefined
  })

  // then it is the same job with its retries unchanged
  expect(again).toMatchObject({ key: slow.key, retries: 2 })

  // and the late worker's completion is accepted, the second one is NOT_FOUND
  await client.zeebe.completeJob({ jobKey: slow.key, variables: { by: 'late' } })
  const second = await grpcFailure(client.zeebe.completeJob({ jobKey: again.key, variables: { by: 'second' } }))
  expect(second.code).toBe(GrpcStatus.NOT_FOUND)
  expect(second.details).toContain(`Expected to complete job with key '${again.key}', but no such job was found`)
  await expectInstanceState(instance, 'COMPLETED')
  expect(await variablesInScope(instance)).toMatchObject({ by: 'late' })
})

test('UpdateJobTimeout moves the deadline to now + timeout: shortened, the job times out early', async () => {
  // given a job activated for a minute
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)
  expect(await activateNow(jobType)).toEqual([])

  // when its timeout is shortened to 300 ms
  const updatedAt = Date.now()
  await client.zeebe.updateJobTimeout({ jobKey: job.key, timeout: 300 })
  const deadline = Date.parse((await search<JobItem>('jobs', { jobKey: job.key }))[0].deadline ?? '')
  expect(deadline).toBeGreaterThanOrEqual(updatedAt + 300 - 50)
  expect(deadline).toBeLessThan(updatedAt + 5_000)

  // then it becomes activatable again soon, retries unchanged
  const again = await until('the job after the shortened timeout', async () => {
    const jobs = await activateNow(jobType)
    return jobs.length > 0 ? jobs[0] : undefined
  })
  expect(again).toMatchObject({ key: job.key, retries: 3 })
})

test('UpdateJobTimeout extended: the job outlives its original deadline', async () => {
  // given a job activated with a 300 ms timeout
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance, { timeout: 300 })
  const originalDeadline = Number(job.deadline)

  // when its timeout is extended to a minute
  await client.zeebe.updateJobTimeout({ jobKey: job.key, timeout: MINUTE })

  // then, once the original deadline has passed, the job is still held by its worker
  await until('the original deadline to pass', async () => (Date.now() > originalDeadline + 200 ? true : undefined))
  expect(await activateNow(jobType)).toEqual([])
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
})

test('UpdateJobTimeout on a job that is not activated is rejected', async () => {
  // given a job failed back to activatable
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)
  await client.zeebe.failJob({ jobKey: job.key, retries: 1, errorMessage: 'later', retryBackOff: 60_000 })

  // when its timeout is updated
  const failure = await grpcFailure(client.zeebe.updateJobTimeout({ jobKey: job.key, timeout: 1_000 }))

  // then
  expect(failure.code).toBe(GrpcStatus.FAILED_PRECONDITION)
})

// ------------------------------------------------------------------ canceled instances

test('completing or failing a job of a canceled instance is NOT_FOUND', async () => {
  // given an activated job
  const jobType = uniqueJobType()
  const instance = await startInstance('job', { jobType })
  const job = await activateOne(jobType, instance)

  // when the instance is canceled
  await client.zeebe.cancelProcessInstance(instance)

  // then the job is gone for every command
  const complete = await grpcFailure(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))
  expect(complete.code).toBe(GrpcStatus.NOT_FOUND)
  expect(complete.details).toContain(`Expected to complete job with key '${job.key}', but no such job was found`)
  const fail = await grpcFailure(client.zeebe.failJob({ jobKey: job.key, retries: 1, errorMessage: 'x', retryBackOff: 0 }))
  expect(fail.code).toBe(GrpcStatus.NOT_FOUND)
  expect(await instanceState(instance)).toBe('TERMINATED')
})
