/**
 * Process instance modification through the SDK (gRPC ModifyProcessInstance and REST
 * /v2/process-instances/{key}/modification), as Zeebe 8.8 does it: docs
 * components/concepts/process-instance-modification, and the rules and rejection wording of
 * Zeebe's ProcessInstanceModificationModifyProcessor (issue #17).
 */
import { engineTestKit, grpcFailure, GrpcStatus, until, type ElementInstanceItem } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState, elementInstances, elementStates, activateOne, activateNow, variablesInScope, variablesOf, search, cancelAfterTest } =
  engineTestKit({ worker: 'modification' })

const task = (id: string, type: string, extra = ''): string =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements>${extra}</bpmn:serviceTask>`

/** start → A → S (sStart → C → sEnd) → B → end; a timer boundary on S; an event-based gateway whose two events join in a parallel gateway, off the normal path. */
const MODEL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs">
<bpmn:process id="mod-p" isExecutable="true">
<bpmn:startEvent id="start" />
${task('A', 'mod-a')}
<bpmn:subProcess id="S"><bpmn:startEvent id="sStart" />${task('C', 'mod-c')}<bpmn:endEvent id="sEnd" />
<bpmn:sequenceFlow id="s1" sourceRef="sStart" targetRef="C" /><bpmn:sequenceFlow id="s2" sourceRef="C" targetRef="sEnd" /></bpmn:subProcess>
<bpmn:boundaryEvent id="S-timeout" attachedToRef="S"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
${task('B', 'mod-b')}
<bpmn:parallelGateway id="join" />
<bpmn:endEvent id="end" /><bpmn:endEvent id="timed-out" /><bpmn:endEvent id="joined" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="A" /><bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="S" />
<bpmn:sequenceFlow id="f3" sourceRef="S" targetRef="B" /><bpmn:sequenceFlow id="f4" sourceRef="B" targetRef="end" />
<bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="joined" /><bpmn:sequenceFlow id="f6" sourceRef="S-timeout" targetRef="timed-out" />
<bpmn:sequenceFlow id="f10" sourceRef="wait-signal" targetRef="join" /><bpmn:sequenceFlow id="f11" sourceRef="wait-timer" targetRef="join" />
<bpmn:eventBasedGateway id="choice" /><bpmn:intermediateCatchEvent id="wait-signal"><bpmn:signalEventDefinition signalRef="sig" /></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="wait-timer"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f8" sourceRef="choice" targetRef="wait-signal" /><bpmn:sequenceFlow id="f9" sourceRef="choice" targetRef="wait-timer" />
</bpmn:process><bpmn:signal id="sig" name="mod-signal" /></bpmn:definitions>`

/** A multi-instance subprocess, and a call activity whose child waits at one task. */
const MULTI = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs2">
<bpmn:process id="mod-mi" isExecutable="true"><bpmn:startEvent id="mi-start" />
<bpmn:subProcess id="M"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=[1,2]" inputElement="item" /></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
<bpmn:startEvent id="m-start" />${task('M-task', 'mod-m')}<bpmn:sequenceFlow id="m1" sourceRef="m-start" targetRef="M-task" /></bpmn:subProcess>
${task('after', 'mod-after')}
<bpmn:sequenceFlow id="g1" sourceRef="mi-start" targetRef="M" /><bpmn:sequenceFlow id="g2" sourceRef="M" targetRef="after" /></bpmn:process>
<bpmn:process id="mod-parent" isExecutable="true"><bpmn:startEvent id="p-start" />
<bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="mod-child" /></bpmn:extensionElements></bpmn:callActivity>
<bpmn:sequenceFlow id="p1" sourceRef="p-start" targetRef="call" /></bpmn:process>
<bpmn:process id="mod-child" isExecutable="true"><bpmn:startEvent id="c-start" />${task('child-task', 'mod-child')}
<bpmn:sequenceFlow id="c1" sourceRef="c-start" targetRef="child-task" /></bpmn:process></bpmn:definitions>`

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'mod-p.bpmn', process: Buffer.from(MODEL) }, { name: 'mod-mi.bpmn', process: Buffer.from(MULTI) }])
})

const rest = () => client.camunda.getCamundaRestClient()

async function active(processInstanceKey: string, elementId: string): Promise<ElementInstanceItem[]> {
  return (await elementInstances(processInstanceKey)).filter((e) => e.elementId === elementId && e.state === 'ACTIVE')
}

async function restModify(processInstanceKey: string, body: unknown): Promise<{ status: number; detail?: string }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances/${processInstanceKey}/modification`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, detail: text ? (JSON.parse(text) as { detail?: string }).detail : undefined }
}

test('moving the token from A to B over gRPC: A is terminated with its job, B runs, and the instance completes from there', async () => {
  // given an instance waiting at A
  const key = await startInstance('mod-p')
  const [a] = await active(key, 'A')
  // when the token moves to B
  await client.zeebe.modifyProcessInstance({
    processInstanceKey: key,
    terminateInstructions: [{ elementInstanceKey: a.elementInstanceKey }],
    activateInstructions: [{ elementId: 'B', ancestorElementInstanceKey: '-1', variableInstructions: [] }],
  })
  // then A is terminated, its job is gone, and B's job completes the path through the join
  expect(await elementStates(key, 'A')).toEqual(['TERMINATED'])
  const jobs = await search<{ elementId: string; state: string }>('jobs', { processInstanceKey: key })
  expect(jobs.filter((j) => j.elementId === 'A').map((j) => j.state)).not.toContain('CREATED')
  const b = await activateOne('mod-b', key)
  await client.zeebe.completeJob({ jobKey: b.key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'S')).toEqual([])
  expect(await elementStates(key, 'end')).toEqual(['COMPLETED'])
})

test('activating C inside S over REST creates S without running its start event, with the variables of each instruction in its scope', async () => {
  // given an instance waiting at A, and no instance of S
  const key = await startInstance('mod-p', { keep: 1 })
  // when C is activated with variables for the process, for S and for C
  await rest().modifyProcessInstance({
    processInstanceKey: key,
    activateInstructions: [{
      elementId: 'C',
      variableInstructions: [{ variables: { global: 'g' } }, { variables: { inS: 's' }, scopeId: 'S' }, { variables: { inC: 'c' }, scopeId: 'C' }],
    }],
  })
  // then S is active without its start event, C waits inside it, and the variables sit in their scopes
  const [s] = await active(key, 'S')
  const [c] = await active(key, 'C')
  expect(s).toBeDefined()
  expect(await elementStates(key, 'sStart')).toEqual([])
  expect(await variablesInScope(s.elementInstanceKey)).toEqual({ inS: 's' })
  expect(await variablesInScope(c.elementInstanceKey)).toEqual({ inC: 'c' })
  expect(await variablesOf(key)).toMatchObject({ global: 'g', keep: 1 })
  // and A still waits: activation adds a token, it moves none
  expect(await active(key, 'A')).toHaveLength(1)
})

test('several instances of S: activating C without an ancestor is refused, and with one it goes into that instance', async () => {
  // given two instances of S, each entered normally
  const key = await startInstance('mod-p')
  await client.zeebe.modifyProcessInstance({
    processInstanceKey: key,
    activateInstructions: [{ elementId: 'S', ancestorElementInstanceKey: '-1', variableInstructions: [] }, { elementId: 'S', ancestorElementInstanceKey: '-1', variableInstructions: [] }],
  })
  const instancesOfS = await active(key, 'S')
  expect(instancesOfS).toHaveLength(2)
  // when C is activated without choosing
  const refused = await grpcFailure(client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: '-1', variableInstructions: [] }] }))
  // then
  expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(refused.details).toContain("for an element that has a flow scope with more than one active instance: 'S'")
  // and with the second instance as ancestor, C joins it: it sees that instance's local variable
  const [first, second] = instancesOfS.map((s) => s.elementInstanceKey)
  await client.zeebe.setVariables({ elementInstanceKey: first, variables: { which: 'first' }, local: true })
  await client.zeebe.setVariables({ elementInstanceKey: second, variables: { which: 'second' }, local: true })
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: second, variableInstructions: [] }] })
  const jobs = await until('three jobs of C', async () => { const found = await activateNow('mod-c'); return found.length === 3 ? found : undefined })
  expect(jobs.map((j) => (j.variables as { which?: string }).which).sort()).toEqual(['first', 'second', 'second'])
})

test('terminating the last active element ends the instance TERMINATED, and a joining gateway activated directly does not wait for its other flow', async () => {
  // given an instance waiting at A
  const key = await startInstance('mod-p')
  // when the join is activated directly
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'join', ancestorElementInstanceKey: '-1', variableInstructions: [] }] })
  // then it passed on to its end event while A still waits
  expect(await elementStates(key, 'joined')).toEqual(['COMPLETED'])
  const [a] = await active(key, 'A')
  // when A, the last active element, is terminated
  await rest().modifyProcessInstance({ processInstanceKey: key, terminateInstructions: [{ elementInstanceKey: a.elementInstanceKey }] })
  // then the instance is terminated
  await expectInstanceState(key, 'TERMINATED')
})

test('terminating the only task inside S terminates S too, but not when an activation of the same command needs S', async () => {
  const key = await startInstance('mod-p')
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'S', ancestorElementInstanceKey: '-1', variableInstructions: [] }] })
  const [s] = await active(key, 'S')
  const [c] = await active(key, 'C')
  // when C is terminated and C activated again in the same S
  await client.zeebe.modifyProcessInstance({
    processInstanceKey: key,
    terminateInstructions: [{ elementInstanceKey: c.elementInstanceKey }],
    activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: s.elementInstanceKey, variableInstructions: [] }],
  })
  // then S stays, with a new C
  expect((await active(key, 'S')).map((e) => e.elementInstanceKey)).toEqual([s.elementInstanceKey])
  const [newC] = await active(key, 'C')
  expect(newC.elementInstanceKey).not.toBe(c.elementInstanceKey)
  // when that C alone is terminated
  await client.zeebe.modifyProcessInstance({ processInstanceKey: key, terminateInstructions: [{ elementInstanceKey: newC.elementInstanceKey }] })
  // then S, left empty, is terminated and never takes its outgoing flow
  expect(await elementStates(key, 'S')).toEqual(['TERMINATED'])
  expect(await elementStates(key, 'B')).toEqual([])
  expect(await active(key, 'A')).toHaveLength(1)
})

test('Zeebe\'s rejections, each naming the problem, and a rejected modification changes nothing', async () => {
  const key = await startInstance('mod-p')
  const [a] = await active(key, 'A')
  const cases: [unknown, number, string][] = [
    [{ activateInstructions: [{ elementId: 'nowhere' }] }, 400, "with an element that could not be found: 'nowhere'"],
    [{ activateInstructions: [{ elementId: 'start' }] }, 400, "The activation of elements with type 'START_EVENT' is not supported"],
    [{ activateInstructions: [{ elementId: 'S-timeout' }] }, 400, "The activation of elements with type 'BOUNDARY_EVENT' is not supported"],
    [{ activateInstructions: [{ elementId: 'wait-signal' }] }, 400, 'The activation of events belonging to an event-based gateway is not supported'],
    [{ terminateInstructions: [{ elementInstanceKey: '2251799813999999' }] }, 400, "terminate instructions with an element instance that could not be found: '2251799813999999'"],
    [{ activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: '-1', variableInstructions: [{ variables: {}, scopeId: 'ghost' }] }] }, 400, "with a scope element id that could not be found: 'ghost'"],
    [{ activateInstructions: [{ elementId: 'B', ancestorElementInstanceKey: '-1', variableInstructions: [{ variables: { x: 1 }, scopeId: 'S' }] }] }, 400, "scope element that doesn't belong to the activating element's flow scope"],
    [{ activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: '2251799813999998' }] }, 400, "ancestor scope key that does not exist, or is not in an active state: '2251799813999998'"],
    [{ activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: a.elementInstanceKey }] }, 400, `- instance '${a.elementInstanceKey}' of element 'A' is not an ancestor of element 'C'`],
    [{ activateInstructions: [{ elementId: 'C', ancestorElementInstanceKey: '-1', variableInstructions: [{ variables: [1] }] }] }, 400, 'variables'],
  ]
  for (const [body, status, detail] of cases) {
    const answer = await restModify(key, body)
    expect({ body, status: answer.status }).toEqual({ body, status })
    expect(answer.detail).toContain(detail)
  }
  // and nothing changed: A alone is active, with no new element instance
  expect((await elementInstances(key)).filter((e) => e.state === 'ACTIVE').map((e) => e.elementId)).toEqual(['A'])
  // an unknown instance is NOT_FOUND over both protocols
  expect((await restModify('2251799813999997', { activateInstructions: [{ elementId: 'B' }] })).status).toBe(404)
  const notFound = await grpcFailure(client.zeebe.modifyProcessInstance({ processInstanceKey: '2251799813999997', activateInstructions: [] }))
  expect(notFound.code).toBe(GrpcStatus.NOT_FOUND)
  expect(notFound.details).toBe("Command 'MODIFY' rejected with code 'NOT_FOUND': Expected to modify process instance but no process instance found with key '2251799813999997'")
})

test('an element inside a multi-instance subprocess cannot be activated where no inner instance exists, and a child instance cannot be emptied', async () => {
  // given an instance past its multi-instance subprocess M, waiting at 'after'
  const key = await startInstance('mod-mi')
  const inner = await until('both inner jobs', async () => { const found = await activateNow('mod-m'); return found.length === 2 ? found : undefined })
  for (const job of inner) await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  await activateOne('mod-after', key)
  expect(await elementStates(key, 'M')).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED'])
  const refused = await grpcFailure(client.zeebe.modifyProcessInstance({ processInstanceKey: key, activateInstructions: [{ elementId: 'M-task', ancestorElementInstanceKey: '-1', variableInstructions: [] }] }))
  expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(refused.details).toContain("would result in the activation of multi-instance element 'M', which is currently unsupported")
  // given a parent whose call activity's child waits at its only task
  const parent = await startInstance('mod-parent')
  const child = await until('the child instance', async () => (await search<{ processInstanceKey: string }>('process-instances', { parentProcessInstanceKey: parent }))[0]?.processInstanceKey)
  cancelAfterTest(parent)
  const [childTask] = await until('the child task', async () => { const found = await active(child, 'child-task'); return found.length > 0 ? found : undefined })
  // when that task is terminated in the child
  const emptied = await grpcFailure(client.zeebe.modifyProcessInstance({ processInstanceKey: child, terminateInstructions: [{ elementInstanceKey: childTask.elementInstanceKey }] }))
  // then it is refused: the parent would not know what to do
  expect(emptied.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(emptied.details).toContain('The instance was created by a call activity in the parent process')
  expect(await active(child, 'child-task')).toHaveLength(1)
})
