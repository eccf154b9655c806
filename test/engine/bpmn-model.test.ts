import { readFileSync } from 'fs'
import { join } from 'path'
import { parseBpmn } from '../../src/engine/model/bpmn'
import { parseForm } from '../../src/engine/model/form'
import { formatProblems } from '../../src/engine/model/problems'
import type { FlowElement, ProcessModel, Problem } from '../../src/engine/model/types'

const FIXTURES = join(__dirname, '..', 'fixtures', 'bpmn', 'model')

/** Parses test/fixtures/bpmn/model/<name>.bpmn, expects no problems and returns the process of that id. */
async function fixture(name: string): Promise<ProcessModel> {
  const { processes, problems } = await parseBpmn(readFileSync(join(FIXTURES, `${name}.bpmn`), 'utf8'))
  expect(problems).toEqual([])
  const process = processes.find((candidate) => candidate.id === name)
  if (process === undefined) throw new Error(`no process '${name}' in ${name}.bpmn`)
  return process
}

function el(process: ProcessModel, id: string): FlowElement {
  const element = process.elements.get(id)
  if (element === undefined) throw new Error(`no element '${id}'`)
  return element
}

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
  + ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">'

/** A definitions document holding `roots` (messages, errors...) and one executable process "p". */
function bpmn(processBody: string, roots = ''): string {
  return `${HEADER}${roots}<bpmn:process id="p" isExecutable="true">${processBody}</bpmn:process></bpmn:definitions>`
}

const job = (type: string): string => `<bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements>`
const serviceTask = (id: string): string => `<bpmn:serviceTask id="${id}">${job(id)}</bpmn:serviceTask>`
const flow = (id: string, from: string, to: string, condition?: string): string => condition === undefined
  ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
  : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`
const timer = (kind: string, value: string): string =>
  `<bpmn:timerEventDefinition><bpmn:${kind} xsi:type="bpmn:tFormalExpression">${value}</bpmn:${kind}></bpmn:timerEventDefinition>`
const message = (id: string, name: string, correlationKey?: string): string => correlationKey === undefined
  ? `<bpmn:message id="${id}" name="${name}" />`
  : `<bpmn:message id="${id}" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="${correlationKey}" /></bpmn:extensionElements></bpmn:message>`

async function problemsOf(xml: string): Promise<Problem[]> {
  return (await parseBpmn(xml)).problems
}

/** Expects a problem on `elementId` whose message contains `text`. */
async function expectProblem(xml: string, elementId: string | undefined, text: string): Promise<void> {
  const problems = await problemsOf(xml)
  expect(problems).toEqual(expect.arrayContaining([{ elementId, message: expect.stringContaining(text) }]))
}

const START = '<bpmn:startEvent id="start" />'

describe('parseBpmn: the normalized model', () => {
  const VALID_FIXTURES = [
    'service-task', 'simple-tasks', 'exclusive-gateway', 'parallel-gateway', 'inclusive-gateway', 'event-based-gateway',
    'message-events', 'timer-events', 'signal-events', 'error-events', 'escalation-events', 'terminate-end-event',
    'subprocess', 'event-subprocess', 'call-activity', 'multi-instance', 'user-task', 'script-task', 'business-rule-task',
  ]

  test.each(VALID_FIXTURES)('fixture %s.bpmn parses without problems', async (name) => {
    const process = await fixture(name)
    // Every element belongs to exactly one flow scope's children.
    const scoped = [...process.children, ...[...process.elements.values()].flatMap((element) => element.children ?? [])]
    expect([...scoped].sort()).toEqual([...process.elements.keys()].sort())
  })

  test('service task: process name and version tag, flows, job definition, headers, mappings', async () => {
    const process = await fixture('service-task')
    expect(process.name).toBe('Service task')
    expect(process.versionTag).toBe('v1')
    expect(process.startEvents).toEqual(['start'])
    expect(process.children).toEqual(['start', 'task', 'end'])
    expect(process.eventSubProcesses).toEqual([])
    expect(process.flows.get('to-task')).toEqual({ id: 'to-task', sourceRef: 'start', targetRef: 'task' })
    expect(el(process, 'start')).toMatchObject({ type: 'startEvent', scopeId: 'service-task', incoming: [], outgoing: ['to-task'], event: { kind: 'none' } })
    expect(el(process, 'task')).toEqual({
      id: 'task',
      name: 'Do work',
      type: 'serviceTask',
      scopeId: 'service-task',
      incoming: ['to-task'],
      outgoing: ['to-end'],
      boundaryEvents: [],
      taskDefinition: { type: 'work', retries: '5' },
      headers: { channel: 'email', template: 'welcome' },
      inputs: [{ source: '=order.id', target: 'orderId' }, { source: 'static', target: 'mode' }],
      outputs: [{ source: '=result', target: 'order.result' }],
    })
    expect(el(process, 'end')).toMatchObject({ type: 'endEvent', incoming: ['to-end'], outgoing: [], event: { kind: 'none' } })
  })

  test('task, manual task and none throw event; data objects, annotations and associations are ignored', async () => {
    const process = await fixture('simple-tasks')
    expect(process.children).toEqual(['start', 'task', 'manual', 'throw', 'end'])
    expect(el(process, 'task').type).toBe('task')
    expect(el(process, 'manual').type).toBe('manualTask')
    expect(el(process, 'throw')).toMatchObject({ type: 'intermediateThrowEvent', event: { kind: 'none' } })
  })

  test('retries default to "3"; FEEL retries are kept', async () => {
    expect(el(await fixture('parallel-gateway'), 'a').taskDefinition).toEqual({ type: 'a', retries: '3' })
    expect(el(await fixture('business-rule-task'), 'external-rules').taskDefinition)
      .toEqual({ type: 'evaluate-rules', retries: '=maxRetries' })
  })

  test('exclusive gateway: conditions in document order and the default flow', async () => {
    const process = await fixture('exclusive-gateway')
    expect(el(process, 'split')).toMatchObject({ type: 'exclusiveGateway', defaultFlow: 'to-low', outgoing: ['to-high', 'to-medium', 'to-low'] })
    expect(el(process, 'split').outputs).toEqual([{ source: '=priority', target: 'seenPriority' }])
    expect(process.flows.get('to-high')?.condition).toBe('=priority > 5')
    expect(process.flows.get('to-low')?.condition).toBeUndefined()
  })

  test('parallel and inclusive gateways', async () => {
    const parallel = await fixture('parallel-gateway')
    expect(el(parallel, 'fork')).toMatchObject({ type: 'parallelGateway', outgoing: ['to-a', 'to-b'] })
    expect(el(parallel, 'join')).toMatchObject({ type: 'parallelGateway', incoming: ['a-to-join', 'b-to-join'] })
    const inclusive = await fixture('inclusive-gateway')
    expect(el(inclusive, 'fork')).toMatchObject({ type: 'inclusiveGateway', defaultFlow: 'to-none' })
    expect(el(inclusive, 'join').incoming).toEqual(['to-none', 'email-to-join', 'sms-to-join'])
    expect(inclusive.flows.get('to-sms')?.condition).toBe('=list contains(channels, "sms")')
  })

  test('event-based gateway with message, timer and signal catch events', async () => {
    const process = await fixture('event-based-gateway')
    expect(el(process, 'wait')).toMatchObject({ type: 'eventBasedGateway', outgoing: ['to-answer', 'to-timeout', 'to-abort'] })
    expect(el(process, 'answer').event).toEqual({ kind: 'message', messageName: 'answer', correlationKey: '=requestId' })
    expect(el(process, 'timeout').event).toEqual({ kind: 'timer', timerType: 'timeDuration', expression: 'PT1H' })
    expect(el(process, 'abort').event).toEqual({ kind: 'signal', signalName: 'abort' })
  })

  test('message start, catch, receive task, boundary, throw and end events', async () => {
    const process = await fixture('message-events')
    expect(el(process, 'order-placed').event).toEqual({ kind: 'message', messageName: 'order-placed' })
    expect(el(process, 'wait-payment')).toMatchObject({
      type: 'intermediateCatchEvent', event: { kind: 'message', messageName: 'payment-received', correlationKey: '=orderId' },
    })
    expect(el(process, 'wait-shipping')).toMatchObject({
      type: 'receiveTask',
      event: { kind: 'message', messageName: '="shipped-" + region', correlationKey: '=orderId' },
      boundaryEvents: ['cancelled'],
    })
    expect(el(process, 'cancelled')).toMatchObject({
      type: 'boundaryEvent', attachedTo: 'wait-shipping', cancelActivity: true, scopeId: 'message-events',
      event: { kind: 'message', messageName: 'order-cancelled', correlationKey: '=orderId' }, outgoing: ['f6'],
    })
    expect(el(process, 'notify')).toMatchObject({
      type: 'intermediateThrowEvent', event: { kind: 'message', messageName: 'notify' }, taskDefinition: { type: 'notify', retries: '3' },
    })
    expect(el(process, 'send-receipt')).toMatchObject({ type: 'sendTask', taskDefinition: { type: 'send-receipt', retries: '3' } })
    expect(el(process, 'done')).toMatchObject({
      type: 'endEvent', event: { kind: 'message', messageName: '' }, taskDefinition: { type: 'publish-done', retries: '1' },
    })
  })

  test('timer start, catch and boundary events', async () => {
    const process = await fixture('timer-events')
    expect(process.startEvents).toEqual(['every-morning', 'once'])
    expect(el(process, 'every-morning').event).toEqual({ kind: 'timer', timerType: 'timeCycle', expression: '0 0 8 * * MON-FRI' })
    expect(el(process, 'once').event).toEqual({ kind: 'timer', timerType: 'timeDate', expression: '2030-01-01T09:00:00Z' })
    expect(el(process, 'pause').event).toEqual({
      kind: 'timer', timerType: 'timeDuration', expression: '=duration("PT" + string(minutes) + "M")',
    })
    expect(el(process, 'work').boundaryEvents).toEqual(['deadline', 'reminder'])
    expect(el(process, 'deadline')).toMatchObject({ cancelActivity: true, event: { kind: 'timer', timerType: 'timeDuration', expression: 'P2D' } })
    expect(el(process, 'reminder')).toMatchObject({ cancelActivity: false, event: { kind: 'timer', timerType: 'timeCycle', expression: 'R3/PT10M' } })
  })

  test('signal start, catch, throw and end events', async () => {
    const process = await fixture('signal-events')
    expect(el(process, 'on-go').event).toEqual({ kind: 'signal', signalName: 'go' })
    expect(el(process, 'wait-stop').event).toEqual({ kind: 'signal', signalName: '="stop-" + area' })
    expect(el(process, 'broadcast').event).toEqual({ kind: 'signal', signalName: 'go' })
    expect(el(process, 'end').event).toEqual({ kind: 'signal', signalName: '="stop-" + area' })
  })

  test('error boundary events (by code and catch-all) and error end events', async () => {
    const process = await fixture('error-events')
    expect(el(process, 'on-rejected')).toMatchObject({ attachedTo: 'check', event: { kind: 'error', errorCode: 'REJECTED' } })
    expect(el(process, 'on-any-error').event).toEqual({ kind: 'error' })
    expect(el(process, 'sub').boundaryEvents).toEqual(['on-any-error'])
    expect(el(process, 'fail')).toMatchObject({ scopeId: 'sub', event: { kind: 'error', errorCode: '=errorCode' } })
    expect(el(process, 'rejected').event).toEqual({ kind: 'error', errorCode: 'REJECTED' })
  })

  test('escalation throw, end and boundary events', async () => {
    const process = await fixture('escalation-events')
    expect(el(process, 'raise')).toMatchObject({ type: 'intermediateThrowEvent', event: { kind: 'escalation', escalationCode: 'LATE' } })
    expect(el(process, 'sub-end').event).toEqual({ kind: 'escalation', escalationCode: 'LATE' })
    expect(el(process, 'on-late')).toMatchObject({ cancelActivity: false, event: { kind: 'escalation', escalationCode: 'LATE' } })
    expect(el(process, 'on-any-escalation').event).toEqual({ kind: 'escalation' })
  })

  test('terminate end event', async () => {
    const process = await fixture('terminate-end-event')
    expect(el(process, 'terminate').event).toEqual({ kind: 'terminate' })
  })

  test('embedded subprocesses: scopes, children and start events', async () => {
    const process = await fixture('subprocess')
    expect(process.children).toEqual(['start', 'outer', 'end'])
    expect(el(process, 'outer')).toMatchObject({
      type: 'subProcess', triggeredByEvent: false, scopeId: 'subprocess',
      children: ['outer-start', 'inner', 'outer-end'], startEvents: ['outer-start'], eventSubProcesses: [],
      inputs: [{ source: '=1', target: 'level' }],
    })
    expect(el(process, 'inner')).toMatchObject({ scopeId: 'outer', children: ['inner-start', 'inner-task', 'inner-end'] })
    expect(el(process, 'inner-task')).toMatchObject({ scopeId: 'inner', incoming: ['i1'], outgoing: ['i2'] })
    expect(process.flows.get('i1')).toEqual({ id: 'i1', sourceRef: 'inner-start', targetRef: 'inner-task' })
  })

  test('event subprocesses: interrupting and non-interrupting start events', async () => {
    const process = await fixture('event-subprocess')
    expect(process.eventSubProcesses).toEqual(['on-cancel', 'on-reminder', 'on-error'])
    expect(process.startEvents).toEqual(['start'])
    expect(el(process, 'on-cancel')).toMatchObject({ triggeredByEvent: true, startEvents: ['cancel-start'] })
    expect(el(process, 'cancel-start')).toMatchObject({
      scopeId: 'on-cancel', isInterrupting: true, event: { kind: 'message', messageName: 'cancel', correlationKey: '=caseId' },
    })
    expect(el(process, 'reminder-start')).toMatchObject({ isInterrupting: false, event: { kind: 'timer', timerType: 'timeCycle' } })
    expect(el(process, 'error-start')).toMatchObject({ isInterrupting: true, event: { kind: 'error', errorCode: 'FAILED' } })
  })

  test('call activities: defaults and explicit propagation, binding and version tag', async () => {
    const process = await fixture('call-activity')
    expect(el(process, 'call-default').calledElement).toEqual({
      processId: 'service-task', bindingType: 'latest', propagateAllChildVariables: true, propagateAllParentVariables: true,
    })
    expect(el(process, 'call-isolated')).toMatchObject({
      calledElement: {
        processId: '=childId', bindingType: 'versionTag', versionTag: 'v1',
        propagateAllChildVariables: false, propagateAllParentVariables: false,
      },
      inputs: [{ source: '=order', target: 'order' }],
      outputs: [{ source: '=result', target: 'childResult' }],
    })
  })

  test('multi-instance: parallel and sequential', async () => {
    const process = await fixture('multi-instance')
    expect(el(process, 'notify-each').multiInstance).toEqual({
      isSequential: false, inputCollection: '=recipients', inputElement: 'recipient',
      outputCollection: 'results', outputElement: '=sent', completionCondition: '=numberOfCompletedInstances >= 2',
    })
    expect(el(process, 'review-each').multiInstance).toEqual({ isSequential: true, inputCollection: '=items' })
  })

  test('user tasks: Camunda user task with assignment, schedule, priority and form; job-based user task', async () => {
    const process = await fixture('user-task')
    expect(el(process, 'approve')).toMatchObject({
      isCamundaUserTask: true,
      headers: { kind: 'approval' },
      userTask: {
        assignee: '=manager', candidateGroups: 'managers, directors', candidateUsers: '=["ann", "bob"]',
        dueDate: '=now() + duration("P2D")', followUpDate: '2030-01-01T09:00:00+01:00', priority: '80',
        formId: 'approval-form', formBindingType: 'deployment',
      },
    })
    expect(el(process, 'review').userTask).toEqual({ externalReference: '="https://forms.example/" + caseId' })
    expect(el(process, 'legacy')).toMatchObject({
      isCamundaUserTask: false,
      userTask: { assignee: 'clerk', formId: 'legacy-form', formBindingType: 'versionTag', formVersionTag: 'v2' },
    })
  })

  test('script tasks: FEEL script and job-based', async () => {
    const process = await fixture('script-task')
    expect(el(process, 'compute').script).toEqual({ expression: '=a + b', resultVariable: 'sum' })
    expect(el(process, 'compute').taskDefinition).toBeUndefined()
    expect(el(process, 'external-script').taskDefinition).toEqual({ type: 'run-script', retries: '3' })
  })

  test('business-rule tasks: called decision and job-based', async () => {
    const process = await fixture('business-rule-task')
    expect(el(process, 'decide').calledDecision).toEqual({ decisionId: 'incident-priority', resultVariable: 'priority', bindingType: 'deployment' })
    expect(el(process, 'external-rules').taskDefinition?.type).toBe('evaluate-rules')
  })

  test('collaboration: only the executable processes of the participants are returned', async () => {
    const { processes, problems } = await parseBpmn(readFileSync(join(FIXTURES, 'collaboration.bpmn'), 'utf8'))
    expect(problems).toEqual([])
    expect(processes.map((process) => process.id)).toEqual(['collaboration-a', 'collaboration-b'])
    expect(processes[0].name).toBe('A')
    expect(processes[0].children).toEqual(['a-start', 'a-end'])
  })

  test('activity default flow', async () => {
    const xml = bpmn(`${START}${flow('f0', 'start', 't')}<bpmn:serviceTask id="t" default="f2">${job('t')}</bpmn:serviceTask>`
      + `${flow('f1', 't', 'e1', '=x')}${flow('f2', 't', 'e2')}<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />`)
    const { processes, problems } = await parseBpmn(xml)
    expect(problems).toEqual([])
    expect(processes[0].elements.get('t')?.defaultFlow).toBe('f2')
  })
})

describe('parseBpmn: resource problems', () => {
  test('malformed XML gives one problem with the parser message', async () => {
    const { processes, problems } = await parseBpmn(readFileSync(join(FIXTURES, 'invalid', 'malformed.bpmn'), 'utf8'))
    expect(processes).toEqual([])
    expect(problems).toHaveLength(1)
    expect(problems[0].elementId).toBeUndefined()
    expect(problems[0].message).toMatch(/^Error: URI=null Line=\d+: Opening and ending tag mismatch: startEvent/)
    expect((await parseBpmn('not xml at all')).problems).toEqual([{ message: "Error: URI=null Line=1: Start tag expected, '<' not found" }])
  })

  test('a document that is not BPMN is refused by the BPMN schema', async () => {
    const { problems } = await parseBpmn('<?xml version="1.0"?><foo />')
    expect(problems).toEqual([{ message: expect.stringContaining("Element 'foo': No matching global declaration available for the validation root") }])
  })

  test('no executable process', async () => {
    const xml = `${HEADER}<bpmn:process id="p" isExecutable="false">${START}</bpmn:process></bpmn:definitions>`
    await expectProblem(xml, 'defs', 'Must contain at least one executable process')
    expect((await parseBpmn(xml)).processes).toEqual([])
  })

  test('duplicate and invalid element ids (the schema\'s xs:ID), and an element without an id', async () => {
    await expectProblem(bpmn(`${START}<bpmn:task id="start" />`), undefined, "Element 'bpmn:task', attribute 'id': 'start' is not a valid value of the atomic type 'xs:ID'")
    await expectProblem(bpmn(`${START}<bpmn:task id="1st" />`), undefined, "Element 'bpmn:task', attribute 'id': '1st' is not a valid value of the atomic type 'xs:ID'")
    await expectProblem(bpmn(`${START}<bpmn:task />`), undefined, "Element of type 'task' must have an id")
  })

  test('unknown BPMN elements are problems, unknown Zeebe extensions are not', async () => {
    await expectProblem(bpmn(`${START}<bpmn:fooTask id="x" />`), undefined, "Element 'bpmn:fooTask': This element is not expected")
    const xml = bpmn(`${START}<bpmn:task id="t"><bpmn:extensionElements><zeebe:somethingNew /></bpmn:extensionElements></bpmn:task>`)
    expect(await problemsOf(xml)).toEqual([])
  })
})

describe('parseBpmn: validation like Zeebe', () => {
  test.each([
    ['complexGateway', '<bpmn:complexGateway id="x" />'],
    ['transaction', '<bpmn:transaction id="x" />'],
    ['subChoreography', '<bpmn:subChoreography id="x" initiatingParticipantRef="a"><bpmn:participantRef>a</bpmn:participantRef><bpmn:participantRef>b</bpmn:participantRef></bpmn:subChoreography>'],
  ])('unsupported element %s', async (type, xml) => {
    await expectProblem(bpmn(START + xml), 'x', `Elements of type '${type}' are currently not supported`)
  })

  test.each([
    ['conditional', '<bpmn:intermediateCatchEvent id="x"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">=a</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>', 'conditionalEventDefinition'],
  ])('unsupported %s event', async (_kind, xml, definition) => {
    await expectProblem(bpmn(START + xml), 'x', `Event definition of type '${definition}' is currently not supported`)
  })

  test('standard loops are not supported', async () => {
    await expectProblem(bpmn(`${START}<bpmn:task id="x"><bpmn:standardLoopCharacteristics /></bpmn:task>`), 'x',
      "Elements of type 'standardLoopCharacteristics' are currently not supported")
  })

  test('job workers need exactly one zeebe:taskDefinition', async () => {
    const { problems } = await parseBpmn(readFileSync(join(FIXTURES, 'invalid', 'missing-task-definition.bpmn'), 'utf8'))
    expect(problems).toEqual([{ elementId: 'task', message: "Must have exactly one 'zeebe:taskDefinition' extension element" }])
    const xml = bpmn(START
      + '<bpmn:sendTask id="send" />'
      + '<bpmn:intermediateThrowEvent id="throw"><bpmn:messageEventDefinition /></bpmn:intermediateThrowEvent>'
      + '<bpmn:endEvent id="end"><bpmn:messageEventDefinition /></bpmn:endEvent>'
      + '<bpmn:serviceTask id="empty-type"><bpmn:extensionElements><zeebe:taskDefinition /></bpmn:extensionElements></bpmn:serviceTask>'
      + '<bpmn:serviceTask id="bad-retries"><bpmn:extensionElements><zeebe:taskDefinition type="t" retries="many" /></bpmn:extensionElements></bpmn:serviceTask>')
    const found = await problemsOf(xml)
    for (const id of ['send', 'throw', 'end']) {
      expect(found).toContainEqual({ elementId: id, message: "Must have exactly one 'zeebe:taskDefinition' extension element" })
    }
    expect(found).toContainEqual({ elementId: 'empty-type', message: "Attribute 'type' must be present and not empty" })
    expect(found).toContainEqual({ elementId: 'bad-retries', message: expect.stringContaining("'retries'") })
  })

  test('script task needs zeebe:script (expression + result variable) or a task definition', async () => {
    await expectProblem(bpmn(`${START}<bpmn:scriptTask id="s" />`), 's',
      "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element")
    await expectProblem(bpmn(`${START}<bpmn:scriptTask id="s"><bpmn:extensionElements><zeebe:script expression="=1" /></bpmn:extensionElements></bpmn:scriptTask>`),
      's', "Attribute 'resultVariable' must be present and not empty")
    await expectProblem(bpmn(`${START}<bpmn:scriptTask id="s"><bpmn:extensionElements><zeebe:script resultVariable="r" /></bpmn:extensionElements></bpmn:scriptTask>`),
      's', "Attribute 'expression' must be present and not empty")
    await expectProblem(bpmn(`${START}<bpmn:scriptTask id="s"><bpmn:extensionElements><zeebe:script expression="1 + 1" resultVariable="r" /></bpmn:extensionElements></bpmn:scriptTask>`),
      's', "Expected expression but found static value '1 + 1'. An expression must start with '=' (e.g. '=1 + 1').")
  })

  test('business-rule task needs zeebe:calledDecision (decision id + result variable) or a task definition', async () => {
    await expectProblem(bpmn(`${START}<bpmn:businessRuleTask id="b" />`), 'b',
      "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element")
    const xml = bpmn(`${START}<bpmn:businessRuleTask id="b"><bpmn:extensionElements><zeebe:calledDecision /></bpmn:extensionElements></bpmn:businessRuleTask>`)
    await expectProblem(xml, 'b', "Attribute 'decisionId' must be present and not empty")
    await expectProblem(xml, 'b', "Attribute 'resultVariable' must be present and not empty")
  })

  test('call activity needs a process id; version-tag binding needs a version tag', async () => {
    await expectProblem(bpmn(`${START}<bpmn:callActivity id="c" />`), 'c', "Must have exactly one 'zeebe:calledElement' extension element")
    await expectProblem(bpmn(`${START}<bpmn:callActivity id="c"><bpmn:extensionElements><zeebe:calledElement /></bpmn:extensionElements></bpmn:callActivity>`),
      'c', "Attribute 'processId' must be present and not empty")
    await expectProblem(bpmn(`${START}<bpmn:callActivity id="c"><bpmn:extensionElements><zeebe:calledElement processId="x" bindingType="versionTag" /></bpmn:extensionElements></bpmn:callActivity>`),
      'c', "Attribute 'versionTag' must be present and not empty")
  })

  test('message catch events need a named message and (except process start events) a correlation key', async () => {
    const roots = message('Msg_nokey', 'no-key') + '<bpmn:message id="Msg_noname" />' + message('Msg_static', 'static', 'abc')
    const xml = bpmn(START
      + '<bpmn:intermediateCatchEvent id="no-ref"><bpmn:messageEventDefinition /></bpmn:intermediateCatchEvent>'
      + '<bpmn:intermediateCatchEvent id="no-key"><bpmn:messageEventDefinition messageRef="Msg_nokey" /></bpmn:intermediateCatchEvent>'
      + '<bpmn:intermediateCatchEvent id="no-name"><bpmn:messageEventDefinition messageRef="Msg_noname" /></bpmn:intermediateCatchEvent>'
      + '<bpmn:receiveTask id="receive-no-key" messageRef="Msg_nokey" />'
      + '<bpmn:receiveTask id="static-key" messageRef="Msg_static" />'
      + '<bpmn:startEvent id="message-start"><bpmn:messageEventDefinition messageRef="Msg_nokey" /></bpmn:startEvent>', roots)
    const found = await problemsOf(xml)
    expect(found).toContainEqual({ elementId: 'no-ref', message: 'Must reference a message' })
    expect(found).toContainEqual({ elementId: 'no-key', message: "Must have exactly one 'zeebe:subscription' extension element" })
    expect(found).toContainEqual({ elementId: 'no-name', message: "Message 'Msg_noname' must have a name" })
    expect(found).toContainEqual({ elementId: 'receive-no-key', message: "Must have exactly one 'zeebe:subscription' extension element" })
    expect(found).toContainEqual({ elementId: 'static-key', message: expect.stringContaining("Expected expression but found static value 'abc'") })
    expect(found.filter((problem) => problem.elementId === 'message-start')).toEqual([])
  })

  test('message start events of event subprocesses need a correlation key', async () => {
    const xml = bpmn(`${START}<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="s2">`
      + '<bpmn:messageEventDefinition messageRef="M" /></bpmn:startEvent></bpmn:subProcess>', message('M', 'm'))
    await expectProblem(xml, 's2', "Must have exactly one 'zeebe:subscription' extension element")
  })

  test('timers: exactly one definition, and the kinds allowed where they sit', async () => {
    const service = serviceTask('host')
    const cases: [string, string, string][] = [
      ['none', `<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition /></bpmn:intermediateCatchEvent>`,
        'Must be exactly one type of timer: timeDuration, timeDate or timeCycle'],
      ['start duration', `<bpmn:startEvent id="x">${timer('timeDuration', 'PT1M')}</bpmn:startEvent>`,
        'Timer start events must have a time date or a time cycle'],
      ['catch cycle', `<bpmn:intermediateCatchEvent id="x">${timer('timeCycle', 'R/PT1M')}</bpmn:intermediateCatchEvent>`,
        'Intermediate timer catch events must have a time duration or a time date'],
      ['interrupting boundary cycle', `${service}<bpmn:boundaryEvent id="x" attachedToRef="host">${timer('timeCycle', 'R/PT1M')}</bpmn:boundaryEvent>`,
        'Interrupting timer event with time cycle is not allowed.'],
      ['interrupting event subprocess cycle', `<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="x">${timer('timeCycle', 'R/PT1M')}</bpmn:startEvent></bpmn:subProcess>`,
        'Interrupting timer event with time cycle is not allowed.'],
      ['bad static duration', `<bpmn:intermediateCatchEvent id="x">${timer('timeDuration', 'one hour')}</bpmn:intermediateCatchEvent>`,
        "Invalid timeDuration 'one hour'"],
      ['bad static date', `<bpmn:intermediateCatchEvent id="x">${timer('timeDate', 'tomorrow')}</bpmn:intermediateCatchEvent>`,
        "Invalid timeDate 'tomorrow'"],
    ]
    for (const [, body, text] of cases) await expectProblem(bpmn(START + body), 'x', text)
    // Two kinds in one definition: the schema refuses it before any rule of Zeebe's.
    await expectProblem(bpmn(`${START}<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration>`
      + '<bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'), undefined, "Element 'bpmn:timeDate': This element is not expected")
    const allowed = bpmn(`${START}${service}`
      + `<bpmn:boundaryEvent id="b" attachedToRef="host" cancelActivity="false">${timer('timeCycle', 'R/PT1M')}</bpmn:boundaryEvent>`
      + `<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="s2" isInterrupting="false">${timer('timeDuration', 'PT1M')}</bpmn:startEvent></bpmn:subProcess>`
      + `<bpmn:intermediateCatchEvent id="c">${timer('timeDate', '=today()')}</bpmn:intermediateCatchEvent>`)
    expect(await problemsOf(allowed)).toEqual([])
  })

  test('event kinds allowed per position', async () => {
    const roots = '<bpmn:error id="E" errorCode="E" />'
    await expectProblem(bpmn(`<bpmn:startEvent id="x"><bpmn:errorEventDefinition errorRef="E" /></bpmn:startEvent>`, roots),
      'x', 'Start events must be one of: none, message, timer, signal')
    await expectProblem(bpmn(`${START}<bpmn:intermediateCatchEvent id="x" />`), 'x', 'Must have exactly one event definition')
    await expectProblem(bpmn(`${START}<bpmn:intermediateCatchEvent id="x"><bpmn:errorEventDefinition errorRef="E" /></bpmn:intermediateCatchEvent>`, roots),
      'x', 'Intermediate catch events must be one of: message, timer, signal')
    await expectProblem(bpmn(`${START}<bpmn:intermediateThrowEvent id="x"><bpmn:terminateEventDefinition /></bpmn:intermediateThrowEvent>`),
      'x', 'Intermediate throw events must be one of: none, message, signal, escalation')
    await expectProblem(bpmn(`${START}${serviceTask('host')}<bpmn:boundaryEvent id="x" attachedToRef="host" />`),
      'x', 'Must have exactly one event definition')
    await expectProblem(bpmn(`${START}${serviceTask('host')}<bpmn:boundaryEvent id="x" attachedToRef="host" cancelActivity="false"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>`),
      'x', 'Non-Interrupting event of this type is not allowed')
  })

  test('signal, error and escalation references', async () => {
    await expectProblem(bpmn(`${START}<bpmn:intermediateCatchEvent id="x"><bpmn:signalEventDefinition /></bpmn:intermediateCatchEvent>`),
      'x', 'Must reference a signal')
    await expectProblem(bpmn(`${START}<bpmn:intermediateCatchEvent id="x"><bpmn:signalEventDefinition signalRef="S" /></bpmn:intermediateCatchEvent>`, '<bpmn:signal id="S" />'),
      'x', "Signal 'S' must have a name")
    await expectProblem(bpmn(`${START}<bpmn:endEvent id="x"><bpmn:errorEventDefinition /></bpmn:endEvent>`), 'x', 'Must reference an error')
    await expectProblem(bpmn(`${START}<bpmn:endEvent id="x"><bpmn:errorEventDefinition errorRef="E" /></bpmn:endEvent>`, '<bpmn:error id="E" />'),
      'x', 'ErrorCode must be present and not empty')
    await expectProblem(bpmn(`${START}<bpmn:endEvent id="x"><bpmn:escalationEventDefinition /></bpmn:endEvent>`), 'x', 'Must reference an escalation')
    await expectProblem(bpmn(`${START}<bpmn:endEvent id="x"><bpmn:errorEventDefinition errorRef="Nope" /></bpmn:endEvent>`),
      'x', "Must reference an error, but 'Nope' is not an error")
  })

  test('event-based gateway: at least two outgoing flows to message/timer/signal catch events without other incoming flows', async () => {
    await expectProblem(bpmn(`${START}<bpmn:eventBasedGateway id="g" />${flow('f1', 'g', 'c')}`
      + `<bpmn:intermediateCatchEvent id="c">${timer('timeDuration', 'PT1M')}</bpmn:intermediateCatchEvent>`),
    'g', 'Event-based gateway must have at least 2 outgoing sequence flows.')
    const xml = bpmn(`${START}${flow('f0', 'start', 'c')}<bpmn:eventBasedGateway id="g" />${flow('f1', 'g', 'c')}${flow('f2', 'g', 't')}`
      + `<bpmn:intermediateCatchEvent id="c">${timer('timeDuration', 'PT1M')}</bpmn:intermediateCatchEvent>${serviceTask('t')}`)
    await expectProblem(xml, 'g',
      'Event-based gateway must not have an outgoing sequence flow to other elements than message/timer/signal intermediate catch events.')
    await expectProblem(xml, 'g',
      'Target elements of an event gateway must not have any additional incoming sequence flows other than that from the event gateway.')
  })

  test('exclusive and inclusive gateways: every non-default outgoing flow needs a condition', async () => {
    const xml = bpmn(`${START}<bpmn:exclusiveGateway id="x" default="x2" />${flow('x1', 'x', 'e')}${flow('x2', 'x', 'e')}${flow('x3', 'x', 'e', '=a')}${flow('x4', 'x', 'e')}`
      + `<bpmn:inclusiveGateway id="i" />${flow('i1', 'i', 'e', '=a')}${flow('i2', 'i', 'e')}<bpmn:endEvent id="e" />`
      + `<bpmn:exclusiveGateway id="single" />${flow('s1', 'single', 'e')}`)
    const found = await problemsOf(xml)
    expect(found).toEqual([
      { elementId: 'x1', message: 'Must have a condition or be default flow' },
      { elementId: 'x4', message: 'Must have a condition or be default flow' },
      { elementId: 'i2', message: 'Must have a condition' },
    ])
  })

  test('conditions must be FEEL expressions', async () => {
    const xml = bpmn(`${START}<bpmn:exclusiveGateway id="g" />${flow('static', 'g', 'e', 'a &gt; 1')}${flow('broken', 'g', 'e', '=a &gt;')}<bpmn:endEvent id="e" />`)
    await expectProblem(xml, 'static', "Expected expression but found static value 'a > 1'. An expression must start with '=' (e.g. '=a > 1').")
    await expectProblem(xml, 'broken', "failed to parse expression 'a >'")
  })

  test('embedded subprocess needs exactly one none start event', async () => {
    await expectProblem(bpmn(`${START}<bpmn:subProcess id="sub" />`), 'sub', 'Must have exactly one start event')
    await expectProblem(bpmn(`${START}<bpmn:subProcess id="sub"><bpmn:startEvent id="a" /><bpmn:startEvent id="b" /></bpmn:subProcess>`),
      'sub', 'Must have exactly one start event')
    await expectProblem(bpmn(`${START}<bpmn:subProcess id="sub"><bpmn:startEvent id="a">${timer('timeDuration', 'PT1M')}</bpmn:startEvent></bpmn:subProcess>`),
      'sub', 'Start events in subprocesses must be of type none')
  })

  test('event subprocess needs exactly one start event with a trigger', async () => {
    await expectProblem(bpmn(`${START}<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="a" /></bpmn:subProcess>`),
      'esp', 'Start events in event subprocesses must be one of: message, timer, error, escalation, signal')
    await expectProblem(bpmn(`${START}<bpmn:subProcess id="esp" triggeredByEvent="true" />`), 'esp', 'Must have exactly one start event')
  })

  test('a process needs a start event; at most one none start event', async () => {
    await expectProblem(bpmn('<bpmn:endEvent id="e" />'), 'p', 'Must have at least one start event')
    await expectProblem(bpmn('<bpmn:startEvent id="a" /><bpmn:startEvent id="b" />'), 'p', 'Multiple none start events are not allowed')
    const timerOnly = bpmn(`<bpmn:startEvent id="a">${timer('timeCycle', 'R/PT1H')}</bpmn:startEvent>`)
    expect(await problemsOf(timerOnly)).toEqual([])
  })

  test('boundary events must be attached to an activity; escalation boundaries to a subprocess or call activity', async () => {
    await expectProblem(bpmn(`${START}<bpmn:boundaryEvent id="b" attachedToRef="start">${timer('timeDuration', 'PT1M')}</bpmn:boundaryEvent>`),
      'b', 'Must be attached to an activity')
    await expectProblem(bpmn(`${START}<bpmn:boundaryEvent id="b">${timer('timeDuration', 'PT1M')}</bpmn:boundaryEvent>`),
      undefined, "Element 'bpmn:boundaryEvent': The attribute 'attachedToRef' is required but missing")
    await expectProblem(bpmn(`${START}${serviceTask('t')}<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:escalationEventDefinition /></bpmn:boundaryEvent>`),
      'b', 'An escalation boundary event should only be attached to a subprocess, or a call activity.')
  })

  test('duplicate error catch events in one scope', async () => {
    const roots = '<bpmn:error id="E1" errorCode="FAIL" /><bpmn:error id="E2" errorCode="FAIL" />'
    const boundary = (id: string, ref?: string): string =>
      `<bpmn:boundaryEvent id="${id}" attachedToRef="t"><bpmn:errorEventDefinition${ref === undefined ? '' : ` errorRef="${ref}"`} /></bpmn:boundaryEvent>`
    await expectProblem(bpmn(`${START}${serviceTask('t')}${boundary('b1', 'E1')}${boundary('b2', 'E2')}`, roots),
      't', "Multiple error catch events with the same error code 'FAIL' are not supported on the same scope.")
    await expectProblem(bpmn(`${START}${serviceTask('t')}${boundary('b1')}${boundary('b2')}`),
      't', 'The same scope can not contain more than one error catch event without error code.')
    const esp = (id: string, ref: string): string =>
      `<bpmn:subProcess id="${id}" triggeredByEvent="true"><bpmn:startEvent id="${id}-start"><bpmn:errorEventDefinition errorRef="${ref}" /></bpmn:startEvent></bpmn:subProcess>`
    await expectProblem(bpmn(`${START}${esp('a', 'E1')}${esp('b', 'E2')}`, roots),
      'p', "Multiple error catch events with the same error code 'FAIL' are not supported on the same scope.")
    expect(await problemsOf(bpmn(`${START}${serviceTask('t')}${boundary('b1', 'E1')}${boundary('b2')}`, roots))).toEqual([])
  })

  test('multi-instance needs zeebe:loopCharacteristics with an input collection expression', async () => {
    const mi = (inner: string): string => bpmn(`${START}<bpmn:serviceTask id="t">${job('t')}`
      + `<bpmn:multiInstanceLoopCharacteristics>${inner}</bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>`)
    await expectProblem(mi(''), 't', "Must have exactly one 'zeebe:loopCharacteristics' extension element")
    await expectProblem(mi('<bpmn:extensionElements><zeebe:loopCharacteristics /></bpmn:extensionElements>'), 't', 'Expected expression but not found.')
    await expectProblem(mi('<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="items" /></bpmn:extensionElements>'),
      't', "Expected expression but found static value 'items'")
    await expectProblem(mi('<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=items" outputCollection="out" outputElement="=(" /></bpmn:extensionElements>'
      + '<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">=a +</bpmn:completionCondition>'), 't', "failed to parse expression '('")
  })

  test('FEEL syntax errors are reported for every expression site', async () => {
    const roots = message('M', '=(', '=(') + '<bpmn:signal id="S" name="=(" />'
    const xml = bpmn(START
      + '<bpmn:serviceTask id="job"><bpmn:extensionElements><zeebe:taskDefinition type="=(" retries="=(" />'
      + '<zeebe:ioMapping><zeebe:input source="=(" target="a" /><zeebe:output source="=(" target="b" /></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>'
      + `<bpmn:intermediateCatchEvent id="timer">${timer('timeDuration', '=(')}</bpmn:intermediateCatchEvent>`
      + '<bpmn:intermediateCatchEvent id="msg"><bpmn:messageEventDefinition messageRef="M" /></bpmn:intermediateCatchEvent>'
      + '<bpmn:intermediateThrowEvent id="sig"><bpmn:signalEventDefinition signalRef="S" /></bpmn:intermediateThrowEvent>'
      + '<bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="=(" /></bpmn:extensionElements></bpmn:callActivity>'
      + '<bpmn:scriptTask id="script"><bpmn:extensionElements><zeebe:script expression="=(" resultVariable="r" /></bpmn:extensionElements></bpmn:scriptTask>'
      + '<bpmn:userTask id="user"><bpmn:extensionElements><zeebe:userTask /><zeebe:assignmentDefinition assignee="=(" candidateGroups="=(" />'
      + '<zeebe:taskSchedule dueDate="=(" /><zeebe:priorityDefinition priority="=(" /></bpmn:extensionElements></bpmn:userTask>', roots)
    const found = await problemsOf(xml)
    const parseErrors = (id: string): number =>
      found.filter((problem) => problem.elementId === id && problem.message.startsWith("failed to parse expression '('")).length
    expect(parseErrors('job')).toBe(4)
    expect(parseErrors('timer')).toBe(1)
    expect(parseErrors('msg')).toBe(2)
    expect(parseErrors('sig')).toBe(1)
    expect(parseErrors('call')).toBe(1)
    expect(parseErrors('script')).toBe(1)
    expect(parseErrors('user')).toBe(4)
  })

  test('mappings: output sources must be expressions, targets must be paths', async () => {
    const xml = bpmn(`${START}<bpmn:task id="t"><bpmn:extensionElements><zeebe:ioMapping>`
      + '<zeebe:input target="nothing" /><zeebe:input source="=1" target="not a path" /><zeebe:output source="static" target="x" />'
      + '</zeebe:ioMapping></bpmn:extensionElements></bpmn:task>')
    const { problems, processes } = await parseBpmn(xml)
    expect(problems).toContainEqual({ elementId: 't', message: expect.stringContaining("Expected path expression 'not a path'") })
    expect(problems).toContainEqual({ elementId: 't', message: expect.stringContaining("Expected expression but found static value 'static'") })
    expect(processes[0].elements.get('t')?.inputs[0]).toEqual({ source: '=null', target: 'nothing' })
  })

  test('user task: static priority, dates and form definition', async () => {
    const user = (ext: string): string => bpmn(`${START}<bpmn:userTask id="u"><bpmn:extensionElements><zeebe:userTask />${ext}</bpmn:extensionElements></bpmn:userTask>`)
    await expectProblem(user('<zeebe:priorityDefinition priority="101" />'), 'u', "Expected attribute 'priority' to be a valid Number between 0 and 100")
    await expectProblem(user('<zeebe:taskSchedule dueDate="tomorrow" />'), 'u', "Expected attribute 'dueDate' to be a valid DateTime String")
    await expectProblem(user('<zeebe:formDefinition />'), 'u', "Exactly one of the attributes 'formId', 'formKey' or 'externalReference'")
  })

  test('sequence flows to or from unknown elements', async () => {
    const xml = bpmn(`${START}${flow('f1', 'start', 'nowhere')}${flow('f2', 'nobody', 'start')}`)
    await expectProblem(xml, 'f1', "Sequence flow target 'nowhere' is not a flow node of this process")
    await expectProblem(xml, 'f2', "Sequence flow source 'nobody' is not a flow node of this process")
    await expectProblem(bpmn(`${START}<bpmn:exclusiveGateway id="g" default="missing" />`), 'g', "Default flow 'missing'")
  })

  test('sequence flows must stay within their flow scope', async () => {
    const xml = bpmn(`${START}<bpmn:subProcess id="sub"><bpmn:startEvent id="s" />${flow('in', 's', 'end')}</bpmn:subProcess><bpmn:endEvent id="end" />`)
    await expectProblem(xml, 'in', 'Sequence flow must connect elements of the same flow scope')
  })

  test('end events have no outgoing flows', async () => {
    await expectProblem(bpmn(`${START}<bpmn:endEvent id="e" />${flow('f', 'e', 'start')}`), 'e',
      'End events must not have outgoing sequence flows to other elements.')
  })

  test('every problem is listed, not only the first', async () => {
    const xml = bpmn(`${START}<bpmn:serviceTask id="a" /><bpmn:serviceTask id="b" /><bpmn:complexGateway id="c" />`)
    expect((await problemsOf(xml)).map((problem) => problem.elementId)).toEqual(['a', 'b', 'c'])
  })
})

describe('formatProblems', () => {
  test('groups problems per element in Zeebe format', () => {
    const text = formatProblems('order.bpmn', [
      { elementId: 'task', message: "Must have exactly one 'zeebe:taskDefinition' extension element" },
      { elementId: 'flow', message: 'Must have a condition or be default flow' },
      { elementId: 'task', message: 'second' },
    ])
    expect(text).toBe("'order.bpmn': - Element: task\n"
      + "    - ERROR: Must have exactly one 'zeebe:taskDefinition' extension element\n"
      + '    - ERROR: second\n'
      + '- Element: flow\n'
      + '    - ERROR: Must have a condition or be default flow\n')
  })

  test('resource-level problems have no Element line', () => {
    expect(formatProblems('x.bpmn', [{ message: 'unparsable content' }])).toBe("'x.bpmn': unparsable content")
    expect(formatProblems('x.bpmn', [{ message: 'a' }, { elementId: 't', message: 'b' }])).toBe("'x.bpmn': a\n- Element: t\n    - ERROR: b\n")
  })
})

describe('parseForm', () => {
  const schema = JSON.stringify({ id: 'qualify-incident', versionTag: 'v3', type: 'default', components: [{ type: 'textfield', key: 'summary' }] })

  test('reads id, version tag and keeps the schema text', () => {
    expect(parseForm(schema)).toEqual({ form: { id: 'qualify-incident', versionTag: 'v3', schema }, problems: [] })
    const noTag = JSON.stringify({ id: 'f', components: [] })
    expect(parseForm(noTag)).toEqual({ form: { id: 'f', schema: noTag }, problems: [] })
  })

  test('malformed JSON gives the parser message', () => {
    const { form, problems } = parseForm('{ "id": ')
    expect(form).toBeUndefined()
    expect(problems).toEqual([{ message: expect.stringContaining('Failed to parse form JSON') }])
  })

  test('needs an object with a string id and a components array', () => {
    expect(parseForm('[]').problems).toEqual([{ message: 'Expected the form to be a JSON object' }])
    expect(parseForm('{"components": []}').problems).toEqual([{ message: "Expected the form to have a non-empty string 'id'" }])
    expect(parseForm('{"id": "f"}').problems).toEqual([{ message: "Expected the form to have a 'components' array" }])
  })
})
