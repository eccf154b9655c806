/**
 * Canceling user task listeners, as Zeebe 8.8 runs them (docs: components/concepts/
 * user-task-listeners): when a Camunda user task's element is terminated (an interrupting boundary
 * or event subprocess, a terminate end event, the instance's cancellation, a called instance's
 * parent ending), the task is CANCELING and its canceling listeners' jobs run one after the other
 * in model order; the element's termination, and whatever follows it, waits for the last. Their
 * completions may correct the task but not deny the cancellation; a failure is an incident, and
 * once resolved the listener runs again.
 */
import { HOUR, engineTestKit, until, type ActivatedJob } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState, instanceState, jobFor, activateNow, search, activeIncident, elementStates, increaseTime } =
  engineTestKit({ worker: 'canceling-listeners', pinClock: true })

const NAMESPACES = 'targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
const definitions = (id: string, body: string, rootElements = ''): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NAMESPACES} id="defs-${id}">${rootElements}<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`
const flow = (id: string, from: string, to: string): string => `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
/** A Camunda user task `review` with canceling listeners of these job types (and `inner` after its extension elements). */
const reviewWith = (inner: string, ...types: string[]): string => `<bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask />
<zeebe:taskHeaders><zeebe:header key="purpose" value="review" /></zeebe:taskHeaders><zeebe:taskListeners>
${types.map((type) => `<zeebe:taskListener eventType="canceling" type="${type}" retries="1" />`).join('')}</zeebe:taskListeners></bpmn:extensionElements>${inner}</bpmn:userTask>`
const review = (...types: string[]): string => reviewWith('', ...types)
const serviceTask = (id: string, type: string): string => `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
const stopMessage = '<bpmn:message id="stop-message" name="tlc-stop"><bpmn:extensionElements><zeebe:subscription correlationKey="=caseId" /></bpmn:extensionElements></bpmn:message>'

/** start → review → end, with an interrupting message boundary event on review leading to escalate. */
const BOUNDARY_MESSAGE = definitions('tlc-boundary', `<bpmn:startEvent id="start" />${review('tlc-first', 'tlc-second')}<bpmn:endEvent id="end" />
<bpmn:boundaryEvent id="stopped" attachedToRef="review"><bpmn:messageEventDefinition messageRef="stop-message" /></bpmn:boundaryEvent>
${serviceTask('escalate', 'tlc-escalate')}<bpmn:endEvent id="escalated" />
${flow('f1', 'start', 'review')}${flow('f2', 'review', 'end')}${flow('f3', 'stopped', 'escalate')}${flow('f4', 'escalate', 'escalated')}`, stopMessage)

/** start → review → end, with an interrupting one-hour timer on review leading to late. */
const BOUNDARY_TIMER = definitions('tlc-timer', `<bpmn:startEvent id="start" />${review('tlc-timer-listener')}<bpmn:endEvent id="end" />
<bpmn:boundaryEvent id="overdue" attachedToRef="review"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="late" />${flow('f1', 'start', 'review')}${flow('f2', 'review', 'end')}${flow('f3', 'overdue', 'late')}`)

/** start → review → end, nothing else: what only the instance's cancellation ends. */
const PLAIN = definitions('tlc-plain', `<bpmn:startEvent id="start" />${review('tlc-cancel')}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'review')}${flow('f2', 'review', 'end')}`)

/** As BOUNDARY_MESSAGE, the second listener's job type a variable (missing at first). */
const BOUNDARY_EXPRESSION = BOUNDARY_MESSAGE.replaceAll('tlc-boundary', 'tlc-expression').replace('tlc-first', 'tlc-expr-first').replace('tlc-second', '=listenerType')
  .replaceAll('tlc-escalate', 'tlc-expr-escalate')

/** As PLAIN, for a modification. */
const MODIFIED = PLAIN.replaceAll('tlc-plain', 'tlc-modified').replace('tlc-cancel', 'tlc-modified-listener')

/** start → review, a parallel multi-instance over two items done once one is completed → after → end. */
const MULTI_INSTANCE = definitions('tlc-multi', `<bpmn:startEvent id="start" />${reviewWith(`<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
<zeebe:loopCharacteristics inputCollection="=[1, 2]" inputElement="item" /></bpmn:extensionElements>
<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">=numberOfCompletedInstances = 1</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>`, 'tlc-multi-listener')}
${serviceTask('after', 'tlc-after-multi')}<bpmn:endEvent id="end" />${flow('f1', 'start', 'review')}${flow('f2', 'review', 'after')}${flow('f3', 'after', 'end')}`)

/** start → an ad-hoc subprocess running review and quick, done (the rest canceled) once done is true → end. */
const AD_HOC = definitions('tlc-adhoc', `<bpmn:startEvent id="start" /><bpmn:adHocSubProcess id="AH"><bpmn:extensionElements><zeebe:adHoc activeElementsCollection="=toDo" /></bpmn:extensionElements>
${review('tlc-adhoc-listener')}${serviceTask('quick', 'tlc-adhoc-quick')}<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">=done = true</bpmn:completionCondition></bpmn:adHocSubProcess>
<bpmn:endEvent id="end" />${flow('f1', 'start', 'AH')}${flow('f2', 'AH', 'end')}`)

/** start → fork → (review → end) and (quick → terminate end event). */
const TERMINATE = definitions('tlc-terminate', `<bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />${review('tlc-terminated')}<bpmn:endEvent id="end" />
${serviceTask('quick', 'tlc-quick')}<bpmn:endEvent id="stop-all"><bpmn:terminateEventDefinition /></bpmn:endEvent>
${flow('f1', 'start', 'fork')}${flow('f2', 'fork', 'review')}${flow('f3', 'review', 'end')}${flow('f4', 'fork', 'quick')}${flow('f5', 'quick', 'stop-all')}`)

/** start → review → end, with an interrupting message event subprocess. */
const EVENT_SUB_PROCESS = definitions('tlc-esp', `<bpmn:startEvent id="start" />${review('tlc-esp-listener')}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'review')}${flow('f2', 'review', 'end')}
<bpmn:subProcess id="on-stop" triggeredByEvent="true"><bpmn:startEvent id="stop-start"><bpmn:messageEventDefinition messageRef="stop-message" /></bpmn:startEvent>
${serviceTask('handle-stop', 'tlc-handle-stop')}${flow('e1', 'stop-start', 'handle-stop')}</bpmn:subProcess>`, stopMessage)

/** start → call tlc-plain → end. */
const CALLER = definitions('tlc-caller', `<bpmn:startEvent id="start" /><bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="tlc-plain" propagateAllChildVariables="false" /></bpmn:extensionElements></bpmn:callActivity>
<bpmn:endEvent id="end" />${flow('f1', 'start', 'call')}${flow('f2', 'call', 'end')}`)

beforeAll(async () => {
  await client.zeebe.deployResources([BOUNDARY_MESSAGE, BOUNDARY_TIMER, PLAIN, TERMINATE, EVENT_SUB_PROCESS, CALLER, BOUNDARY_EXPRESSION, MODIFIED, MULTI_INSTANCE, AD_HOC].map((xml, i) => ({ name: `tlc-${i}.bpmn`, process: Buffer.from(xml) })))
})

interface TaskItem { userTaskKey: string; state: string; priority: number; elementInstanceKey: string }

async function taskOf(processInstanceKey: string, state: string): Promise<TaskItem> {
  return until(`the user task in state ${state}`, async () => {
    const [task] = await search<TaskItem>('user-tasks', { processInstanceKey })
    return task?.state === state ? task : undefined
  })
}

const headersOf = (job: ActivatedJob): Record<string, string> => job.customHeaders as Record<string, string>

async function completeListenerJob(jobKey: string, result: Record<string, unknown> = {}, variables?: Record<string, unknown>): Promise<Response> {
  return fetch(`http://127.0.0.1:${engine.restPort}/v2/jobs/${jobKey}/completion`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(variables ? { variables } : {}), result: { type: 'userTask', ...result } }),
  })
}

async function expectStillActive(processInstanceKey: string): Promise<void> {
  expect(await instanceState(processInstanceKey)).toBe('ACTIVE')
  expect(await elementStates(processInstanceKey, 'review')).toEqual(['ACTIVE'])
}

test('a model with canceling task listeners deploys', async () => {
  const deployed = await client.zeebe.deployResource({ process: Buffer.from(PLAIN.replaceAll('tlc-plain', 'tlc-deployed')), name: 'tlc-deployed.bpmn' })
  expect(deployed.deployments).toHaveLength(1)
})

test('an interrupting message boundary event is entered only once the canceling listeners ran in model order; a correction applies to the canceled task', async () => {
  // given a created task on which the message boundary event waits
  const key = await startInstance('tlc-boundary', { caseId: 'b-1' })
  const created = await taskOf(key, 'CREATED')
  // when the message interrupts it
  await client.zeebe.publishMessage({ name: 'tlc-stop', correlationKey: 'b-1', variables: {} })
  // then the first canceling listener runs, with the task's headers, and the task waits in CANCELING
  const first = await jobFor('tlc-first', key)
  expect(headersOf(first)).toMatchObject({ purpose: 'review', 'io.camunda.zeebe:userTaskKey': created.userTaskKey, 'io.camunda.zeebe:changedAttributes': '[]', 'io.camunda.zeebe:priority': '50' })
  const [listenerJob] = await search<{ kind: string; listenerEventType: string }>('jobs', { processInstanceKey: key, type: 'tlc-first' })
  expect(listenerJob).toMatchObject({ kind: 'TASK_LISTENER', listenerEventType: 'CANCELING' })
  expect((await taskOf(key, 'CANCELING')).state).toBe('CANCELING')
  await expectStillActive(key)
  // and neither the second listener nor the boundary flow has started, and the task takes no command
  expect(await activateNow('tlc-second')).toEqual([])
  expect(await activateNow('tlc-escalate')).toEqual([])
  expect(await elementStates(key, 'stopped')).toEqual([])
  const completion = await fetch(`http://127.0.0.1:${engine.restPort}/v2/user-tasks/${created.userTaskKey}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(completion.status).toBe(409)
  expect(await completion.text()).toContain("but it is in state 'CANCELING'")
  // when the first completes with a correction, the second sees it, and completes too
  expect((await completeListenerJob(first.key, { corrections: { priority: 90 } })).status).toBe(204)
  const second = await jobFor('tlc-second', key)
  expect(headersOf(second)).toMatchObject({ 'io.camunda.zeebe:priority': '90', 'io.camunda.zeebe:changedAttributes': '["priority"]' })
  expect(await activateNow('tlc-escalate')).toEqual([])
  expect((await completeListenerJob(second.key)).status).toBe(204)
  // then the task is canceled with the correction, the element terminated, and the boundary flow taken
  expect((await taskOf(key, 'CANCELED')).priority).toBe(90)
  expect(await elementStates(key, 'review')).toEqual(['TERMINATED'])
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-escalate', key)).key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'escalated')).toEqual(['COMPLETED'])
})

test('an interrupting timer boundary event fires, and its flow is taken once the canceling listener is done', async () => {
  // given a task whose one-hour timer is due
  const key = await startInstance('tlc-timer', {})
  await taskOf(key, 'CREATED')
  await increaseTime(HOUR + 1_000)
  // then the canceling listener runs and the boundary flow waits for it
  const job = await jobFor('tlc-timer-listener', key)
  await taskOf(key, 'CANCELING')
  await expectStillActive(key)
  expect(await elementStates(key, 'late')).toEqual([])
  // when it completes, the boundary flow is taken
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'late')).toEqual(['COMPLETED'])
  expect(await elementStates(key, 'review')).toEqual(['TERMINATED'])
})

test('a canceled instance stays active until its canceling listener is done; a second cancellation finds no instance to cancel, as in Zeebe 8.8', async () => {
  // given a created task
  const key = await startInstance('tlc-plain', {})
  await taskOf(key, 'CREATED')
  // when the instance is canceled: the command is accepted
  await client.zeebe.cancelProcessInstance(key)
  // then the canceling listener runs, and the instance is still active, its task CANCELING
  const job = await jobFor('tlc-cancel', key)
  expect(headersOf(job)['io.camunda.zeebe:changedAttributes']).toBe('[]')
  await taskOf(key, 'CANCELING')
  await expectStillActive(key)
  // and canceling it again is NOT_FOUND (its root element is no longer active)
  const again = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances/${key}/cancellation`, { method: 'POST' })
  expect(again.status).toBe(404)
  expect(await again.text()).toContain(`Expected to cancel a process instance with key '${key}', but no such process was found`)
  // when the listener completes, the instance is terminated and its task canceled
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await expectInstanceState(key, 'TERMINATED')
  await taskOf(key, 'CANCELED')
})

test('a terminate end event in a parallel branch completes the instance once the other branch\'s canceling listener is done', async () => {
  // given a task on one branch and a job on the other, whose completion reaches the terminate end event
  const key = await startInstance('tlc-terminate', {})
  await taskOf(key, 'CREATED')
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-quick', key)).key, variables: {} })
  // then the task's canceling listener runs, the terminate end event is done and the instance waits
  const job = await jobFor('tlc-terminated', key)
  expect(await elementStates(key, 'stop-all')).toEqual(['COMPLETED'])
  await expectStillActive(key)
  // when it completes, the instance completes, the task's element terminated
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'review')).toEqual(['TERMINATED'])
})

test('an interrupting event subprocess is entered once the canceling listener of the task it interrupts is done', async () => {
  const key = await startInstance('tlc-esp', { caseId: 'esp-1' })
  await taskOf(key, 'CREATED')
  await client.zeebe.publishMessage({ name: 'tlc-stop', correlationKey: 'esp-1', variables: {} })
  const job = await jobFor('tlc-esp-listener', key)
  expect(await elementStates(key, 'on-stop')).toEqual([])
  expect(await activateNow('tlc-handle-stop')).toEqual([])
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-handle-stop', key)).key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'review')).toEqual(['TERMINATED'])
})

test('a canceled parent waits for the canceling listener of its called instance\'s task; both end terminated', async () => {
  // given a parent whose called instance waits at its task
  const parent = await startInstance('tlc-caller', {})
  const [child] = await until('the called instance', async () => {
    const found = await search<{ processInstanceKey: string }>('process-instances', { parentProcessInstanceKey: parent })
    return found.length > 0 ? found : undefined
  })
  await taskOf(child.processInstanceKey, 'CREATED')
  // when the parent is canceled
  await client.zeebe.cancelProcessInstance(parent)
  // then the child's canceling listener runs, and both instances stay active
  const job = await jobFor('tlc-cancel', child.processInstanceKey)
  expect(await instanceState(parent)).toBe('ACTIVE')
  expect(await instanceState(child.processInstanceKey)).toBe('ACTIVE')
  expect(await elementStates(parent, 'call')).toEqual(['ACTIVE'])
  // when it completes, both are terminated
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await expectInstanceState(child.processInstanceKey, 'TERMINATED')
  await expectInstanceState(parent, 'TERMINATED')
  expect(await elementStates(parent, 'call')).toEqual(['TERMINATED'])
})

test('a canceling listener job failing without retries is an incident on the task; resolved, the listener runs again and the cancellation ends', async () => {
  // given an instance canceled while its task waits
  const key = await startInstance('tlc-plain', {})
  await taskOf(key, 'CREATED')
  await client.zeebe.cancelProcessInstance(key)
  const job = await jobFor('tlc-cancel', key)
  // when the listener's job fails with no retries left
  await client.zeebe.failJob({ jobKey: job.key, errorMessage: 'archive down', retries: 0, retryBackOff: 0 })
  // then an incident is raised on the task's element, and the instance still waits
  const incident = await activeIncident(key)
  expect(incident).toMatchObject({ errorType: 'JOB_NO_RETRIES', elementId: 'review', errorMessage: 'archive down', jobKey: job.key })
  await expectStillActive(key)
  // when retries are given and the incident resolved, the listener runs again and completes
  await client.zeebe.updateJobRetries({ jobKey: job.key, retries: 1 })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  expect((await completeListenerJob((await jobFor('tlc-cancel', key)).key)).status).toBe(204)
  await expectInstanceState(key, 'TERMINATED')
})

test('a canceling listener may not deny the cancellation nor complete with variables; the refused completions leave its job to complete', async () => {
  // given a canceling listener's job
  const key = await startInstance('tlc-plain', {})
  await taskOf(key, 'CREATED')
  await client.zeebe.cancelProcessInstance(key)
  const job = await jobFor('tlc-cancel', key)
  const detail = async (response: Response) => ({ status: response.status, detail: ((await response.json()) as { detail: string }).detail })
  // then a denial and variables are refused (INVALID_ARGUMENT), as Zeebe's JobCompleteProcessor does
  expect(await detail(await completeListenerJob(job.key, { denied: true, deniedReason: 'keep it' }))).toMatchObject({
    status: 400, detail: expect.stringContaining("Denying result is not supported for 'CANCELING' task listener jobs"),
  })
  expect(await detail(await completeListenerJob(job.key, { denied: true, deniedReason: 'keep it' }))).toMatchObject({
    detail: expect.stringContaining('Only the following listener event types support denying: [ASSIGNING, COMPLETING, UPDATING].'),
  })
  expect(await detail(await completeListenerJob(job.key, {}, { note: 'x' }))).toMatchObject({ status: 400, detail: expect.stringContaining('Task Listener job completion with variables payload provided is not yet supported') })
  await expectStillActive(key)
  // and the job completes as it should
  expect((await completeListenerJob(job.key, { corrections: { assignee: 'archivist' } })).status).toBe(204)
  await expectInstanceState(key, 'TERMINATED')
})

test('a canceling listener whose job type does not evaluate is an incident; resolved, the canceling listeners run again from the first', async () => {
  // given a task interrupted by its boundary message, whose second canceling listener's type is a missing variable
  const key = await startInstance('tlc-expression', { caseId: 'x-1' })
  await taskOf(key, 'CREATED')
  await client.zeebe.publishMessage({ name: 'tlc-stop', correlationKey: 'x-1', variables: {} })
  expect((await completeListenerJob((await jobFor('tlc-expr-first', key)).key, { corrections: { priority: 10 } })).status).toBe(204)
  const incident = await activeIncident(key)
  expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'review' })
  // when the variable is set and the incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: key, variables: { listenerType: 'tlc-expr-late' }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  // then the first listener runs again (without the earlier correction), then the second, then the boundary flow is taken
  const again = await jobFor('tlc-expr-first', key)
  expect(headersOf(again)['io.camunda.zeebe:priority']).toBe('50')
  expect((await completeListenerJob(again.key)).status).toBe(204)
  expect((await completeListenerJob((await jobFor('tlc-expr-late', key)).key)).status).toBe(204)
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-expr-escalate', key)).key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
})

test('a multi-instance body whose completion condition is met completes once the canceling listener of its other instance is done', async () => {
  // given two instances of the task
  const key = await startInstance('tlc-multi', {})
  const tasks = await until('both tasks', async () => {
    const found = await search<TaskItem>('user-tasks', { processInstanceKey: key, state: 'CREATED' })
    return found.length === 2 ? found : undefined
  })
  // when one is completed, meeting the completion condition
  const completed = await fetch(`http://127.0.0.1:${engine.restPort}/v2/user-tasks/${tasks[0].userTaskKey}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(completed.status).toBe(204)
  // then the other's canceling listener runs, and the activity after the body waits for it
  const job = await jobFor('tlc-multi-listener', key)
  expect(headersOf(job)['io.camunda.zeebe:userTaskKey']).toBe(tasks[1].userTaskKey)
  expect(await activateNow('tlc-after-multi')).toEqual([])
  // when it completes, the body completes and the flow goes on
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-after-multi', key)).key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
})

test('a modification\'s terminate instruction runs no canceling listener, as Zeebe\'s modification terminates elements directly', async () => {
  // given a created task
  const key = await startInstance('tlc-modified', {})
  const task = await taskOf(key, 'CREATED')
  // when a modification terminates its element (the instance, emptied, with it)
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, terminateInstructions: [{ elementInstanceKey: task.elementInstanceKey }] })
  // then all is terminated at once, and no listener job was created
  await expectInstanceState(key, 'TERMINATED')
  await taskOf(key, 'CANCELED')
  expect(await activateNow('tlc-modified-listener')).toEqual([])
})

test('an ad-hoc subprocess whose completion condition cancels the remaining elements completes once their canceling listener is done', async () => {
  // given an ad-hoc subprocess running the task and a job
  const key = await startInstance('tlc-adhoc', { toDo: ['review', 'quick'], done: false })
  await taskOf(key, 'CREATED')
  // when the job completes with the condition met
  await client.zeebe.completeJob({ jobKey: (await jobFor('tlc-adhoc-quick', key)).key, variables: { done: true } })
  // then the task's canceling listener runs, and the subprocess waits for it
  const job = await jobFor('tlc-adhoc-listener', key)
  expect(await elementStates(key, 'AH')).toEqual(['ACTIVE'])
  // when it completes, the subprocess and the instance complete
  expect((await completeListenerJob(job.key)).status).toBe(204)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'review')).toEqual(['TERMINATED'])
})
