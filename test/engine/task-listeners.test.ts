/**
 * User task listeners (issue #18), as Zeebe 8.8 runs them (docs: components/concepts/
 * user-task-listeners): a lifecycle transition (creating, assigning, updating, completing) waits
 * for its listeners' jobs, one after the other in model order; each may correct the task's
 * attributes (seen by the next through the job headers), and an assigning, updating or completing
 * listener may deny the transition, which leaves the task as it was and rejects the command with
 * Zeebe's reason. The user task commands go through the SDK's REST client, which is answered once
 * the listeners are done; listener jobs are taken over gRPC and completed with a REST job result.
 */
import { GrpcStatus, engineTestKit, grpcFailure, until } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState, activateOne, search, activeIncident } = engineTestKit({ worker: 'task-listeners' })

const listener = (eventType: string, type: string): string => `<zeebe:taskListener eventType="${eventType}" type="${type}" retries="1" />`
const definitions = (id: string, userTaskExtensions: string, listeners: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask />${userTaskExtensions}<zeebe:taskHeaders><zeebe:header key="purpose" value="review" /></zeebe:taskHeaders>
<zeebe:taskListeners>${listeners}</zeebe:taskListeners></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" /><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" /></bpmn:process></bpmn:definitions>`

const LIFECYCLE = listener('creating', 'tl-create') + listener('assigning', 'tl-assign') + listener('updating', 'tl-update')
  + listener('completing', 'tl-check') + listener('completing', 'tl-audit')

beforeAll(async () => {
  await client.zeebe.deployResources([
    { name: 'tl-lifecycle.bpmn', process: Buffer.from(definitions('tl-lifecycle', '', LIFECYCLE)) },
    { name: 'tl-assigned.bpmn', process: Buffer.from(definitions('tl-assigned', '<zeebe:assignmentDefinition assignee="=owner" />', LIFECYCLE)) },
    { name: 'tl-typed.bpmn', process: Buffer.from(definitions('tl-typed', '', listener('creating', 'tl-create') + listener('creating', '=listenerType'))) },
    { name: 'tl-deprecated.bpmn', process: Buffer.from(definitions('tl-deprecated', '', listener('complete', 'tl-old-complete'))) },
  ])
})

interface TaskItem { userTaskKey: string; state: string; assignee?: string; priority: number; candidateGroups?: string[] }

async function taskOf(processInstanceKey: string, state?: string): Promise<TaskItem> {
  return until(`the user task${state ? ` in state ${state}` : ''}`, async () => {
    const [task] = await search<TaskItem>('user-tasks', { processInstanceKey })
    return task && (state === undefined || task.state === state) ? task : undefined
  })
}

/** A job's custom headers, as the SDK types them (unknown). */
const headersOf = (job: { customHeaders: unknown }): Record<string, string> => job.customHeaders as Record<string, string>

async function completeListenerJob(jobKey: string, result: Record<string, unknown> = {}, variables?: Record<string, unknown>): Promise<Response> {
  return fetch(`http://127.0.0.1:${engine.restPort}/v2/jobs/${jobKey}/completion`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(variables ? { variables } : {}), result: { type: 'userTask', ...result } }),
  })
}

/** A REST command's outcome, without awaiting it first: held commands settle only once the listeners are done. */
function settle(command: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: string }> {
  return command.then(() => ({ ok: true as const }), (error: unknown) => ({ ok: false as const, error: String((error as { message?: string }).message ?? error) }))
}

test('creating listeners hold the new task; the model\'s assignee is then assigned through the assigning listener, whose correction applies', async () => {
  // given an instance reaching a user task with creating and assigning listeners and an assignee in the model
  const key = await startInstance('tl-assigned', { owner: 'camille' })
  const creating = await activateOne('tl-create', key)
  // then the creating listener sees the task's attributes in its headers, and the task waits in CREATING
  expect(creating.customHeaders).toMatchObject({ purpose: 'review', 'io.camunda.zeebe:assignee': 'camille', 'io.camunda.zeebe:priority': '50' })
  expect(headersOf(creating)['io.camunda.zeebe:userTaskKey']).toMatch(/^\d+$/)
  expect((await taskOf(key)).state).toBe('CREATING')
  // when it completes with a priority correction
  expect((await completeListenerJob(creating.key, { corrections: { priority: 80 } })).status).toBe(204)
  // then the assigning listener runs for the model's assignee, and its correction of the assignee wins
  const assigning = await activateOne('tl-assign', key)
  expect(assigning.customHeaders).toMatchObject({ 'io.camunda.zeebe:assignee': 'camille', 'io.camunda.zeebe:changedAttributes': '["assignee"]' })
  expect((await completeListenerJob(assigning.key, { corrections: { assignee: 'dominique' } })).status).toBe(204)
  expect(await taskOf(key, 'CREATED')).toMatchObject({ assignee: 'dominique', priority: 80 })
})

test('a completion waits for its completing listeners in model order, the REST call answered once the last is done', async () => {
  // given a created task
  const key = await startInstance('tl-lifecycle', {})
  await completeListenerJob((await activateOne('tl-create', key)).key)
  const task = await taskOf(key, 'CREATED')
  // when it is completed through the SDK
  const completion = settle(client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } }))
  // then the first completing listener runs (the second not yet), and the task waits in COMPLETING
  const check = await activateOne('tl-check', key)
  expect(headersOf(check)['io.camunda.zeebe:action']).toBe('complete')
  expect((await taskOf(key)).state).toBe('COMPLETING')
  expect(await client.zeebe.activateJobs({ type: 'tl-audit', worker: 'w', timeout: 60_000, maxJobsToActivate: 1, requestTimeout: -1 })).toEqual([])
  // when both complete, in order
  expect((await completeListenerJob(check.key)).status).toBe(204)
  expect((await completeListenerJob((await activateOne('tl-audit', key)).key)).status).toBe(204)
  // then the completion is answered, and the instance goes on with the task's variables
  expect(await completion).toEqual({ ok: true })
  await expectInstanceState(key, 'COMPLETED')
  const [variable] = await search<{ name: string; value: string }>('variables', { processInstanceKey: key, name: 'approved' })
  expect(variable.value).toBe('true')
})

test('a completing listener denying the completion rejects the command with its reason and leaves the task as it was', async () => {
  // given a created task whose completion is held by the first completing listener
  const key = await startInstance('tl-lifecycle', {})
  await completeListenerJob((await activateOne('tl-create', key)).key)
  const task = await taskOf(key, 'CREATED')
  const completion = settle(client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task.userTaskKey }))
  const check = await activateOne('tl-check', key)
  // when it denies the completion
  expect((await completeListenerJob(check.key, { denied: true, deniedReason: 'the review is not signed' })).status).toBe(204)
  // then the command is rejected with Zeebe's reason, and the task is CREATED again, its instance still waiting
  const outcome = await completion
  expect(outcome.ok).toBe(false)
  expect(outcome.ok ? '' : outcome.error).toContain(`Completion of the User Task with key '${task.userTaskKey}' was denied by Task Listener. Reason to deny: 'the review is not signed'`)
  expect((await taskOf(key)).state).toBe('CREATED')
  expect(await client.zeebe.activateJobs({ type: 'tl-audit', worker: 'w', timeout: 60_000, maxJobsToActivate: 1, requestTimeout: -1 })).toEqual([])
})

test('an update is held by its updating listener, which sees the changed attributes; a denied assignment keeps the assignee', async () => {
  // given a created task with no assignee
  const key = await startInstance('tl-lifecycle', {})
  await completeListenerJob((await activateOne('tl-create', key)).key)
  const task = await taskOf(key, 'CREATED')
  const rest = client.camunda.getCamundaRestClient()
  // when its candidate groups are changed
  const update = settle(rest.updateUserTask({ userTaskKey: task.userTaskKey, changeset: { candidateGroups: ['reviewers'] } }))
  const updating = await activateOne('tl-update', key)
  expect(updating.customHeaders).toMatchObject({ 'io.camunda.zeebe:candidateGroups': '["reviewers"]', 'io.camunda.zeebe:changedAttributes': '["candidateGroups"]' })
  const deniedWithCorrections = await completeListenerJob(updating.key, { denied: true, corrections: { priority: 1 } })
  expect(deniedWithCorrections.status).toBe(400)
  expect(await deniedWithCorrections.text()).toContain('but the job result is denied')
  expect((await completeListenerJob(updating.key)).status).toBe(204)
  // then the update is answered and applied (a denial with corrections refused on the way)
  expect(await update).toEqual({ ok: true })
  expect((await taskOf(key, 'CREATED')).candidateGroups).toEqual(['reviewers'])
  // when an assignment is denied
  const assignment = settle(rest.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'sacha' }))
  expect((await completeListenerJob((await activateOne('tl-assign', key)).key, { denied: true })).status).toBe(204)
  // then it is rejected and the task keeps no assignee
  const outcome = await assignment
  expect(outcome.ok ? '' : outcome.error).toContain(`Assignment of the User Task with key '${task.userTaskKey}' was denied by Task Listener`)
  expect((await taskOf(key, 'CREATED')).assignee).toBeUndefined()
})

test('listener job completions Zeebe refuses: variables, a denial of creation, an unknown property or a model assignee corrected', async () => {
  // given the creating listener's job of a task whose model names an assignee
  const key = await startInstance('tl-assigned', { owner: 'camille' })
  const creating = await activateOne('tl-create', key)
  const detail = async (response: Response) => ({ status: response.status, detail: ((await response.json()) as { detail: string }).detail })
  // then each refused completion is INVALID_ARGUMENT naming the problem
  expect(await detail(await completeListenerJob(creating.key, {}, { note: 'x' }))).toMatchObject({ status: 400, detail: expect.stringContaining('Task Listener job completion with variables payload provided is not yet supported') })
  expect(await detail(await completeListenerJob(creating.key, { denied: true }))).toMatchObject({ status: 400, detail: expect.stringContaining("Denying result is not supported for 'CREATING' task listener jobs") })
  expect(await detail(await completeListenerJob(creating.key, { corrections: { name: 'x' } }))).toMatchObject({ status: 400, detail: expect.stringContaining("property 'name' cannot be corrected") })
  expect(await detail(await completeListenerJob(creating.key, { corrections: { assignee: 'x' } }))).toMatchObject({ status: 400, detail: expect.stringContaining("correcting the assignee on 'CREATING' event is not supported") })
  // and a BPMN error from it is refused too; the job is still there to complete
  const error = await grpcFailure(client.zeebe.throwError({ jobKey: creating.key, errorCode: 'X', errorMessage: '' }))
  expect(error.code).toBe(GrpcStatus.FAILED_PRECONDITION)
  expect((await completeListenerJob(creating.key)).status).toBe(204)
})

test('a command on a task held by its listeners is INVALID_STATE; a listener job failing without retries is an incident on the task', async () => {
  // given a task held in CREATING
  const key = await startInstance('tl-lifecycle', {})
  const creating = await activateOne('tl-create', key)
  const task = await taskOf(key, 'CREATING')
  // when it is completed meanwhile
  const early = await settle(client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task.userTaskKey }))
  // then that is refused: the task is in state CREATING
  expect(early.ok ? '' : early.error).toContain(`but it is in state 'CREATING'`)
  // when the listener's job fails with no retries left
  await client.zeebe.failJob({ jobKey: creating.key, errorMessage: 'directory down', retries: 0, retryBackOff: 0 })
  // then an incident is raised on the user task; with retries given and the incident resolved, the listener runs again
  const incident = await activeIncident(key)
  expect(incident).toMatchObject({ errorType: 'JOB_NO_RETRIES', elementId: 'review', errorMessage: 'directory down' })
  await client.zeebe.updateJobRetries({ jobKey: creating.key, retries: 1 })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  expect((await completeListenerJob((await activateOne('tl-create', key)).key)).status).toBe(204)
  expect((await taskOf(key, 'CREATED')).state).toBe('CREATED')
})

test('a deprecated event type name (complete) runs as its successor (completing)', async () => {
  const key = await startInstance('tl-deprecated', {})
  const task = await taskOf(key, 'CREATED')
  const completion = settle(client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task.userTaskKey }))
  const job = await activateOne('tl-old-complete', key)
  expect(headersOf(job)['io.camunda.zeebe:action']).toBe('complete')
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  expect(await completion).toEqual({ ok: true })
  await expectInstanceState(key, 'COMPLETED')
})

test('deployment refuses task listeners on a job-based user task, an unknown event type and a missing job type', async () => {
  const jobBased = definitions('tl-bad', '', listener('completing', 'x')).replace('<zeebe:userTask />', '')
  const refusals = await Promise.all([
    grpcFailure(client.zeebe.deployResources([{ name: 'tl-bad.bpmn', process: Buffer.from(jobBased) }])),
    grpcFailure(client.zeebe.deployResources([{ name: 'tl-bad.bpmn', process: Buffer.from(definitions('tl-bad', '', listener('finishing', 'x') + listener('completing', ''))) }])),
  ])
  expect(refusals[0].details).toContain('- Element: review\n    - ERROR: Task listeners are only allowed on Camunda user tasks.')
  expect(refusals[1].details).toContain("Task listener event type 'finishing' is not supported.")
  expect(refusals[1].details).toContain("Attribute 'type' must be present and not empty")
})

test('variables set on the user task\'s element are an update its updating listener holds: set once it is done, not at all when denied', async () => {
  // given a created task
  const key = await startInstance('tl-lifecycle', {})
  await completeListenerJob((await activateOne('tl-create', key)).key)
  await taskOf(key, 'CREATED')
  const [element] = await search<{ elementInstanceKey: string }>('element-instances', { processInstanceKey: key, elementId: 'review' })
  const variablesOfTask = async () => Object.fromEntries((await search<{ name: string; value: string }>('variables', { scopeKey: element.elementInstanceKey })).map((v) => [v.name, v.value]))
  // when variables are set on its element through the SDK
  const accepted = settle(client.zeebe.setVariables({ elementInstanceKey: element.elementInstanceKey, variables: { comment: 'ok' }, local: true }))
  const updating = await activateOne('tl-update', key)
  // then the updating listener sees them as changed, and they are not set yet
  expect(headersOf(updating)['io.camunda.zeebe:changedAttributes']).toBe('["variables"]')
  expect(await variablesOfTask()).toEqual({})
  expect((await completeListenerJob(updating.key)).status).toBe(204)
  expect(await accepted).toEqual({ ok: true })
  expect(await variablesOfTask()).toEqual({ comment: '"ok"' })
  // when another update is denied
  const denied = settle(client.zeebe.setVariables({ elementInstanceKey: element.elementInstanceKey, variables: { comment: 'rejected' }, local: true }))
  expect((await completeListenerJob((await activateOne('tl-update', key)).key, { denied: true, deniedReason: 'no' })).status).toBe(204)
  // then the call fails with the reason and the variable keeps its value
  const outcome = await denied
  expect(outcome.ok ? '' : outcome.error).toContain('was denied by Task Listener')
  expect(await variablesOfTask()).toEqual({ comment: '"ok"' })
})

test('a listener whose job type does not evaluate is an incident; resolved, the transition runs again from its first listener', async () => {
  // given a task whose second creating listener's type is a variable that is missing
  const key = await startInstance('tl-typed', {})
  expect((await completeListenerJob((await activateOne('tl-create', key)).key, { corrections: { priority: 10 } })).status).toBe(204)
  const incident = await activeIncident(key)
  expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'review' })
  // when the variable is set and the incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: key, variables: { listenerType: 'tl-late' }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  // then the first listener runs again (without the earlier correction), then the second, and the task is created
  const again = await activateOne('tl-create', key)
  expect(headersOf(again)['io.camunda.zeebe:priority']).toBe('50')
  expect((await completeListenerJob(again.key)).status).toBe(204)
  expect((await completeListenerJob((await activateOne('tl-late', key)).key)).status).toBe(204)
  expect((await taskOf(key, 'CREATED')).priority).toBe(50)
})
