/**
 * The command and query surface of the embedded engine. The gRPC gateway and the REST /v2 router
 * are thin adapters over it; neither knows how the engine executes anything.
 */
import type { MessagePort } from 'node:worker_threads'
import type {
  IncidentRecord, JobRecord, JsonValue, Key, ListenerEventType, VariableDocument, ProcessInstanceRecord, ElementInstanceRecord,
  VariableHead, VariableRecord, UserTaskRecord, ProcessDefinitionRecord, DecisionDefinitionRecord,
  DecisionRequirementsRecord, FormRecord, MessageSubscriptionRecord, BatchOperationRecord, BatchOperationType, DecisionInstanceRecord,
} from './state/records'
import type { Problem } from './model/types'
import type { HistoryKind, HistoryRecords, InstanceOrder, InstancePosition, InstanceRange, InstanceWhere } from './state/history'

export type { HistoryKind, HistoryRecords, InstanceOrder, InstancePosition, InstanceRange, InstanceWhere }
export { instanceMeets } from './state/history'
export { combinationCount, MAX_COMBINATIONS } from './state/ordered-history'

// The records the queries return are part of this API: the adapters name them through this
// module, never through state/.
export type {
  BatchOperationRecord, BatchOperationType, DecisionDefinitionRecord, DecisionInstanceRecord, DecisionRequirementsRecord, ElementInstanceRecord, FormRecord, IncidentRecord, MessageSubscriptionRecord,
  JobRecord, Key, ListenerEventType, ProcessDefinitionRecord, ProcessInstanceRecord, UserTaskRecord, VariableDocument, VariableHead, VariableRecord,
} from './state/records'

/** Zeebe's rejection types. The adapters map them to gRPC status codes and HTTP statuses. */
export type RejectionType =
  | 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'INVALID_STATE' | 'ALREADY_EXISTS' | 'RESOURCE_EXHAUSTED'

/** A rejected command: the message names the key or element, as Zeebe's rejections do. */
export class EngineError extends Error {
  constructor(
    readonly type: RejectionType,
    message: string,
    /** the command intent, e.g. 'CREATE', 'COMPLETE' (used in REST problem detail) */
    readonly intent: string = 'UNKNOWN',
    /** for deployment rejections: every problem found, per resource */
    readonly problems: { resourceName: string; problems: Problem[] }[] = [],
  ) {
    super(message)
    this.name = 'EngineError'
  }
}

/** A command refused, or not acknowledged, because the store cannot write (`reason`). */
export function storeRefusal(reason: string, intent = 'UNKNOWN'): EngineError {
  return new EngineError('RESOURCE_EXHAUSTED', `The engine cannot store commands: ${reason}`, intent)
}

export interface DeployResourceInput {
  name: string
  content: Buffer
}

export type DeployedItem =
  | { kind: 'process'; bpmnProcessId: string; version: number; processDefinitionKey: Key; resourceName: string; tenantId: string }
  | { kind: 'decision'; decisionId: string; name?: string; version: number; decisionKey: Key; decisionRequirementsId: string; decisionRequirementsKey: Key; tenantId: string }
  | { kind: 'decisionRequirements'; decisionRequirementsId: string; name?: string; version: number; decisionRequirementsKey: Key; resourceName: string; tenantId: string }
  | { kind: 'form'; formId: string; version: number; formKey: Key; resourceName: string; tenantId: string }

export interface DeploymentResult {
  deploymentKey: Key
  tenantId: string
  deployments: DeployedItem[]
}

export interface StartInstruction {
  elementId: string
}

export interface CreateInstanceInput {
  bpmnProcessId?: string
  /** -1 or undefined = latest */
  version?: number
  processDefinitionKey?: Key
  variables?: VariableDocument
  startInstructions?: StartInstruction[]
  /** REST 8.8: TERMINATE_PROCESS_INSTANCE after an element completes (Camunda Modeler's task testing) */
  runtimeInstructions?: Array<{ type: 'TERMINATE_PROCESS_INSTANCE'; afterElementId: string }>
  tenantId?: string
}

/** Modification (gRPC ModifyProcessInstance, REST /modification): activate elements, terminate element instances. */
export interface ModifyActivateInstruction {
  elementId: string
  /** choose among several instances of a flow scope; '-1' or absent = no choice */
  ancestorElementInstanceKey?: Key
  /** local variables for a flow scope of the element (scopeId), the element itself, or the process ('' ) */
  variableInstructions?: { variables: VariableDocument; scopeId?: string }[]
}

export interface ModifyInstanceInput {
  processInstanceKey: Key
  activateInstructions?: ModifyActivateInstruction[]
  terminateInstructions?: { elementInstanceKey: Key }[]
}

/** Migration (gRPC MigrateProcessInstance, REST /migration) to another process definition. */
export interface MigrateInstanceInput {
  processInstanceKey: Key
  targetProcessDefinitionKey: Key
  mappingInstructions: { sourceElementId: string; targetElementId: string }[]
}

/** A batch operation over items chosen by a filter (the REST layer resolves the filter to items). */
export interface BatchOperationInput {
  type: BatchOperationType
  items: { itemKey: Key; processInstanceKey: Key }[]
  migrationPlan?: { targetProcessDefinitionKey: Key; mappingInstructions: { sourceElementId: string; targetElementId: string }[] }
  moveInstructions?: { sourceElementId: string; targetElementId: string }[]
}

export interface EvaluateDecisionInput {
  decisionId?: string
  decisionKey?: Key
  variables?: VariableDocument
  tenantId?: string
}

export interface CreatedInstance {
  processDefinitionKey: Key
  bpmnProcessId: string
  version: number
  processInstanceKey: Key
  tenantId: string
}

/**
 * The result a worker may give when completing a job (REST `result`, Camunda 8.8): a user task
 * listener's (`userTask`) or an ad-hoc subprocess's (`adHocSubProcess`); ignored on other jobs.
 */
export interface JobResult {
  type?: string
  /** a user task listener's: deny the lifecycle transition */
  denied?: boolean
  deniedReason?: string
  /** a user task listener's corrections of the task's attributes */
  corrections?: Record<string, unknown>
  activateElements?: { elementId: string; variables?: Record<string, JsonValue> }[]
  isCompletionConditionFulfilled?: boolean
  isCancelRemainingInstances?: boolean
}

export interface ActivatedJob {
  key: Key
  type: string
  processInstanceKey: Key
  bpmnProcessId: string
  processDefinitionVersion: number
  processDefinitionKey: Key
  elementId: string
  elementInstanceKey: Key
  customHeaders: Record<string, string>
  worker: string
  retries: number
  /** epoch ms */
  deadline: number
  variables: VariableDocument
  tenantId: string
  /** an execution listener's job (REST shows its kind; the gRPC message has no such field) */
  kind?: 'EXECUTION_LISTENER' | 'TASK_LISTENER' | 'AD_HOC_SUB_PROCESS'
  listenerEventType?: ListenerEventType
}

export interface ActivateJobsInput {
  type: string
  worker: string
  /** job timeout in ms */
  timeout: number
  maxJobsToActivate: number
  /** names to fetch; empty or undefined = all visible variables */
  fetchVariables?: string[]
  tenantIds?: string[]
}

/** A long-lived job stream (StreamActivatedJobs). The engine pushes jobs to it as they appear. */
export interface JobStream {
  type: string
  worker: string
  timeout: number
  fetchVariables?: string[]
  tenantIds?: string[]
  /** Deliver one activated job. Return false when the stream can no longer take it (closed): the engine then makes the job activatable again. */
  push(job: ActivatedJob): boolean
  /**
   * The stream holds each job until its activation is committed (a gRPC thread told by the log
   * thread, CommitNotices): the engine pushes it once the command has run, without waiting itself.
   */
  holdsUntilCommitted?: boolean
}

/**
 * Where a gateway learns how far the engine's log is committed, to release answers itself: a port
 * on which the log thread posts `{ ok: true, upTo }` as commits land (first how far it is now) and
 * `{ ok: false, upTo, error }` when a write up to `upTo` failed; `failurePrefix` comes before
 * `error` in what a client is told.
 */
export interface CommitNotices { port: MessagePort; failurePrefix: string }

export interface PublishMessageInput {
  name: string
  correlationKey: string
  /** ms; 0 = not buffered */
  timeToLive: number
  messageId?: string
  variables?: VariableDocument
  tenantId?: string
}

export interface DecisionEvaluationResult {
  decisionKey: Key
  decisionId: string
  decisionName: string
  decisionVersion: number
  decisionRequirementsId: string
  decisionRequirementsKey: Key
  /** JSON string of the output */
  decisionOutput: string
  evaluatedDecisions: EvaluatedDecisionInfo[]
  failedDecisionId: string
  failureMessage: string
  tenantId: string
  decisionInstanceKey: Key
}

export interface EvaluatedDecisionInfo {
  decisionKey: Key
  decisionId: string
  decisionName: string
  decisionVersion: number
  decisionType: string
  /** JSON string */
  decisionOutput: string
  matchedRules: { ruleId: string; ruleIndex: number; evaluatedOutputs: { outputId: string; outputName: string; outputValue: string }[] }[]
  evaluatedInputs: { inputId: string; inputName: string; inputValue: string }[]
  tenantId: string
}

/** Read access for the REST search endpoints and tests. Returns plain records. */
/**
 * Narrows a query to what a search asks for, so that the history (finished instances, in the data
 * dir) is read by index rather than whole: records of one process instance (for process instances,
 * the instance itself), or only the live records.
 */
export interface QueryScope {
  processInstanceKey?: Key
  /** only records of instances still running (an active incident is never in the history) */
  live?: boolean
}

export interface EngineQueries {
  processInstances(scope?: QueryScope): Iterable<ProcessInstanceRecord>
  processInstance(key: Key): ProcessInstanceRecord | undefined
  elementInstances(scope?: QueryScope): Iterable<ElementInstanceRecord>
  elementInstance(key: Key): ElementInstanceRecord | undefined
  variables(scope?: QueryScope): Iterable<VariableRecord>
  /** the live variables held in memory */
  heldVariables(): Iterable<VariableRecord>
  /** up to `limit` live variables left in the data dir's rows, after `afterKey` in key order, as heads (their values not read); fewer only when there are no more */
  variableHeadsInRows(afterKey: Key | undefined, limit: number): VariableHead[]
  variable(key: Key): VariableRecord | undefined
  incidents(scope?: QueryScope): Iterable<IncidentRecord>
  /** the open message subscriptions of waiting elements */
  messageSubscriptions(): Iterable<MessageSubscriptionRecord>
  incident(key: Key): IncidentRecord | undefined
  jobs(): Iterable<JobRecord>
  userTasks(scope?: QueryScope): Iterable<UserTaskRecord>
  userTask(key: Key): UserTaskRecord | undefined
  processDefinitions(): Iterable<ProcessDefinitionRecord>
  decisionDefinitions(): Iterable<DecisionDefinitionRecord>
  decisionRequirements(): Iterable<DecisionRequirementsRecord>
  forms(): Iterable<FormRecord>
  /** BPMN XML of a process definition */
  processDefinitionXml(processDefinitionKey: Key): string | undefined
  batchOperations(): Iterable<BatchOperationRecord>
  decisionInstances(scope?: QueryScope): Iterable<DecisionInstanceRecord>
  decisionInstance(key: string): DecisionInstanceRecord | undefined
  /** Finished process instances meeting `where`, in key order, after `afterKey`, at most `limit` (by the history's indexes). */
  processInstanceHistory(where: InstanceWhere, afterKey: Key | undefined, limit: number): ProcessInstanceRecord[]
  /** Finished records of `kind` (of one process instance, if given), in key order, after `afterKey`, at most `limit`. */
  history<K extends HistoryKind>(kind: K, processInstanceKey: Key | undefined, afterKey: Key | undefined, limit: number): HistoryRecords[K][]
  /** Finished process instances in `order` (by a date, then key), after `after`, at most `limit`: read by the history's index for that order, unfiltered. */
  processInstanceHistoryBy(order: InstanceOrder, after: InstancePosition | undefined, limit: number): ProcessInstanceRecord[]
  /** The definitions the finished process instances are of: their keys, each once, in key order. */
  processInstanceHistoryDefinitions(): Key[]
  /** How many finished process instances meet `where`, counted up to `cap`. */
  processInstanceHistoryCount(where: InstanceWhere, cap: number): number
  /** The keys of finished process instances meeting `where`, in key order, after `afterKey`, at most `limit`, each with whether it meets `ranges` too (not read into the event loop). */
  processInstanceHistoryTally(where: InstanceWhere, ranges: readonly InstanceRange[], afterKey: Key | undefined, limit: number): [Key, boolean][]
}

export interface EngineApi {
  readonly queries: EngineQueries

  deploy(resources: DeployResourceInput[], tenantId?: string): Promise<DeploymentResult>
  deleteResource(resourceKey: Key): void

  createProcessInstance(input: CreateInstanceInput): CreatedInstance
  /** Resolves with the root variables (or only `fetchVariables`) when the instance completes; rejects if it is terminated or the timeout passes. */
  awaitCompletion(processInstanceKey: Key, fetchVariables: string[] | undefined, timeoutMs: number): Promise<VariableDocument>
  cancelProcessInstance(processInstanceKey: Key): void
  modifyProcessInstance(input: ModifyInstanceInput): void
  migrateProcessInstance(input: MigrateInstanceInput): void

  /** Activate inner elements of an active ad-hoc subprocess (REST ad-hoc activities activation). */
  activateAdHocElements(adHocSubProcessInstanceKey: Key, elements: { elementId: string; variables?: VariableDocument }[]): void

  createBatchOperation(input: BatchOperationInput): BatchOperationRecord
  suspendBatchOperation(key: Key): void
  resumeBatchOperation(key: Key): void
  cancelBatchOperation(key: Key): void

  /** Activate up to maxJobsToActivate jobs now (no waiting). */
  activateJobs(input: ActivateJobsInput): ActivatedJob[]
  /** Jobs activated for a caller that can no longer take them are activatable again, retries unchanged. */
  yieldJobs(jobKeys: Key[]): void
  /** Called whenever jobs of `type` may have become activatable. Returns an unsubscribe function. */
  onJobsAvailable(type: string, listener: () => void): () => void
  addJobStream(stream: JobStream): () => void

  completeJob(jobKey: Key, variables?: VariableDocument, result?: JobResult): void
  failJob(jobKey: Key, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void
  throwError(jobKey: Key, errorCode: string, errorMessage: string, variables?: VariableDocument): void
  updateJobRetries(jobKey: Key, retries: number): void
  updateJobTimeout(jobKey: Key, timeout: number): void

  publishMessage(input: PublishMessageInput): { key: Key; tenantId: string }
  /** Correlate now or throw NOT_FOUND; never buffers. */
  correlateMessage(input: Omit<PublishMessageInput, 'timeToLive' | 'messageId'>): { messageKey: Key; processInstanceKey: Key; tenantId: string }
  broadcastSignal(signalName: string, variables?: VariableDocument, tenantId?: string): { key: Key; tenantId: string }

  setVariables(elementInstanceKey: Key, variables: VariableDocument, local: boolean): { key: Key }
  resolveIncident(incidentKey: Key): void

  evaluateDecision(input: EvaluateDecisionInput): DecisionEvaluationResult

  completeUserTask(userTaskKey: Key, variables?: VariableDocument, action?: string): void
  assignUserTask(userTaskKey: Key, assignee: string, allowOverride: boolean, action?: string): void
  unassignUserTask(userTaskKey: Key, action?: string): void
  updateUserTask(userTaskKey: Key, changeset: { dueDate?: string | null; followUpDate?: string | null; candidateUsers?: string[] | null; candidateGroups?: string[] | null; priority?: number | null }, action?: string): void
  /**
   * Settles when the task's lifecycle transition, held by task listeners, ends (rejected with
   * Zeebe's reason when a listener denies it); undefined when no transition is held.
   */
  userTaskSettled(userTaskKey: Key): Promise<void> | undefined
  /** The same for variables set on a user task's element, an update its updating listeners hold. */
  variablesSettled(elementInstanceKey: Key): Promise<void> | undefined

  /** Engine clock, epoch ms. */
  now(): number

  /** Resolves once every command accepted so far is stored durably; adapters answer only then. */
  whenDurable(): Promise<void>
  /**
   * A channel of commit notices for a gateway that releases answers itself, instead of waiting
   * with whenDurable; undefined when the engine keeps no log (in memory).
   */
  commitNotices(): CommitNotices | undefined
  /** The log position of the last command accepted (0 without a log): an answer given now waits until the log is committed up to it. */
  commitPosition(): number
}
