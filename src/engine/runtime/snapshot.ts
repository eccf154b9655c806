import type { FlowElement } from '../model/types'
import type {
  BatchOperationRecord, CompensationSubscriptionRecord, DecisionInstanceRecord, IncidentRecord, JobRecord, Key, MessageRecord, MessageSubscriptionRecord, ProcessInstanceRecord, SignalSubscriptionRecord,
  TimerRecord, UserTaskRecord, VariableRecord,
} from '../state/records'
import type { RecordMap } from '../state/record-map'
import type { ProcessingContext } from './processing'
import type { RepositorySnapshot } from './repository'
import { subIndexKey, type ElementInstance, type WorkItem } from './runtime-state'

/** A snapshot of the engine: plain records only. */
export interface EngineSnapshot {
  v: number
  counter: number
  repository: RepositorySnapshot
  instances: ProcessInstanceRecord[]
  elements: Omit<ElementInstance, 'element'>[]
  variables: VariableRecord[]
  jobs: JobRecord[]
  timers: TimerRecord[]
  messages: MessageRecord[]
  messageSubscriptions: MessageSubscriptionRecord[]
  signalSubscriptions: SignalSubscriptionRecord[]
  incidents: IncidentRecord[]
  userTasks: UserTaskRecord[]
  /** straight-through steps a command left over (absent in snapshots taken before there were any) */
  work?: WorkItem[]
  /** batch operations (absent in snapshots taken before there were any) */
  batches?: BatchOperationRecord[]
  /** decisions evaluated (absent in snapshots taken before they were kept) */
  decisionInstances?: DecisionInstanceRecord[]
  /**
   * A cold load: the greatest scope whose variables stay in their rows (null: none does).
   * `variables` is then empty.
   */
  variableScopesUpTo?: Key | null
  /** compensation subscriptions (absent in snapshots taken before there were any) */
  compensations?: CompensationSubscriptionRecord[]
}

/** The whole state as plain records (JSON-safe): what a snapshot stores. Records left in their rows are read from there and stay there. */
export function exportState(ctx: ProcessingContext): EngineSnapshot {
  const s = ctx.state
  return {
    v: 1,
    counter: s.counter,
    repository: ctx.repo.exportState(),
    instances: [...s.instances.scan()],
    elements: [...s.elements.scan()].map(({ element: _element, ...rest }) => rest),
    variables: [...ctx.vars.all()],
    jobs: [...s.jobs.scan()],
    timers: [...s.timers.scan()],
    messages: [...s.messages.scan()],
    messageSubscriptions: [...s.messageSubs.scan()],
    signalSubscriptions: [...s.signalSubs.scan()],
    incidents: [...s.incidents.scan()],
    userTasks: [...s.userTasks.scan()],
    work: [...s.work],
    batches: [...s.batches.scan()],
    decisionInstances: [...s.decisionInstances.scan()],
    compensations: [...s.compensations.scan()],
  }
}

/**
 * Load a snapshot into a new, empty engine: records, then every index derived from them. With
 * `cold`, the snapshot's records hold only the fields the indexes need (state/live-fields.ts): the maps
 * keep their keys and read each record from its row on first use.
 */
export async function importState(ctx: ProcessingContext, snap: EngineSnapshot, cold = false): Promise<void> {
  if (snap.v !== 1) throw new Error(`Unknown engine snapshot version ${String(snap.v)}`)
  const s = ctx.state
  await ctx.repo.importState(snap.repository)
  s.counter = snap.counter
  const put = <V extends { key: string }>(map: RecordMap<string, V>, record: V) => {
    if (cold) map.setCold(record.key, record)
    else map.set(record.key, record)
  }
  for (const inst of snap.instances) put(s.instances, inst)
  for (const batch of snap.batches ?? []) put(s.batches, batch)
  for (const d of snap.decisionInstances ?? []) put(s.decisionInstances, d)
  for (const c of snap.compensations ?? []) put(s.compensations, c)
  for (const rec of snap.elements) {
    // The snapshot's records are fresh objects (parsed JSON): they become the state's, uncopied.
    const ei = rec as ElementInstance
    if (!cold && ei.type !== 'PROCESS') ei.element = ctx.repo.processes.get(ei.definitionKey)?.model.elements.get(ei.elementId)
    put(s.elements, ei)
    if (!ei.scopeKey || ei.lifecycle === 'COMPLETED' || ei.lifecycle === 'TERMINATED') continue
    s.activeChildren.add(ei.scopeKey, ei.key)
  }
  ctx.vars.importRecords(snap.variables)
  if (snap.variableScopesUpTo !== undefined) ctx.vars.leaveInRows(snap.variableScopesUpTo ?? undefined)
  const now = ctx.clock.now()
  for (const job of snap.jobs) {
    put(s.jobs, job)
    if (job.state === 'ACTIVATED' && job.deadline !== undefined) s.due.push(job.deadline, 'job-deadline', job.key)
    if (job.state !== 'ACTIVATABLE') continue
    if (job.recurAt !== undefined && job.recurAt > now) {
      s.due.push(job.recurAt, 'job-backoff', job.key)
      continue
    }
    s.activatable.add(job.type, job.key)
  }
  for (const t of snap.timers) {
    put(s.timers, t)
    s.due.push(t.dueDate, 'timer', t.key)
  }
  for (const m of snap.messages) {
    put(s.messages, m)
    s.due.push(m.expiresAt, 'message-expiry', m.key)
  }
  for (const sub of snap.messageSubscriptions) {
    put(s.messageSubs, sub)
    s.messageSubIndex.add(subIndexKey(sub.messageName, sub.correlationKey, sub.tenantId), sub.key)
  }
  for (const sub of snap.signalSubscriptions) {
    put(s.signalSubs, sub)
    s.signalIndex.add(sub.signalName, sub.key)
  }
  for (const inc of snap.incidents) put(s.incidents, inc)
  for (const task of snap.userTasks) put(s.userTasks, task)
  for (const item of snap.work ?? []) s.work.push(item)
  for (const p of ctx.repo.latestProcesses()) {
    for (const id of p.model.startEvents) ctx.messages.registerMessageStart(p, p.model.elements.get(id) as FlowElement)
  }
  ctx.timers.armWake()
}
