/**
 * Reads the element tree of one executable process (bpmn-moddle with the Zeebe extension schema)
 * into the plain ProcessModel the runtime interprets. Reading never judges: what is missing or
 * malformed gets a neutral default here, and validation/ reports it from the same tree.
 */
import type { ModdleWarning } from 'bpmn-moddle'
import { body, elements, extension, ref, str, trimmed, type ModdleElement } from './moddle'
import type {
  CalledDecisionDefinition,
  CalledElementDefinition,
  ElementType,
  AdHocDefinition,
  EventDefinition,
  ExecutionListener,
  TaskListener,
  TaskListenerEvent,
  FlowElement,
  Mapping,
  MultiInstanceDefinition,
  ProcessModel,
  SequenceFlow,
  TaskDefinition,
  UserTaskDefinition,
} from './types'

export type BindingType = 'latest' | 'deployment' | 'versionTag'
export type EventKind = EventDefinition['kind']
/** Where an event sits: its element type, or for a start event which scope it starts. */
export type EventPosition = ElementType | 'processStart' | 'subProcessStart' | 'eventSubProcessStart'

export const ELEMENT_TYPES: Record<string, ElementType> = {
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
  'bpmn:AdHocSubProcess': 'subProcess',
  'bpmn:CallActivity': 'callActivity',
}

/** Flow elements that carry no behaviour (data) and are skipped without a problem. */
const IGNORED_FLOW_ELEMENTS = new Set(['bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference'])

export const EVENT_KINDS: Record<string, EventKind> = {
  'bpmn:MessageEventDefinition': 'message',
  'bpmn:TimerEventDefinition': 'timer',
  'bpmn:SignalEventDefinition': 'signal',
  'bpmn:ErrorEventDefinition': 'error',
  'bpmn:EscalationEventDefinition': 'escalation',
  'bpmn:TerminateEventDefinition': 'terminate',
  'bpmn:LinkEventDefinition': 'link',
  'bpmn:CompensateEventDefinition': 'compensation',
}

export const EVENT_TYPES = new Set<ElementType>([
  'startEvent', 'endEvent', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent',
])
export const ACTIVITY_TYPES = new Set<ElementType>([
  'serviceTask', 'sendTask', 'scriptTask', 'businessRuleTask', 'userTask', 'receiveTask', 'manualTask', 'task',
  'subProcess', 'callActivity',
])
export const BINDING_TYPES = new Set<string>(['latest', 'deployment', 'versionTag'])

/** References bpmn-moddle could not resolve, by element and property (without the bpmn: prefix). */
export type UnresolvedReferences = Map<unknown, Map<string, string>>

/** bpmn-moddle leaves an unresolvable reference unset and reports it only as a warning. */
export function unresolvedReferences(warnings: ModdleWarning[]): UnresolvedReferences {
  const unresolved: UnresolvedReferences = new Map()
  for (const warning of warnings) {
    if (!warning.message.startsWith('unresolved reference') || warning.property === undefined) continue
    const byProperty = unresolved.get(warning.element) ?? new Map<string, string>()
    byProperty.set(warning.property.replace(/^bpmn:/, ''), String(warning.value))
    unresolved.set(warning.element, byProperty)
  }
  return unresolved
}

/** One entry of a flow scope, in document order: a flow node, a sequence flow, or an unsupported element. */
export interface ReadEntry {
  item: ModdleElement
  /** the id of the process or subprocess it was declared in */
  scopeId: string
  /** the flow node read from it, when it is one the engine supports and it has an id */
  element?: FlowElement
  /** the sequence flow read from it, when it has an id */
  flow?: SequenceFlow
}

/** A process read from the tree, with what validation needs to judge it. */
export interface ReadProcess {
  model: ProcessModel
  /** every flow element, parents before their children, as declared */
  entries: ReadEntry[]
  /** unsupported flow nodes by id: sequence flows to them are not reported again */
  unsupported: Set<string>
  /** the container each sequence flow was declared in */
  flowScope: Map<string, string>
  unresolvedRef(element: ModdleElement, property: string): string | undefined
}

interface FlowScope {
  id: string
  children: string[]
  startEvents: string[]
  eventSubProcesses: string[]
}

/** Where an event sits decides which definitions it may have. */
export function eventPosition(item: ModdleElement, type: ElementType): EventPosition {
  if (type !== 'startEvent') return type
  const parent = item.$parent
  if (parent?.$type !== 'bpmn:SubProcess') return 'processStart'
  return parent.triggeredByEvent === true ? 'eventSubProcessStart' : 'subProcessStart'
}

/** Boundary events interrupt unless cancelActivity="false", event subprocess starts unless isInterrupting="false". */
export function isInterruptingEvent(item: ModdleElement, position: EventPosition): boolean {
  if (position === 'boundaryEvent') return item.cancelActivity !== false
  if (position === 'eventSubProcessStart') return item.isInterrupting !== false
  return true
}

/** Reads one executable process: every element, then the links between them. */
export function readProcess(process: ModdleElement, unresolved: UnresolvedReferences): ReadProcess {
  const reader = new ProcessReader(process, unresolved)
  return reader.read()
}

class ProcessReader {
  private readonly model: ProcessModel
  private readonly entries: ReadEntry[] = []
  private readonly unsupported = new Set<string>()
  private readonly flowScope = new Map<string, string>()
  /** associations by source id: a compensation boundary event names its handler this way */
  private readonly associations = new Map<string, string>()

  constructor(
    private readonly process: ModdleElement,
    private readonly unresolved: UnresolvedReferences,
  ) {
    this.model = {
      id: str(process, 'id') ?? '',
      name: str(process, 'name'),
      versionTag: str(extension(process, 'zeebe:VersionTag'), 'value'),
      elements: new Map(),
      flows: new Map(),
      startEvents: [],
      eventSubProcesses: [],
      children: [],
    }
    const listeners = readExecutionListeners(process)
    if (listeners.length > 0) this.model.executionListeners = listeners
  }

  read(): ReadProcess {
    this.readScope(this.process, this.model)
    this.linkFlows()
    this.linkBoundaryEvents()
    return {
      model: this.model,
      entries: this.entries,
      unsupported: this.unsupported,
      flowScope: this.flowScope,
      unresolvedRef: (element, property) => this.unresolvedRef(element, property),
    }
  }

  private unresolvedRef(element: ModdleElement, property: string): string | undefined {
    return this.unresolved.get(element)?.get(property)
  }

  // The nesting of scopes is bounded by MAX_XML_DEPTH (xml-depth.ts), checked before reading.
  private readScope(container: ModdleElement, scope: FlowScope): void {
    for (const artifact of elements(container, 'artifacts')) {
      if (artifact.$type !== 'bpmn:Association') continue
      const source = str(ref(artifact, 'sourceRef'), 'id')
      const target = str(ref(artifact, 'targetRef'), 'id')
      if (source !== undefined && target !== undefined) this.associations.set(source, target)
    }
    for (const item of elements(container, 'flowElements')) {
      if (IGNORED_FLOW_ELEMENTS.has(item.$type)) continue
      const entry: ReadEntry = { item, scopeId: scope.id }
      this.entries.push(entry)
      if (item.$type === 'bpmn:SequenceFlow') {
        entry.flow = this.readFlow(item, scope.id)
        continue
      }
      const id = str(item, 'id')
      const type = ELEMENT_TYPES[item.$type]
      if (type === undefined) {
        if (id !== undefined) this.unsupported.add(id)
        continue
      }
      if (id === undefined || id === '') continue
      const element = this.readElement(item, id, type, scope.id)
      entry.element = element
      this.model.elements.set(id, element)
      scope.children.push(id)
      if (type === 'startEvent') scope.startEvents.push(id)
      if (type === 'subProcess' && element.triggeredByEvent) scope.eventSubProcesses.push(id)
    }
  }

  private readFlow(item: ModdleElement, scopeId: string): SequenceFlow | undefined {
    const id = str(item, 'id')
    if (id === undefined || id === '') return undefined
    const sourceRef = str(ref(item, 'sourceRef'), 'id') ?? this.unresolvedRef(item, 'sourceRef') ?? ''
    const targetRef = str(ref(item, 'targetRef'), 'id') ?? this.unresolvedRef(item, 'targetRef') ?? ''
    const condition = body(ref(item, 'conditionExpression'))
    const flow: SequenceFlow = { id, sourceRef, targetRef, ...(condition !== undefined ? { condition } : {}) }
    this.model.flows.set(id, flow)
    this.flowScope.set(id, scopeId)
    return flow
  }

  private readElement(item: ModdleElement, id: string, type: ElementType, scopeId: string): FlowElement {
    const element: FlowElement = {
      id,
      type,
      scopeId,
      incoming: [],
      outgoing: [],
      boundaryEvents: [],
      headers: readHeaders(item),
      inputs: [],
      outputs: [],
    }
    const name = str(item, 'name')
    if (name !== undefined) element.name = name
    readMappings(item, element)
    const listeners = readExecutionListeners(item)
    if (listeners.length > 0) element.executionListeners = listeners
    const taskListeners = readTaskListeners(item)
    if (taskListeners.length > 0) element.taskListeners = taskListeners
    if (item.isForCompensation === true) element.isForCompensation = true

    const defaultFlow = str(ref(item, 'default'), 'id') ?? this.unresolvedRef(item, 'default')
    if (defaultFlow !== undefined) element.defaultFlow = defaultFlow

    if (EVENT_TYPES.has(type)) element.event = this.readEvent(item, element)
    if (ACTIVITY_TYPES.has(type)) readLoop(item, element)

    switch (type) {
      case 'serviceTask':
      case 'sendTask':
        element.taskDefinition = readTaskDefinition(item)
        break
      case 'scriptTask':
        readScriptTask(item, element)
        break
      case 'businessRuleTask':
        readBusinessRuleTask(item, element)
        break
      case 'userTask':
        element.isCamundaUserTask = extension(item, 'zeebe:UserTask') !== undefined
        element.userTask = readUserTask(item)
        break
      case 'receiveTask':
        element.event = readMessage(item, 'messageRef')
        break
      case 'callActivity':
        element.calledElement = readCalledElement(item)
        break
      case 'subProcess':
        this.readSubProcess(item, element)
        if (item.$type === 'bpmn:AdHocSubProcess') element.adHoc = readAdHoc(item)
        break
      case 'boundaryEvent': {
        const host = str(ref(item, 'attachedToRef'), 'id') ?? this.unresolvedRef(item, 'attachedToRef')
        if (host !== undefined) element.attachedTo = host
        element.cancelActivity = item.cancelActivity !== false
        break
      }
      default:
        break
    }
    return element
  }

  private readSubProcess(item: ModdleElement, element: FlowElement): void {
    const scope: FlowScope = { id: element.id, children: [], startEvents: [], eventSubProcesses: [] }
    element.triggeredByEvent = item.triggeredByEvent === true
    this.readScope(item, scope)
    element.children = scope.children
    element.startEvents = scope.startEvents
    element.eventSubProcesses = scope.eventSubProcesses
  }

  private readEvent(item: ModdleElement, element: FlowElement): EventDefinition {
    const position = eventPosition(item, element.type)
    if (position === 'eventSubProcessStart') element.isInterrupting = isInterruptingEvent(item, position)
    const definition = elements(item, 'eventDefinitions')[0]
    if (definition === undefined) return { kind: 'none' }
    const kind = EVENT_KINDS[definition.$type]
    if (kind === undefined) return { kind: 'none' }
    const catching = position === 'intermediateCatchEvent' || position === 'boundaryEvent' || position.endsWith('Start')
    switch (kind) {
      case 'message':
        if (catching) return readMessage(definition, 'messageRef')
        element.taskDefinition = readTaskDefinition(item)
        return { kind: 'message', messageName: trimmed(str(ref(definition, 'messageRef'), 'name')) ?? '' }
      case 'timer':
        return readTimer(definition)
      case 'signal': {
        const signal = ref(definition, 'signalRef')
        return { kind: 'signal', signalName: signal === undefined ? '' : trimmed(str(signal, 'name')) ?? '' }
      }
      case 'link':
        return { kind: 'link', name: trimmed(str(definition, 'name')) ?? '' }
      case 'compensation': {
        const activityRef = str(ref(definition, 'activityRef'), 'id') ?? this.unresolvedRef(definition, 'activityRef')
        return { kind: 'compensation', waitForCompletion: definition.waitForCompletion !== false, ...(activityRef ? { activityRef } : {}) }
      }
      case 'error': {
        const errorCode = trimmed(str(ref(definition, 'errorRef'), 'errorCode'))
        // Catch codes are static: a catch event without a code catches every error.
        if (catching) return errorCode !== undefined ? { kind: 'error', errorCode } : { kind: 'error' }
        return { kind: 'error', errorCode: errorCode ?? '' }
      }
      case 'escalation': {
        const escalationCode = trimmed(str(ref(definition, 'escalationRef'), 'escalationCode'))
        if (catching) return escalationCode !== undefined ? { kind: 'escalation', escalationCode } : { kind: 'escalation' }
        return { kind: 'escalation', escalationCode: escalationCode ?? '' }
      }
      default:
        return { kind: 'terminate' }
    }
  }

  private linkFlows(): void {
    for (const flow of this.model.flows.values()) {
      this.model.elements.get(flow.sourceRef)?.outgoing.push(flow.id)
      this.model.elements.get(flow.targetRef)?.incoming.push(flow.id)
    }
  }

  private linkBoundaryEvents(): void {
    for (const element of this.model.elements.values()) {
      if (element.type !== 'boundaryEvent' || element.attachedTo === undefined) continue
      const host = this.model.elements.get(element.attachedTo)
      if (host !== undefined && isBoundaryHost(host)) host.boundaryEvents.push(element.id)
      const handler = this.associations.get(element.id)
      if (host !== undefined && element.event?.kind === 'compensation' && handler !== undefined) host.compensationHandler = handler
    }
  }
}

/** Boundary events attach to activities, but not to an event subprocess. */
export function isBoundaryHost(host: FlowElement): boolean {
  return ACTIVITY_TYPES.has(host.type) && host.triggeredByEvent !== true
}

function readHeaders(item: ModdleElement): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const header of elements(extension(item, 'zeebe:TaskHeaders'), 'values')) {
    const key = str(header, 'key')
    if (key !== undefined) headers[key] = str(header, 'value') ?? ''
  }
  return headers
}

function readMappings(item: ModdleElement, element: FlowElement): void {
  const ioMapping = extension(item, 'zeebe:IoMapping')
  const mapping = (parameter: ModdleElement, source: string): Mapping => ({ source, target: trimmed(str(parameter, 'target')) ?? '' })
  // Zeebe maps a missing input source to null.
  for (const input of elements(ioMapping, 'inputParameters')) element.inputs.push(mapping(input, trimmed(str(input, 'source')) ?? '=null'))
  for (const output of elements(ioMapping, 'outputParameters')) element.outputs.push(mapping(output, trimmed(str(output, 'source')) ?? ''))
}

/** The first zeebe:taskDefinition, if any; the retries default to 3. */
function readAdHoc(item: ModdleElement): AdHocDefinition {
  const adHoc = extension(item, 'zeebe:AdHoc')
  const definition: AdHocDefinition = { cancelRemainingInstances: item.cancelRemainingInstances !== false }
  const active = trimmed(str(adHoc, 'activeElementsCollection'))
  if (active !== undefined) definition.activeElementsCollection = active
  const condition = body(ref(item, 'completionCondition'))
  if (condition !== undefined) definition.completionCondition = condition
  const outputCollection = trimmed(str(adHoc, 'outputCollection'))
  if (outputCollection !== undefined) definition.outputCollection = outputCollection
  const outputElement = trimmed(str(adHoc, 'outputElement'))
  if (outputElement !== undefined) definition.outputElement = outputElement
  const job = readTaskDefinition(item)
  if (job !== undefined) definition.taskDefinition = job
  return definition
}

/** zeebe:executionListeners, in model order; an event type other than start or end is kept as given for validation to name. */
export function readExecutionListeners(item: ModdleElement): ExecutionListener[] {
  return elements(extension(item, 'zeebe:ExecutionListeners'), 'listeners').map((listener) => ({
    eventType: (trimmed(str(listener, 'eventType')) ?? 'start') as ExecutionListener['eventType'],
    type: trimmed(str(listener, 'type')) ?? '',
    retries: trimmed(str(listener, 'retries')) ?? '3',
  }))
}

/** The deprecated event type names of Zeebe's ZeebeTaskListenerEventType, read as their successors. */
const DEPRECATED_TASK_EVENTS: Record<string, TaskListenerEvent> = {
  create: 'creating', assignment: 'assigning', update: 'updating', complete: 'completing', cancel: 'canceling',
}

/** zeebe:taskListeners, in model order; an unknown event type is kept as given for validation to name. */
function readTaskListeners(item: ModdleElement): TaskListener[] {
  return elements(extension(item, 'zeebe:TaskListeners'), 'listeners').map((listener) => {
    const eventType = trimmed(str(listener, 'eventType')) ?? ''
    return {
      eventType: (DEPRECATED_TASK_EVENTS[eventType] ?? eventType) as TaskListenerEvent,
      type: trimmed(str(listener, 'type')) ?? '',
      retries: trimmed(str(listener, 'retries')) ?? '3',
    }
  })
}

function readTaskDefinition(item: ModdleElement): TaskDefinition | undefined {
  const definition = extension(item, 'zeebe:TaskDefinition')
  if (definition === undefined) return undefined
  return { type: trimmed(str(definition, 'type')) ?? '', retries: trimmed(str(definition, 'retries')) ?? '3' }
}

function readScriptTask(item: ModdleElement, element: FlowElement): void {
  const job = readTaskDefinition(item)
  if (job !== undefined) element.taskDefinition = job
  const script = extension(item, 'zeebe:Script')
  if (script === undefined) return
  element.script = {
    expression: trimmed(str(script, 'expression')) ?? '',
    resultVariable: trimmed(str(script, 'resultVariable')) ?? '',
  }
}

function readBusinessRuleTask(item: ModdleElement, element: FlowElement): void {
  const job = readTaskDefinition(item)
  if (job !== undefined) element.taskDefinition = job
  const decision = extension(item, 'zeebe:CalledDecision')
  if (decision === undefined) return
  const binding = readBinding(decision)
  const calledDecision: CalledDecisionDefinition = {
    decisionId: trimmed(str(decision, 'decisionId')) ?? '',
    resultVariable: trimmed(str(decision, 'resultVariable')) ?? '',
    bindingType: binding.bindingType,
    ...(binding.versionTag !== undefined ? { versionTag: binding.versionTag } : {}),
  }
  element.calledDecision = calledDecision
}

/** A binding type that is not one of the three reads as 'latest' (validation reports it). */
function readBinding(extensionElement: ModdleElement): { bindingType: BindingType; versionTag?: string } {
  const raw = str(extensionElement, 'bindingType') ?? 'latest'
  const versionTag = trimmed(str(extensionElement, 'versionTag'))
  const bindingType: BindingType = BINDING_TYPES.has(raw) ? raw as BindingType : 'latest'
  return versionTag !== undefined ? { bindingType, versionTag } : { bindingType }
}

function readUserTask(item: ModdleElement): UserTaskDefinition {
  const task: UserTaskDefinition = {}
  const assignment = extension(item, 'zeebe:AssignmentDefinition')
  for (const key of ['assignee', 'candidateGroups', 'candidateUsers'] as const) {
    const value = trimmed(str(assignment, key))
    if (value !== undefined) task[key] = value
  }
  const schedule = extension(item, 'zeebe:TaskSchedule')
  for (const key of ['dueDate', 'followUpDate'] as const) {
    const value = trimmed(str(schedule, key))
    if (value !== undefined) task[key] = value
  }
  const priority = trimmed(str(extension(item, 'zeebe:PriorityDefinition'), 'priority'))
  if (priority !== undefined) task.priority = priority
  const form = extension(item, 'zeebe:FormDefinition')
  if (form === undefined) return task
  const externalReference = trimmed(str(form, 'externalReference'))
  if (externalReference !== undefined) task.externalReference = externalReference
  const formId = trimmed(str(form, 'formId'))
  if (formId !== undefined) {
    const binding = readBinding(form)
    task.formId = formId
    task.formBindingType = binding.bindingType
    if (binding.versionTag !== undefined) task.formVersionTag = binding.versionTag
  }
  return task
}

function readCalledElement(item: ModdleElement): CalledElementDefinition {
  const definition = extension(item, 'zeebe:CalledElement')
  const binding = definition !== undefined ? readBinding(definition) : { bindingType: 'latest' as const }
  return {
    processId: trimmed(str(definition, 'processId')) ?? '',
    bindingType: binding.bindingType,
    ...(binding.versionTag !== undefined ? { versionTag: binding.versionTag } : {}),
    propagateAllChildVariables: definition?.propagateAllChildVariables !== false,
    propagateAllParentVariables: definition?.propagateAllParentVariables !== false,
  }
}

function readLoop(item: ModdleElement, element: FlowElement): void {
  const loop = ref(item, 'loopCharacteristics')
  if (loop?.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return
  const zeebeLoop = extension(loop, 'zeebe:LoopCharacteristics')
  const inputElement = trimmed(str(zeebeLoop, 'inputElement'))
  const outputCollection = trimmed(str(zeebeLoop, 'outputCollection'))
  const outputElement = trimmed(str(zeebeLoop, 'outputElement'))
  const completionCondition = body(ref(loop, 'completionCondition'))
  const multiInstance: MultiInstanceDefinition = {
    isSequential: loop.isSequential === true,
    inputCollection: trimmed(str(zeebeLoop, 'inputCollection')) ?? '',
    ...(inputElement !== undefined ? { inputElement } : {}),
    ...(outputCollection !== undefined ? { outputCollection } : {}),
    ...(outputElement !== undefined ? { outputElement } : {}),
    ...(completionCondition !== undefined ? { completionCondition } : {}),
  }
  element.multiInstance = multiInstance
}

/** A message catch: the referenced bpmn:message gives the name, its zeebe:subscription the key. */
function readMessage(holder: ModdleElement, property: string): EventDefinition {
  const message = ref(holder, property)
  if (message === undefined) return { kind: 'message', messageName: '' }
  const correlationKey = trimmed(str(extension(message, 'zeebe:Subscription'), 'correlationKey'))
  return {
    kind: 'message',
    messageName: trimmed(str(message, 'name')) ?? '',
    ...(correlationKey !== undefined ? { correlationKey } : {}),
  }
}

const TIMER_TYPES = ['timeDuration', 'timeDate', 'timeCycle'] as const
export type TimerType = typeof TIMER_TYPES[number]

/** The timer definitions given, in the order timeDuration, timeDate, timeCycle. */
export function timerKinds(definition: ModdleElement): { timerType: TimerType; expression: string }[] {
  return TIMER_TYPES.flatMap((timerType) => {
    const expression = body(ref(definition, timerType))
    return expression !== undefined ? [{ timerType, expression }] : []
  })
}

function readTimer(definition: ModdleElement): EventDefinition {
  const first = timerKinds(definition)[0]
  if (first === undefined) return { kind: 'timer', timerType: 'timeDuration', expression: '' }
  return { kind: 'timer', timerType: first.timerType, expression: first.expression }
}
