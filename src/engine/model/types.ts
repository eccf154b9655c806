/**
 * The executable model the runtime interprets. The BPMN parser (bpmn-moddle + zeebe-bpmn-moddle)
 * turns a deployed file into these plain records; the runtime never sees moddle objects.
 *
 * Expressions keep Zeebe's convention: a string starting with "=" is FEEL, anything else is a
 * static value. `Expr` holds the raw text; the runtime decides per site how to evaluate it.
 */

/** Raw expression text as written in the model: "=a + 1" (FEEL) or "static". */
export type Expr = string

export interface Mapping {
  /** Source expression (FEEL when it starts with "=", otherwise a static value). */
  source: Expr
  /** Target variable name, possibly a dotted path ("a.b"). */
  target: string
}

export type ElementType =
  | 'startEvent'
  | 'endEvent'
  | 'intermediateCatchEvent'
  | 'intermediateThrowEvent'
  | 'boundaryEvent'
  | 'serviceTask'
  | 'sendTask'
  | 'scriptTask'
  | 'businessRuleTask'
  | 'userTask'
  | 'receiveTask'
  | 'manualTask'
  | 'task'
  | 'exclusiveGateway'
  | 'parallelGateway'
  | 'inclusiveGateway'
  | 'eventBasedGateway'
  | 'subProcess'
  | 'callActivity'

/** What an event waits for or throws. `none` for plain start/end/throw events. */
export type EventDefinition =
  | { kind: 'none' }
  | { kind: 'message'; messageName: Expr; correlationKey?: Expr }
  | { kind: 'timer'; timerType: 'timeDuration' | 'timeDate' | 'timeCycle'; expression: Expr }
  | { kind: 'signal'; signalName: Expr }
  /** errorCode undefined = catch-all (catch side) */
  | { kind: 'error'; errorCode?: Expr; errorMessage?: Expr }
  /** escalationCode undefined = catch-all (catch side) */
  | { kind: 'escalation'; escalationCode?: Expr }
  | { kind: 'terminate' }
  /** a link throw event jumps to the link catch event of the same name in its scope */
  | { kind: 'link'; name: string }
  /** compensation: a throw event (activityRef: one activity, else every completed one of its scope), or a boundary event naming a handler */
  | { kind: 'compensation'; activityRef?: string; waitForCompletion: boolean }

export interface TaskDefinition {
  /** Job type: static string or FEEL. */
  type: Expr
  /** Retries: static number string or FEEL; default "3". */
  retries: Expr
}

export interface UserTaskDefinition {
  assignee?: Expr
  candidateGroups?: Expr
  candidateUsers?: Expr
  dueDate?: Expr
  followUpDate?: Expr
  priority?: Expr
  /** zeebe:formDefinition formId (linked Camunda Form) */
  formId?: string
  /** zeebe:formDefinition externalReference */
  externalReference?: Expr
  /** binding type of the form: latest (default), deployment, versionTag */
  formBindingType?: 'latest' | 'deployment' | 'versionTag'
  formVersionTag?: string
}

export interface MultiInstanceDefinition {
  isSequential: boolean
  inputCollection: Expr
  inputElement?: string
  outputCollection?: string
  outputElement?: Expr
  completionCondition?: Expr
}

export interface CalledElementDefinition {
  processId: Expr
  bindingType: 'latest' | 'deployment' | 'versionTag'
  versionTag?: string
  propagateAllChildVariables: boolean
  propagateAllParentVariables: boolean
}

export interface CalledDecisionDefinition {
  decisionId: Expr
  resultVariable: string
  bindingType: 'latest' | 'deployment' | 'versionTag'
  versionTag?: string
}

export interface ScriptDefinition {
  expression: Expr
  resultVariable: string
}

/** zeebe:executionListener: a job of `type` the lifecycle waits for, before (start) or after (end) the element's own work. */
export interface ExecutionListener {
  eventType: 'start' | 'end'
  type: Expr
  retries: Expr
}

/** A user task listener's lifecycle event (Zeebe 8.8; the deprecated names are read as these). */
export type TaskListenerEvent = 'creating' | 'assigning' | 'updating' | 'completing' | 'canceling'

export interface TaskListener {
  /** as written when it is none of the known names, for validation to name */
  eventType: TaskListenerEvent
  type: Expr
  retries: Expr
}

export interface FlowElement {
  id: string
  name?: string
  type: ElementType
  /** id of the enclosing flow scope: the process id, or a subProcess id */
  scopeId: string
  incoming: string[]
  outgoing: string[]
  /** event definition for events; { kind: 'none' } for plain events, absent for non-events */
  event?: EventDefinition
  /** boundaryEvent: attached activity and whether it interrupts */
  attachedTo?: string
  cancelActivity?: boolean
  /** boundary event ids attached to this activity */
  boundaryEvents: string[]
  /** gateway default flow id (exclusive, inclusive) or activity default flow */
  defaultFlow?: string
  taskDefinition?: TaskDefinition
  /** zeebe:taskHeaders, static */
  headers: Record<string, string>
  inputs: Mapping[]
  outputs: Mapping[]
  userTask?: UserTaskDefinition
  /** true when zeebe:userTask is present (Camunda user task); false = job-based user task */
  isCamundaUserTask?: boolean
  multiInstance?: MultiInstanceDefinition
  calledElement?: CalledElementDefinition
  calledDecision?: CalledDecisionDefinition
  script?: ScriptDefinition
  /** subProcess only */
  triggeredByEvent?: boolean
  /** an ad-hoc subprocess (a subProcess whose inner elements start as told, not from a start event) */
  adHoc?: AdHocDefinition
  /** start event of an event subprocess: interrupting or not */
  isInterrupting?: boolean
  /** isForCompensation: a compensation handler, never reached by a sequence flow */
  isForCompensation?: boolean
  /** an activity with a compensation boundary event: the handler its association names */
  compensationHandler?: string
  /** zeebe:executionListeners, in model order */
  executionListeners?: ExecutionListener[]
  /** zeebe:taskListeners of a user task, in model order */
  taskListeners?: TaskListener[]
  /** subProcess only: child element ids, start event ids, event-subprocess ids */
  children?: string[]
  startEvents?: string[]
  eventSubProcesses?: string[]
}

export interface AdHocDefinition {
  /** FEEL: the ids of the inner elements to activate on entering */
  activeElementsCollection?: Expr
  /** FEEL: evaluated each time an inner element completes */
  completionCondition?: Expr
  cancelRemainingInstances: boolean
  outputCollection?: string
  outputElement?: Expr
  /** zeebe:taskDefinition: the job worker implementation */
  taskDefinition?: TaskDefinition
}

export interface SequenceFlow {
  id: string
  sourceRef: string
  targetRef: string
  /** FEEL condition ("=..."), absent when unconditional */
  condition?: Expr
}

export interface ProcessModel {
  /** BPMN process id (bpmnProcessId) */
  id: string
  name?: string
  versionTag?: string
  elements: Map<string, FlowElement>
  flows: Map<string, SequenceFlow>
  /** ids of top-level start events (all kinds) */
  startEvents: string[]
  /** ids of top-level event subprocesses */
  eventSubProcesses: string[]
  /** top-level element ids */
  children: string[]
  /** the process's own zeebe:executionListeners */
  executionListeners?: ExecutionListener[]
}

/** One problem found while validating a resource, as Zeebe lists them. */
export interface Problem {
  /** element id, or undefined for resource-level problems */
  elementId?: string
  /** a problem of a whole process, as the engine (not the model validation) reports it: `Process: <id>` */
  processId?: string
  message: string
}
