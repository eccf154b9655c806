/**
 * Parses a BPMN file with bpmn-moddle and the Zeebe extension schema, and turns every executable
 * process into the plain ProcessModel the runtime interprets. Validation follows Zeebe 8.8: every
 * problem is collected (not just the first), each with the id of the element it concerns, and the
 * messages reuse Zeebe's wording where it is known.
 */
import { BpmnModdle, type ModdleWarning } from 'bpmn-moddle'
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json'
import { feelSyntaxError } from '../feel'
import { xmlDepthProblem } from './xml-depth'
import { isZonedDateTime, nonAdvancingInterval, parseIsoDuration, parseRepeatingInterval } from './iso8601'
import type {
  CalledDecisionDefinition,
  CalledElementDefinition,
  ElementType,
  EventDefinition,
  FlowElement,
  Mapping,
  MultiInstanceDefinition,
  ProcessModel,
  Problem,
  ScriptDefinition,
  SequenceFlow,
  TaskDefinition,
  UserTaskDefinition,
} from './types'

/** A parsed moddle element; its properties are read through the typed accessors below. */
interface ModdleElement {
  readonly $type: string
  readonly $parent?: ModdleElement
  readonly [key: string]: unknown
}

type BindingType = 'latest' | 'deployment' | 'versionTag'
type EventKind = EventDefinition['kind']

const ELEMENT_TYPES: Record<string, ElementType> = {
  'bpmn:StartEvent': 'startEvent',
  'bpmn:EndEvent': 'endEvent',
  'bpmn:IntermediateCatchEvent': 'intermediateCatchEvent',
  'bpmn:IntermediateThrowEvent': 'intermediateThrowEvent',
  'bpmn:BoundaryEvent': 'boundaryEvent',
  'bpmn:ServiceTask': 'serviceTask',
  'bpmn:SendTask': 'sendTask',
  'bpmn:ScriptTask': 'scriptTask',
  'bpmn:BusinessRuleTask': 'businessRuleTask',
  'bpmn:UserTask': 'userTask',
  'bpmn:ReceiveTask': 'receiveTask',
  'bpmn:ManualTask': 'manualTask',
  'bpmn:Task': 'task',
  'bpmn:ExclusiveGateway': 'exclusiveGateway',
  'bpmn:ParallelGateway': 'parallelGateway',
  'bpmn:InclusiveGateway': 'inclusiveGateway',
  'bpmn:EventBasedGateway': 'eventBasedGateway',
  'bpmn:SubProcess': 'subProcess',
  'bpmn:CallActivity': 'callActivity',
}

/** Flow elements that carry no behaviour (data) and are skipped without a problem. */
const IGNORED_FLOW_ELEMENTS = new Set(['bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference'])

const EVENT_KINDS: Record<string, EventKind> = {
  'bpmn:MessageEventDefinition': 'message',
  'bpmn:TimerEventDefinition': 'timer',
  'bpmn:SignalEventDefinition': 'signal',
  'bpmn:ErrorEventDefinition': 'error',
  'bpmn:EscalationEventDefinition': 'escalation',
  'bpmn:TerminateEventDefinition': 'terminate',
}

const EVENT_TYPES = new Set<ElementType>([
  'startEvent', 'endEvent', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent',
])
const ACTIVITY_TYPES = new Set<ElementType>([
  'serviceTask', 'sendTask', 'scriptTask', 'businessRuleTask', 'userTask', 'receiveTask', 'manualTask', 'task',
  'subProcess', 'callActivity',
])
const BINDING_TYPES = new Set<string>(['latest', 'deployment', 'versionTag'])

/** xsd:NCName, which is what xsd:ID allows. */
const VALID_ID = /^[\p{L}_][\p{L}\p{N}_.\-\u00B7]*$/u
/** A variable name or a dotted path into one, as a mapping target. */
const TARGET_PATH = /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*$/u
const TARGET_PATH_PATTERN = '[a-zA-Z_][a-zA-Z0-9_]*(\\.[a-zA-Z_][a-zA-Z0-9_]*)*'

const moddle = new BpmnModdle({ zeebe: zeebeSchema })

/** Parses and validates one BPMN resource. Only `isExecutable="true"` processes are returned. */
export async function parseBpmn(xml: string): Promise<{ processes: ProcessModel[]; problems: Problem[] }> {
  const tooDeep = xmlDepthProblem(xml)
  if (tooDeep !== undefined) return { processes: [], problems: [tooDeep] }
  let definitions: ModdleElement
  let warnings: ModdleWarning[]
  try {
    const result = await moddle.fromXML(xml)
    if (!isElement(result.rootElement)) throw new Error('failed to parse document as <bpmn:Definitions>')
    definitions = result.rootElement
    warnings = result.warnings
  } catch (err) {
    return { processes: [], problems: [{ message: err instanceof Error ? err.message : String(err) }] }
  }

  const problems: Problem[] = []
  const unresolved = readWarnings(warnings, problems)
  const executable = elements(definitions, 'rootElements')
    .filter((root) => root.$type === 'bpmn:Process' && root.isExecutable === true)
  if (executable.length === 0) {
    problems.push({ elementId: str(definitions, 'id'), message: 'Must contain at least one executable process' })
  }
  const processes = executable.map((process) => new ProcessReader(process, unresolved, problems).read())
  return { processes, problems }
}

/**
 * bpmn-moddle drops elements it cannot read (duplicate or illegal ids, unknown BPMN types) and
 * leaves unresolvable references unset, reporting both only as warnings. Both are problems here;
 * unresolved references are returned so that each is reported where it is used.
 */
function readWarnings(warnings: ModdleWarning[], problems: Problem[]): Map<unknown, Map<string, string>> {
  const unresolved = new Map<unknown, Map<string, string>>()
  for (const warning of warnings) {
    if (warning.message.startsWith('unresolved reference') && warning.property !== undefined) {
      const byProperty = unresolved.get(warning.element) ?? new Map<string, string>()
      byProperty.set(warning.property.replace(/^bpmn:/, ''), String(warning.value))
      unresolved.set(warning.element, byProperty)
      continue
    }
    const nested = /nested error: (duplicate ID|illegal ID|unknown type) <([^>]*)>/.exec(warning.message)
    if (nested === null) continue
    const [, kind, subject] = nested
    if (kind === 'duplicate ID') problems.push({ elementId: subject, message: `Duplicate element id '${subject}'` })
    else if (kind === 'illegal ID') problems.push({ elementId: subject, message: `Element id '${subject}' is not a valid id` })
    // Unknown Zeebe extensions may come from a newer Modeler; unknown BPMN elements are invalid BPMN.
    else if (subject.startsWith('bpmn:')) problems.push({ message: `Unknown BPMN element <${subject}>` })
  }
  return unresolved
}

interface FlowScope {
  id: string
  children: string[]
  startEvents: string[]
  eventSubProcesses: string[]
}

/** Reads one executable process: first every element, then the checks that need the whole graph. */
class ProcessReader {
  private readonly model: ProcessModel
  private readonly source = new Map<string, ModdleElement>()
  /** the container each sequence flow was declared in */
  private readonly flowScope = new Map<string, string>()
  /** unsupported flow nodes, already reported: their sequence flows are not reported again */
  private readonly unsupported = new Set<string>()

  constructor(
    private readonly process: ModdleElement,
    private readonly unresolved: Map<unknown, Map<string, string>>,
    private readonly problems: Problem[],
  ) {
    const id = str(process, 'id') ?? ''
    this.model = {
      id,
      name: str(process, 'name'),
      versionTag: str(extension(process, 'zeebe:VersionTag'), 'value'),
      elements: new Map(),
      flows: new Map(),
      startEvents: [],
      eventSubProcesses: [],
      children: [],
    }
  }

  read(): ProcessModel {
    const id = this.model.id
    if (id === '') this.problem(undefined, 'A process must have an id')
    this.readScope(this.process, this.model)
    this.linkFlows()
    this.linkBoundaryEvents()
    for (const element of this.model.elements.values()) this.checkGraph(element)
    this.checkProcessStartEvents()
    this.checkScopeEventSubProcesses(id, this.model.eventSubProcesses)
    return this.model
  }

  private problem(elementId: string | undefined, message: string): void {
    this.problems.push({ elementId, message })
  }

  private unresolvedRef(element: ModdleElement, property: string): string | undefined {
    return this.unresolved.get(element)?.get(property)
  }

  // ---------------------------------------------------------------- reading

  private readScope(container: ModdleElement, scope: FlowScope): void {
    for (const item of elements(container, 'flowElements')) {
      if (item.$type === 'bpmn:SequenceFlow') {
        this.readFlow(item, scope.id)
        continue
      }
      if (IGNORED_FLOW_ELEMENTS.has(item.$type)) continue
      const id = str(item, 'id')
      const type = ELEMENT_TYPES[item.$type]
      if (type === undefined) {
        this.problem(id, `Elements of type '${localName(item.$type)}' are currently not supported`)
        if (id !== undefined) this.unsupported.add(id)
        continue
      }
      if (id === undefined || id === '') {
        this.problem(undefined, `Element of type '${type}' must have an id`)
        continue
      }
      if (!VALID_ID.test(id)) this.problem(id, `Element id '${id}' is not a valid id`)
      const element = this.readElement(item, id, type, scope.id)
      this.model.elements.set(id, element)
      this.source.set(id, item)
      scope.children.push(id)
      if (type === 'startEvent') scope.startEvents.push(id)
      if (type === 'subProcess' && element.triggeredByEvent) scope.eventSubProcesses.push(id)
    }
  }

  private readFlow(item: ModdleElement, scopeId: string): void {
    const id = str(item, 'id')
    if (id === undefined || id === '') {
      this.problem(undefined, "Element of type 'sequenceFlow' must have an id")
      return
    }
    const sourceRef = str(ref(item, 'sourceRef'), 'id') ?? this.unresolvedRef(item, 'sourceRef') ?? ''
    const targetRef = str(ref(item, 'targetRef'), 'id') ?? this.unresolvedRef(item, 'targetRef') ?? ''
    const condition = body(ref(item, 'conditionExpression'))
    if (condition !== undefined) this.checkExpression(id, condition, { mandatory: true, nonStatic: true })
    const flow: SequenceFlow = { id, sourceRef, targetRef, ...(condition !== undefined ? { condition } : {}) }
    this.model.flows.set(id, flow)
    this.flowScope.set(id, scopeId)
  }

  private readElement(item: ModdleElement, id: string, type: ElementType, scopeId: string): FlowElement {
    const element: FlowElement = {
      id,
      type,
      scopeId,
      incoming: [],
      outgoing: [],
      boundaryEvents: [],
      headers: this.readHeaders(item),
      inputs: [],
      outputs: [],
    }
    const name = str(item, 'name')
    if (name !== undefined) element.name = name
    this.readMappings(item, element)

    const defaultFlow = str(ref(item, 'default'), 'id') ?? this.unresolvedRef(item, 'default')
    if (defaultFlow !== undefined) element.defaultFlow = defaultFlow

    if (EVENT_TYPES.has(type)) element.event = this.readEvent(item, element)
    if (ACTIVITY_TYPES.has(type)) this.readLoop(item, element)

    switch (type) {
      case 'serviceTask':
      case 'sendTask':
        element.taskDefinition = this.readTaskDefinition(item, id, true)
        break
      case 'scriptTask':
        this.readScriptTask(item, element)
        break
      case 'businessRuleTask':
        this.readBusinessRuleTask(item, element)
        break
      case 'userTask':
        this.readUserTask(item, element)
        break
      case 'receiveTask':
        element.event = this.readMessage(item, id, 'messageRef', true)
        break
      case 'callActivity':
        element.calledElement = this.readCalledElement(item, id)
        break
      case 'subProcess':
        this.readSubProcess(item, element)
        break
      case 'boundaryEvent': {
        const host = str(ref(item, 'attachedToRef'), 'id') ?? this.unresolvedRef(item, 'attachedToRef')
        if (host === undefined) this.problem(id, 'Must be attached to an activity')
        else element.attachedTo = host
        element.cancelActivity = item.cancelActivity !== false
        break
      }
      default:
        break
    }
    return element
  }

  private readHeaders(item: ModdleElement): Record<string, string> {
    const headers: Record<string, string> = {}
    for (const header of elements(extension(item, 'zeebe:TaskHeaders'), 'values')) {
      const key = str(header, 'key')
      if (key !== undefined) headers[key] = str(header, 'value') ?? ''
    }
    return headers
  }

  private readMappings(item: ModdleElement, element: FlowElement): void {
    const ioMapping = extension(item, 'zeebe:IoMapping')
    for (const input of elements(ioMapping, 'inputParameters')) {
      const source = trimmed(str(input, 'source'))
      this.checkExpression(element.id, source, {})
      // Zeebe maps a missing source to null.
      element.inputs.push(this.readMapping(element.id, input, source ?? '=null'))
    }
    for (const output of elements(ioMapping, 'outputParameters')) {
      const source = trimmed(str(output, 'source'))
      this.checkExpression(element.id, source, { mandatory: true, nonStatic: true })
      element.outputs.push(this.readMapping(element.id, output, source ?? ''))
    }
  }

  private readMapping(elementId: string, parameter: ModdleElement, source: string): Mapping {
    const target = trimmed(str(parameter, 'target')) ?? ''
    if (target === '') this.problem(elementId, 'Expected path expression but not found.')
    else if (!TARGET_PATH.test(target)) {
      this.problem(elementId, `Expected path expression '${target}' but doesn't match the pattern '${TARGET_PATH_PATTERN}'.`)
    }
    return { source, target }
  }

  private readTaskDefinition(item: ModdleElement, id: string, required: boolean): TaskDefinition | undefined {
    const definitions = extensions(item, 'zeebe:TaskDefinition')
    if (definitions.length !== 1) {
      if (required || definitions.length > 1) this.problem(id, "Must have exactly one 'zeebe:taskDefinition' extension element")
      if (definitions.length === 0) return undefined
    }
    const definition = definitions[0]
    const type = trimmed(str(definition, 'type'))
    if (type === undefined) this.problem(id, "Attribute 'type' must be present and not empty")
    else this.checkExpression(id, type, {})
    const retries = trimmed(str(definition, 'retries')) ?? '3'
    this.checkExpression(id, retries, {})
    if (!retries.startsWith('=') && !/^-?\d+$/.test(retries)) {
      this.problem(id, `Expected attribute 'retries' to be a number or an expression, but found '${retries}'`)
    }
    return { type: type ?? '', retries }
  }

  private readScriptTask(item: ModdleElement, element: FlowElement): void {
    const scripts = extensions(item, 'zeebe:Script')
    const jobs = extensions(item, 'zeebe:TaskDefinition')
    if (scripts.length + jobs.length !== 1) {
      this.problem(element.id, "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element")
    }
    if (jobs.length > 0) element.taskDefinition = this.readTaskDefinition(item, element.id, false)
    if (scripts.length === 0) return
    const expression = trimmed(str(scripts[0], 'expression'))
    const resultVariable = trimmed(str(scripts[0], 'resultVariable'))
    if (expression === undefined) this.problem(element.id, "Attribute 'expression' must be present and not empty")
    else this.checkExpression(element.id, expression, { nonStatic: true })
    if (resultVariable === undefined) this.problem(element.id, "Attribute 'resultVariable' must be present and not empty")
    const script: ScriptDefinition = { expression: expression ?? '', resultVariable: resultVariable ?? '' }
    element.script = script
  }

  private readBusinessRuleTask(item: ModdleElement, element: FlowElement): void {
    const decisions = extensions(item, 'zeebe:CalledDecision')
    const jobs = extensions(item, 'zeebe:TaskDefinition')
    if (decisions.length + jobs.length !== 1) {
      this.problem(element.id, "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element")
    }
    if (jobs.length > 0) element.taskDefinition = this.readTaskDefinition(item, element.id, false)
    if (decisions.length === 0) return
    const decision = decisions[0]
    const decisionId = trimmed(str(decision, 'decisionId'))
    const resultVariable = trimmed(str(decision, 'resultVariable'))
    if (decisionId === undefined) this.problem(element.id, "Attribute 'decisionId' must be present and not empty")
    else this.checkExpression(element.id, decisionId, {})
    if (resultVariable === undefined) this.problem(element.id, "Attribute 'resultVariable' must be present and not empty")
    const binding = this.readBinding(element.id, decision)
    const calledDecision: CalledDecisionDefinition = {
      decisionId: decisionId ?? '',
      resultVariable: resultVariable ?? '',
      bindingType: binding.bindingType,
      ...(binding.versionTag !== undefined ? { versionTag: binding.versionTag } : {}),
    }
    element.calledDecision = calledDecision
  }

  private readBinding(elementId: string, extensionElement: ModdleElement): { bindingType: BindingType; versionTag?: string } {
    const raw = str(extensionElement, 'bindingType') ?? 'latest'
    const versionTag = trimmed(str(extensionElement, 'versionTag'))
    if (!BINDING_TYPES.has(raw)) {
      this.problem(elementId, `Attribute 'bindingType' must be one of: latest, deployment, versionTag, but was '${raw}'`)
    }
    const bindingType: BindingType = BINDING_TYPES.has(raw) ? raw as BindingType : 'latest'
    if (bindingType === 'versionTag' && versionTag === undefined) {
      this.problem(elementId, "Attribute 'versionTag' must be present and not empty if 'bindingType' is 'versionTag'")
    }
    return versionTag !== undefined ? { bindingType, versionTag } : { bindingType }
  }

  private readUserTask(item: ModdleElement, element: FlowElement): void {
    const id = element.id
    element.isCamundaUserTask = extension(item, 'zeebe:UserTask') !== undefined
    const task: UserTaskDefinition = {}
    const assignment = extension(item, 'zeebe:AssignmentDefinition')
    for (const key of ['assignee', 'candidateGroups', 'candidateUsers'] as const) {
      const value = trimmed(str(assignment, key))
      if (value === undefined) continue
      this.checkExpression(id, value, {})
      task[key] = value
    }
    const schedule = extension(item, 'zeebe:TaskSchedule')
    for (const key of ['dueDate', 'followUpDate'] as const) {
      const value = trimmed(str(schedule, key))
      if (value === undefined) continue
      this.checkExpression(id, value, {})
      if (!value.startsWith('=') && !isZonedDateTime(value)) {
        this.problem(id, `Expected attribute '${key}' to be a valid DateTime String, e.g. '2023-03-02T15:35+02:00', but found '${value}'`)
      }
      task[key] = value
    }
    const priorityDefinition = extension(item, 'zeebe:PriorityDefinition')
    if (priorityDefinition !== undefined) {
      const priority = trimmed(str(priorityDefinition, 'priority'))
      if (priority === undefined) this.problem(id, "Attribute 'priority' must be present and not empty")
      else {
        this.checkExpression(id, priority, {})
        if (!priority.startsWith('=') && !(/^\d+$/.test(priority) && Number(priority) <= 100)) {
          this.problem(id, `Expected attribute 'priority' to be a valid Number between 0 and 100, but found '${priority}'`)
        }
        task.priority = priority
      }
    }
    const form = extension(item, 'zeebe:FormDefinition')
    if (form !== undefined) this.readForm(id, form, task)
    element.userTask = task
  }

  private readForm(id: string, form: ModdleElement, task: UserTaskDefinition): void {
    const formId = trimmed(str(form, 'formId'))
    const externalReference = trimmed(str(form, 'externalReference'))
    const formKey = trimmed(str(form, 'formKey'))
    const given = [formId, externalReference, formKey].filter((value) => value !== undefined)
    if (given.length !== 1) {
      this.problem(id, "Exactly one of the attributes 'formId', 'formKey' or 'externalReference' must be present and not empty")
    }
    if (externalReference !== undefined) {
      this.checkExpression(id, externalReference, {})
      task.externalReference = externalReference
    }
    if (formId !== undefined) {
      const binding = this.readBinding(id, form)
      task.formId = formId
      task.formBindingType = binding.bindingType
      if (binding.versionTag !== undefined) task.formVersionTag = binding.versionTag
    }
  }

  private readCalledElement(item: ModdleElement, id: string): CalledElementDefinition {
    const called = extensions(item, 'zeebe:CalledElement')
    if (called.length !== 1) this.problem(id, "Must have exactly one 'zeebe:calledElement' extension element")
    const definition = called[0]
    const processId = trimmed(str(definition, 'processId'))
    if (definition !== undefined && processId === undefined) {
      this.problem(id, "Attribute 'processId' must be present and not empty")
    }
    if (processId !== undefined) this.checkExpression(id, processId, {})
    const binding = definition !== undefined ? this.readBinding(id, definition) : { bindingType: 'latest' as const }
    return {
      processId: processId ?? '',
      bindingType: binding.bindingType,
      ...(binding.versionTag !== undefined ? { versionTag: binding.versionTag } : {}),
      propagateAllChildVariables: definition?.propagateAllChildVariables !== false,
      propagateAllParentVariables: definition?.propagateAllParentVariables !== false,
    }
  }

  private readLoop(item: ModdleElement, element: FlowElement): void {
    const loop = ref(item, 'loopCharacteristics')
    if (loop === undefined) return
    if (loop.$type !== 'bpmn:MultiInstanceLoopCharacteristics') {
      this.problem(element.id, `Elements of type '${localName(loop.$type)}' are currently not supported`)
      return
    }
    const id = element.id
    const zeebeLoop = extensions(loop, 'zeebe:LoopCharacteristics')
    if (zeebeLoop.length !== 1) this.problem(id, "Must have exactly one 'zeebe:loopCharacteristics' extension element")
    const inputCollection = trimmed(str(zeebeLoop[0], 'inputCollection'))
    if (zeebeLoop.length === 1) this.checkExpression(id, inputCollection, { mandatory: true, nonStatic: true })
    const outputElement = trimmed(str(zeebeLoop[0], 'outputElement'))
    this.checkExpression(id, outputElement, { nonStatic: true })
    const completionCondition = body(ref(loop, 'completionCondition'))
    this.checkExpression(id, completionCondition, {})
    const inputElement = trimmed(str(zeebeLoop[0], 'inputElement'))
    const outputCollection = trimmed(str(zeebeLoop[0], 'outputCollection'))
    const multiInstance: MultiInstanceDefinition = {
      isSequential: loop.isSequential === true,
      inputCollection: inputCollection ?? '',
      ...(inputElement !== undefined ? { inputElement } : {}),
      ...(outputCollection !== undefined ? { outputCollection } : {}),
      ...(outputElement !== undefined ? { outputElement } : {}),
      ...(completionCondition !== undefined ? { completionCondition } : {}),
    }
    element.multiInstance = multiInstance
  }

  private readSubProcess(item: ModdleElement, element: FlowElement): void {
    const triggeredByEvent = item.triggeredByEvent === true
    const scope: FlowScope = { id: element.id, children: [], startEvents: [], eventSubProcesses: [] }
    element.triggeredByEvent = triggeredByEvent
    this.readScope(item, scope)
    element.children = scope.children
    element.startEvents = scope.startEvents
    element.eventSubProcesses = scope.eventSubProcesses
  }

  // ---------------------------------------------------------------- events

  /** Where an event sits decides which definitions it may have. */
  private eventPosition(item: ModdleElement, type: ElementType): string {
    if (type !== 'startEvent') return type
    const parent = item.$parent
    if (parent?.$type !== 'bpmn:SubProcess') return 'processStart'
    return parent.triggeredByEvent === true ? 'eventSubProcessStart' : 'subProcessStart'
  }

  private readEvent(item: ModdleElement, element: FlowElement): EventDefinition {
    const id = element.id
    const position = this.eventPosition(item, element.type)
    const definitions = elements(item, 'eventDefinitions')
    if (definitions.length > 1 || (definitions.length === 0 && (position === 'intermediateCatchEvent' || position === 'boundaryEvent'))) {
      this.problem(id, 'Must have exactly one event definition')
    }
    const interrupting = position === 'boundaryEvent' ? item.cancelActivity !== false
      : position === 'eventSubProcessStart' ? item.isInterrupting !== false : true
    if (position === 'eventSubProcessStart') element.isInterrupting = interrupting
    const definition = definitions[0]
    if (definition === undefined) return { kind: 'none' }
    const kind = EVENT_KINDS[definition.$type]
    if (kind === undefined) {
      this.problem(id, `Event definition of type '${localName(definition.$type)}' is currently not supported`)
      return { kind: 'none' }
    }
    this.checkEventKind(id, position, kind)
    if (!interrupting && (kind === 'error' || kind === 'terminate')) {
      this.problem(id, 'Non-Interrupting event of this type is not allowed')
    }
    const catching = position === 'intermediateCatchEvent' || position === 'boundaryEvent' || position.endsWith('Start')
    switch (kind) {
      case 'message':
        if (catching) return this.readMessage(definition, id, 'messageRef', position !== 'processStart')
        element.taskDefinition = this.readTaskDefinition(item, id, true)
        return { kind: 'message', messageName: trimmed(str(ref(definition, 'messageRef'), 'name')) ?? '' }
      case 'timer':
        return this.readTimer(definition, id, position, interrupting)
      case 'signal':
        return this.readSignal(definition, id)
      case 'error':
        return this.readError(definition, id, catching)
      case 'escalation':
        return this.readEscalation(definition, id, catching)
      default:
        return { kind: 'terminate' }
    }
  }

  private checkEventKind(id: string, position: string, kind: EventKind): void {
    const allowed: Record<string, { kinds: EventKind[]; message: string }> = {
      processStart: { kinds: ['message', 'timer', 'signal'], message: 'Start events must be one of: none, message, timer, signal' },
      // Checked on the subprocess, as Zeebe does.
      subProcessStart: { kinds: ['none', 'message', 'timer', 'signal', 'error', 'escalation', 'terminate'], message: '' },
      eventSubProcessStart: { kinds: ['none', 'message', 'timer', 'signal', 'error', 'escalation'], message: '' },
      intermediateCatchEvent: { kinds: ['message', 'timer', 'signal'], message: 'Intermediate catch events must be one of: message, timer, signal' },
      intermediateThrowEvent: { kinds: ['message', 'signal', 'escalation'], message: 'Intermediate throw events must be one of: none, message, signal, escalation' },
      endEvent: { kinds: ['message', 'signal', 'error', 'escalation', 'terminate'], message: 'End events must be one of: none, message, signal, error, escalation, terminate' },
      boundaryEvent: { kinds: ['message', 'timer', 'signal', 'error', 'escalation'], message: 'Boundary events must be one of: message, timer, signal, error, escalation' },
    }
    const rule = allowed[position]
    if (rule !== undefined && !rule.kinds.includes(kind)) this.problem(id, rule.message)
  }

  /** A message catch: the referenced bpmn:message gives the name, its zeebe:subscription the key. */
  private readMessage(
    holder: ModdleElement, id: string, property: string, needsCorrelationKey: boolean,
  ): EventDefinition {
    const message = ref(holder, property)
    const missingRef = this.unresolvedRef(holder, property)
    if (message === undefined) {
      this.problem(id, missingRef !== undefined ? `Must reference a message, but '${missingRef}' is not a message` : 'Must reference a message')
      return { kind: 'message', messageName: '' }
    }
    const messageName = trimmed(str(message, 'name'))
    if (messageName === undefined) this.problem(id, `Message '${str(message, 'id') ?? ''}' must have a name`)
    else this.checkExpression(id, messageName, {})
    const subscriptions = extensions(message, 'zeebe:Subscription')
    const correlationKey = trimmed(str(subscriptions[0], 'correlationKey'))
    if (needsCorrelationKey) {
      if (subscriptions.length !== 1) this.problem(id, "Must have exactly one 'zeebe:subscription' extension element")
      else this.checkExpression(id, correlationKey, { mandatory: true, nonStatic: true })
    } else {
      this.checkExpression(id, correlationKey, {})
    }
    return { kind: 'message', messageName: messageName ?? '', ...(correlationKey !== undefined ? { correlationKey } : {}) }
  }

  private readTimer(definition: ModdleElement, id: string, position: string, interrupting: boolean): EventDefinition {
    const kinds = (['timeDuration', 'timeDate', 'timeCycle'] as const)
      .map((timerType) => ({ timerType, expression: body(ref(definition, timerType)) }))
      .filter((timer) => timer.expression !== undefined)
    if (kinds.length !== 1) {
      this.problem(id, 'Must be exactly one type of timer: timeDuration, timeDate or timeCycle')
      if (kinds.length === 0) return { kind: 'timer', timerType: 'timeDuration', expression: '' }
    }
    const { timerType } = kinds[0]
    const expression = kinds[0].expression ?? ''
    if (position === 'processStart' && timerType === 'timeDuration') {
      this.problem(id, 'Timer start events must have a time date or a time cycle')
    } else if (position === 'intermediateCatchEvent' && timerType === 'timeCycle') {
      this.problem(id, 'Intermediate timer catch events must have a time duration or a time date')
    } else if (interrupting && timerType === 'timeCycle' && (position === 'boundaryEvent' || position === 'eventSubProcessStart')) {
      this.problem(id, 'Interrupting timer event with time cycle is not allowed.')
    }
    this.checkExpression(id, expression, { mandatory: true })
    const timerProblem = expression.startsWith('=') || expression === '' ? undefined : staticTimerProblem(timerType, expression)
    if (timerProblem !== undefined) this.problem(id, timerProblem)
    return { kind: 'timer', timerType, expression }
  }

  private readSignal(definition: ModdleElement, id: string): EventDefinition {
    const signal = ref(definition, 'signalRef')
    if (signal === undefined) {
      this.problem(id, 'Must reference a signal')
      return { kind: 'signal', signalName: '' }
    }
    const signalName = trimmed(str(signal, 'name'))
    if (signalName === undefined) this.problem(id, `Signal '${str(signal, 'id') ?? ''}' must have a name`)
    else this.checkExpression(id, signalName, {})
    return { kind: 'signal', signalName: signalName ?? '' }
  }

  private readError(definition: ModdleElement, id: string, catching: boolean): EventDefinition {
    const error = ref(definition, 'errorRef')
    const missingRef = this.unresolvedRef(definition, 'errorRef')
    if (missingRef !== undefined) this.problem(id, `Must reference an error, but '${missingRef}' is not an error`)
    const errorCode = trimmed(str(error, 'errorCode'))
    if (catching) {
      // Catch codes are static: a catch event without a code catches every error.
      return errorCode !== undefined ? { kind: 'error', errorCode } : { kind: 'error' }
    }
    if (error === undefined && missingRef === undefined) this.problem(id, 'Must reference an error')
    else if (error !== undefined && errorCode === undefined) this.problem(id, 'ErrorCode must be present and not empty')
    if (errorCode !== undefined) this.checkExpression(id, errorCode, {})
    return { kind: 'error', errorCode: errorCode ?? '' }
  }

  private readEscalation(definition: ModdleElement, id: string, catching: boolean): EventDefinition {
    const escalation = ref(definition, 'escalationRef')
    const missingRef = this.unresolvedRef(definition, 'escalationRef')
    if (missingRef !== undefined) this.problem(id, `Must reference an escalation, but '${missingRef}' is not an escalation`)
    const escalationCode = trimmed(str(escalation, 'escalationCode'))
    if (catching) return escalationCode !== undefined ? { kind: 'escalation', escalationCode } : { kind: 'escalation' }
    if (escalation === undefined && missingRef === undefined) this.problem(id, 'Must reference an escalation')
    else if (escalation !== undefined && escalationCode === undefined) this.problem(id, 'EscalationCode must be present and not empty')
    if (escalationCode !== undefined) this.checkExpression(id, escalationCode, {})
    return { kind: 'escalation', escalationCode: escalationCode ?? '' }
  }

  // ---------------------------------------------------------------- graph

  private linkFlows(): void {
    for (const flow of this.model.flows.values()) {
      const source = this.model.elements.get(flow.sourceRef)
      const target = this.model.elements.get(flow.targetRef)
      if (flow.sourceRef === '' || (source === undefined && !this.unsupported.has(flow.sourceRef))) {
        this.problem(flow.id, `Sequence flow source '${flow.sourceRef}' is not a flow node of this process`)
      }
      if (flow.targetRef === '' || (target === undefined && !this.unsupported.has(flow.targetRef))) {
        this.problem(flow.id, `Sequence flow target '${flow.targetRef}' is not a flow node of this process`)
      }
      const scopeId = this.flowScope.get(flow.id)
      if ((source !== undefined && source.scopeId !== scopeId) || (target !== undefined && target.scopeId !== scopeId)) {
        this.problem(flow.id, 'Sequence flow must connect elements of the same flow scope')
      }
      source?.outgoing.push(flow.id)
      target?.incoming.push(flow.id)
    }
  }

  private linkBoundaryEvents(): void {
    for (const element of this.model.elements.values()) {
      if (element.type !== 'boundaryEvent' || element.attachedTo === undefined) continue
      const host = this.model.elements.get(element.attachedTo)
      if (host === undefined || !ACTIVITY_TYPES.has(host.type) || host.triggeredByEvent === true) {
        this.problem(element.id, 'Must be attached to an activity')
        continue
      }
      host.boundaryEvents.push(element.id)
      if (element.event?.kind === 'escalation' && host.type !== 'subProcess' && host.type !== 'callActivity') {
        this.problem(element.id, 'An escalation boundary event should only be attached to a subprocess, or a call activity.')
      }
    }
  }

  private checkGraph(element: FlowElement): void {
    const id = element.id
    switch (element.type) {
      case 'exclusiveGateway':
      case 'inclusiveGateway':
        this.checkConditions(element)
        break
      case 'eventBasedGateway':
        this.checkEventBasedGateway(element)
        break
      case 'endEvent':
        if (element.outgoing.length > 0) this.problem(id, 'End events must not have outgoing sequence flows to other elements.')
        break
      case 'startEvent':
        if (element.incoming.length > 0) this.problem(id, 'Start events must not have incoming sequence flows.')
        break
      case 'boundaryEvent':
        if (element.incoming.length > 0) this.problem(id, 'Boundary events must not have incoming sequence flows.')
        break
      case 'subProcess':
        this.checkSubProcess(element)
        break
      default:
        break
    }
    if (element.defaultFlow !== undefined && !element.outgoing.includes(element.defaultFlow)) {
      this.problem(id, `Default flow '${element.defaultFlow}' must be an outgoing sequence flow of the element`)
    }
    if (element.boundaryEvents.length > 1) this.checkDuplicateCatchEvents(id, element.boundaryEvents)
  }

  private checkConditions(gateway: FlowElement): void {
    if (gateway.outgoing.length <= 1) return
    for (const flowId of gateway.outgoing) {
      const flow = this.model.flows.get(flowId)
      if (flow === undefined || flow.condition !== undefined || flowId === gateway.defaultFlow) continue
      this.problem(flowId, gateway.type === 'exclusiveGateway' ? 'Must have a condition or be default flow' : 'Must have a condition')
    }
  }

  private checkEventBasedGateway(gateway: FlowElement): void {
    if (gateway.outgoing.length < 2) this.problem(gateway.id, 'Event-based gateway must have at least 2 outgoing sequence flows.')
    const targets = gateway.outgoing
      .map((flowId) => this.model.elements.get(this.model.flows.get(flowId)?.targetRef ?? ''))
    const valid = targets.every((target) => target !== undefined && target.type === 'intermediateCatchEvent'
      && ['message', 'timer', 'signal'].includes(target.event?.kind ?? 'none'))
    if (!valid) {
      this.problem(gateway.id,
        'Event-based gateway must not have an outgoing sequence flow to other elements than message/timer/signal intermediate catch events.')
    }
    const ownFlows = new Set(gateway.outgoing)
    if (targets.some((target) => target !== undefined && target.incoming.some((flowId) => !ownFlows.has(flowId)))) {
      this.problem(gateway.id,
        'Target elements of an event gateway must not have any additional incoming sequence flows other than that from the event gateway.')
    }
    this.checkDuplicateCatchEvents(gateway.id, targets.flatMap((target) => (target !== undefined ? [target.id] : [])))
  }

  private checkSubProcess(subProcess: FlowElement): void {
    const id = subProcess.id
    const starts = (subProcess.startEvents ?? []).map((startId) => this.model.elements.get(startId))
    if (starts.length !== 1) this.problem(id, 'Must have exactly one start event')
    const start = starts[0]
    if (subProcess.triggeredByEvent === true) {
      if (subProcess.incoming.length > 0 || subProcess.outgoing.length > 0) {
        this.problem(id, 'Event subprocesses must not have incoming or outgoing sequence flows')
      }
      const kind = start?.event?.kind
      if (kind !== undefined && !['message', 'timer', 'error', 'escalation', 'signal'].includes(kind)) {
        this.problem(id, 'Start events in event subprocesses must be one of: message, timer, error, escalation, signal')
      }
    } else if (start?.event !== undefined && start.event.kind !== 'none') {
      this.problem(id, 'Start events in subprocesses must be of type none')
    }
    this.checkScopeEventSubProcesses(id, subProcess.eventSubProcesses ?? [])
  }

  private checkProcessStartEvents(): void {
    const starts = this.model.startEvents.map((id) => this.model.elements.get(id))
    if (starts.length === 0) this.problem(this.model.id, 'Must have at least one start event')
    if (starts.filter((start) => start?.event?.kind === 'none').length > 1) {
      this.problem(this.model.id, 'Multiple none start events are not allowed')
    }
    this.checkDuplicateCatchEvents(this.model.id, this.model.startEvents)
  }

  private checkScopeEventSubProcesses(scopeId: string, eventSubProcesses: string[]): void {
    const starts = eventSubProcesses.flatMap((subId) => this.model.elements.get(subId)?.startEvents ?? [])
    this.checkDuplicateCatchEvents(scopeId, starts)
  }

  /** Catch events of one scope (or one activity's boundary) must be distinguishable. */
  private checkDuplicateCatchEvents(reportOn: string, eventIds: string[]): void {
    const events = eventIds.flatMap((eventId) => {
      const event = this.model.elements.get(eventId)?.event
      return event !== undefined ? [event] : []
    })
    const duplicates = (values: string[]): string[] =>
      [...new Set(values.filter((value, index) => values.indexOf(value) !== index))]
    const messages = events.flatMap((event) => (event.kind === 'message' && event.messageName !== '' ? [event.messageName] : []))
    for (const name of duplicates(messages)) {
      this.problem(reportOn, `Multiple message event definitions with the same name '${name}' are not allowed.`)
    }
    const signals = events.flatMap((event) => (event.kind === 'signal' && event.signalName !== '' ? [event.signalName] : []))
    for (const name of duplicates(signals)) {
      this.problem(reportOn, `Multiple signal event definitions with the same name '${name}' are not allowed.`)
    }
    const errors = events.flatMap((event) => (event.kind === 'error' ? [event.errorCode ?? ''] : []))
    for (const code of duplicates(errors)) {
      this.problem(reportOn, code === ''
        ? 'The same scope can not contain more than one error catch event without error code. An error catch event without error code catches all errors.'
        : `Multiple error catch events with the same error code '${code}' are not supported on the same scope.`)
    }
    const escalations = events.flatMap((event) => (event.kind === 'escalation' ? [event.escalationCode ?? ''] : []))
    for (const code of duplicates(escalations)) {
      this.problem(reportOn, code === ''
        ? 'The same scope can not contain more than one escalation catch event without escalation code. An escalation catch event without escalation code catches all escalations.'
        : `Multiple escalation catch events with the same escalation code '${code}' are not supported on the same scope.`)
    }
  }

  // ---------------------------------------------------------------- expressions

  /**
   * Checks one expression site: a FEEL expression ("=...") must parse; `nonStatic` sites (conditions,
   * output sources, input collections, scripts, correlation keys) accept only FEEL.
   */
  private checkExpression(elementId: string, expression: string | undefined, site: { mandatory?: boolean; nonStatic?: boolean }): void {
    if (expression === undefined || expression === '') {
      if (site.mandatory === true) this.problem(elementId, 'Expected expression but not found.')
      return
    }
    if (expression.startsWith('=')) {
      const syntaxError = feelSyntaxError(expression.slice(1))
      if (syntaxError !== undefined) this.problem(elementId, syntaxError)
    } else if (site.nonStatic === true) {
      this.problem(elementId,
        `Expected expression but found static value '${expression}'. An expression must start with '=' (e.g. '=${expression}').`)
    }
  }
}

/**
 * Why a static timer value is invalid, or undefined when it is valid. Durations follow Zeebe's
 * Interval.parse: a zero or negative duration is legal and due at once (Interval.toEpochMilli adds
 * it to now). A cycle whose interval does not advance has no Zeebe rule but would fire again in the
 * same instant without end, so it is rejected here as the runtime rejects it (timer-schedule.ts).
 */
function staticTimerProblem(timerType: 'timeDuration' | 'timeDate' | 'timeCycle', value: string): string | undefined {
  const invalid = `Invalid ${timerType} '${value}'`
  if (timerType === 'timeDuration') return parseIsoDuration(value) === undefined ? invalid : undefined
  if (timerType === 'timeDate') return isZonedDateTime(value) ? undefined : invalid
  // Spring cron: six fields, seconds first, or a macro such as @daily.
  if (!value.startsWith('R')) return value.startsWith('@') || value.split(/\s+/).length === 6 ? undefined : invalid
  const cycle = parseRepeatingInterval(value)
  if (!cycle.ok || (cycle.value.start !== undefined && !isZonedDateTime(cycle.value.start))) return invalid
  const endless = nonAdvancingInterval(cycle.value.interval, cycle.value.duration)
  return endless === undefined ? undefined : `${invalid}: ${endless}`
}

// ------------------------------------------------------------------ moddle accessors

function isElement(value: unknown): value is ModdleElement {
  return typeof value === 'object' && value !== null && typeof (value as { $type?: unknown }).$type === 'string'
}

function str(item: ModdleElement | undefined, key: string): string | undefined {
  const value = item?.[key]
  return typeof value === 'string' ? value : undefined
}

function ref(item: ModdleElement | undefined, key: string): ModdleElement | undefined {
  const value = item?.[key]
  return isElement(value) ? value : undefined
}

function elements(item: ModdleElement | undefined, key: string): ModdleElement[] {
  const value = item?.[key]
  return Array.isArray(value) ? value.filter(isElement) : []
}

function extensions(item: ModdleElement | undefined, type: string): ModdleElement[] {
  return elements(ref(item, 'extensionElements'), 'values').filter((value) => value.$type === type)
}

function extension(item: ModdleElement | undefined, type: string): ModdleElement | undefined {
  return extensions(item, type)[0]
}

/** Text of an expression element (condition, timer, completion condition); undefined when blank. */
function body(item: ModdleElement | undefined): string | undefined {
  return trimmed(str(item, 'body'))
}

function trimmed(value: string | undefined): string | undefined {
  const text = value?.trim()
  return text === undefined || text === '' ? undefined : text
}

function localName(type: string): string {
  const name = type.slice(type.indexOf(':') + 1)
  return name.charAt(0).toLowerCase() + name.slice(1)
}
