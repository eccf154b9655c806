import type { ActivatedJob, EngineError, JobResult, JobStream } from '../api'
import type { Clock } from '../clock'
import type { ElementType, ExecutionListener, FlowElement, ProcessModel, TaskListener } from '../model/types'
import type {
  IncidentErrorType, JobRecord, Key, MessageRecord, RestElementType, SignalSubscriptionRecord, TimerRecord, UserTaskRecord,
  VariableDocument,
} from '../state/records'
import type { History } from '../state/history'
import type { Command, TaskChangeset } from './commands'
import type { Expressions } from './expressions'
import type { CommandRunner } from './journal'
import type { DeployedProcess, Repository } from './repository'
import type { AfterChildrenTerminated, AfterTermination, ElementInstance, InstanceRuntime, RuntimeState } from './runtime-state'
import type { TimerSchedule } from './timer-schedule'
import type { VariableStore } from './variables'

/*
 * The contracts between the processing context, the behaviours and the element processors.
 * Behaviours and processors depend on these types only, and the context (context.ts) on them and
 * on the behaviour classes, so no import runs in a circle.
 */

/** behaviors/due-timers */
export interface DueTimersBehavior {
  schedule(timerType: 'timeDuration' | 'timeDate' | 'timeCycle', expression: string, vars: () => Record<string, unknown>): TimerSchedule
  addTimer(s: TimerSchedule, owner: Omit<TimerRecord, 'key' | 'dueDate' | 'repetitions' | 'interval' | 'cron'>): TimerRecord
  armWake(): void
  stop(): void
  processDue(): void
  fireAllDue(): void
  fireNextDue(): void
}

/** behaviors/event-subscriptions */
export interface EventSubscriptionsBehavior {
  openEventSubscription(owner: ElementInstance, catchEl: FlowElement): void
  openBoundarySubscriptions(host: ElementInstance, el: FlowElement): void
  openScopeEventSubscriptions(scope: ElementInstance, eventSubProcesses: string[], model: ProcessModel): void
  closeSubscriptions(ei: ElementInstance): void
  removeMessageSub(key: Key): void
  addSignalSub(s: Omit<SignalSubscriptionRecord, 'key'>): SignalSubscriptionRecord
  removeSignalSub(key: Key): void
  trigger(owner: ElementInstance, catchEl: FlowElement, payload: VariableDocument): void
  triggerEventSubProcess(scope: ElementInstance, esp: FlowElement, start: FlowElement, payload: VariableDocument): void
  openStartSubscriptions(p: DeployedProcess): void
  closeStartSubscriptions(p: DeployedProcess): void
}

/** behaviors/flow */
export interface FlowBehavior {
  newElementInstance(scope: ElementInstance, el: FlowElement, type?: RestElementType): ElementInstance
  activate(scope: ElementInstance, el: FlowElement, flowId?: string, payload?: VariableDocument): void
  runActivation(ei: ElementInstance): void
  continueActivation(ei: ElementInstance): void
  complete(ei: ElementInstance, flows?: string[]): void
  finishCompletion(ei: ElementInstance, flows: string[]): void
  drain(budget: number): number
  dropTokensIn(scope: ElementInstance): void
  checkScopeCompletion(scope: ElementInstance): void
  terminate(root: ElementInstance, then?: AfterTermination, withListeners?: boolean): boolean
  resumeTermination(ei: ElementInstance): void
  whenChildrenTerminated(scope: ElementInstance, then: AfterChildrenTerminated): void
}

/** behaviors/compensation */
export interface CompensationsBehavior {
  subscribe(ei: ElementInstance, el: FlowElement): void
  throw(ei: ElementInstance, activityRef: string | undefined): boolean
  handlerCompleted(handler: ElementInstance): void
  dropOf(processInstanceKey: Key): void
}

/** behaviors/listeners */
export interface ExecutionListenersBehavior {
  begin(ei: ElementInstance, eventType: 'start' | 'end', flows?: string[]): boolean
  onJobCompleted(ei: ElementInstance, job: JobRecord, variables: VariableDocument | undefined): void
  retryProcess(root: ElementInstance): void
}

/** behaviors/incidents */
export interface IncidentsBehavior {
  raise(ei: ElementInstance, errorType: IncidentErrorType, errorMessage: string, jobKey?: Key): void
  guard(ei: ElementInstance, step: () => void): boolean
  resolveOf(ei: ElementInstance): void
  pinFailedCommand(entry: Command, error: unknown, keyCounterBefore: number): { processInstanceKey?: Key; incidentKey?: Key }
  retry(ei: ElementInstance): void
}

/** behaviors/instances */
export interface InstancesBehavior {
  start(def: DeployedProcess, variables: VariableDocument, startIds: string[], parent?: ElementInstance, payload?: VariableDocument, terminateAfter?: string[]): InstanceRuntime
  continueStart(root: ElementInstance): void
  completeProcess(root: ElementInstance): void
  finishCompletion(root: ElementInstance): void
  cancel(inst: InstanceRuntime, withListeners?: boolean): void
  finish(inst: InstanceRuntime, state: 'COMPLETED' | 'TERMINATED'): void
  awaitCompletion(processInstanceKey: Key, fetchVariables: string[] | undefined, timeoutMs: number): Promise<VariableDocument>
  rejectAwaiters(): void
}

/** behaviors/jobs */
export interface JobsBehavior {
  createJob(ei: ElementInstance, el: FlowElement): void
  createListenerJob(ei: ElementInstance, listener: ExecutionListener, elementId: string): void
  createAdHocJob(ei: ElementInstance, el: FlowElement): void
  createTaskListenerJob(ei: ElementInstance, listener: TaskListener, headers: Record<string, string>): void
  cancelJobOf(ei: ElementInstance): void
  makeActivatable(job: JobRecord): void
  remove(job: JobRecord): void
  activate(job: JobRecord, worker: string, timeout: number, fetch?: string[]): ActivatedJob
  activateQuietly(job: JobRecord, worker: string, timeout: number, fetch?: string[]): ActivatedJob
  /** gives an activated job back: activatable again, retries unchanged */
  yieldJob(jobKey: Key): void
  fail(job: JobRecord, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void
  throwError(job: JobRecord, errorCode: string, errorMessage: string, variables?: VariableDocument): void
  onJobsAvailable(type: string, listener: () => void): () => void
  addStream(stream: JobStream): () => void
}

/** behaviors/messages */
export interface MessagesBehavior {
  registerMessageStart(p: DeployedProcess, el: FlowElement): void
  checkBufferedLater(subKey: Key): void
  settle(): void
  correlate(message: MessageRecord): Key | undefined
  retryBufferedStart(inst: InstanceRuntime): void
}

/** behaviors/propagation */
export interface PropagationBehavior {
  throwError(thrower: ElementInstance, code: string, variables: VariableDocument): boolean
  throwEscalation(thrower: ElementInstance, code: string): boolean
  availableErrorCodes(thrower: ElementInstance): string[]
}

/** behaviors/signals */
export interface SignalsBehavior {
  broadcast(signalName: string, variables: VariableDocument, tenantId: string): Key
}

/** behaviors/user-tasks */
export interface UserTasksBehavior {
  create(ei: ElementInstance, el: FlowElement): void
  dateOption(expr: string | undefined, vars: () => Record<string, unknown>): string | undefined
  cancelTaskOf(ei: ElementInstance): void
  holdForCanceling(ei: ElementInstance): boolean
  openTask(userTaskKey: Key, intent: string): UserTaskRecord
  assign(task: UserTaskRecord, assignee: string | undefined, action: string): void
  update(task: UserTaskRecord, changeset: TaskChangeset, action: string): void
  complete(task: UserTaskRecord, variables: VariableDocument | undefined, action: string): void
  updateVariables(ei: ElementInstance, variables: VariableDocument, local: boolean): boolean
  retryTransition(ei: ElementInstance): boolean
  adoptJobWorkerTask(ei: ElementInstance, el: FlowElement): void
  listenerResultRejection(job: JobRecord, variables: VariableDocument | undefined, result: JobResult | undefined): EngineError | undefined
  onListenerJobCompleted(job: JobRecord, result: JobResult | undefined): void
  settled(userTaskKey: Key): Promise<void> | undefined
}

/** behaviors/variable-mappings */
export interface VariableMappingsBehavior {
  applyInputs(ei: ElementInstance, el: FlowElement): void
  applyOutputs(ei: ElementInstance, el: FlowElement): void
}

/**
 * What one kind of element does at each step of its lifecycle (Zeebe's BpmnElementProcessor).
 * The generic steps (input and output mappings, taking flows, closing subscriptions) are the
 * flow behaviour's; a processor adds only what its kind does differently.
 */
export interface ElementProcessor {
  /** After the input mappings: complete at once, or open what the element waits for. */
  onActivate(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void
  /** When completing, before leaving: the element's output (output mappings for most kinds). */
  onComplete(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void
  /** Kind-specific clean-up when the instance is terminated (its job, user task). */
  onTerminate(ctx: ProcessingContext, ei: ElementInstance): void
  /**
   * Before the termination ends: true while the element holds it (its task's canceling listeners
   * run, its called instance is held). Without `withListeners`, nothing may hold it.
   */
  onTerminating?(ctx: ProcessingContext, ei: ElementInstance, withListeners: boolean): boolean
  /** An event the element itself waits on occurred; by default the element completes with its payload. */
  onEventOccurred?(ctx: ProcessingContext, ei: ElementInstance, catchEl: FlowElement, payload: VariableDocument): void
  /** Its incident was resolved: true when the processor continued the element itself. */
  onIncidentResolved?(ctx: ProcessingContext, ei: ElementInstance): boolean
}

export type ElementProcessors = Record<ElementType, ElementProcessor>

export interface MultiInstanceBodyProcessor extends ElementProcessor {
  /** An inner instance finished: collect its output, check the completion condition, go on. */
  onInnerCompleted(ctx: ProcessingContext, body: ElementInstance, inner: ElementInstance): void
}

/**
 * What element processors and behaviours work with: the state, the deployed models, expression
 * evaluation, variables, the command runner, and every behaviour (Zeebe's BpmnBehaviors).
 */
export interface ProcessingContext {
  readonly clock: Clock
  readonly state: RuntimeState
  /** The clock FEEL and decisions read: engine time. */
  readonly engineClock: Clock
  readonly runner: CommandRunner
  readonly repo: Repository
  readonly expr: Expressions
  readonly vars: VariableStore
  readonly flow: FlowBehavior
  readonly instances: InstancesBehavior
  readonly mappings: VariableMappingsBehavior
  readonly incidents: IncidentsBehavior
  readonly listeners: ExecutionListenersBehavior
  readonly compensation: CompensationsBehavior
  readonly subscriptions: EventSubscriptionsBehavior
  readonly propagation: PropagationBehavior
  readonly jobs: JobsBehavior
  readonly userTasks: UserTasksBehavior
  readonly messages: MessagesBehavior
  readonly signals: SignalsBehavior
  readonly timers: DueTimersBehavior
  readonly processors: ElementProcessors
  readonly multiInstance: MultiInstanceBodyProcessor
  readonly closed: boolean
  /** finished instances, out of the live state */
  readonly history: History
  /** root instances finished by the command under way: they go to the history at its end */
  endedRoots: Key[]
  /** the element instance the latest step worked on: a command that fails is pinned on it */
  current: ElementInstance | undefined
  now(): number
  nextKey(): Key
  model(ei: ElementInstance): ProcessModel
  scopeOf(ei: ElementInstance): ElementInstance | undefined
  visible(ei: ElementInstance): () => Record<string, unknown>
  processorOf(ei: ElementInstance): ElementProcessor
}
