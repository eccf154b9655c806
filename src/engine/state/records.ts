/**
 * Engine state as plain records, keyed by int64 keys held as decimal strings (Zeebe's partition-1
 * range). Plain data only (no class instances, no functions), so that storage can persist them.
 */

export type Key = string

/** Variable values are JSON values. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }
export type VariableDocument = Record<string, JsonValue>

export interface ResourceRecord {
  key: Key
  deploymentKey: Key
  resourceName: string
  /** md5 of the whole resource content, for duplicate detection */
  checksum: string
  content: string
  tenantId: string
}

export interface ProcessDefinitionRecord {
  key: Key
  bpmnProcessId: string
  name?: string
  version: number
  versionTag?: string
  resourceName: string
  resourceKey: Key
  deploymentKey: Key
  tenantId: string
  /** false once DeleteResource removed it */
  active: boolean
}

export interface DecisionDefinitionRecord {
  key: Key
  decisionId: string
  name?: string
  version: number
  versionTag?: string
  decisionRequirementsKey: Key
  decisionRequirementsId: string
  resourceName: string
  deploymentKey: Key
  tenantId: string
  active: boolean
}

export interface DecisionRequirementsRecord {
  key: Key
  decisionRequirementsId: string
  name?: string
  version: number
  resourceName: string
  resourceKey: Key
  deploymentKey: Key
  tenantId: string
  active: boolean
}

export interface FormRecord {
  key: Key
  formId: string
  version: number
  versionTag?: string
  resourceName: string
  resourceKey: Key
  deploymentKey: Key
  tenantId: string
  /** the form JSON as deployed */
  schema: string
  active: boolean
}

export type InstanceState = 'ACTIVE' | 'COMPLETED' | 'TERMINATED'

export interface ProcessInstanceRecord {
  key: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  version: number
  tenantId: string
  state: InstanceState
  startDate: number
  endDate?: number
  parentProcessInstanceKey?: Key
  parentElementInstanceKey?: Key
  /** element instance key of the root (PROCESS) element: equal to `key` */
  rootElementInstanceKey: Key
}

/** REST element types (ElementInstanceResult.type) */
export type RestElementType =
  | 'PROCESS' | 'SUB_PROCESS' | 'EVENT_SUB_PROCESS' | 'START_EVENT' | 'INTERMEDIATE_CATCH_EVENT'
  | 'INTERMEDIATE_THROW_EVENT' | 'BOUNDARY_EVENT' | 'END_EVENT' | 'SERVICE_TASK' | 'RECEIVE_TASK'
  | 'USER_TASK' | 'MANUAL_TASK' | 'TASK' | 'EXCLUSIVE_GATEWAY' | 'INCLUSIVE_GATEWAY'
  | 'PARALLEL_GATEWAY' | 'EVENT_BASED_GATEWAY' | 'MULTI_INSTANCE_BODY' | 'CALL_ACTIVITY'
  | 'BUSINESS_RULE_TASK' | 'SCRIPT_TASK' | 'SEND_TASK' | 'AD_HOC_SUB_PROCESS' | 'UNKNOWN'

export type ElementLifecycle =
  | 'ACTIVATING' | 'ACTIVATED' | 'COMPLETING' | 'COMPLETED' | 'TERMINATING' | 'TERMINATED'

export interface ElementInstanceRecord {
  key: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  tenantId: string
  elementId: string
  elementName?: string
  type: RestElementType
  lifecycle: ElementLifecycle
  /** flow scope element instance key; undefined for the PROCESS element */
  scopeKey?: Key
  startDate: number
  endDate?: number
  incidentKey?: Key
  /** multi-instance inner instance: 0-based index into the input collection */
  loopIndex?: number
}

export interface VariableRecord {
  key: Key
  name: string
  /** JSON value */
  value: JsonValue
  scopeKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  tenantId: string
}

/** What a search lists of a variable without reading its value (the live rows' field columns). */
export type VariableHead = Pick<VariableRecord, 'key' | 'name' | 'scopeKey' | 'processInstanceKey' | 'tenantId'>

export type JobState = 'ACTIVATABLE' | 'ACTIVATED' | 'FAILED' | 'ERROR_THROWN'

export interface JobRecord {
  key: Key
  type: string
  state: JobState
  retries: number
  /** epoch ms when an ACTIVATED job times out */
  deadline?: number
  worker?: string
  /** epoch ms before which a failed job with back-off is not activatable */
  recurAt?: number
  errorMessage?: string
  customHeaders: Record<string, string>
  /** a listener's job, or an ad-hoc subprocess's job worker (absent: the element's own job) */
  kind?: 'EXECUTION_LISTENER' | 'TASK_LISTENER' | 'AD_HOC_SUB_PROCESS'
  listenerEventType?: ListenerEventType
  elementId: string
  elementInstanceKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  processDefinitionVersion: number
  tenantId: string
  /** order of creation, for fair activation */
  createdAt: number
}

export interface TimerRecord {
  key: Key
  dueDate: number
  /** remaining repetitions; -1 = infinite; 1 = fire once */
  repetitions: number
  /** ISO 8601 interval of a cycle, or a cron expression; absent for one-shot timers */
  interval?: string
  cron?: string
  elementId: string
  /** element instance that owns the subscription (the catch event, the boundary host, the scope of an event subprocess); undefined for start-event timers */
  elementInstanceKey?: Key
  processInstanceKey?: Key
  processDefinitionKey: Key
  tenantId: string
}

export interface MessageRecord {
  key: Key
  name: string
  correlationKey: string
  messageId?: string
  variables: VariableDocument
  /** epoch ms after which the buffered message is dropped */
  expiresAt: number
  tenantId: string
  /** bpmnProcessIds this message already correlated to */
  correlatedProcessIds: string[]
}

export interface MessageSubscriptionRecord {
  key: Key
  messageName: string
  correlationKey: string
  elementId: string
  /** element instance key of the waiting element (catch event, receive task, boundary host, event-based gateway, event-subprocess scope) */
  elementInstanceKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  interrupting: boolean
  tenantId: string
}

export interface SignalSubscriptionRecord {
  key: Key
  signalName: string
  elementId: string
  /** undefined for start events */
  elementInstanceKey?: Key
  processInstanceKey?: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  tenantId: string
}

export type IncidentErrorType =
  | 'UNSPECIFIED' | 'UNKNOWN' | 'IO_MAPPING_ERROR' | 'JOB_NO_RETRIES' | 'CONDITION_ERROR'
  | 'EXTRACT_VALUE_ERROR' | 'CALLED_ELEMENT_ERROR' | 'UNHANDLED_ERROR_EVENT'
  | 'MESSAGE_SIZE_EXCEEDED' | 'CALLED_DECISION_ERROR' | 'DECISION_EVALUATION_ERROR'
  | 'FORM_NOT_FOUND' | 'RESOURCE_NOT_FOUND'

export interface IncidentRecord {
  key: Key
  errorType: IncidentErrorType
  errorMessage: string
  state: 'ACTIVE' | 'RESOLVED'
  creationTime: number
  elementId: string
  elementInstanceKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  jobKey?: Key
  tenantId: string
}

/** CREATING, ASSIGNING, UPDATING, COMPLETING, CANCELING: a lifecycle transition waits for its task listeners. */
export type UserTaskState = 'CREATING' | 'CREATED' | 'ASSIGNING' | 'UPDATING' | 'COMPLETING' | 'CANCELING' | 'COMPLETED' | 'CANCELED'

/** The user task attributes a transition changes and task listeners may correct. */
export interface UserTaskAttributes {
  assignee?: string
  candidateGroups?: string[]
  candidateUsers?: string[]
  dueDate?: string
  followUpDate?: string
  priority?: number
}

/** A lifecycle transition held by task listeners: which one runs, and what the transition will apply. */
export interface UserTaskTransition {
  event: 'creating' | 'assigning' | 'updating' | 'completing' | 'canceling'
  /** the listener whose job is open, by position among those of this event */
  index: number
  /** the attributes the command changes, then the listeners' corrections, applied when the last one completes */
  changes: UserTaskAttributes
  /** the attributes the command changes, without corrections: a transition run again starts from them */
  requested: UserTaskAttributes
  /** the names of the attributes the command changes (the changedAttributes header, with corrections) */
  changed: string[]
  /** the command's action (the io.camunda.zeebe:action header) */
  action: string
  /** completion: the variables the task completes with; a variables update: the variables to set on its element */
  variables?: VariableDocument
  /** a variables update: set locally on the user task's element (else merged outward) */
  local?: boolean
  /** creation: the model's assignee, assigned (through the assigning listeners) once created */
  assignAfter?: string
}

export type ListenerEventType = 'START' | 'END' | 'CREATING' | 'ASSIGNING' | 'UPDATING' | 'COMPLETING' | 'CANCELING'

export interface UserTaskRecord {
  key: Key
  state: UserTaskState
  name?: string
  elementId: string
  elementInstanceKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  bpmnProcessId: string
  processDefinitionVersion: number
  processName?: string
  assignee?: string
  candidateGroups: string[]
  candidateUsers: string[]
  /** ISO date-times */
  dueDate?: string
  followUpDate?: string
  priority: number
  formKey?: Key
  externalFormReference?: string
  customHeaders: Record<string, string>
  creationDate: number
  completionDate?: number
  tenantId: string
  /** a transition waiting for task listeners */
  transition?: UserTaskTransition
}

export type BatchOperationType = 'CANCEL_PROCESS_INSTANCE' | 'RESOLVE_INCIDENT' | 'MIGRATE_PROCESS_INSTANCE' | 'MODIFY_PROCESS_INSTANCE'
export type BatchOperationState = 'CREATED' | 'ACTIVE' | 'SUSPENDED' | 'COMPLETED' | 'PARTIALLY_COMPLETED' | 'CANCELED' | 'FAILED'
export type BatchItemState = 'ACTIVE' | 'COMPLETED' | 'SKIPPED' | 'CANCELED' | 'FAILED'

/** One item of a batch operation: a process instance, or an incident (RESOLVE_INCIDENT). */
export interface BatchOperationItemRecord {
  itemKey: Key
  processInstanceKey: Key
  state: BatchItemState
  processedDate?: number
  errorMessage?: string
}

/** A batch operation (Camunda 8.8): its items are fixed when it is created, then worked through in chunks. */
export interface BatchOperationRecord {
  key: Key
  type: BatchOperationType
  state: BatchOperationState
  startDate: number
  endDate?: number
  items: BatchOperationItemRecord[]
  migrationPlan?: { targetProcessDefinitionKey: Key; mappingInstructions: { sourceElementId: string; targetElementId: string }[] }
  moveInstructions?: { sourceElementId: string; targetElementId: string }[]
}

/** One decision evaluated (Camunda 8.8's decision instance): an evaluation of a DRG yields one per decision it evaluated. */
export interface DecisionInstanceRecord {
  /** decisionEvaluationInstanceKey: `<decisionEvaluationKey>-<n>`, n from 1 in evaluation order */
  key: string
  decisionEvaluationKey: Key
  state: 'EVALUATED' | 'FAILED'
  evaluationDate: number
  evaluationFailure?: string
  processDefinitionKey?: Key
  processInstanceKey?: Key
  elementInstanceKey?: Key
  decisionDefinitionKey: Key
  decisionDefinitionId: string
  decisionDefinitionName: string
  decisionDefinitionVersion: number
  decisionDefinitionType: 'DECISION_TABLE' | 'LITERAL_EXPRESSION' | 'CONTEXT' | 'LIST' | 'RELATION' | 'INVOCATION' | 'UNSPECIFIED'
  rootDecisionDefinitionKey: Key
  decisionRequirementsKey: Key
  /** the decision's output as JSON */
  result: string
  evaluatedInputs: { inputId: string; inputName: string; inputValue: string }[]
  matchedRules: { ruleId: string; ruleIndex: number; evaluatedOutputs: { outputId: string; outputName: string; outputValue: string }[] }[]
  tenantId: string
}

/** A completed activity that a compensation throw event can compensate (its handler not run yet). */
export interface CompensationSubscriptionRecord {
  key: Key
  processInstanceKey: Key
  /** the flow scope instance the activity completed in */
  flowScopeKey: Key
  activityId: string
  handlerId: string
}
