import type { FlowElement } from '../model/types'
import type {
  BatchOperationRecord, CompensationSubscriptionRecord, DecisionInstanceRecord, ElementInstanceRecord, IncidentRecord, JobRecord, JsonValue, Key, MessageRecord, MessageSubscriptionRecord,
  ProcessInstanceRecord, SignalSubscriptionRecord, TimerRecord, UserTaskRecord, VariableDocument,
} from '../state/records'
import { KeyIndex } from '../state/key-index'
import { DirtyTracker, RecordMap, type ColdRows } from '../state/record-map'
import { DueQueue } from './due-queue'
import type { DeployedProcess } from './repository'

/** Runtime state of an element instance: the record plus what the interpreter needs. */
export interface ElementInstance extends ElementInstanceRecord {
  /** undefined for the PROCESS element */
  element?: FlowElement
  definitionKey: Key
  /** trigger payload applied on completion (engine-semantics §2.6) */
  payload?: VariableDocument
  jobKey?: Key
  userTaskKey?: Key
  childInstanceKey?: Key
  /** timers, message and signal subscriptions owned by this instance */
  timerKeys?: Key[]
  messageSubKeys?: Key[]
  signalSubKeys?: Key[]
  /** the execution listeners of one event type under way: the next to run, and the flows to take after the end ones */
  listener?: { eventType: 'start' | 'end'; index: number; flows?: string[] }
  /** a process instance whose start listeners run: what to start once they are done */
  pendingStart?: { startIds: string[]; payload?: VariableDocument }
  /** a compensation handler: the throw event waiting for it */
  compensationOf?: Key
  /** a compensation throw event: how many of its handlers are still running */
  compensating?: number
  /** an ad-hoc subprocess whose completion condition was met: it completes once nothing inside is active */
  adHocDone?: boolean
  /** an ad-hoc subprocess where something was activated (with nothing, it stays active) */
  adHocActivated?: boolean
  /** a scope where an interrupting event subprocess fired */
  interrupted?: boolean
  /** an element whose termination waits for canceling task listeners below it: what follows once it is terminated */
  afterTermination?: AfterTermination
  /** a scope whose children are being terminated, some held by canceling task listeners: what it does once the last is terminated */
  afterChildrenTerminated?: AfterChildrenTerminated
  /** tokens waiting at joining gateways of this scope: gatewayId -> flowId -> count */
  joins?: Record<string, Record<string, number>>
  /** sequence flows taken towards elements of this scope, not yet activated (the work stack holds them) */
  tokensInTransit?: number
  /** multi-instance body bookkeeping */
  mi?: { total: number; active: number; completed: number; terminated: number; next: number; items: JsonValue[] }
  isMiBody?: boolean
}

export interface InstanceRuntime extends ProcessInstanceRecord {
  /** correlation key of the message that started it (message start events) */
  startCorrelationKey?: string
  /** runtime instructions of its creation: the instance is terminated once one of these elements completes */
  terminateAfter?: string[]
}

/**
 * What follows the termination of an element held by canceling task listeners (plain data, so
 * that it is snapshotted): the instance ends as canceled, a called instance's call activity goes
 * on terminating, or an interrupting boundary event is entered.
 */
export type AfterTermination =
  | { k: 'cancel-instance' }
  | { k: 'called-instance' }
  | { k: 'boundary'; catchId: string; payload: VariableDocument }

/** What a scope does once the children it terminated are all gone: complete (a multi-instance completion condition), or enter an interrupting event subprocess. */
export type AfterChildrenTerminated =
  | { k: 'complete' }
  | { k: 'event-subprocess'; espId: string; payload: VariableDocument }

/**
 * One step of straight-through execution waiting on the work stack: take a sequence flow into
 * a scope (activate its target), check whether a scope is done, or fire the next due entry
 * (each one's consequences run before the next fires). Plain data, so that a command that
 * yields with work left can be snapshotted and resumed.
 */
export type WorkItem =
  | { k: 'take'; scope: Key; flow: string }
  | { k: 'check'; scope: Key }
  | { k: 'due' }

/**
 * Everything the engine holds, as maps of records and the indexes derived from them. The
 * behaviours read and change it; a snapshot exports it.
 */
export class RuntimeState {
  /** last key handed out (keys are PARTITION_BASE + counter) */
  counter = 0
  /** by parent instance: a finished root instance's called instances are found without a scan */
  readonly instances = new RecordMap<Key, InstanceRuntime>('instance', (i) => i.parentProcessInstanceKey)
  /** the records below are found by process instance the same way */
  readonly elements = new RecordMap<Key, ElementInstance>('element', (e) => e.processInstanceKey)
  readonly activeChildren = new KeyIndex()
  readonly jobs = new RecordMap<Key, JobRecord>('job', (j) => j.processInstanceKey)
  readonly activatable = new KeyIndex()
  readonly timers = new RecordMap<Key, TimerRecord>('timer')
  readonly messages = new RecordMap<Key, MessageRecord>('message')
  readonly messageSubs = new RecordMap<Key, MessageSubscriptionRecord>('messageSubscription')
  /** by a hash of tenant, message name and correlation key: a group may hold other correlations' subscriptions */
  readonly messageSubIndex = new KeyIndex({ hashed: true })
  /** message start events of latest versions: name -> definition key -> element ids */
  readonly messageStarts = new Map<string, Map<Key, string[]>>()
  readonly signalSubs = new RecordMap<Key, SignalSubscriptionRecord>('signalSubscription')
  readonly signalIndex = new KeyIndex()
  readonly incidents = new RecordMap<Key, IncidentRecord>('incident', (i) => i.processInstanceKey)
  readonly userTasks = new RecordMap<Key, UserTaskRecord>('userTask', (t) => t.processInstanceKey)
  readonly batches = new RecordMap<Key, BatchOperationRecord>('batch')
  /** completed activities with a compensation handler, not compensated yet */
  readonly compensations = new RecordMap<Key, CompensationSubscriptionRecord>('compensation')
  /** decisions evaluated, by decisionEvaluationInstanceKey */
  readonly decisionInstances = new RecordMap<string, DecisionInstanceRecord>('decisionInstance', (d) => d.processInstanceKey)
  readonly due = new DueQueue()
  /** straight-through steps still to run, last pushed first (depth-first, as a call would) */
  work: WorkItem[] = []
  /** Models of deleted definitions stay reachable for their (finished) instances. */
  readonly retiredModels = new Map<Key, DeployedProcess>()

  /** The maps of records a checkpoint stores, each with its kind (variables are the VariableStore's). */
  recordMaps(): RecordMap<string, object>[] {
    return [
      this.instances, this.elements, this.jobs, this.timers, this.messages, this.messageSubs, this.signalSubs,
      this.incidents, this.userTasks, this.batches, this.compensations, this.decisionInstances,
    ] as RecordMap<string, object>[]
  }

  /** Let records be left out of memory and read again from `rows` (element instances get their model element back). */
  useColdRows(rows: ColdRows, modelElement: (e: ElementInstance) => FlowElement | undefined): void {
    for (const map of this.recordMaps()) map.useColdRows(rows)
    this.elements.useColdRows(rows, (e) => {
      if (e.type !== 'PROCESS') e.element = modelElement(e)
      return e
    })
  }

  /** Records in memory, in use or not. */
  inMemory(): number {
    let count = 0
    for (const map of this.recordMaps()) count += map.inMemory
    return count
  }

  /** Records in memory that could be left out of it. */
  hotCount(): number {
    let count = 0
    for (const map of this.recordMaps()) count += map.hotCount
    return count
  }

  /** Leave records not marked as changed out of memory until at most `keep` are left (or `max` have left); returns how many were. */
  evict(keep: number, max = Infinity): number {
    const hot = this.hotCount()
    if (hot <= keep) return 0
    // Each map keeps the same share of its records in memory, its most recent ones.
    const share = keep / hot
    let evicted = 0
    for (const map of this.recordMaps()) {
      if (evicted >= max) break
      evicted += map.evict(Math.floor(map.hotCount * share), max - evicted)
    }
    return evicted
  }

  /** From now on, the changes commands make are told to `tracker`. */
  track(tracker: DirtyTracker): void {
    for (const map of this.recordMaps()) map.tracker = tracker
  }
}

export { KEY_BASE } from '../state/key-code'

export function subIndexKey(name: string, correlationKey: string, tenantId: string): string {
  return `${tenantId}\u0000${name}\u0000${correlationKey}`
}

export function memo<T>(fn: () => T): () => T {
  let cached: T | undefined
  let done = false
  return () => {
    if (!done) { cached = fn(); done = true }
    return cached as T
  }
}

/** A boundary event cancels its activity, an event-subprocess start its scope; other catch events only ever interrupt. */
export function isInterrupting(catchEl: FlowElement): boolean {
  return catchEl.type === 'boundaryEvent' ? catchEl.cancelActivity !== false : catchEl.isInterrupting !== false
}
