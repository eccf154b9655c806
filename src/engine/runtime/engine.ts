import {
  EngineError, type ActivateJobsInput, type ActivatedJob, type CreateInstanceInput, type CreatedInstance,
  type CommitNotices, type DecisionEvaluationResult, type DeployResourceInput, type DeploymentResult, type EngineApi,
  type BatchOperationInput, type EngineQueries, type QueryScope, type JobResult, type JobStream, type MigrateInstanceInput, type ModifyInstanceInput, type PublishMessageInput,
} from '../api'
import { SystemClock, type Clock } from '../clock'
import type { BatchOperationRecord, JobRecord, Key, MessageRecord, VariableDocument, VariableRecord } from '../state/records'
import { BATCH_INTERVAL_MS, BatchOperations } from './batches'
import { activateInner, adHocResultRejection, missingAdHocElements, applyAdHocJobResult } from './elements/containers/ad-hoc'
import type { FlowElement } from '../model/types'
import { applyCommand, type Command, type CommandTarget, type InternalCommand, type TaskChangeset } from './commands'
import { allRows, changedRows, type CheckpointRows } from './checkpoint'
import { RuntimeContext } from './context'
import { evaluateDecision } from './decision'
import { recordDecisionEvaluation } from './decision-history'
import type { Journal } from './journal'
import { InstanceMigration } from './migration'
import { InstanceModification } from './modification'
import { DEFAULT_TENANT, type DeployedProcess, type Repository } from './repository'
import type { ElementInstance, InstanceRuntime } from './runtime-state'
import { HistoryPruner } from './pruning'
import { exportState, importState, type EngineSnapshot } from './snapshot'
import type { History, HistoryKind, HistoryRecords } from '../state/history'
import type { ColdRows, DirtyMarks, DirtyTracker } from '../state/record-map'
import type { ColdVariables } from './variables'

/** A journaled command whose replay failed: what recovery reports. */
export interface ReplayFailure {
  /** the command's kind, as journaled */
  command: Command['c']
  error: string
  /** the instance left with an incident, when the command concerned one */
  processInstanceKey?: Key
  incidentKey?: Key
}

export interface EngineOptions {
  clock?: Clock
  /** how long finished instances stay in the history (engine time); default HISTORY_RETENTION_MS */
  historyRetentionMs?: number
}

/** Finished instances are kept 30 days by default, then pruned. */
export const HISTORY_RETENTION_MS = 30 * 24 * 3600_000

/**
 * The embedded, Zeebe-compatible engine. Commands run to completion synchronously, one at a
 * time, so every command sees a consistent state (as Zeebe's single-threaded stream processor).
 * This class is the facade: it checks a command, journals and runs it through the behaviours.
 */
export class Engine implements EngineApi, CommandTarget {
  readonly clock: Clock
  private readonly ctx: RuntimeContext
  private readonly batches: BatchOperations
  private batchWork: NodeJS.Timeout | undefined
  private closed = false
  private readonly pruner: HistoryPruner

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? new SystemClock()
    this.ctx = new RuntimeContext(this.clock)
    this.batches = new BatchOperations(this.ctx, this)
    this.pruner = new HistoryPruner(() => this.ctx.history, this.clock, options.historyRetentionMs ?? HISTORY_RETENTION_MS)
  }

  /** Keep finished instances in `history` (a durable engine's, in its data dir): before any state is loaded. */
  useHistory(history: History): void {
    this.ctx.history = history
  }

  /** Forget finished instances older than the retention period (see HistoryPruner). Returns the count. */
  pruneHistory(): Promise<number> {
    return this.closed ? Promise.resolve(0) : this.pruner.round()
  }

  /** Engine time: frozen for the length of a command, so that replaying it gives the same result. */
  now(): number {
    return this.ctx.now()
  }

  /** Every state-changing command is appended to the journal before it runs (durable state). */
  attachJournal(journal: Journal | undefined): void {
    this.ctx.runner.journal = journal
    // Recovery is over: steps a command left over before a crash go on, as a new command.
    this.ctx.resumeWork()
    this.continueBatches()
  }

  /** Resolves once every command so far is durable (immediately without a journal). */
  whenDurable(): Promise<void> {
    return this.ctx.runner.whenDurable()
  }

  commitNotices(): CommitNotices | undefined { return this.ctx.runner.journal?.commitNotices?.() }

  commitPosition(): number { return this.ctx.runner.journal?.lastSeq ?? 0 }

  /** Stop the wake-up timer; the engine answers no more commands after this. */
  close(): void {
    this.closed = true
    this.pruner.stop()
    if (this.batchWork) clearTimeout(this.batchWork)
    this.ctx.close()
  }

  private run<T>(entry: Command | null, fn: () => T): T {
    return this.ctx.runner.run(entry, fn)
  }

  private get state() {
    return this.ctx.state
  }

  private get repo(): Repository {
    return this.ctx.repo
  }

  // ---------------------------------------------------------------- queries

  /** Live records first, then the history's (finished instances). */
  readonly queries: EngineQueries = {
    processInstances: (scope) => this.scoped(scope, 'instance', this.state.instances,
      (key) => [this.state.instances.peek(key)].filter((i) => i !== undefined)),
    processInstance: (key) => this.state.instances.peek(key) ?? this.ctx.history.get('instance', key),
    // The exporter never writes PROCESS rows to element-instance search (engine-semantics §4.6).
    elementInstances: (scope) => this.scoped(scope, 'element', this.state.elements).filter((e) => e.type !== 'PROCESS'),
    elementInstance: (key) => {
      const found = this.state.elements.peek(key) ?? this.ctx.history.get('element', key)
      return found?.type === 'PROCESS' ? undefined : found
    },
    variables: (scope) => this.scopedVariables(scope),
    heldVariables: () => this.ctx.vars.held(),
    variableHeadsInRows: (afterKey, limit) => this.ctx.vars.headsInRows(afterKey, limit),
    variable: (key) => this.findVariable(key),
    incidents: (scope) => this.scoped(scope, 'incident', this.state.incidents),
    incident: (key) => this.state.incidents.peek(key) ?? this.ctx.history.get('incident', key),
    messageSubscriptions: () => this.state.messageSubs.scan(),
    jobs: () => this.state.jobs.scan(),
    userTasks: (scope) => this.scoped(scope, 'userTask', this.state.userTasks),
    userTask: (key) => this.state.userTasks.peek(key) ?? this.ctx.history.get('userTask', key),
    processDefinitions: () => [...this.repo.processes.values()].map((p) => p.record),
    decisionDefinitions: () => this.repo.decisions.values(),
    decisionRequirements: () => [...this.repo.drgs.values()].map((d) => d.record),
    forms: () => this.repo.forms.values(),
    batchOperations: () => this.state.batches.scan(),
    decisionInstances: (scope) => this.scoped(scope, 'decisionInstance', this.state.decisionInstances),
    decisionInstance: (key) => this.state.decisionInstances.peek(key) ?? this.ctx.history.get('decisionInstance', key),
    processInstanceHistory: (where, afterKey, limit) => this.ctx.history.instancePage(where, afterKey, limit),
    processInstanceHistoryBy: (order, after, limit) => this.ctx.history.instancePageBy(order, after, limit),
    processInstanceHistoryCount: (where, cap) => this.ctx.history.instanceCount(where, cap),
    processInstanceHistoryTally: (where, ranges, afterKey, limit) => this.ctx.history.instanceTally(where, ranges, afterKey, limit),
    processInstanceHistoryDefinitions: () => this.ctx.history.instanceDefinitions(),
    history: (kind, processInstanceKey, afterKey, limit) => this.ctx.history.page(kind, processInstanceKey, afterKey, limit),
    processDefinitionXml: (key) => this.repo.resources.get(this.repo.processes.get(key)?.record.resourceKey ?? '')?.content,
  }

  /**
   * Live records of a kind, then the history's: all of them, those of one process instance (the
   * live ones by the state's index, the history's by its own), or the live ones only.
   */
  private scoped<K extends HistoryKind>(scope: QueryScope | undefined, kind: K, live: LiveRecords<HistoryRecords[K]>,
    liveOfInstance?: (key: Key) => HistoryRecords[K][]): HistoryRecords[K][] {
    const key = scope?.processInstanceKey
    const out: HistoryRecords[K][] = []
    if (key === undefined) for (const r of live.scan()) out.push(r)
    else if (liveOfInstance) for (const r of liveOfInstance(key)) out.push(r)
    else for (const k of live.keysOf(key)) out.push(live.peek(k) as HistoryRecords[K])
    // one push per record: a spread of a large history would overflow the stack
    if (!scope?.live) for (const r of this.ctx.history.all(kind, key)) out.push(r)
    return out
  }

  private scopedVariables(scope: QueryScope | undefined): VariableRecord[] {
    const key = scope?.processInstanceKey
    const out: VariableRecord[] = []
    if (key === undefined) for (const v of this.ctx.vars.all()) out.push(v)
    else for (const v of this.ctx.vars.ofScopes(new Set([key, ...this.state.elements.keysOf(key)]))) if (v.processInstanceKey === key) out.push(v)
    if (!scope?.live) for (const v of this.ctx.history.all('variable', key)) out.push(v)
    return out
  }

  private findVariable(key: Key): VariableRecord | undefined {
    return this.ctx.vars.find(key) ?? this.ctx.history.get('variable', key)
  }

  // ---------------------------------------------------------------- deployment

  async deploy(resources: DeployResourceInput[], tenantId: string = DEFAULT_TENANT): Promise<DeploymentResult> {
    const parsed = await this.repo.parse(resources)
    const entry: Command = { c: 'deploy', r: resources.map((r) => ({ n: r.name, b: r.content.toString('base64') })), t: tenantId }
    return this.run(entry, () => this.storeDeployment(parsed, tenantId))
  }

  private storeDeployment(parsed: Awaited<ReturnType<Repository['parse']>>, tenantId: string): DeploymentResult {
    const { result, newProcesses, replaced } = this.repo.store(parsed, tenantId)
    for (const old of replaced) this.ctx.subscriptions.closeStartSubscriptions(old)
    for (const p of newProcesses) this.ctx.subscriptions.openStartSubscriptions(p)
    this.ctx.timers.armWake()
    return result
  }

  deleteResource(resourceKey: Key): void {
    const proc = this.repo.processes.get(resourceKey)
    if (proc) {
      for (const inst of this.state.instances.scan()) {
        if (inst.processDefinitionKey === resourceKey && inst.state === 'ACTIVE') {
          throw new EngineError('INVALID_STATE', `Expected to delete resource with key '${resourceKey}' but there are still running instances`, 'DELETE')
        }
      }
      return this.run({ c: 'delete', k: resourceKey }, () => {
        this.ctx.subscriptions.closeStartSubscriptions(proc)
        this.state.retiredModels.set(resourceKey, proc)
        const newLatest = this.repo.deleteProcess(resourceKey)
        if (newLatest) this.ctx.subscriptions.openStartSubscriptions(newLatest)
      })
    }
    const entry: Command = { c: 'delete', k: resourceKey }
    if (this.repo.drgs.has(resourceKey)) return this.run(entry, () => this.repo.deleteDrg(resourceKey))
    if (this.repo.forms.has(resourceKey)) return this.run(entry, () => this.repo.deleteForm(resourceKey))
    const decision = this.repo.decisions.get(resourceKey)
    if (decision) return this.run(entry, () => this.repo.deleteDrg(decision.decisionRequirementsKey))
    throw new EngineError('NOT_FOUND', `Expected to delete resource but no resource found with key \`${resourceKey}\``, 'DELETE')
  }

  // ---------------------------------------------------------------- instances

  createProcessInstance(input: CreateInstanceInput): CreatedInstance {
    const tenantId = input.tenantId || DEFAULT_TENANT
    const def = this.findDefinition(input, tenantId)
    if (input.variables) assertDocument(input.variables)
    const startIds = input.startInstructions?.map((s) => s.elementId) ?? []
    if (startIds.length === 0) {
      const none = def.model.startEvents.find((id) => def.model.elements.get(id)?.event?.kind === 'none')
      if (!none) throw new EngineError('INVALID_STATE', 'Expected to create instance of process with none start event, but there is no such event', 'CREATE')
      startIds.push(none)
    } else {
      for (const id of startIds) {
        const el = def.model.elements.get(id)
        if (!el) throw new EngineError('INVALID_ARGUMENT', `Expected to find element with id '${id}' in process with key '${def.record.key}', but no such element was found`, 'CREATE')
        if (el.type === 'startEvent' && el.scopeId !== def.model.id || el.type === 'boundaryEvent') {
          throw new EngineError('INVALID_ARGUMENT', `Expected to create instance of process with start instructions but the element with id '${id}' is a ${el.type === 'boundaryEvent' ? 'boundary event' : 'start event of a subprocess'}, which cannot be started directly`, 'CREATE')
        }
        const inMultiInstance = InstanceModification.flowScopes(def.model, id).find((scope) => def.model.elements.get(scope)?.multiInstance)
        if (inMultiInstance) {
          throw new EngineError('INVALID_ARGUMENT', `Expected to create instance of process with start instructions but the element with id '${id}' is inside the multi-instance subprocess '${inMultiInstance}'. The activation of elements inside a multi-instance subprocess is not supported.`, 'CREATE')
        }
      }
    }
    // Elements inside subprocesses start in their subprocesses, created without their start events (as a modification does).
    const nested = startIds.filter((id) => def.model.elements.get(id)?.scopeId !== def.model.id)
    const topLevel = startIds.filter((id) => !nested.includes(id))
    const terminateAfter = input.runtimeInstructions?.map((instruction) => instruction.afterElementId) ?? []
    for (const id of terminateAfter) {
      if (!def.model.elements.has(id)) throw new EngineError('INVALID_ARGUMENT', `Expected to find element with id '${id}' in process with key '${def.record.key}' for a runtime instruction, but no such element was found`, 'CREATE')
    }
    const inst = this.run({ c: 'create', i: input }, () => {
      const started = this.ctx.instances.start(def, input.variables ?? {}, topLevel, undefined, undefined, terminateAfter)
      if (nested.length > 0) new InstanceModification(this.ctx).apply({ processInstanceKey: started.key, activateInstructions: nested.map((elementId) => ({ elementId })) })
      return started
    })
    return { processDefinitionKey: def.record.key, bpmnProcessId: def.record.bpmnProcessId, version: def.record.version, processInstanceKey: inst.key, tenantId }
  }

  private findDefinition(input: CreateInstanceInput, tenantId: string): DeployedProcess {
    if (input.processDefinitionKey) {
      const p = this.repo.processes.get(input.processDefinitionKey)
      if (!p) throw new EngineError('NOT_FOUND', `Expected to find process definition with key '${input.processDefinitionKey}', but none found`, 'CREATE')
      return p
    }
    const id = input.bpmnProcessId ?? ''
    const version = input.version ?? -1
    const p = version < 0 ? this.repo.latestProcessOf(id, tenantId) : this.repo.processVersion(id, version, tenantId)
    if (!p) {
      throw new EngineError('NOT_FOUND', version < 0
        ? `Expected to find process definition with process ID '${id}', but none found`
        : `Expected to find process definition with process ID '${id}' and version '${version}', but none found`, 'CREATE')
    }
    return p
  }

  awaitCompletion(processInstanceKey: Key, fetchVariables: string[] | undefined, timeoutMs: number): Promise<VariableDocument> {
    return this.ctx.instances.awaitCompletion(processInstanceKey, fetchVariables, timeoutMs)
  }

  cancelProcessInstance(processInstanceKey: Key): void {
    const inst = this.state.instances.get(processInstanceKey)
    // Zeebe 8.8 (ProcessInstanceCancelProcessor) finds no instance to cancel in one already terminating.
    if (!inst || inst.state !== 'ACTIVE' || this.state.elements.get(inst.key)?.lifecycle === 'TERMINATING') {
      throw new EngineError('NOT_FOUND', `Expected to cancel a process instance with key '${processInstanceKey}', but no such process was found`, 'CANCEL')
    }
    if (inst.parentProcessInstanceKey) {
      let root = inst
      while (root.parentProcessInstanceKey) root = this.state.instances.get(root.parentProcessInstanceKey) as InstanceRuntime
      throw new EngineError('INVALID_STATE', `Expected to cancel a process instance with key '${processInstanceKey}', but it is created by a parent process instance. Cancel the root process instance '${root.key}' instead.`, 'CANCEL')
    }
    this.run({ c: 'cancel', k: processInstanceKey }, () => this.ctx.instances.cancel(inst))
  }

  /** Activate elements and terminate element instances of a running instance (Zeebe's modification). */
  modifyProcessInstance(input: ModifyInstanceInput): void {
    const modification = new InstanceModification(this.ctx)
    modification.validate(input)
    for (const a of input.activateInstructions ?? []) for (const v of a.variableInstructions ?? []) assertDocument(v.variables)
    this.run({ c: 'modify', i: input }, () => modification.apply(input))
  }

  /** Move a running instance to another process definition (Zeebe's migration). */
  migrateProcessInstance(input: MigrateInstanceInput): void {
    const migration = new InstanceMigration(this.ctx)
    migration.validate(input)
    this.run({ c: 'migrate', i: input }, () => migration.apply(input))
  }

  activateAdHocElements(adHocSubProcessInstanceKey: Key, elements: { elementId: string; variables?: VariableDocument }[]): void {
    const ei = this.state.elements.get(adHocSubProcessInstanceKey)
    const el = ei?.element
    if (!ei || !el?.adHoc || ei.lifecycle !== 'ACTIVATED') {
      throw new EngineError('NOT_FOUND', `Expected to activate activities for ad-hoc sub-process with key '${adHocSubProcessInstanceKey}', but no such ad-hoc sub-process was found`, 'ACTIVATE')
    }
    const missing = missingAdHocElements(this.ctx, ei, el, elements.map((e) => e.elementId))
    if (missing) throw new EngineError('NOT_FOUND', missing, 'ACTIVATE')
    for (const e of elements) if (e.variables) assertDocument(e.variables)
    this.run({ c: 'adhoc', k: adHocSubProcessInstanceKey, e: elements }, () => {
      this.ctx.current = ei
      this.ctx.incidents.guard(ei, () => activateInner(this.ctx, ei, el, elements))
    })
  }

  // ---------------------------------------------------------------- batch operations

  /** A batch operation over the given items; it runs in chunks after this returns. */
  createBatchOperation(input: BatchOperationInput): BatchOperationRecord {
    if (input.type === 'MIGRATE_PROCESS_INSTANCE' && !input.migrationPlan) throw new EngineError('INVALID_ARGUMENT', 'Expected a migration plan for a batch migration, but none was given', 'CREATE')
    if (input.type === 'MODIFY_PROCESS_INSTANCE' && !input.moveInstructions?.length) throw new EngineError('INVALID_ARGUMENT', 'Expected at least one move instruction for a batch modification, but none was given', 'CREATE')
    const batch = this.run({ c: 'batch', i: input }, () => this.batches.create(input))
    this.continueBatches()
    return batch
  }

  suspendBatchOperation(key: Key): void {
    const batch = this.batches.find(key, 'suspend')
    if (batch.state !== 'ACTIVE' && batch.state !== 'CREATED') throw new EngineError('INVALID_STATE', `Expected to suspend a batch operation with key '${key}', but it is in state '${batch.state}'`, 'SUSPEND')
    this.run({ c: 'batchState', k: key, s: 'suspend' }, () => this.batches.setState(key, 'suspend'))
  }

  resumeBatchOperation(key: Key): void {
    const batch = this.batches.find(key, 'resume')
    if (batch.state !== 'SUSPENDED') throw new EngineError('INVALID_STATE', `Expected to resume a batch operation with key '${key}', but it is in state '${batch.state}'`, 'RESUME')
    this.run({ c: 'batchState', k: key, s: 'resume' }, () => this.batches.setState(key, 'resume'))
    this.continueBatches()
  }

  cancelBatchOperation(key: Key): void {
    const batch = this.batches.find(key, 'cancel')
    if (batch.state !== 'ACTIVE' && batch.state !== 'CREATED' && batch.state !== 'SUSPENDED') {
      throw new EngineError('INVALID_STATE', `Expected to cancel a batch operation with key '${key}', but it is in state '${batch.state}'`, 'CANCEL')
    }
    this.run({ c: 'batchState', k: key, s: 'cancel' }, () => this.batches.setState(key, 'cancel'))
  }

  /** Work on running batch operations a chunk at a time, letting other commands in between. */
  private continueBatches(): void {
    if (this.batchWork || this.closed || this.ctx.runner.isReplaying) return
    this.batchWork = setTimeout(() => {
      this.batchWork = undefined
      if (this.closed) return
      const running = this.batches.running()
      for (const key of running) {
        try {
          this.run({ c: 'batchStep', k: key }, () => this.batches.step(key))
        } catch (error) {
          // The store refuses commands (disk full): try again later.
          if (!this.ctx.runner.journal?.failure) throw error
          setTimeout(() => this.continueBatches(), 500).unref()
          return
        }
      }
      if (this.batches.running().length > 0) this.continueBatches()
    }, BATCH_INTERVAL_MS)
  }

  // ---------------------------------------------------------------- incidents

  resolveIncident(incidentKey: Key): void {
    const inc = this.state.incidents.get(incidentKey)
    if (!inc || inc.state !== 'ACTIVE') {
      throw new EngineError('NOT_FOUND', `Expected to resolve incident with key '${incidentKey}', but no such incident was found`, 'RESOLVE')
    }
    const ei = this.state.elements.get(inc.elementInstanceKey) as ElementInstance
    if (inc.jobKey) {
      const job = this.state.jobs.get(inc.jobKey)
      if (job && inc.errorType === 'JOB_NO_RETRIES' && job.retries <= 0) {
        throw new EngineError('INVALID_STATE', `Expected to resolve incident with key '${incidentKey}', but job with key '${job.key}' has no retries left. Please update the job retries and retry resolving the incident`, 'RESOLVE')
      }
      this.run({ c: 'resolve', k: incidentKey }, () => {
        inc.state = 'RESOLVED'
        ei.incidentKey = undefined
        if (job) {
          job.errorMessage = undefined
          this.ctx.jobs.makeActivatable(job)
        }
      })
      return
    }
    this.run({ c: 'resolve', k: incidentKey }, () => {
      inc.state = 'RESOLVED'
      ei.incidentKey = undefined
      this.ctx.incidents.retry(ei)
    })
  }

  // ---------------------------------------------------------------- jobs

  activateJobs(input: ActivateJobsInput): ActivatedJob[] {
    const keys = this.state.activatable.keys(input.type)
    if (keys.length === 0) return []
    return this.run(null, () => {
      const out: ActivatedJob[] = []
      for (const key of keys) {
        if (out.length >= input.maxJobsToActivate) break
        const job = this.state.jobs.get(key)
        if (!job) { this.state.activatable.remove(input.type, key); continue }
        if (input.tenantIds && input.tenantIds.length > 0 && !input.tenantIds.includes(job.tenantId)) continue
        out.push(this.ctx.jobs.activate(job, input.worker, input.timeout, input.fetchVariables))
      }
      return out
    })
  }

  yieldJobs(jobKeys: Key[]): void {
    for (const key of jobKeys) this.ctx.jobs.yieldJob(key)
  }

  onJobsAvailable(type: string, listener: () => void): () => void {
    return this.ctx.jobs.onJobsAvailable(type, listener)
  }

  addJobStream(stream: JobStream): () => void {
    return this.ctx.jobs.addStream(stream)
  }

  private jobFor(jobKey: Key, verb: string, intent: string): JobRecord {
    const job = this.state.jobs.get(jobKey)
    if (!job) throw new EngineError('NOT_FOUND', `Expected to ${verb} job with key '${jobKey}', but no such job was found`, intent)
    return job
  }

  completeJob(jobKey: Key, variables?: VariableDocument, result?: JobResult): void {
    const job = this.jobFor(jobKey, 'complete', 'COMPLETE')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to complete job with key '${jobKey}', but it is in state '${job.state === 'FAILED' ? 'FAILED' : 'ERROR_THROWN'}'`, 'COMPLETE')
    }
    if (variables) assertDocument(variables)
    const ei = this.state.elements.get(job.elementInstanceKey) as ElementInstance
    if (job.kind === 'AD_HOC_SUB_PROCESS') return this.completeAdHocJob(job, ei, variables, result ?? {})
    if (job.kind === 'TASK_LISTENER') {
      const rejection = this.ctx.userTasks.listenerResultRejection(job, variables, result)
      if (rejection) throw rejection
      this.run({ c: 'complete', k: jobKey, v: variables, r: result }, () => this.ctx.userTasks.onListenerJobCompleted(job, result))
      return
    }
    this.run({ c: 'complete', k: jobKey, v: variables }, () => {
      if (job.kind === 'EXECUTION_LISTENER') return this.ctx.listeners.onJobCompleted(ei, job, variables)
      this.ctx.jobs.remove(job)
      ei.jobKey = undefined
      ei.payload = variables ?? {}
      this.ctx.flow.complete(ei)
    })
  }

  /** The job of an ad-hoc subprocess's worker: its variables merge as a job's do, then its decision applies. */
  private completeAdHocJob(job: JobRecord, ei: ElementInstance, variables: VariableDocument | undefined, result: JobResult): void {
    const el = ei.element as FlowElement
    const rejection = adHocResultRejection(this.ctx, ei, el, job.key, result)
    if (rejection) throw rejection
    this.run({ c: 'complete', k: job.key, v: variables, r: result }, () => {
      this.ctx.jobs.remove(job)
      ei.jobKey = undefined
      if (variables) this.ctx.vars.merge(ei.key, variables)
      this.ctx.incidents.guard(ei, () => applyAdHocJobResult(this.ctx, ei, el, result))
    })
  }

  failJob(jobKey: Key, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void {
    const job = this.jobFor(jobKey, 'fail', 'FAIL')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to fail job with key '${jobKey}', but it is in state '${job.state}'`, 'FAIL')
    }
    this.run({ c: 'fail', k: jobKey, r: retries, m: errorMessage, b: retryBackOff, v: variables }, () => this.ctx.jobs.fail(job, retries, errorMessage, retryBackOff, variables))
  }

  throwError(jobKey: Key, errorCode: string, errorMessage: string, variables?: VariableDocument): void {
    const job = this.jobFor(jobKey, 'throw an error for', 'THROW_ERROR')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to throw an error for job with key '${jobKey}', but it is in state '${job.state}'`, 'THROW_ERROR')
    }
    if (job.kind === 'EXECUTION_LISTENER' || job.kind === 'TASK_LISTENER') {
      throw new EngineError('INVALID_STATE', `Cannot throw BPMN error from ${job.kind} job with key '${jobKey}', type '${job.type}' and processInstanceKey '${job.processInstanceKey}'. Throwing BPMN errors from ${job.kind} jobs is not supported.`, 'THROW_ERROR')
    }
    if (variables) assertDocument(variables)
    this.run({ c: 'error', k: jobKey, e: errorCode, m: errorMessage, v: variables }, () => this.ctx.jobs.throwError(job, errorCode, errorMessage, variables))
  }

  updateJobRetries(jobKey: Key, retries: number): void {
    const job = this.jobFor(jobKey, 'update retries of', 'UPDATE_RETRIES')
    if (retries < 1) throw new EngineError('INVALID_ARGUMENT', `Expected retries to be greater than zero, but it was ${retries}`, 'UPDATE_RETRIES')
    this.run({ c: 'retries', k: jobKey, r: retries }, () => { job.retries = retries })
  }

  updateJobTimeout(jobKey: Key, timeout: number): void {
    const job = this.jobFor(jobKey, 'update timeout of', 'UPDATE_TIMEOUT')
    if (job.state !== 'ACTIVATED') {
      throw new EngineError('INVALID_STATE', `Expected to update the timeout of job with key '${jobKey}', but it is not active`, 'UPDATE_TIMEOUT')
    }
    this.run({ c: 'jobTimeout', k: jobKey, t: timeout }, () => {
      job.deadline = this.now() + timeout
      this.state.due.push(job.deadline, 'job-deadline', job.key)
      this.ctx.timers.armWake()
    })
  }

  // ---------------------------------------------------------------- user tasks

  completeUserTask(userTaskKey: Key, variables?: VariableDocument, action = 'complete'): void {
    const task = this.ctx.userTasks.openTask(userTaskKey, 'COMPLETE')
    if (variables) assertDocument(variables)
    this.run({ c: 'utComplete', k: userTaskKey, v: variables, ac: action }, () => this.ctx.userTasks.complete(task, variables, action))
  }

  assignUserTask(userTaskKey: Key, assignee: string, allowOverride: boolean, action = allowOverride ? 'assign' : 'claim'): void {
    const task = this.ctx.userTasks.openTask(userTaskKey, 'ASSIGN')
    if (!assignee) throw new EngineError('INVALID_ARGUMENT', 'Expected a non-empty assignee', 'ASSIGN')
    if (!allowOverride && task.assignee && task.assignee !== assignee) {
      throw new EngineError('INVALID_STATE', `Expected to assign user task with key '${userTaskKey}', but it is already assigned to '${task.assignee}'`, 'ASSIGN')
    }
    this.run({ c: 'utAssign', k: userTaskKey, a: assignee, o: allowOverride, ac: action }, () => this.ctx.userTasks.assign(task, assignee, action))
  }

  unassignUserTask(userTaskKey: Key, action = 'unassign'): void {
    const task = this.ctx.userTasks.openTask(userTaskKey, 'ASSIGN')
    this.run({ c: 'utUnassign', k: userTaskKey, ac: action }, () => this.ctx.userTasks.assign(task, undefined, action))
  }

  updateUserTask(userTaskKey: Key, changeset: TaskChangeset, action = 'update'): void {
    const task = this.ctx.userTasks.openTask(userTaskKey, 'UPDATE')
    const priority = changeset.priority
    if (priority !== undefined && priority !== null && (!Number.isInteger(priority) || priority < 0 || priority > 100)) {
      throw new EngineError('INVALID_ARGUMENT', `Expected priority to be an integer between 0 and 100, but was ${priority}`, 'UPDATE')
    }
    this.run({ c: 'utUpdate', k: userTaskKey, cs: changeset, ac: action }, () => this.ctx.userTasks.update(task, changeset, action))
  }

  userTaskSettled(userTaskKey: Key): Promise<void> | undefined {
    return this.ctx.userTasks.settled(userTaskKey)
  }

  variablesSettled(elementInstanceKey: Key): Promise<void> | undefined {
    const userTaskKey = this.state.elements.get(elementInstanceKey)?.userTaskKey
    return userTaskKey === undefined ? undefined : this.ctx.userTasks.settled(userTaskKey)
  }

  // ---------------------------------------------------------------- variables

  setVariables(elementInstanceKey: Key, variables: VariableDocument, local: boolean): { key: Key } {
    const ei = this.state.elements.get(elementInstanceKey)
    if (!ei || (ei.lifecycle !== 'ACTIVATED' && ei.lifecycle !== 'ACTIVATING' && ei.lifecycle !== 'COMPLETING')) {
      throw new EngineError('NOT_FOUND', `Expected to update variables for element with key '${elementInstanceKey}', but no such element was found`, 'UPDATE')
    }
    assertDocument(variables)
    const task = ei.userTaskKey === undefined ? undefined : this.state.userTasks.get(ei.userTaskKey)
    if (task && task.state !== 'CREATED' && ei.element?.taskListeners?.some((listener) => listener.eventType === 'updating')) {
      this.ctx.userTasks.openTask(task.key, 'UPDATE')
    }
    return this.run({ c: 'setVars', k: elementInstanceKey, v: variables, l: local }, () => {
      // On a user task with updating listeners, an update of the task: held for them.
      if (!this.ctx.userTasks.updateVariables(ei, variables, local)) {
        if (local) this.ctx.vars.setLocalDocument(ei.key, variables)
        else this.ctx.vars.merge(ei.key, variables)
      }
      return { key: this.ctx.nextKey() }
    })
  }

  // ---------------------------------------------------------------- messages and signals

  publishMessage(input: PublishMessageInput): { key: Key; tenantId: string } {
    const tenantId = input.tenantId || DEFAULT_TENANT
    if (input.variables) assertDocument(input.variables)
    const now = this.clock.now()
    if (input.messageId) {
      for (const m of this.state.messages.values()) {
        if (m.expiresAt <= now) continue
        if (m.messageId === input.messageId && m.name === input.name && m.correlationKey === input.correlationKey && m.tenantId === tenantId) {
          throw new EngineError('ALREADY_EXISTS', `Expected to publish a new message with id '${input.messageId}', but a message with that id was already published`, 'PUBLISH')
        }
      }
    }
    return this.run({ c: 'publish', i: input }, () => {
      const message: MessageRecord = {
        key: this.ctx.nextKey(), name: input.name, correlationKey: input.correlationKey, messageId: input.messageId || undefined,
        variables: input.variables ?? {}, expiresAt: this.now() + Math.max(0, input.timeToLive), tenantId, correlatedProcessIds: [],
      }
      this.ctx.messages.correlate(message)
      if (input.timeToLive > 0) {
        this.state.messages.set(message.key, message)
        this.state.due.push(message.expiresAt, 'message-expiry', message.key)
        this.ctx.timers.armWake()
      }
      return { key: message.key, tenantId }
    })
  }

  correlateMessage(input: Omit<PublishMessageInput, 'timeToLive' | 'messageId'>): { messageKey: Key; processInstanceKey: Key; tenantId: string } {
    const tenantId = input.tenantId || DEFAULT_TENANT
    if (input.variables) assertDocument(input.variables)
    const { message, first } = this.run({ c: 'correlate', i: input }, () => {
      const message: MessageRecord = {
        key: this.ctx.nextKey(), name: input.name, correlationKey: input.correlationKey, variables: input.variables ?? {},
        expiresAt: this.now(), tenantId, correlatedProcessIds: [],
      }
      return { message, first: this.ctx.messages.correlate(message) }
    })
    if (!first) {
      throw new EngineError('NOT_FOUND', `Expected to find subscription for message with name '${input.name}' and correlation key '${input.correlationKey}', but none was found.`, 'CORRELATE')
    }
    return { messageKey: message.key, processInstanceKey: first, tenantId }
  }

  broadcastSignal(signalName: string, variables?: VariableDocument, tenantId?: string): { key: Key; tenantId: string } {
    if (variables) assertDocument(variables)
    const tenant = tenantId || DEFAULT_TENANT
    const key = this.run({ c: 'signal', n: signalName, v: variables, t: tenantId }, () => this.ctx.signals.broadcast(signalName, variables ?? {}, tenant))
    return { key, tenantId: tenant }
  }

  // ---------------------------------------------------------------- decisions

  evaluateDecision(input: { decisionId?: string; decisionKey?: Key; variables?: VariableDocument; tenantId?: string }): DecisionEvaluationResult {
    const tenantId = input.tenantId || DEFAULT_TENANT
    if (input.variables) assertDocument(input.variables)
    const found = input.decisionKey ? this.repo.decisionByKey(input.decisionKey) : this.repo.latestDecisionOf(input.decisionId ?? '', tenantId)
    if (!found) {
      throw new EngineError('NOT_FOUND', input.decisionKey
        ? `Expected to evaluate decision with key '${input.decisionKey}', but no such decision found`
        : `Expected to evaluate decision '${input.decisionId}', but no decision found for id '${input.decisionId}'`, 'EVALUATE')
    }
    const { decision, drg } = found
    const { result, decisionInstanceKey } = this.run({ c: 'evaluate', i: input }, () => {
      const evaluation = evaluateDecision(drg.model, decision.decisionId, input.variables ?? {}, this.ctx.engineClock)
      return { result: evaluation, decisionInstanceKey: recordDecisionEvaluation(this.ctx, decision, drg, evaluation) }
    })
    const byId = new Map([...this.repo.decisions.values()].filter((d) => d.decisionRequirementsKey === drg.record.key).map((d) => [d.decisionId, d]))
    return {
      decisionKey: decision.key, decisionId: decision.decisionId, decisionName: decision.name ?? decision.decisionId,
      decisionVersion: decision.version, decisionRequirementsId: drg.record.decisionRequirementsId,
      decisionRequirementsKey: drg.record.key, decisionOutput: JSON.stringify(result.output ?? null),
      failedDecisionId: result.failedDecisionId ?? '', failureMessage: result.failureMessage ?? '', tenantId,
      decisionInstanceKey,
      evaluatedDecisions: result.evaluated.map((e) => {
        const rec = byId.get(e.decisionId)
        return {
          decisionKey: rec?.key ?? '', decisionId: e.decisionId, decisionName: e.decisionName, decisionVersion: rec?.version ?? 1,
          decisionType: e.decisionType, decisionOutput: JSON.stringify(e.output ?? null), tenantId,
          matchedRules: e.matchedRules.map((r) => ({ ruleId: r.ruleId, ruleIndex: r.ruleIndex, evaluatedOutputs: r.evaluatedOutputs.map((o) => ({ outputId: o.outputId, outputName: o.outputName, outputValue: JSON.stringify(o.outputValue ?? null) })) })),
          evaluatedInputs: e.evaluatedInputs.map((i) => ({ inputId: i.inputId, inputName: i.inputName, inputValue: JSON.stringify(i.inputValue ?? null) })),
        }
      }),
    }
  }

  // ---------------------------------------------------------------- clock, snapshots, recovery

  /** The clock moved (pinned forward, or time passed): fire everything now due, in due order. */
  onClockChanged(): void {
    this.ctx.timers.processDue()
  }

  /** The whole state as plain records (JSON-safe): what a snapshot stores. */
  exportState(): EngineSnapshot {
    return exportState(this.ctx)
  }

  /** Let records unchanged since the last checkpoint be left out of memory (`evict`), read again from `rows` on first use. */
  useColdRows(rows: ColdRows & ColdVariables): void {
    this.state.useColdRows(rows, (e) => this.repo.processes.get(e.definitionKey)?.model.elements.get(e.elementId))
    this.ctx.vars.useColdRows(rows)
  }

  /** Leave records out of memory (not those a checkpoint has still to write) until at most `keep` are in it, `max` at most; returns how many were. */
  evict(keep: number, max = Infinity): number {
    const records = this.state.evict(keep, max)
    return records + this.ctx.vars.evict(keep, max - records)
  }

  /** From now on, `tracker` is told which records are read and changed while it is active (checkpoints write those). */
  track(tracker: DirtyTracker): void {
    this.state.track(tracker)
    this.ctx.vars.tracker = tracker
  }

  /**
   * A checkpoint's rows: of the records marked as changed (the repository if past `revision`), or
   * of all. Past `budgetMs` of building, the rows of records that may be large are deferred.
   */
  checkpointRows(changed: { marks: DirtyMarks; revision: number | undefined } | 'all', budgetMs?: number): CheckpointRows {
    return changed === 'all' ? allRows(this.ctx) : changedRows(this.ctx, changed.marks, changed.revision, budgetMs)
  }

  get repositoryRevision(): number {
    return this.ctx.repo.revision
  }

  /** Load a snapshot into this (new, empty) engine. */
  async importState(snapshot: EngineSnapshot, cold = false): Promise<void> {
    await importState(this.ctx, snapshot, cold)
    // Finished instances of a snapshot written before the history existed go there with the next command (rows came after).
    if (!cold) for (const inst of snapshot.instances) {
      if (inst.parentProcessInstanceKey === undefined && inst.state !== 'ACTIVE') this.ctx.endedRoots.push(inst.key)
    }
  }

  /** Root instances in the history. */
  historySize(): number {
    return this.ctx.history.size()
  }

  /** Counts for benchmarks and logs. */
  stats(): { instances: number; activeInstances: number; elements: number; jobs: number; timers: number; messageSubscriptions: number; recordsInMemory: number } {
    let active = 0
    for (const i of this.state.instances.scan()) if (i.state === 'ACTIVE') active++
    return { instances: this.state.instances.size, activeInstances: active, elements: this.state.elements.size, jobs: this.state.jobs.size, timers: this.state.timers.size, messageSubscriptions: this.state.messageSubs.size, recordsInMemory: this.state.inMemory() + this.ctx.vars.inMemory }
  }

  /**
   * Re-apply one journaled command at its original engine time. A command rejected the first
   * time is rejected again the same way (nothing changed then either). Any other failure does not
   * stop the recovery: it is reported, and the instance concerned is left with an incident.
   */
  async replay(time: number, entry: Command): Promise<ReplayFailure | undefined> {
    const ctx = this.ctx
    ctx.current = undefined
    const keyCounterBefore = this.state.counter
    try {
      await ctx.runner.replay(time, () => applyCommand(this, entry))
      return undefined
    } catch (error) {
      if (error instanceof EngineError) return undefined
      const pinned = await ctx.runner.replay(time, () => Promise.resolve(ctx.runner.run(null, () => ctx.incidents.pinFailedCommand(entry, error, keyCounterBefore))))
      return { command: entry.c, error: error instanceof Error ? error.message : String(error), ...pinned }
    }
  }

  /** @internal replay of a deployment: parsed again, stored at its engine time. */
  async replayDeploy(entry: Extract<Command, { c: 'deploy' }>, resources: DeployResourceInput[]): Promise<void> {
    const parsed = await this.repo.parse(resources)
    this.run(entry, () => this.storeDeployment(parsed, entry.t))
  }

  /** @internal replay of the commands only the engine itself journals (an activation is a step of another command). */
  replayInternal(e: InternalCommand): void {
    const ctx = this.ctx
    switch (e.c) {
      case 'key': this.run(e, () => ctx.nextKey()); return
      case 'gap': this.run(e, () => { this.state.counter += e.n }); return
      case 'tick': this.run(e, () => ctx.timers.fireAllDue()); return
      case 'cont': this.run(e, () => undefined); return
      case 'batchStep': this.run(e, () => this.batches.step(e.k)); return
      case 'yield': {
        const job = this.state.jobs.get(e.k)
        this.run(e, () => { if (job && job.state === 'ACTIVATED') ctx.jobs.makeActivatable(job) })
        return
      }
      case 'act':
        this.run(null, () => {
          const job = this.state.jobs.get(e.k)
          if (job && job.state === 'ACTIVATABLE') ctx.jobs.activateQuietly(job, e.w, e.t)
        })
    }
  }

  /** After recovery: skip keys that may have been handed out before a crash but never committed. */
  skipKeys(n: number): void {
    this.run({ c: 'gap', n }, () => { this.state.counter += n })
  }
}

function assertDocument(doc: unknown): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new EngineError('INVALID_ARGUMENT', `Expected variables to be a JSON object, but got '${JSON.stringify(doc)}'`, 'UNKNOWN')
  }
}

/** A map of live records, with its index by process instance (RecordMap, read only: `peek` does not mark). */
interface LiveRecords<V> {
  scan(): Iterable<V>
  peek(key: string): V | undefined
  keysOf(at: Key): readonly string[]
}
