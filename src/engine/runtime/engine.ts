import {
  EngineError, type ActivateJobsInput, type ActivatedJob, type CreateInstanceInput, type CreatedInstance,
  type DecisionEvaluationResult, type DeployResourceInput, type DeploymentResult, type EngineApi,
  type EngineQueries, type JobStream, type PublishMessageInput,
} from '../api'
import { SystemClock, type Clock } from '../clock'
import { feelToJson } from '../feel'
import type { FlowElement, ProcessModel } from '../model/types'
import type {
  ElementInstanceRecord, IncidentErrorType, IncidentRecord, JobRecord, JsonValue, Key, MessageRecord,
  MessageSubscriptionRecord, ProcessInstanceRecord, RestElementType, SignalSubscriptionRecord,
  TimerRecord, UserTaskRecord, VariableDocument, VariableRecord,
} from '../state/records'
import { evaluateDecision } from './decision'
import { DueQueue } from './due-queue'
import { Expressions, IncidentError } from './expressions'
import { DEFAULT_TENANT, Repository, type DeployedProcess, type RepositorySnapshot } from './repository'
import { nextTimerSchedule, scheduleTimeCycle, scheduleTimeDate, scheduleTimeDuration, type TimerSchedule } from './timer-schedule'
import { assignPath, VariableStore } from './variables'

/** setTimeout takes at most 2^31-1 ms; longer waits are re-armed in steps. */
const MAX_TIMEOUT = 2 ** 31 - 1
/** While the store refuses commands, due timers are tried again this often. */
const DUE_RETRY_MS = 500
const PARTITION_BASE = 2 ** 51
const USER_TASK_JOB_TYPE = 'io.camunda.zeebe:userTask'

/** Runtime state of an element instance: the record plus what the interpreter needs. */
interface ElementInstance extends ElementInstanceRecord {
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
  /** a scope where an interrupting event subprocess fired */
  interrupted?: boolean
  /** tokens waiting at joining gateways of this scope: gatewayId -> flowId -> count */
  joins?: Record<string, Record<string, number>>
  /** multi-instance body bookkeeping */
  mi?: { total: number; active: number; completed: number; terminated: number; next: number; items: JsonValue[] }
  isMiBody?: boolean
}

interface InstanceRuntime extends ProcessInstanceRecord {
  /** correlation key of the message that started it (message start events) */
  startCorrelationKey?: string
}

interface Awaiter {
  resolve: (vars: VariableDocument) => void
  reject: (e: Error) => void
  fetch?: string[]
}

export interface EngineOptions {
  clock?: Clock
}

/**
 * The embedded, Zeebe-compatible engine. Commands run to completion synchronously, one at a
 * time, so every command sees a consistent state (as Zeebe's single-threaded stream processor).
 */
export class Engine implements EngineApi {
  readonly clock: Clock
  private counter = 0
  private readonly repo: Repository
  private readonly expr: Expressions
  private readonly vars: VariableStore
  private readonly instances = new Map<Key, InstanceRuntime>()
  private readonly elements = new Map<Key, ElementInstance>()
  private readonly activeChildren = new Map<Key, Set<Key>>()
  private readonly jobs = new Map<Key, JobRecord>()
  private readonly activatable = new Map<string, Set<Key>>()
  private readonly jobListeners = new Map<string, Set<() => void>>()
  private readonly jobStreams = new Map<string, JobStream[]>()
  private readonly timers = new Map<Key, TimerRecord>()
  private readonly messages = new Map<Key, MessageRecord>()
  private readonly messageSubs = new Map<Key, MessageSubscriptionRecord>()
  private readonly messageSubIndex = new Map<string, Set<Key>>()
  /** message start events of latest versions: name -> definition key -> element ids */
  private readonly messageStarts = new Map<string, Map<Key, string[]>>()
  private readonly signalSubs = new Map<Key, SignalSubscriptionRecord>()
  private readonly signalIndex = new Map<string, Set<Key>>()
  private readonly incidents = new Map<Key, IncidentRecord>()
  private readonly userTasks = new Map<Key, UserTaskRecord>()
  private readonly awaiters = new Map<Key, Awaiter[]>()
  private readonly due = new DueQueue()
  private wakeTimer: NodeJS.Timeout | undefined
  /** real time (Date.now()) at which the armed wake-up fires */
  private wakeAt = Infinity
  private readonly pendingJobTypes = new Set<string>()
  private notifyScheduled = false
  private closed = false

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? new SystemClock()
    this.repo = new Repository(() => this.nextKey())
    this.expr = new Expressions(this.engineClock)
    this.vars = new VariableStore(
      () => this.nextKey(),
      (scope) => this.elements.get(scope)?.scopeKey,
      (scope) => {
        const ei = this.elements.get(scope) as ElementInstance
        return { processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey, bpmnProcessId: ei.bpmnProcessId, tenantId: ei.tenantId }
      },
    )
  }

  /** Engine time: frozen for the length of a command, so that replaying it gives the same result. */
  now(): number {
    return this.commandTime ?? this.clock.now()
  }

  private commandTime: number | undefined
  /** The clock FEEL and decisions read: engine time. */
  private readonly engineClock: Clock = { now: () => this.now() }
  private journal: Journal | undefined
  private replaying = false

  /** Every state-changing command is appended to the journal before it runs (durable state). */
  attachJournal(journal: Journal | undefined): void {
    this.journal = journal
  }

  /** Resolves once every command so far is durable (immediately without a journal). */
  whenDurable(): Promise<void> {
    if (!this.journal) return Promise.resolve()
    // A store that cannot write (disk full, read-only) is a refusal the client may retry, not an engine fault.
    return this.journal.durable().catch((error: Error) => {
      throw new EngineError('RESOURCE_EXHAUSTED', `The engine cannot store commands: ${error.message}`, 'UNKNOWN')
    })
  }

  /** Stop the wake-up timer; the engine answers no more commands after this. */
  close(): void {
    this.closed = true
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    for (const list of this.awaiters.values()) for (const a of list) a.reject(new EngineError('RESOURCE_EXHAUSTED', 'The engine is shutting down', 'CREATE_WITH_AWAITING_RESULT'))
    this.awaiters.clear()
  }

  private nextKey(): Key {
    // Keys come only from inside a command, so that replaying the journal gives the same keys.
    if (this.depth === 0) throw new Error('engine key generated outside a command')
    this.counter++
    return String(PARTITION_BASE + this.counter)
  }

  // ---------------------------------------------------------------- queries

  readonly queries: EngineQueries = {
    processInstances: () => this.instances.values(),
    processInstance: (key) => this.instances.get(key),
    elementInstances: () => this.elementRecords(),
    variables: () => this.vars.all(),
    incidents: () => this.incidents.values(),
    incident: (key) => this.incidents.get(key),
    jobs: () => this.jobs.values(),
    userTasks: () => this.userTasks.values(),
    userTask: (key) => this.userTasks.get(key),
    processDefinitions: () => [...this.repo.processes.values()].map((p) => p.record),
    decisionDefinitions: () => this.repo.decisions.values(),
    decisionRequirements: () => [...this.repo.drgs.values()].map((d) => d.record),
    forms: () => this.repo.forms.values(),
    processDefinitionXml: (key) => {
      const p = this.repo.processes.get(key)
      return p ? this.repo.resources.get(p.record.resourceKey)?.content : undefined
    },
  }

  private *elementRecords(): Iterable<ElementInstanceRecord> {
    for (const ei of this.elements.values()) {
      if (ei.type === 'PROCESS') continue
      yield ei
    }
  }

  // ---------------------------------------------------------------- deployment

  async deploy(resources: DeployResourceInput[], tenantId: string = DEFAULT_TENANT): Promise<DeploymentResult> {
    const parsed = await this.repo.parse(resources)
    const entry: Command = { c: 'deploy', r: resources.map((r) => ({ n: r.name, b: r.content.toString('base64') })), t: tenantId }
    return this.run(entry, () => this.storeDeployment(parsed, tenantId))
  }

  private storeDeployment(parsed: Awaited<ReturnType<Repository['parse']>>, tenantId: string): DeploymentResult {
    const { result, newProcesses, replaced } = this.repo.store(parsed, tenantId)
    for (const old of replaced) this.closeStartSubscriptions(old)
    for (const p of newProcesses) this.openStartSubscriptions(p)
    this.armWake()
    return result
  }

  deleteResource(resourceKey: Key): void {
    const proc = this.repo.processes.get(resourceKey)
    if (proc) {
      for (const inst of this.instances.values()) {
        if (inst.processDefinitionKey === resourceKey && inst.state === 'ACTIVE') {
          throw new EngineError('INVALID_STATE', `Expected to delete resource with key '${resourceKey}' but there are still running instances`, 'DELETE')
        }
      }
      return this.run({ c: 'delete', k: resourceKey }, () => {
        this.closeStartSubscriptions(proc)
        this.retiredModels.set(resourceKey, proc)
        const newLatest = this.repo.deleteProcess(resourceKey)
        if (newLatest) this.openStartSubscriptions(newLatest)
      })
    }
    const entry: Command = { c: 'delete', k: resourceKey }
    if (this.repo.drgs.has(resourceKey)) return this.run(entry, () => this.repo.deleteDrg(resourceKey))
    if (this.repo.forms.has(resourceKey)) return this.run(entry, () => this.repo.deleteForm(resourceKey))
    const decision = this.repo.decisions.get(resourceKey)
    if (decision) return this.run(entry, () => this.repo.deleteDrg(decision.decisionRequirementsKey))
    throw new EngineError('NOT_FOUND', `Expected to delete resource but no resource found with key \`${resourceKey}\``, 'DELETE')
  }

  private openStartSubscriptions(p: DeployedProcess): void {
    const { model, record } = p
    for (const id of model.startEvents) {
      const el = model.elements.get(id) as FlowElement
      const ev = el.event
      if (!ev) continue
      if (ev.kind === 'timer') {
        const schedule = this.startTimerSchedule(el)
        if (schedule) this.addTimer(schedule, { elementId: id, processDefinitionKey: record.key, tenantId: record.tenantId })
      } else if (ev.kind === 'message') {
        this.registerMessageStart(p, el)
      } else if (ev.kind === 'signal') {
        const name = this.expr.string(ev.signalName, () => ({}))
        this.addSignalSub({ signalName: name, elementId: id, processDefinitionKey: record.key, bpmnProcessId: record.bpmnProcessId, tenantId: record.tenantId })
      }
    }
  }

  private registerMessageStart(p: DeployedProcess, el: FlowElement): void {
    if (el.event?.kind !== 'message') return
    const name = this.expr.string(el.event.messageName, () => ({}))
    let byDef = this.messageStarts.get(name)
    if (!byDef) this.messageStarts.set(name, (byDef = new Map()))
    byDef.set(p.record.key, [...(byDef.get(p.record.key) ?? []), el.id])
  }

  private startTimerSchedule(el: FlowElement): TimerSchedule | undefined {
    const ev = el.event
    if (ev?.kind !== 'timer') return undefined
    try {
      return this.schedule(ev.timerType, ev.expression, () => ({}))
    } catch {
      // An invalid start timer makes no timer; the validator rejects static ones at deploy.
      return undefined
    }
  }

  private closeStartSubscriptions(p: DeployedProcess): void {
    const key = p.record.key
    for (const t of [...this.timers.values()]) if (t.processDefinitionKey === key && t.elementInstanceKey === undefined) this.timers.delete(t.key)
    for (const byDef of this.messageStarts.values()) byDef.delete(key)
    for (const s of [...this.signalSubs.values()]) if (s.processDefinitionKey === key && s.elementInstanceKey === undefined) this.removeSignalSub(s.key)
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
        if (el.scopeId !== def.model.id) throw new EngineError('INVALID_ARGUMENT', `Expected to start instance at element '${id}', but elements inside subprocesses are not supported as start instructions here`, 'CREATE')
      }
    }
    const inst = this.run({ c: 'create', i: input }, () => this.startInstance(def, input.variables ?? {}, startIds))
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
    const inst = this.instances.get(processInstanceKey)
    if (!inst) return Promise.reject(new EngineError('NOT_FOUND', `Expected to find process instance with key '${processInstanceKey}', but none found`, 'CREATE_WITH_AWAITING_RESULT'))
    if (inst.state === 'COMPLETED') return Promise.resolve(this.resultVariables(inst, fetchVariables))
    if (inst.state === 'TERMINATED') return Promise.reject(new EngineError('INVALID_STATE', `Process instance '${processInstanceKey}' was terminated before it completed`, 'CREATE_WITH_AWAITING_RESULT'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.awaiters.get(processInstanceKey)
        if (list) {
          const i = list.indexOf(awaiter)
          if (i >= 0) list.splice(i, 1)
          if (list.length === 0) this.awaiters.delete(processInstanceKey)
        }
        reject(new EngineError('RESOURCE_EXHAUSTED', `Process instance '${processInstanceKey}' did not complete within ${timeoutMs} ms`, 'CREATE_WITH_AWAITING_RESULT'))
      }, Math.min(timeoutMs, MAX_TIMEOUT))
      const awaiter: Awaiter = {
        resolve: (v) => { clearTimeout(timer); resolve(v) },
        reject: (e) => { clearTimeout(timer); reject(e) },
        fetch: fetchVariables,
      }
      const list = this.awaiters.get(processInstanceKey) ?? []
      list.push(awaiter)
      this.awaiters.set(processInstanceKey, list)
    })
  }

  private resultVariables(inst: InstanceRuntime, fetch: string[] | undefined): VariableDocument {
    const all = this.vars.local(inst.key)
    if (!fetch || fetch.length === 0) return all
    const out: VariableDocument = {}
    for (const n of fetch) if (n in all) out[n] = all[n]
    return out
  }

  cancelProcessInstance(processInstanceKey: Key): void {
    const inst = this.instances.get(processInstanceKey)
    if (!inst || inst.state !== 'ACTIVE') {
      throw new EngineError('NOT_FOUND', `Expected to cancel a process instance with key '${processInstanceKey}', but no such process was found`, 'CANCEL')
    }
    if (inst.parentProcessInstanceKey) {
      let root = inst
      while (root.parentProcessInstanceKey) root = this.instances.get(root.parentProcessInstanceKey) as InstanceRuntime
      throw new EngineError('INVALID_STATE', `Expected to cancel a process instance with key '${processInstanceKey}', but it is created by a parent process instance. Cancel the root process instance '${root.key}' instead.`, 'CANCEL')
    }
    this.run({ c: 'cancel', k: processInstanceKey }, () => {
      const root = this.elements.get(inst.key) as ElementInstance
      this.terminate(root)
      this.finishInstance(inst, 'TERMINATED')
    })
  }

  private startInstance(def: DeployedProcess, variables: VariableDocument, startIds: string[], parent?: ElementInstance, payload?: VariableDocument): InstanceRuntime {
    const key = this.nextKey()
    const now = this.now()
    const rec = def.record
    const inst: InstanceRuntime = {
      key, processDefinitionKey: rec.key, bpmnProcessId: rec.bpmnProcessId, version: rec.version, tenantId: rec.tenantId,
      state: 'ACTIVE', startDate: now, rootElementInstanceKey: key,
      parentProcessInstanceKey: parent?.processInstanceKey, parentElementInstanceKey: parent?.key,
    }
    this.instances.set(key, inst)
    // Known to the call activity before the child runs: a child that ends or throws at once must find it.
    if (parent) parent.childInstanceKey = key
    const root: ElementInstance = {
      key, processInstanceKey: key, processDefinitionKey: rec.key, bpmnProcessId: rec.bpmnProcessId, tenantId: rec.tenantId,
      elementId: rec.bpmnProcessId, elementName: def.model.name, type: 'PROCESS', lifecycle: 'ACTIVATED', startDate: now,
      definitionKey: rec.key,
    }
    this.elements.set(key, root)
    this.vars.setLocalDocument(key, variables)
    this.openScopeEventSubscriptions(root, def.model.eventSubProcesses, def.model)
    for (const id of startIds) {
      const el = def.model.elements.get(id) as FlowElement
      this.activate(root, el, undefined, startIds.length === 1 ? payload : undefined)
    }
    return inst
  }

  // ---------------------------------------------------------------- element lifecycle

  private model(ei: ElementInstance): ProcessModel {
    return (this.repo.processes.get(ei.definitionKey) ?? this.deletedModel(ei.definitionKey)).model
  }

  /** Models of deleted definitions stay reachable for their (finished) instances. */
  private readonly retiredModels = new Map<Key, DeployedProcess>()
  private deletedModel(key: Key): DeployedProcess {
    const p = this.retiredModels.get(key)
    if (!p) throw new Error(`process definition ${key} is gone`)
    return p
  }

  private scopeOf(ei: ElementInstance): ElementInstance | undefined {
    return ei.scopeKey ? this.elements.get(ei.scopeKey) : undefined
  }

  private visible(ei: ElementInstance): () => Record<string, unknown> {
    return () => this.vars.visible(ei.key)
  }

  private newElementInstance(scope: ElementInstance, el: FlowElement, type: RestElementType = restType(el)): ElementInstance {
    const ei: ElementInstance = {
      key: this.nextKey(), processInstanceKey: scope.processInstanceKey, processDefinitionKey: scope.processDefinitionKey,
      bpmnProcessId: scope.bpmnProcessId, tenantId: scope.tenantId, elementId: el.id, elementName: el.name, type,
      lifecycle: 'ACTIVATING', scopeKey: scope.key, startDate: this.now(), element: el, definitionKey: scope.definitionKey,
    }
    this.elements.set(ei.key, ei)
    addToIndex(this.activeChildren, scope.key, ei.key)
    return ei
  }

  /** A token arrives at `el` in `scope` (through `flowId`, or as a start). */
  private activate(scope: ElementInstance, el: FlowElement, flowId?: string, payload?: VariableDocument): void {
    if (el.type === 'parallelGateway' && el.incoming.length > 1) return this.arriveAtParallelJoin(scope, el, flowId)
    if (el.type === 'inclusiveGateway' && el.incoming.length > 1) return this.arriveAtInclusiveJoin(scope, el, flowId)
    if (el.multiInstance) return this.activateMultiInstanceBody(scope, el)
    const ei = this.newElementInstance(scope, el)
    if (payload) ei.payload = payload
    this.runActivation(ei)
  }

  /** Input mappings, then the element's own behaviour. A failure parks the element with an incident. */
  private runActivation(ei: ElementInstance): void {
    const el = ei.element as FlowElement
    try {
      this.applyInputMappings(ei, el)
      this.activateBehaviour(ei, el)
    } catch (e) {
      if (e instanceof IncidentError) return this.raiseIncident(ei, e.errorType, e.message)
      throw e
    }
  }

  private applyInputMappings(ei: ElementInstance, el: FlowElement): void {
    if (el.inputs.length === 0) return
    for (const m of el.inputs) {
      const value = this.expr.json(m.source, this.visible(ei))
      const doc: Record<string, JsonValue> = {}
      assignPath(doc, m.target, value, (name) => this.vars.getLocal(ei.key, name))
      this.vars.setLocalDocument(ei.key, doc)
    }
  }

  private activateBehaviour(ei: ElementInstance, el: FlowElement): void {
    switch (el.type) {
      case 'startEvent':
      case 'manualTask':
      case 'task':
        return this.complete(ei)
      case 'endEvent':
        return this.activateEndEvent(ei, el)
      case 'intermediateThrowEvent':
        return this.activateThrowEvent(ei, el)
      case 'intermediateCatchEvent':
        if (ei.payload) return this.complete(ei)
        this.openEventSubscription(ei, el)
        ei.lifecycle = 'ACTIVATED'
        return
      case 'boundaryEvent':
        return this.complete(ei)
      case 'serviceTask':
      case 'sendTask':
        return this.activateJobTask(ei, el)
      case 'scriptTask':
        if (el.script) {
          const value = this.expr.raw(el.script.expression, this.visible(ei))
          ei.payload = { [el.script.resultVariable]: feelToJson(value) }
          return this.complete(ei)
        }
        return this.activateJobTask(ei, el)
      case 'businessRuleTask':
        if (el.calledDecision) return this.activateDecisionTask(ei, el)
        return this.activateJobTask(ei, el)
      case 'userTask':
        if (el.isCamundaUserTask) return this.activateUserTask(ei, el)
        return this.activateJobTask(ei, el)
      case 'receiveTask':
        this.openEventSubscription(ei, el)
        this.openBoundarySubscriptions(ei, el)
        ei.lifecycle = 'ACTIVATED'
        return
      case 'exclusiveGateway':
        return this.activateExclusiveGateway(ei, el)
      case 'parallelGateway':
        return this.complete(ei, el.outgoing)
      case 'inclusiveGateway':
        return this.activateInclusiveFork(ei, el)
      case 'eventBasedGateway': {
        ei.lifecycle = 'ACTIVATED'
        const model = this.model(ei)
        for (const flowId of el.outgoing) {
          const target = model.elements.get(model.flows.get(flowId)?.targetRef ?? '') as FlowElement
          this.openEventSubscription(ei, target)
        }
        return
      }
      case 'subProcess':
        return this.activateSubProcess(ei, el)
      case 'callActivity':
        return this.activateCallActivity(ei, el)
    }
  }

  private activateEndEvent(ei: ElementInstance, el: FlowElement): void {
    const ev = el.event ?? { kind: 'none' as const }
    switch (ev.kind) {
      case 'terminate': {
        const scope = this.scopeOf(ei) as ElementInstance
        for (const k of [...(this.activeChildren.get(scope.key) ?? [])]) {
          if (k !== ei.key) this.terminate(this.elements.get(k) as ElementInstance)
        }
        scope.joins = undefined
        return this.complete(ei)
      }
      case 'error': {
        const vars = memo(this.visible(ei))
        const code = ev.errorCode !== undefined ? this.expr.string(ev.errorCode, vars) : ''
        const message = ev.errorMessage !== undefined ? this.expr.string(ev.errorMessage, vars) : ''
        ei.lifecycle = 'ACTIVATED'
        if (!this.throwErrorFrom(ei, code, {})) {
          throw new IncidentError('UNHANDLED_ERROR_EVENT', unhandledErrorMessage(code, message, this.availableErrorCodes(ei)))
        }
        return
      }
      default:
        // Signal, escalation and message end events throw as intermediate throw events do.
        return this.activateThrowEvent(ei, el)
    }
  }

  private activateThrowEvent(ei: ElementInstance, el: FlowElement): void {
    const ev = el.event ?? { kind: 'none' as const }
    if (ev.kind === 'signal') {
      this.broadcastSignalInternal(this.expr.string(ev.signalName, this.visible(ei)), this.vars.local(ei.key), ei.tenantId)
      // The signal may have interrupted this very scope.
      if (this.elements.get(ei.key)?.lifecycle !== 'ACTIVATING') return
      return this.complete(ei)
    }
    if (ev.kind === 'escalation') {
      const code = ev.escalationCode !== undefined ? this.expr.string(ev.escalationCode, this.visible(ei)) : ''
      ei.lifecycle = 'ACTIVATED'
      if (this.throwEscalationFrom(ei, code)) return
      return this.complete(ei)
    }
    if (ev.kind === 'message') return this.activateJobTask(ei, el)
    return this.complete(ei)
  }

  private activateSubProcess(ei: ElementInstance, el: FlowElement): void {
    ei.lifecycle = 'ACTIVATED'
    const model = this.model(ei)
    this.openBoundarySubscriptions(ei, el)
    if (el.triggeredByEvent) {
      // An event subprocess: its start event runs with the trigger payload.
      const startId = (el.startEvents ?? [])[0]
      const start = model.elements.get(startId) as FlowElement
      const payload = ei.payload
      ei.payload = undefined
      return this.activate(ei, start, undefined, payload)
    }
    this.openScopeEventSubscriptions(ei, el.eventSubProcesses ?? [], model)
    const none = (el.startEvents ?? []).map((id) => model.elements.get(id) as FlowElement).find((s) => !s.event || s.event.kind === 'none')
    if (none) this.activate(ei, none)
    else this.checkScopeCompletion(ei)
  }

  private activateCallActivity(ei: ElementInstance, el: FlowElement): void {
    const ce = el.calledElement
    if (!ce) return this.complete(ei)
    const processId = this.expr.string(ce.processId, this.visible(ei))
    let def: DeployedProcess | undefined
    if (ce.bindingType === 'deployment') {
      const own = this.repo.processes.get(ei.definitionKey)
      def = own ? this.repo.processInDeployment(processId, own.record.deploymentKey) : undefined
    } else if (ce.bindingType === 'versionTag') {
      def = this.repo.processByVersionTag(processId, ce.versionTag ?? '', ei.tenantId)
    } else {
      def = this.repo.latestProcessOf(processId, ei.tenantId)
    }
    if (!def) throw new IncidentError('CALLED_ELEMENT_ERROR', `Expected process with BPMN process id '${processId}' to be deployed, but not found.`)
    const none = def.model.startEvents.find((id) => def.model.elements.get(id)?.event?.kind === 'none')
    if (!none) throw new IncidentError('CALLED_ELEMENT_ERROR', `Expected process with BPMN process id '${processId}' to have a none start event, but not found.`)
    const variables = ce.propagateAllParentVariables ? this.vars.visible(ei.key) : this.vars.local(ei.key)
    ei.lifecycle = 'ACTIVATED'
    this.openBoundarySubscriptions(ei, el)
    this.startInstance(def, variables, [none], ei)
  }

  private activateDecisionTask(ei: ElementInstance, el: FlowElement): void {
    const cd = el.calledDecision as NonNullable<FlowElement['calledDecision']>
    const decisionId = this.expr.string(cd.decisionId, this.visible(ei))
    const found = this.repo.latestDecisionOf(decisionId, ei.tenantId)
    if (!found) throw new IncidentError('CALLED_DECISION_ERROR', `Expected to evaluate decision '${decisionId}', but no decision found for id '${decisionId}'`)
    const result = evaluateDecision(found.drg.model, decisionId, this.vars.visible(ei.key), this.engineClock)
    if (result.failureMessage !== undefined) {
      throw new IncidentError('DECISION_EVALUATION_ERROR', `Expected to evaluate decision '${decisionId}', but ${result.failureMessage}`)
    }
    ei.payload = { [cd.resultVariable]: result.output }
    this.complete(ei)
  }

  private activateUserTask(ei: ElementInstance, el: FlowElement): void {
    const ut = el.userTask ?? {}
    const vars = memo(this.visible(ei))
    let formKey: Key | undefined
    if (ut.formId) {
      const own = this.repo.processes.get(ei.definitionKey)
      const form = ut.formBindingType === 'deployment' && own
        ? this.repo.formInDeployment(ut.formId, own.record.deploymentKey)
        : this.repo.latestFormOf(ut.formId, ei.tenantId)
      if (!form) throw new IncidentError('FORM_NOT_FOUND', `Expected to find a form with id '${ut.formId}', but no form with this id is found, at least a form with this id should be available. To resolve the Incident please deploy a form with the same id`)
      formKey = form.key
    }
    const priority = ut.priority !== undefined && ut.priority !== '' ? this.expr.number(ut.priority, vars) : 50
    const task: UserTaskRecord = {
      key: this.nextKey(), state: 'CREATED', name: el.name, elementId: el.id, elementInstanceKey: ei.key,
      processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey, bpmnProcessId: ei.bpmnProcessId,
      processDefinitionVersion: this.instances.get(ei.processInstanceKey)?.version ?? 1, processName: this.model(ei).name,
      assignee: this.expr.optionalString(ut.assignee, vars), candidateGroups: this.expr.stringList(ut.candidateGroups, vars),
      candidateUsers: this.expr.stringList(ut.candidateUsers, vars), dueDate: this.dateOption(ut.dueDate, vars),
      followUpDate: this.dateOption(ut.followUpDate, vars), priority, formKey,
      externalFormReference: this.expr.optionalString(ut.externalReference, vars), customHeaders: { ...el.headers },
      creationDate: this.now(), tenantId: ei.tenantId,
    }
    this.userTasks.set(task.key, task)
    ei.userTaskKey = task.key
    ei.lifecycle = 'ACTIVATED'
    this.openBoundarySubscriptions(ei, el)
  }

  private dateOption(expr: string | undefined, vars: () => Record<string, unknown>): string | undefined {
    if (expr === undefined || expr === '') return undefined
    const v = this.expr.raw(expr, vars)
    if (v === null || v === '') return undefined
    const json = feelToJson(v)
    if (typeof json !== 'string') throw new IncidentError('EXTRACT_VALUE_ERROR', `Expected result of the expression '${expr.replace(/^=/, '')}' to be 'DATE_TIME', but was '${typeof json}'.`)
    return json
  }

  private activateJobTask(ei: ElementInstance, el: FlowElement): void {
    const vars = memo(this.visible(ei))
    let type: string
    let retries = 3
    const headers = { ...el.headers }
    if (el.taskDefinition) {
      type = this.expr.string(el.taskDefinition.type, vars)
      retries = this.expr.number(el.taskDefinition.retries, vars)
    } else if (el.type === 'userTask') {
      type = USER_TASK_JOB_TYPE
      const ut = el.userTask ?? {}
      const put = (name: string, value: string | undefined) => { if (value !== undefined && value !== '') headers[`io.camunda.zeebe:${name}`] = value }
      put('assignee', this.expr.optionalString(ut.assignee, vars))
      const groups = this.expr.stringList(ut.candidateGroups, vars)
      if (groups.length) put('candidateGroups', JSON.stringify(groups))
      const users = this.expr.stringList(ut.candidateUsers, vars)
      if (users.length) put('candidateUsers', JSON.stringify(users))
      put('dueDate', this.dateOption(ut.dueDate, vars))
      put('followUpDate', this.dateOption(ut.followUpDate, vars))
      if (ut.formId) put('formKey', ut.formId)
    } else {
      throw new IncidentError('EXTRACT_VALUE_ERROR', `Element '${el.id}' has no job type`)
    }
    const inst = this.instances.get(ei.processInstanceKey) as InstanceRuntime
    const job: JobRecord = {
      key: this.nextKey(), type, state: 'ACTIVATABLE', retries, customHeaders: headers, elementId: el.id,
      elementInstanceKey: ei.key, processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey,
      bpmnProcessId: ei.bpmnProcessId, processDefinitionVersion: inst.version, tenantId: ei.tenantId, createdAt: this.now(),
    }
    this.jobs.set(job.key, job)
    ei.jobKey = job.key
    ei.lifecycle = 'ACTIVATED'
    this.openBoundarySubscriptions(ei, el)
    this.makeActivatable(job)
  }

  private activateExclusiveGateway(ei: ElementInstance, el: FlowElement): void {
    if (el.outgoing.length === 0) return this.complete(ei)
    const model = this.model(ei)
    if (el.outgoing.length === 1 && !model.flows.get(el.outgoing[0])?.condition) return this.complete(ei, el.outgoing)
    const vars = memo(this.visible(ei))
    for (const flowId of el.outgoing) {
      if (flowId === el.defaultFlow) continue
      const flow = model.flows.get(flowId)
      if (!flow?.condition) continue
      if (this.expr.boolean(flow.condition, vars)) return this.complete(ei, [flowId])
    }
    if (el.defaultFlow) return this.complete(ei, [el.defaultFlow])
    throw new IncidentError('CONDITION_ERROR', 'Expected at least one condition to evaluate to true, or to have a default flow')
  }

  private activateInclusiveFork(ei: ElementInstance, el: FlowElement): void {
    if (el.outgoing.length === 0) return this.complete(ei)
    const model = this.model(ei)
    if (el.outgoing.length === 1 && !model.flows.get(el.outgoing[0])?.condition) return this.complete(ei, el.outgoing)
    const vars = memo(this.visible(ei))
    const taken: string[] = []
    for (const flowId of el.outgoing) {
      if (flowId === el.defaultFlow) continue
      const flow = model.flows.get(flowId)
      if (!flow?.condition || this.expr.boolean(flow.condition, vars)) taken.push(flowId)
    }
    if (taken.length === 0 && el.defaultFlow) taken.push(el.defaultFlow)
    if (taken.length === 0) throw new IncidentError('CONDITION_ERROR', 'Expected at least one condition to evaluate to true, or to have a default flow')
    this.complete(ei, taken)
  }

  private arriveAtParallelJoin(scope: ElementInstance, el: FlowElement, flowId?: string): void {
    const joins = (scope.joins ??= {})
    const tokens = (joins[el.id] ??= {})
    if (flowId) tokens[flowId] = (tokens[flowId] ?? 0) + 1
    if (!el.incoming.every((f) => (tokens[f] ?? 0) > 0)) return
    for (const f of el.incoming) {
      tokens[f] -= 1
      if (tokens[f] === 0) delete tokens[f]
    }
    if (Object.keys(tokens).length === 0) delete joins[el.id]
    const ei = this.newElementInstance(scope, el)
    this.runActivation(ei)
  }

  private arriveAtInclusiveJoin(scope: ElementInstance, el: FlowElement, flowId?: string): void {
    const joins = (scope.joins ??= {})
    const tokens = (joins[el.id] ??= {})
    if (flowId) tokens[flowId] = (tokens[flowId] ?? 0) + 1
    this.tryInclusiveJoin(scope, el)
  }

  /** Fire an inclusive join when every incoming flow has a token, or no active element can still reach it. */
  private tryInclusiveJoin(scope: ElementInstance, el: FlowElement): void {
    const tokens = scope.joins?.[el.id]
    if (!tokens || Object.keys(tokens).length === 0) return
    const allTaken = el.incoming.every((f) => (tokens[f] ?? 0) > 0)
    if (!allTaken) {
      const model = this.model(scope)
      for (const k of this.activeChildren.get(scope.key) ?? []) {
        const child = this.elements.get(k) as ElementInstance
        if (child.element && canReach(model, child.element.id, el.id, new Set(Object.keys(tokens)))) return
      }
      for (const [gwId, t] of Object.entries(scope.joins ?? {})) {
        if (gwId !== el.id && Object.keys(t).length > 0 && canReach(model, gwId, el.id, new Set(Object.keys(tokens)))) return
      }
    }
    for (const f of Object.keys(tokens)) {
      tokens[f] -= 1
      if (tokens[f] === 0) delete tokens[f]
    }
    if (scope.joins && Object.keys(tokens).length === 0) delete scope.joins[el.id]
    // The joined gateway then forks like any inclusive gateway.
    this.runActivation(this.newElementInstance(scope, el))
  }

  // ---------------------------------------------------------------- multi-instance

  private activateMultiInstanceBody(scope: ElementInstance, el: FlowElement): void {
    const body = this.newElementInstance(scope, el, 'MULTI_INSTANCE_BODY')
    body.isMiBody = true
    this.runMultiInstanceBody(body)
  }

  private runMultiInstanceBody(body: ElementInstance): void {
    const el = body.element as FlowElement
    const mi = el.multiInstance as NonNullable<FlowElement['multiInstance']>
    let items: JsonValue[]
    try {
      items = this.expr.array(mi.inputCollection, this.visible(body))
    } catch (e) {
      if (e instanceof IncidentError) return this.raiseIncident(body, e.errorType, e.message)
      throw e
    }
    body.mi = { total: items.length, active: 0, completed: 0, terminated: 0, next: 0, items }
    if (mi.outputCollection) this.vars.setLocal(body.key, mi.outputCollection, items.map(() => null))
    body.lifecycle = 'ACTIVATED'
    this.openBoundarySubscriptions(body, el)
    if (items.length === 0) return this.complete(body)
    if (mi.isSequential) this.activateInner(body)
    else for (let i = 0; i < items.length; i++) this.activateInner(body)
  }

  private activateInner(body: ElementInstance): void {
    const el = body.element as FlowElement
    const mi = el.multiInstance as NonNullable<FlowElement['multiInstance']>
    const state = body.mi as NonNullable<ElementInstance['mi']>
    const index = state.next++
    state.active++
    const inner = this.newElementInstance(body, el)
    inner.loopIndex = index
    if (mi.inputElement) this.vars.setLocal(inner.key, mi.inputElement, state.items[index])
    this.vars.setLocal(inner.key, 'loopCounter', index + 1)
    this.runActivation(inner)
  }

  /** An inner instance finished: collect its output, check the completion condition, go on. */
  private innerCompleted(body: ElementInstance, inner: ElementInstance): void {
    const el = body.element as FlowElement
    const mi = el.multiInstance as NonNullable<FlowElement['multiInstance']>
    const state = body.mi as NonNullable<ElementInstance['mi']>
    state.active--
    state.completed++
    if (mi.outputCollection && mi.outputElement) {
      const value = this.expr.json(mi.outputElement, () => this.vars.visible(inner.key))
      const coll = [...((this.vars.getLocal(body.key, mi.outputCollection) as JsonValue[]) ?? [])]
      coll[inner.loopIndex ?? 0] = value
      this.vars.setLocal(body.key, mi.outputCollection, coll)
    }
    this.vars.dropScope(inner.key)
    if (mi.completionCondition) {
      const counters = { numberOfInstances: state.total, numberOfActiveInstances: state.active, numberOfCompletedInstances: state.completed, numberOfTerminatedInstances: state.terminated }
      let done: boolean
      try {
        done = this.expr.boolean(mi.completionCondition, () => ({ ...this.vars.visible(body.key), ...counters }))
      } catch (e) {
        if (e instanceof IncidentError) return this.raiseIncident(body, e.errorType, e.message)
        throw e
      }
      if (done) {
        for (const k of [...(this.activeChildren.get(body.key) ?? [])]) {
          this.terminate(this.elements.get(k) as ElementInstance)
          state.terminated++
          state.active--
        }
        return this.complete(body)
      }
    }
    if (mi.isSequential && state.next < state.total) return this.activateInner(body)
    if (state.active === 0 && state.next >= state.total) this.complete(body)
  }

  // ---------------------------------------------------------------- completion

  /** Complete an element: output mappings, close subscriptions, take flows, maybe complete its scope. */
  private complete(ei: ElementInstance, flows?: string[]): void {
    const el = ei.element
    if (!el) return
    ei.lifecycle = 'COMPLETING'
    try {
      this.applyOutputs(ei, el)
    } catch (e) {
      if (e instanceof IncidentError) return this.raiseIncident(ei, e.errorType, e.message)
      throw e
    }
    this.finishCompletion(ei, flows ?? this.outgoingOf(ei, el))
  }

  private outgoingOf(ei: ElementInstance, el: FlowElement): string[] {
    if (ei.isMiBody || !el.multiInstance) return el.outgoing
    return []
  }

  private applyOutputs(ei: ElementInstance, el: FlowElement): void {
    const payload = ei.payload
    const isInner = !ei.isMiBody && el.multiInstance !== undefined
    if (ei.isMiBody) {
      const mi = el.multiInstance as NonNullable<FlowElement['multiInstance']>
      if (mi.outputCollection) {
        const scope = this.scopeOf(ei) as ElementInstance
        this.vars.merge(scope.key, { [mi.outputCollection]: this.vars.getLocal(ei.key, mi.outputCollection) ?? [] })
      }
      return
    }
    if (el.outputs.length === 0) {
      if (payload && Object.keys(payload).length > 0) this.vars.merge(ei.key, payload)
      return
    }
    if (payload) this.vars.setLocalDocument(ei.key, payload)
    const result: Record<string, JsonValue> = {}
    // Nothing is written until every mapping is evaluated, so both views hold for the whole loop.
    const own = memo(() => this.vars.visible(ei.key))
    const outer = memo(() => this.vars.visible(ei.scopeKey as Key))
    for (const m of el.outputs) {
      const value = this.expr.json(m.source, () => ({ ...own(), ...result }))
      assignPath(result, m.target, value, (name) => outer()[name])
    }
    if (isInner) this.vars.merge(ei.key, result)
    else this.vars.merge(ei.scopeKey as Key, result)
  }

  private finishCompletion(ei: ElementInstance, flows: string[]): void {
    const el = ei.element as FlowElement
    this.closeSubscriptions(ei)
    ei.payload = undefined
    ei.lifecycle = 'COMPLETED'
    ei.endDate = this.now()
    if (ei.jobKey) this.jobs.delete(ei.jobKey)
    const scope = this.scopeOf(ei) as ElementInstance
    this.activeChildren.get(scope.key)?.delete(ei.key)
    this.activeChildren.delete(ei.key)
    if (!ei.isMiBody && el.multiInstance && scope.isMiBody) return this.innerCompleted(scope, ei)
    this.vars.dropScope(ei.key)
    const model = this.model(ei)
    for (const flowId of flows) {
      const flow = model.flows.get(flowId)
      if (!flow) continue
      if (scope.lifecycle !== 'ACTIVATED' && scope.lifecycle !== 'ACTIVATING') return
      this.activate(scope, model.elements.get(flow.targetRef) as FlowElement, flowId)
    }
    this.checkScopeCompletion(scope)
  }

  /** A scope with no active child and no waiting token completes. */
  private checkScopeCompletion(scope: ElementInstance): void {
    if (scope.lifecycle !== 'ACTIVATED') return
    const children = this.activeChildren.get(scope.key)
    if (scope.joins) {
      for (const gwId of Object.keys(scope.joins)) {
        const gw = this.model(scope).elements.get(gwId)
        if (gw?.type === 'inclusiveGateway') this.tryInclusiveJoin(scope, gw)
      }
    }
    if (children && children.size > 0) return
    if (scope.joins && Object.values(scope.joins).some((t) => Object.keys(t).length > 0)) return
    if (scope.isMiBody) return
    if (scope.type === 'PROCESS') return this.completeProcess(scope)
    this.complete(scope)
  }

  private completeProcess(root: ElementInstance): void {
    const inst = this.instances.get(root.processInstanceKey) as InstanceRuntime
    this.closeSubscriptions(root)
    root.lifecycle = 'COMPLETED'
    root.endDate = this.now()
    const parentEi = inst.parentElementInstanceKey ? this.elements.get(inst.parentElementInstanceKey) : undefined
    const childVars = this.vars.local(root.key)
    this.finishInstance(inst, 'COMPLETED')
    if (parentEi && parentEi.lifecycle === 'ACTIVATED') {
      const ce = parentEi.element?.calledElement
      parentEi.childInstanceKey = undefined
      if (ce?.propagateAllChildVariables || (parentEi.element?.outputs.length ?? 0) > 0) parentEi.payload = childVars
      this.complete(parentEi)
    }
  }

  private finishInstance(inst: InstanceRuntime, state: 'COMPLETED' | 'TERMINATED'): void {
    inst.state = state
    inst.endDate = this.now()
    const root = this.elements.get(inst.key) as ElementInstance
    root.lifecycle = state
    root.endDate = inst.endDate
    const awaiting = this.awaiters.get(inst.key)
    if (awaiting) {
      this.awaiters.delete(inst.key)
      for (const a of awaiting) {
        if (state === 'COMPLETED') a.resolve(this.resultVariables(inst, a.fetch))
        else a.reject(new EngineError('INVALID_STATE', `Process instance '${inst.key}' was terminated before it completed`, 'CREATE_WITH_AWAITING_RESULT'))
      }
    }
    if (inst.startCorrelationKey !== undefined) this.retryBufferedStart(inst)
  }

  // ---------------------------------------------------------------- termination

  /** Terminate an element and everything below it (jobs, user tasks, subscriptions, child instances). */
  private terminate(ei: ElementInstance): void {
    if (ei.lifecycle === 'COMPLETED' || ei.lifecycle === 'TERMINATED') return
    ei.lifecycle = 'TERMINATING'
    for (const k of [...(this.activeChildren.get(ei.key) ?? [])]) this.terminate(this.elements.get(k) as ElementInstance)
    this.activeChildren.delete(ei.key)
    ei.joins = undefined
    if (ei.jobKey) {
      const job = this.jobs.get(ei.jobKey)
      if (job) this.removeJob(job)
    }
    if (ei.userTaskKey) {
      const task = this.userTasks.get(ei.userTaskKey)
      if (task && task.state === 'CREATED') {
        task.state = 'CANCELED'
        task.completionDate = this.now()
      }
    }
    if (ei.childInstanceKey) {
      const child = this.instances.get(ei.childInstanceKey)
      if (child && child.state === 'ACTIVE') {
        this.terminate(this.elements.get(child.key) as ElementInstance)
        this.finishInstance(child, 'TERMINATED')
      }
    }
    this.closeSubscriptions(ei)
    this.resolveIncidentsOf(ei)
    ei.lifecycle = 'TERMINATED'
    ei.endDate = this.now()
    if (ei.scopeKey) this.activeChildren.get(ei.scopeKey)?.delete(ei.key)
    if (ei.type !== 'PROCESS') this.vars.dropScope(ei.key)
  }

  private resolveIncidentsOf(ei: ElementInstance): void {
    if (!ei.incidentKey) return
    const inc = this.incidents.get(ei.incidentKey)
    // Resolved incidents stay, as in Camunda's search: only their state changes.
    if (inc) inc.state = 'RESOLVED'
    ei.incidentKey = undefined
  }

  // ---------------------------------------------------------------- incidents

  private raiseIncident(ei: ElementInstance, errorType: IncidentErrorType, errorMessage: string, jobKey?: Key): void {
    const inc: IncidentRecord = {
      key: this.nextKey(), errorType, errorMessage, state: 'ACTIVE', creationTime: this.now(), elementId: ei.elementId,
      elementInstanceKey: ei.key, processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey,
      bpmnProcessId: ei.bpmnProcessId, jobKey, tenantId: ei.tenantId,
    }
    this.incidents.set(inc.key, inc)
    ei.incidentKey = inc.key
  }

  resolveIncident(incidentKey: Key): void {
    const inc = this.incidents.get(incidentKey)
    if (!inc || inc.state !== 'ACTIVE') {
      throw new EngineError('NOT_FOUND', `Expected to resolve incident with key '${incidentKey}', but no such incident was found`, 'RESOLVE')
    }
    const ei = this.elements.get(inc.elementInstanceKey) as ElementInstance
    if (inc.jobKey) {
      const job = this.jobs.get(inc.jobKey)
      if (job && inc.errorType === 'JOB_NO_RETRIES' && job.retries <= 0) {
        throw new EngineError('INVALID_STATE', `Expected to resolve incident with key '${incidentKey}', but job with key '${job.key}' has no retries left. Please update the job retries and retry resolving the incident`, 'RESOLVE')
      }
      this.run({ c: 'resolve', k: incidentKey }, () => {
        inc.state = 'RESOLVED'
        ei.incidentKey = undefined
        if (job) {
          job.errorMessage = undefined
          this.makeActivatable(job)
        }
      })
      return
    }
    this.run({ c: 'resolve', k: incidentKey }, () => {
      inc.state = 'RESOLVED'
      ei.incidentKey = undefined
      if (ei.isMiBody && !ei.mi) return this.runMultiInstanceBody(ei)
      if (ei.isMiBody) {
        // A failed completion condition: re-check by completing the body if nothing is left.
        if (ei.lifecycle === 'ACTIVATED' && (ei.mi?.active ?? 0) === 0) return this.complete(ei)
        return
      }
      if (ei.lifecycle === 'ACTIVATING') return this.runActivation(ei)
      if (ei.lifecycle === 'COMPLETING') return this.complete(ei)
      if (ei.lifecycle === 'ACTIVATED' && ei.element?.type === 'endEvent' && ei.element.event?.kind === 'error') {
        // An uncaught error end event throws again: still uncaught, a new incident.
        const code = ei.element.event.errorCode ? this.expr.string(ei.element.event.errorCode, this.visible(ei)) : ''
        if (!this.throwErrorFrom(ei, code, {})) this.raiseIncident(ei, 'UNHANDLED_ERROR_EVENT', unhandledErrorMessage(code, '', this.availableErrorCodes(ei)))
      }
    })
  }

  // ---------------------------------------------------------------- subscriptions

  /** Open the subscription for a catch event (message, timer, signal) owned by `owner`. */
  private openEventSubscription(owner: ElementInstance, catchEl: FlowElement): void {
    const ev = catchEl.event
    if (!ev) return
    const vars = memo(this.visible(owner))
    if (ev.kind === 'timer') {
      const s = this.schedule(ev.timerType, ev.expression, vars)
      const t = this.addTimer(s, { elementId: catchEl.id, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, tenantId: owner.tenantId })
      ;(owner.timerKeys ??= []).push(t.key)
    } else if (ev.kind === 'message') {
      const name = this.expr.string(ev.messageName, vars)
      const correlationKey = ev.correlationKey !== undefined ? this.expr.correlationKey(ev.correlationKey, vars) : ''
      const interrupting = isInterrupting(catchEl)
      const sub: MessageSubscriptionRecord = {
        key: this.nextKey(), messageName: name, correlationKey, elementId: catchEl.id, elementInstanceKey: owner.key,
        processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey,
        bpmnProcessId: owner.bpmnProcessId, interrupting, tenantId: owner.tenantId,
      }
      this.messageSubs.set(sub.key, sub)
      addToIndex(this.messageSubIndex, subIndexKey(name, correlationKey, owner.tenantId), sub.key)
      ;(owner.messageSubKeys ??= []).push(sub.key)
      this.pendingBufferedChecks.push(sub.key)
    } else if (ev.kind === 'signal') {
      const name = this.expr.string(ev.signalName, vars)
      const s = this.addSignalSub({ signalName: name, elementId: catchEl.id, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, bpmnProcessId: owner.bpmnProcessId, tenantId: owner.tenantId })
      ;(owner.signalSubKeys ??= []).push(s.key)
    }
  }

  /** Subscriptions opened during a command, checked against buffered messages once it settles. */
  private pendingBufferedChecks: Key[] = []

  private openBoundarySubscriptions(host: ElementInstance, el: FlowElement): void {
    // Boundary events of a multi-instance activity belong to its body, not to the inner instances.
    if (el.multiInstance && !host.isMiBody) return
    const model = this.model(host)
    for (const id of el.boundaryEvents) {
      const b = model.elements.get(id) as FlowElement
      const kind = b.event?.kind
      if (kind === 'timer' || kind === 'message' || kind === 'signal') this.openEventSubscription(host, b)
    }
  }

  private openScopeEventSubscriptions(scope: ElementInstance, eventSubProcesses: string[], model: ProcessModel): void {
    for (const espId of eventSubProcesses) {
      const esp = model.elements.get(espId) as FlowElement
      const start = model.elements.get((esp.startEvents ?? [])[0]) as FlowElement | undefined
      const kind = start?.event?.kind
      if (start && (kind === 'timer' || kind === 'message' || kind === 'signal')) this.openEventSubscription(scope, start)
    }
  }

  private closeSubscriptions(ei: ElementInstance): void {
    if (ei.timerKeys) {
      for (const k of ei.timerKeys) this.timers.delete(k)
      ei.timerKeys = undefined
    }
    if (ei.messageSubKeys) {
      for (const k of ei.messageSubKeys) this.removeMessageSub(k)
      ei.messageSubKeys = undefined
    }
    if (ei.signalSubKeys) {
      for (const k of ei.signalSubKeys) this.removeSignalSub(k)
      ei.signalSubKeys = undefined
    }
  }

  private removeMessageSub(key: Key): void {
    const sub = this.messageSubs.get(key)
    if (!sub) return
    this.messageSubs.delete(key)
    const idx = subIndexKey(sub.messageName, sub.correlationKey, sub.tenantId)
    const set = this.messageSubIndex.get(idx)
    set?.delete(key)
    if (set && set.size === 0) this.messageSubIndex.delete(idx)
  }

  private addSignalSub(s: Omit<SignalSubscriptionRecord, 'key'>): SignalSubscriptionRecord {
    const sub: SignalSubscriptionRecord = { key: this.nextKey(), ...s }
    this.signalSubs.set(sub.key, sub)
    addToIndex(this.signalIndex, sub.signalName, sub.key)
    return sub
  }

  private removeSignalSub(key: Key): void {
    const sub = this.signalSubs.get(key)
    if (!sub) return
    this.signalSubs.delete(key)
    this.signalIndex.get(sub.signalName)?.delete(key)
  }

  /**
   * An event fired for a subscription owned by `owner` on catch element `catchEl`: a boundary
   * event, an event-subprocess start, an event after an event-based gateway, or the waiting
   * element itself.
   */
  private triggerEvent(owner: ElementInstance, catchEl: FlowElement, payload: VariableDocument): void {
    if (owner.lifecycle !== 'ACTIVATED') return
    const model = this.model(owner)
    if (catchEl.type === 'boundaryEvent') {
      const scope = this.scopeOf(owner) as ElementInstance
      if (catchEl.cancelActivity !== false) {
        this.terminate(owner)
      }
      const ei = this.newElementInstance(scope, catchEl)
      ei.payload = payload
      return this.runActivation(ei)
    }
    if (catchEl.type === 'startEvent' && catchEl.scopeId !== model.id && model.elements.get(catchEl.scopeId)?.triggeredByEvent) {
      return this.triggerEventSubProcess(owner, model.elements.get(catchEl.scopeId) as FlowElement, catchEl, payload)
    }
    if (owner.element?.type === 'eventBasedGateway') {
      this.closeSubscriptions(owner)
      const flowId = owner.element.outgoing.find((f) => model.flows.get(f)?.targetRef === catchEl.id) as string
      owner.lifecycle = 'COMPLETING'
      // The winning catch event is activated (with the event payload) before the gateway leaves
      // its scope: otherwise the scope would look empty and complete without the chosen branch.
      const scope = this.scopeOf(owner) as ElementInstance
      this.activate(scope, catchEl, flowId, payload)
      this.finishCompletion(owner, [])
      return
    }
    owner.payload = payload
    this.complete(owner)
  }

  private triggerEventSubProcess(scope: ElementInstance, esp: FlowElement, start: FlowElement, payload: VariableDocument): void {
    if (scope.interrupted) return
    if (start.isInterrupting !== false) {
      scope.interrupted = true
      for (const k of [...(this.activeChildren.get(scope.key) ?? [])]) this.terminate(this.elements.get(k) as ElementInstance)
      scope.joins = undefined
      // Only the scope's own event-subprocess subscriptions close; boundary events of the scope stay.
      this.closeEventSubProcessSubscriptions(scope)
    }
    const ei = this.newElementInstance(scope, esp, 'EVENT_SUB_PROCESS')
    ei.payload = payload
    this.runActivation(ei)
  }

  private closeEventSubProcessSubscriptions(scope: ElementInstance): void {
    const model = this.model(scope)
    const isEspStart = (elementId: string) => {
      const el = model.elements.get(elementId)
      return el?.type === 'startEvent' && model.elements.get(el.scopeId)?.triggeredByEvent === true
    }
    if (scope.timerKeys) scope.timerKeys = scope.timerKeys.filter((k) => {
      const t = this.timers.get(k)
      if (t && isEspStart(t.elementId)) { this.timers.delete(k); return false }
      return true
    })
    if (scope.messageSubKeys) scope.messageSubKeys = scope.messageSubKeys.filter((k) => {
      const s = this.messageSubs.get(k)
      if (s && isEspStart(s.elementId)) { this.removeMessageSub(k); return false }
      return true
    })
    if (scope.signalSubKeys) scope.signalSubKeys = scope.signalSubKeys.filter((k) => {
      const s = this.signalSubs.get(k)
      if (s && isEspStart(s.elementId)) { this.removeSignalSub(k); return false }
      return true
    })
  }

  // ---------------------------------------------------------------- errors and escalations

  /** Find the catcher of an error thrown at `thrower` and trigger it. False when nothing catches it. */
  private throwErrorFrom(thrower: ElementInstance, code: string, variables: VariableDocument): boolean {
    const found = this.findCatcher(thrower, 'error', code)
    if (!found) return false
    const payload = { ...variables }
    if (found.kind === 'boundary') this.triggerEvent(found.owner, found.catchEl, payload)
    else this.triggerEventSubProcess(found.owner, found.esp as FlowElement, found.catchEl, payload)
    return true
  }

  private throwEscalationFrom(thrower: ElementInstance, code: string): boolean {
    const found = this.findCatcher(thrower, 'escalation', code)
    if (!found) return false
    const interrupting = isInterrupting(found.catchEl)
    if (found.kind === 'boundary') this.triggerEvent(found.owner, found.catchEl, {})
    else this.triggerEventSubProcess(found.owner, found.esp as FlowElement, found.catchEl, {})
    return interrupting
  }

  private findCatcher(thrower: ElementInstance, kind: 'error' | 'escalation', code: string):
    { kind: 'boundary' | 'esp'; owner: ElementInstance; catchEl: FlowElement; esp?: FlowElement } | undefined {
    // Walk outward: the boundary events of each activity, then the event subprocesses of each
    // scope, up to the process and on through the call activity into the parent instance.
    let current: ElementInstance | undefined = thrower
    while (current) {
      const model = this.model(current)
      const el = current.element
      // An inner multi-instance instance leaves its boundary events to the body.
      if (el && isActivity(el) && (current.isMiBody || !el.multiInstance)) {
        const match = pickCatch(el.boundaryEvents.map((id) => model.elements.get(id) as FlowElement), kind, code)
        if (match) return { kind: 'boundary', owner: current, catchEl: match }
      }
      const scope = this.scopeOf(current)
      if (!scope) {
        const inst = this.instances.get(current.processInstanceKey) as InstanceRuntime
        current = inst.parentElementInstanceKey ? this.elements.get(inst.parentElementInstanceKey) : undefined
        continue
      }
      if (!scope.interrupted && !scope.isMiBody) {
        const espIds = scope.type === 'PROCESS' ? model.eventSubProcesses : scope.element?.eventSubProcesses ?? []
        const starts = espIds
          .map((id) => model.elements.get((model.elements.get(id)?.startEvents ?? [])[0] ?? ''))
          .filter((s): s is FlowElement => s !== undefined)
        const match = pickCatch(starts, kind, code)
        if (match) return { kind: 'esp', owner: scope, catchEl: match, esp: model.elements.get(match.scopeId) }
      }
      current = scope
    }
    return undefined
  }

  private availableErrorCodes(thrower: ElementInstance): string[] {
    const codes: string[] = []
    let current: ElementInstance | undefined = thrower
    while (current) {
      const model = this.model(current)
      for (const id of current.element?.boundaryEvents ?? []) {
        const ev = model.elements.get(id)?.event
        if (ev?.kind === 'error' && ev.errorCode) codes.push(ev.errorCode)
      }
      current = this.scopeOf(current)
    }
    return codes
  }

  // ---------------------------------------------------------------- jobs

  private makeActivatable(job: JobRecord): void {
    job.state = 'ACTIVATABLE'
    job.deadline = undefined
    job.worker = undefined
    if (job.recurAt !== undefined && job.recurAt > this.now()) {
      this.due.push(job.recurAt, 'job-backoff', job.key)
      this.armWake()
      return
    }
    job.recurAt = undefined
    const streams = this.jobStreams.get(job.type)
    if (streams && streams.length > 0) {
      for (let i = 0; i < streams.length; i++) {
        const stream = streams[0]
        streams.push(streams.shift() as JobStream)
        if (stream.tenantIds && stream.tenantIds.length > 0 && !stream.tenantIds.includes(job.tenantId)) continue
        this.pushToStream(stream, job)
        return
      }
    }
    addToIndex(this.activatable, job.type, job.key)
    this.pendingJobTypes.add(job.type)
    this.scheduleNotify()
  }

  /**
   * Activate a job for a stream, and hand it over once the activation (and the command that made
   * the job) is durable: a worker never acts on a job that a crash could take back.
   */
  private pushToStream(stream: JobStream, job: JobRecord): void {
    const activated = this.activate1(job, stream.worker, stream.timeout, stream.fetchVariables)
    this.logActivation(job, stream.worker, stream.timeout)
    this.pendingPushes.push({ stream, job: activated })
    if (this.pushScheduled) return
    this.pushScheduled = true
    const deliver = () => {
      this.whenDurable().then(() => {
        this.pushScheduled = false
        const batch = this.pendingPushes
        this.pendingPushes = []
        for (const { stream: s, job: j } of batch) {
          if (!s.push(j)) this.yieldJob(j.key)
        }
      }, () => setTimeout(deliver, 500).unref())
    }
    deliver()
  }

  private pendingPushes: { stream: JobStream; job: ActivatedJob }[] = []
  private pushScheduled = false

  /** A stream closed before it could take its job: the job is activatable again at once. */
  private yieldJob(jobKey: Key): void {
    const job = this.jobs.get(jobKey)
    if (!job || job.state !== 'ACTIVATED' || this.closed) return
    this.run({ c: 'yield', k: jobKey }, () => this.makeActivatable(job))
  }

  private removeJob(job: JobRecord): void {
    this.jobs.delete(job.key)
    this.activatable.get(job.type)?.delete(job.key)
  }

  private activate1(job: JobRecord, worker: string, timeout: number, fetch?: string[]): ActivatedJob {
    job.state = 'ACTIVATED'
    job.worker = worker
    job.deadline = this.now() + timeout
    this.activatable.get(job.type)?.delete(job.key)
    this.due.push(job.deadline, 'job-deadline', job.key)
    this.armWake()
    const variables = fetch && fetch.length > 0
      ? this.vars.visibleNamed(job.elementInstanceKey, fetch)
      : this.vars.visible(job.elementInstanceKey)
    return {
      key: job.key, type: job.type, processInstanceKey: job.processInstanceKey, bpmnProcessId: job.bpmnProcessId,
      processDefinitionVersion: job.processDefinitionVersion, processDefinitionKey: job.processDefinitionKey,
      elementId: job.elementId, elementInstanceKey: job.elementInstanceKey, customHeaders: job.customHeaders,
      worker, retries: job.retries, deadline: job.deadline, variables, tenantId: job.tenantId,
    }
  }

  activateJobs(input: ActivateJobsInput): ActivatedJob[] {
    const set = this.activatable.get(input.type)
    if (!set || set.size === 0) return []
    return this.run(null, () => {
      const out: ActivatedJob[] = []
      for (const key of [...set]) {
        if (out.length >= input.maxJobsToActivate) break
        const job = this.jobs.get(key)
        if (!job) { set.delete(key); continue }
        if (input.tenantIds && input.tenantIds.length > 0 && !input.tenantIds.includes(job.tenantId)) continue
        out.push(this.activate1(job, input.worker, input.timeout, input.fetchVariables))
        this.logActivation(job, input.worker, input.timeout)
      }
      return out
    })
  }

  onJobsAvailable(type: string, listener: () => void): () => void {
    let set = this.jobListeners.get(type)
    if (!set) this.jobListeners.set(type, (set = new Set()))
    set.add(listener)
    return () => { set?.delete(listener) }
  }

  addJobStream(stream: JobStream): () => void {
    const list = this.jobStreams.get(stream.type) ?? []
    list.push(stream)
    this.jobStreams.set(stream.type, list)
    // Jobs already waiting go to the new stream at once.
    const waiting = this.activatable.get(stream.type)
    if (waiting && waiting.size > 0) {
      this.run(null, () => {
        for (const key of [...waiting]) {
          const job = this.jobs.get(key)
          if (!job) continue
          if (stream.tenantIds && stream.tenantIds.length > 0 && !stream.tenantIds.includes(job.tenantId)) continue
          this.pushToStream(stream, job)
        }
      })
    }
    return () => {
      const l = this.jobStreams.get(stream.type)
      if (!l) return
      const i = l.indexOf(stream)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) this.jobStreams.delete(stream.type)
    }
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      const types = [...this.pendingJobTypes]
      this.pendingJobTypes.clear()
      for (const t of types) for (const l of [...(this.jobListeners.get(t) ?? [])]) l()
    })
  }

  private jobFor(jobKey: Key, verb: string, intent: string): JobRecord {
    const job = this.jobs.get(jobKey)
    if (!job) throw new EngineError('NOT_FOUND', `Expected to ${verb} job with key '${jobKey}', but no such job was found`, intent)
    return job
  }

  completeJob(jobKey: Key, variables?: VariableDocument): void {
    const job = this.jobFor(jobKey, 'complete', 'COMPLETE')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to complete job with key '${jobKey}', but it is in state '${job.state === 'FAILED' ? 'FAILED' : 'ERROR_THROWN'}'`, 'COMPLETE')
    }
    if (variables) assertDocument(variables)
    const ei = this.elements.get(job.elementInstanceKey) as ElementInstance
    this.run({ c: 'complete', k: jobKey, v: variables }, () => {
      this.removeJob(job)
      ei.jobKey = undefined
      ei.payload = variables ?? {}
      this.complete(ei)
    })
  }

  failJob(jobKey: Key, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void {
    const job = this.jobFor(jobKey, 'fail', 'FAIL')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to fail job with key '${jobKey}', but it is in state '${job.state}'`, 'FAIL')
    }
    this.run({ c: 'fail', k: jobKey, r: retries, m: errorMessage, b: retryBackOff, v: variables }, () => {
      if (variables && Object.keys(variables).length > 0) this.vars.setLocalDocument(job.elementInstanceKey, variables)
      job.retries = retries
      job.errorMessage = errorMessage
      this.activatable.get(job.type)?.delete(job.key)
      if (retries > 0) {
        job.recurAt = retryBackOff > 0 ? this.now() + retryBackOff : undefined
        this.makeActivatable(job)
        return
      }
      job.state = 'FAILED'
      job.deadline = undefined
      const ei = this.elements.get(job.elementInstanceKey) as ElementInstance
      this.raiseIncident(ei, 'JOB_NO_RETRIES', errorMessage || 'No more retries left.', job.key)
    })
  }

  throwError(jobKey: Key, errorCode: string, errorMessage: string, variables?: VariableDocument): void {
    const job = this.jobFor(jobKey, 'throw an error for', 'THROW_ERROR')
    if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
      throw new EngineError('INVALID_STATE', `Expected to throw an error for job with key '${jobKey}', but it is in state '${job.state}'`, 'THROW_ERROR')
    }
    if (variables) assertDocument(variables)
    const ei = this.elements.get(job.elementInstanceKey) as ElementInstance
    this.run({ c: 'error', k: jobKey, e: errorCode, m: errorMessage, v: variables }, () => {
      this.activatable.get(job.type)?.delete(job.key)
      job.state = 'ERROR_THROWN'
      job.errorMessage = errorMessage
      if (this.throwErrorFrom(ei, errorCode, variables ?? {})) {
        this.jobs.delete(job.key)
        return
      }
      this.raiseIncident(ei, 'UNHANDLED_ERROR_EVENT', unhandledErrorMessage(errorCode, errorMessage, this.availableErrorCodes(ei)), job.key)
    })
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
      this.due.push(job.deadline, 'job-deadline', job.key)
      this.armWake()
    })
  }

  // ---------------------------------------------------------------- user tasks

  private openTask(userTaskKey: Key, intent: string): UserTaskRecord {
    const task = this.userTasks.get(userTaskKey)
    if (!task) throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
    // Zeebe removes a completed or canceled task from its state: a command on it finds nothing.
    if (task.state !== 'CREATED') throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
    return task
  }

  completeUserTask(userTaskKey: Key, variables?: VariableDocument): void {
    const task = this.openTask(userTaskKey, 'COMPLETE')
    if (variables) assertDocument(variables)
    const ei = this.elements.get(task.elementInstanceKey) as ElementInstance
    this.run({ c: 'utComplete', k: userTaskKey, v: variables }, () => {
      task.state = 'COMPLETED'
      task.completionDate = this.now()
      ei.userTaskKey = undefined
      ei.payload = variables ?? {}
      this.complete(ei)
    })
  }

  assignUserTask(userTaskKey: Key, assignee: string, allowOverride: boolean): void {
    const task = this.openTask(userTaskKey, 'ASSIGN')
    if (!assignee) throw new EngineError('INVALID_ARGUMENT', 'Expected a non-empty assignee', 'ASSIGN')
    if (!allowOverride && task.assignee && task.assignee !== assignee) {
      throw new EngineError('INVALID_STATE', `Expected to assign user task with key '${userTaskKey}', but it is already assigned to '${task.assignee}'`, 'ASSIGN')
    }
    this.run({ c: 'utAssign', k: userTaskKey, a: assignee, o: allowOverride }, () => { task.assignee = assignee })
  }

  unassignUserTask(userTaskKey: Key): void {
    const task = this.openTask(userTaskKey, 'ASSIGN')
    this.run({ c: 'utUnassign', k: userTaskKey }, () => { task.assignee = undefined })
  }

  updateUserTask(userTaskKey: Key, changeset: { dueDate?: string | null; followUpDate?: string | null; candidateUsers?: string[] | null; candidateGroups?: string[] | null; priority?: number | null }): void {
    const task = this.openTask(userTaskKey, 'UPDATE')
    const priority = changeset.priority
    if (priority !== undefined && priority !== null && (!Number.isInteger(priority) || priority < 0 || priority > 100)) {
      throw new EngineError('INVALID_ARGUMENT', `Expected priority to be an integer between 0 and 100, but was ${priority}`, 'UPDATE')
    }
    this.run({ c: 'utUpdate', k: userTaskKey, cs: changeset }, () => this.applyTaskChangeset(task, changeset))
  }

  private applyTaskChangeset(task: UserTaskRecord, changeset: TaskChangeset): void {
    if (changeset.priority !== undefined && changeset.priority !== null) task.priority = changeset.priority
    if (changeset.dueDate !== undefined && changeset.dueDate !== null) task.dueDate = changeset.dueDate === '' ? undefined : changeset.dueDate
    if (changeset.followUpDate !== undefined && changeset.followUpDate !== null) task.followUpDate = changeset.followUpDate === '' ? undefined : changeset.followUpDate
    if (changeset.candidateUsers) task.candidateUsers = [...changeset.candidateUsers]
    if (changeset.candidateGroups) task.candidateGroups = [...changeset.candidateGroups]
  }

  // ---------------------------------------------------------------- variables

  setVariables(elementInstanceKey: Key, variables: VariableDocument, local: boolean): { key: Key } {
    const ei = this.elements.get(elementInstanceKey)
    if (!ei || (ei.lifecycle !== 'ACTIVATED' && ei.lifecycle !== 'ACTIVATING' && ei.lifecycle !== 'COMPLETING')) {
      throw new EngineError('NOT_FOUND', `Expected to update variables for element with key '${elementInstanceKey}', but no such element was found`, 'UPDATE')
    }
    assertDocument(variables)
    return this.run({ c: 'setVars', k: elementInstanceKey, v: variables, l: local }, () => {
      if (local) this.vars.setLocalDocument(ei.key, variables)
      else this.vars.merge(ei.key, variables)
      return { key: this.nextKey() }
    })
  }

  // ---------------------------------------------------------------- messages

  publishMessage(input: PublishMessageInput): { key: Key; tenantId: string } {
    const tenantId = input.tenantId || DEFAULT_TENANT
    if (input.variables) assertDocument(input.variables)
    const now = this.clock.now()
    if (input.messageId) {
      for (const m of this.messages.values()) {
        if (m.expiresAt <= now) continue
        if (m.messageId === input.messageId && m.name === input.name && m.correlationKey === input.correlationKey && m.tenantId === tenantId) {
          throw new EngineError('ALREADY_EXISTS', `Expected to publish a new message with id '${input.messageId}', but a message with that id was already published`, 'PUBLISH')
        }
      }
    }
    return this.run({ c: 'publish', i: input }, () => {
      const message: MessageRecord = {
        key: this.nextKey(), name: input.name, correlationKey: input.correlationKey, messageId: input.messageId || undefined,
        variables: input.variables ?? {}, expiresAt: this.now() + Math.max(0, input.timeToLive), tenantId, correlatedProcessIds: [],
      }
      this.correlateMessageNow(message)
      if (input.timeToLive > 0) {
        this.messages.set(message.key, message)
        this.due.push(message.expiresAt, 'message-expiry', message.key)
        this.armWake()
      }
      return { key: message.key, tenantId }
    })
  }

  correlateMessage(input: Omit<PublishMessageInput, 'timeToLive' | 'messageId'>): { messageKey: Key; processInstanceKey: Key; tenantId: string } {
    const tenantId = input.tenantId || DEFAULT_TENANT
    if (input.variables) assertDocument(input.variables)
    const { message, first } = this.run({ c: 'correlate', i: input }, () => {
      const message: MessageRecord = {
        key: this.nextKey(), name: input.name, correlationKey: input.correlationKey, variables: input.variables ?? {},
        expiresAt: this.now(), tenantId, correlatedProcessIds: [],
      }
      return { message, first: this.correlateMessageNow(message) }
    })
    if (!first) {
      throw new EngineError('NOT_FOUND', `Expected to find subscription for message with name '${input.name}' and correlation key '${input.correlationKey}', but none was found.`, 'CORRELATE')
    }
    return { messageKey: message.key, processInstanceKey: first, tenantId }
  }

  /** Correlate to start events and open subscriptions; at most once per BPMN process id. Returns the first instance key. */
  private correlateMessageNow(message: MessageRecord): Key | undefined {
    let first: Key | undefined
    const starts = this.messageStarts.get(message.name)
    if (starts) {
      for (const [defKey, elementIds] of starts) {
        const def = this.repo.processes.get(defKey)
        if (!def || def.record.tenantId !== message.tenantId) continue
        if (message.correlatedProcessIds.includes(def.record.bpmnProcessId)) continue
        if (message.correlationKey !== '' && this.hasActiveMessageStarted(def.record.bpmnProcessId, message.correlationKey)) continue
        const inst = this.startInstance(def, {}, [elementIds[0]], undefined, message.variables)
        inst.startCorrelationKey = message.correlationKey
        message.correlatedProcessIds.push(def.record.bpmnProcessId)
        first ??= inst.key
      }
    }
    const idx = this.messageSubIndex.get(subIndexKey(message.name, message.correlationKey, message.tenantId))
    if (idx) {
      for (const subKey of [...idx]) {
        const sub = this.messageSubs.get(subKey)
        if (!sub) continue
        if (message.correlatedProcessIds.includes(sub.bpmnProcessId)) continue
        const owner = this.elements.get(sub.elementInstanceKey) as ElementInstance
        const catchEl = this.model(owner).elements.get(sub.elementId) as FlowElement
        message.correlatedProcessIds.push(sub.bpmnProcessId)
        first ??= sub.processInstanceKey
        if (sub.interrupting) this.removeMessageSub(subKey)
        this.triggerEvent(owner, catchEl, { ...message.variables })
      }
    }
    return first
  }

  private hasActiveMessageStarted(bpmnProcessId: string, correlationKey: string): boolean {
    for (const inst of this.instances.values()) {
      if (inst.state === 'ACTIVE' && inst.bpmnProcessId === bpmnProcessId && inst.startCorrelationKey === correlationKey) return true
    }
    return false
  }

  /** A message-started instance ended: a buffered message with the same key may start the next one. */
  private retryBufferedStart(inst: InstanceRuntime): void {
    const now = this.now()
    for (const m of this.messages.values()) {
      if (m.expiresAt <= now || m.correlationKey !== inst.startCorrelationKey) continue
      const starts = this.messageStarts.get(m.name)
      if (!starts) continue
      for (const [defKey, elementIds] of starts) {
        const def = this.repo.processes.get(defKey)
        if (!def || def.record.bpmnProcessId !== inst.bpmnProcessId || m.correlatedProcessIds.includes(inst.bpmnProcessId)) continue
        const next = this.startInstance(def, {}, [elementIds[0]], undefined, m.variables)
        next.startCorrelationKey = m.correlationKey
        m.correlatedProcessIds.push(inst.bpmnProcessId)
        return
      }
    }
  }

  /** A newly opened subscription takes the oldest matching buffered message (FIFO). */
  private checkBufferedFor(subKey: Key): void {
    const sub = this.messageSubs.get(subKey)
    if (!sub) return
    const now = this.now()
    for (const m of this.messages.values()) {
      if (m.expiresAt <= now) continue
      if (m.name !== sub.messageName || m.correlationKey !== sub.correlationKey || m.tenantId !== sub.tenantId) continue
      if (m.correlatedProcessIds.includes(sub.bpmnProcessId)) continue
      m.correlatedProcessIds.push(sub.bpmnProcessId)
      const owner = this.elements.get(sub.elementInstanceKey) as ElementInstance
      const catchEl = this.model(owner).elements.get(sub.elementId) as FlowElement
      if (sub.interrupting) this.removeMessageSub(subKey)
      this.triggerEvent(owner, catchEl, { ...m.variables })
      return
    }
  }

  // ---------------------------------------------------------------- signals

  broadcastSignal(signalName: string, variables?: VariableDocument, tenantId?: string): { key: Key; tenantId: string } {
    if (variables) assertDocument(variables)
    const tenant = tenantId || DEFAULT_TENANT
    const key = this.run({ c: 'signal', n: signalName, v: variables, t: tenantId }, () => this.broadcastSignalInternal(signalName, variables ?? {}, tenant))
    return { key, tenantId: tenant }
  }

  private broadcastSignalInternal(signalName: string, variables: VariableDocument, tenantId: string): Key {
    const key = this.nextKey()
    const subs = [...(this.signalIndex.get(signalName) ?? [])].map((k) => this.signalSubs.get(k)).filter((s): s is SignalSubscriptionRecord => !!s && s.tenantId === tenantId)
    for (const sub of subs) {
      if (!this.signalSubs.has(sub.key)) continue
      if (sub.elementInstanceKey === undefined) {
        const def = this.repo.processes.get(sub.processDefinitionKey)
        if (def) this.startInstance(def, {}, [sub.elementId], undefined, { ...variables })
        continue
      }
      const owner = this.elements.get(sub.elementInstanceKey)
      if (!owner) continue
      const catchEl = this.model(owner).elements.get(sub.elementId) as FlowElement
      if (isInterrupting(catchEl)) this.removeSignalSub(sub.key)
      this.triggerEvent(owner, catchEl, { ...variables })
    }
    return key
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
    const result = evaluateDecision(drg.model, decision.decisionId, input.variables ?? {}, this.engineClock)
    const decisionInstanceKey = this.run({ c: 'key' }, () => this.nextKey())
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

  // ---------------------------------------------------------------- timers and the clock

  private schedule(timerType: 'timeDuration' | 'timeDate' | 'timeCycle', expression: string, vars: () => Record<string, unknown>): TimerSchedule {
    const value = this.expr.raw(expression, vars)
    const now = this.now()
    try {
      if (timerType === 'timeDuration') return scheduleTimeDuration(value, now)
      if (timerType === 'timeDate') return scheduleTimeDate(value, now)
      return scheduleTimeCycle(value, now)
    } catch (e) {
      throw new IncidentError('EXTRACT_VALUE_ERROR', (e as Error).message)
    }
  }

  private addTimer(s: TimerSchedule, owner: Omit<TimerRecord, 'key' | 'dueDate' | 'repetitions' | 'interval' | 'cron'>): TimerRecord {
    const t: TimerRecord = { key: this.nextKey(), dueDate: s.dueDate, repetitions: s.repetitions, interval: s.interval, cron: s.cron, ...owner }
    this.timers.set(t.key, t)
    this.due.push(t.dueDate, 'timer', t.key)
    this.armWake()
    return t
  }

  /** The clock moved (pinned forward, or time passed): fire everything now due, in due order. */
  onClockChanged(): void {
    this.processDue()
  }

  /**
   * Keep one real-time wake-up armed for the earliest due entry. It is compared in real time:
   * when the clock is pinned and moved, a wake-up armed earlier may be due much later than needed.
   */
  private armWake(): void {
    if (this.closed) return
    const next = this.due.peek()
    if (!next) return
    const delay = Math.max(0, Math.min(next.at - this.clock.now(), MAX_TIMEOUT))
    const fireAt = Date.now() + delay
    if (this.wakeTimer && this.wakeAt <= fireAt) return
    this.setWake(delay)
  }

  private setWake(delay: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeAt = Date.now() + delay
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined
      this.wakeAt = Infinity
      this.processDue()
    }, delay)
    this.wakeTimer.unref()
  }

  private processDue(): void {
    if (this.closed) return
    const first = this.due.peek()
    if (first && first.at <= this.clock.now()) {
      // One command for everything due now, fired in due order at one engine time.
      try {
        this.run({ c: 'tick' }, () => this.fireAllDue())
      } catch (error) {
        // The store refuses commands (disk full, read-only): what is due stays due and fires once it accepts them again.
        if (!(error instanceof EngineError && error.type === 'RESOURCE_EXHAUSTED' && this.journal?.failure)) throw error
        this.setWake(DUE_RETRY_MS)
        return
      }
    }
    this.armWake()
  }

  private fireAllDue(): void {
    for (;;) {
      const next = this.due.peek()
      if (!next || next.at > this.now()) break
      this.due.pop()
      this.fireDue(next.kind, next.key, next.at)
    }
  }

  private fireDue(kind: 'timer' | 'job-deadline' | 'job-backoff' | 'message-expiry', key: Key, at: number): void {
    if (kind === 'job-deadline') {
      const job = this.jobs.get(key)
      if (job && job.state === 'ACTIVATED' && job.deadline === at) this.makeActivatable(job)
      return
    }
    if (kind === 'job-backoff') {
      const job = this.jobs.get(key)
      if (job && job.state === 'ACTIVATABLE' && job.recurAt === at) {
        job.recurAt = undefined
        this.makeActivatable(job)
      }
      return
    }
    if (kind === 'message-expiry') {
      const m = this.messages.get(key)
      if (m && m.expiresAt <= this.now()) this.messages.delete(key)
      return
    }
    const timer = this.timers.get(key)
    if (!timer || timer.dueDate !== at) return
    this.timers.delete(key)
    const now = this.now()
    const next = nextTimerSchedule({ dueDate: timer.dueDate, repetitions: timer.repetitions, interval: timer.interval, cron: timer.cron }, timer.dueDate, now)
    if (timer.elementInstanceKey === undefined) {
      const def = this.repo.processes.get(timer.processDefinitionKey)
      if (def) {
        this.startInstance(def, {}, [timer.elementId])
        if (next) this.addTimer(next, { elementId: timer.elementId, processDefinitionKey: timer.processDefinitionKey, tenantId: timer.tenantId })
      }
      return
    }
    const owner = this.elements.get(timer.elementInstanceKey)
    if (!owner || owner.lifecycle !== 'ACTIVATED') return
    owner.timerKeys = owner.timerKeys?.filter((k) => k !== key)
    const catchEl = this.model(owner).elements.get(timer.elementId) as FlowElement
    if (!isInterrupting(catchEl) && next) {
      const t = this.addTimer(next, { elementId: timer.elementId, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, tenantId: owner.tenantId })
      ;(owner.timerKeys ??= []).push(t.key)
    }
    this.triggerEvent(owner, catchEl, {})
  }

  // ---------------------------------------------------------------- snapshots

  /** The whole state as plain records (JSON-safe): what a snapshot stores. */
  exportState(): EngineSnapshot {
    return {
      v: 1,
      counter: this.counter,
      repository: this.repo.exportState(),
      instances: [...this.instances.values()],
      elements: [...this.elements.values()].map(({ element: _element, ...rest }) => rest),
      variables: [...this.vars.all()],
      jobs: [...this.jobs.values()],
      timers: [...this.timers.values()],
      messages: [...this.messages.values()],
      messageSubscriptions: [...this.messageSubs.values()],
      signalSubscriptions: [...this.signalSubs.values()],
      incidents: [...this.incidents.values()],
      userTasks: [...this.userTasks.values()],
    }
  }

  /** Load a snapshot into this (new, empty) engine: records, then every index derived from them. */
  async importState(state: EngineSnapshot): Promise<void> {
    if (state.v !== 1) throw new Error(`Unknown engine snapshot version ${String(state.v)}`)
    await this.repo.importState(state.repository)
    this.counter = state.counter
    for (const inst of state.instances) this.instances.set(inst.key, inst)
    for (const rec of state.elements) {
      const ei: ElementInstance = { ...rec }
      if (ei.type !== 'PROCESS') ei.element = this.repo.processes.get(ei.definitionKey)?.model.elements.get(ei.elementId)
      this.elements.set(ei.key, ei)
    }
    for (const ei of this.elements.values()) {
      if (!ei.scopeKey || ei.lifecycle === 'COMPLETED' || ei.lifecycle === 'TERMINATED') continue
      addToIndex(this.activeChildren, ei.scopeKey, ei.key)
    }
    this.vars.importRecords(state.variables)
    const now = this.clock.now()
    for (const job of state.jobs) {
      this.jobs.set(job.key, job)
      if (job.state === 'ACTIVATED' && job.deadline !== undefined) this.due.push(job.deadline, 'job-deadline', job.key)
      if (job.state !== 'ACTIVATABLE') continue
      if (job.recurAt !== undefined && job.recurAt > now) {
        this.due.push(job.recurAt, 'job-backoff', job.key)
        continue
      }
      addToIndex(this.activatable, job.type, job.key)
    }
    for (const t of state.timers) {
      this.timers.set(t.key, t)
      this.due.push(t.dueDate, 'timer', t.key)
    }
    for (const m of state.messages) {
      this.messages.set(m.key, m)
      this.due.push(m.expiresAt, 'message-expiry', m.key)
    }
    for (const sub of state.messageSubscriptions) {
      this.messageSubs.set(sub.key, sub)
      addToIndex(this.messageSubIndex, subIndexKey(sub.messageName, sub.correlationKey, sub.tenantId), sub.key)
    }
    for (const sub of state.signalSubscriptions) {
      this.signalSubs.set(sub.key, sub)
      addToIndex(this.signalIndex, sub.signalName, sub.key)
    }
    for (const inc of state.incidents) this.incidents.set(inc.key, inc)
    for (const task of state.userTasks) this.userTasks.set(task.key, task)
    for (const p of this.repo.latestProcesses()) {
      for (const id of p.model.startEvents) this.registerMessageStart(p, p.model.elements.get(id) as FlowElement)
    }
    this.armWake()
  }

  /** Counts for benchmarks and logs. */
  stats(): { instances: number; activeInstances: number; elements: number; jobs: number; timers: number; messageSubscriptions: number } {
    let active = 0
    for (const i of this.instances.values()) if (i.state === 'ACTIVE') active++
    return { instances: this.instances.size, activeInstances: active, elements: this.elements.size, jobs: this.jobs.size, timers: this.timers.size, messageSubscriptions: this.messageSubs.size }
  }

  // ---------------------------------------------------------------- command runner

  private depth = 0

  /**
   * Run one command at one engine time: it is journaled first (when a journal is attached), then
   * its effects run, then subscriptions opened meanwhile meet buffered messages.
   */
  private run<T>(entry: Command | null, fn: () => T): T {
    if (this.depth === 0) {
      if (this.journal?.failure) throw new EngineError('RESOURCE_EXHAUSTED', `The engine cannot store commands: ${this.journal.failure.message}`, entry?.c ?? 'UNKNOWN')
      this.commandTime = this.replayTime ?? this.clock.now()
      if (entry && this.journal && !this.replaying) this.journal.append(this.commandTime, JSON.stringify(entry))
    }
    this.depth++
    try {
      return fn()
    } finally {
      this.depth--
      if (this.depth === 0) {
        while (this.pendingBufferedChecks.length > 0) {
          const subKey = this.pendingBufferedChecks.shift() as Key
          if (this.messages.size > 0) {
            this.depth++
            try { this.checkBufferedFor(subKey) } finally { this.depth-- }
          }
        }
        this.commandTime = undefined
      }
    }
  }

  private replayTime: number | undefined

  /** Journal an activation (by a poll or a stream): replay must hand the same job out again. */
  private logActivation(job: JobRecord, worker: string, timeout: number): void {
    if (this.journal && !this.replaying) this.journal.append(this.now(), JSON.stringify({ c: 'act', k: job.key, w: worker, t: timeout } satisfies Command))
  }

  /** Re-apply one journaled command at its original engine time. */
  async replay(time: number, entry: Command): Promise<void> {
    this.replaying = true
    this.replayTime = time
    try {
      if (entry.c === 'deploy') {
        const parsed = await this.repo.parse(entry.r.map((r) => ({ name: r.n, content: Buffer.from(r.b, 'base64') })))
        this.replayTime = time
        this.run(null, () => this.storeDeployment(parsed, entry.t))
        return
      }
      this.replayOne(entry)
    } catch (e) {
      // A command rejected the first time is rejected again the same way; nothing changed then either.
      if (!(e instanceof EngineError)) throw e
    } finally {
      this.replaying = false
      this.replayTime = undefined
    }
  }

  private replayOne(e: Command): void {
    switch (e.c) {
      case 'create': this.createProcessInstance(e.i); return
      case 'cancel': this.cancelProcessInstance(e.k); return
      case 'delete': this.deleteResource(e.k); return
      case 'resolve': this.resolveIncident(e.k); return
      case 'complete': this.completeJob(e.k, e.v); return
      case 'fail': this.failJob(e.k, e.r, e.m, e.b, e.v); return
      case 'error': this.throwError(e.k, e.e, e.m, e.v); return
      case 'retries': this.updateJobRetries(e.k, e.r); return
      case 'jobTimeout': this.updateJobTimeout(e.k, e.t); return
      case 'utComplete': this.completeUserTask(e.k, e.v); return
      case 'utAssign': this.assignUserTask(e.k, e.a, e.o); return
      case 'utUnassign': this.unassignUserTask(e.k); return
      case 'utUpdate': this.updateUserTask(e.k, e.cs); return
      case 'setVars': this.setVariables(e.k, e.v, e.l); return
      case 'publish': this.publishMessage(e.i); return
      case 'correlate': this.correlateMessage(e.i); return
      case 'signal': this.broadcastSignal(e.n, e.v, e.t); return
      case 'key': this.run(null, () => this.nextKey()); return
      case 'gap': this.run(null, () => { this.counter += e.n }); return
      case 'tick': this.run(null, () => this.fireAllDue()); return
      case 'yield': {
        const job = this.jobs.get(e.k)
        if (job && job.state === 'ACTIVATED') this.run(null, () => this.makeActivatable(job))
        return
      }
      case 'act':
        this.run(null, () => {
          const job = this.jobs.get(e.k)
          if (job && job.state === 'ACTIVATABLE') this.activate1(job, e.w, e.t)
        })
        return
      case 'deploy': return
    }
  }

  /** After recovery: skip keys that may have been handed out before a crash but never committed. */
  skipKeys(n: number): void {
    this.run({ c: 'gap', n }, () => { this.counter += n })
  }
}

// ------------------------------------------------------------------ helpers

function subIndexKey(name: string, correlationKey: string, tenantId: string): string {
  return `${tenantId}\u0000${name}\u0000${correlationKey}`
}

function addToIndex(index: Map<string, Set<Key>>, at: string, key: Key): void {
  let set = index.get(at)
  if (!set) index.set(at, (set = new Set()))
  set.add(key)
}

function assertDocument(doc: unknown): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new EngineError('INVALID_ARGUMENT', `Expected variables to be a JSON object, but got '${JSON.stringify(doc)}'`, 'UNKNOWN')
  }
}

function memo<T>(fn: () => T): () => T {
  let cached: T | undefined
  let done = false
  return () => {
    if (!done) { cached = fn(); done = true }
    return cached as T
  }
}

function unhandledErrorMessage(code: string, message: string, available: string[]): string {
  const withMessage = message ? ` with message '${message}'` : ''
  const tail = available.length > 0 ? `Available error events are [${available.join(', ')}]` : 'No error events are available in the scope.'
  return `Expected to throw an error event with the code '${code}'${withMessage}, but it was not caught. ${tail}`
}

/** A boundary event cancels its activity, an event-subprocess start its scope; other catch events only ever interrupt. */
function isInterrupting(catchEl: FlowElement): boolean {
  return catchEl.type === 'boundaryEvent' ? catchEl.cancelActivity !== false : catchEl.isInterrupting !== false
}

function isActivity(el: FlowElement): boolean {
  return !['startEvent', 'endEvent', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent',
    'exclusiveGateway', 'parallelGateway', 'inclusiveGateway', 'eventBasedGateway'].includes(el.type)
}

function pickCatch(candidates: FlowElement[], kind: 'error' | 'escalation', code: string): FlowElement | undefined {
  let catchAll: FlowElement | undefined
  for (const c of candidates) {
    const ev = c.event
    if (!ev || ev.kind !== kind) continue
    const catchCode = ev.kind === 'error' ? ev.errorCode : ev.kind === 'escalation' ? ev.escalationCode : undefined
    if (catchCode === undefined || catchCode === '') catchAll ??= c
    else if (catchCode === code) return c
  }
  return catchAll
}

/** Can a token at `from` still reach `target` (inside the same scope), not through flows already taken? */
function canReach(model: ProcessModel, from: string, target: string, takenFlows: Set<string>): boolean {
  const seen = new Set<string>()
  const stack = [from]
  while (stack.length > 0) {
    const id = stack.pop() as string
    if (seen.has(id)) continue
    seen.add(id)
    const el = model.elements.get(id)
    if (!el) continue
    const outs = [...el.outgoing]
    for (const b of el.boundaryEvents) outs.push(...(model.elements.get(b)?.outgoing ?? []))
    for (const f of outs) {
      const flow = model.flows.get(f)
      if (!flow) continue
      if (flow.targetRef === target) {
        if (!takenFlows.has(f)) return true
        continue
      }
      stack.push(flow.targetRef)
    }
  }
  return false
}

function restType(el: FlowElement): RestElementType {
  switch (el.type) {
    case 'startEvent': return 'START_EVENT'
    case 'endEvent': return 'END_EVENT'
    case 'intermediateCatchEvent': return 'INTERMEDIATE_CATCH_EVENT'
    case 'intermediateThrowEvent': return 'INTERMEDIATE_THROW_EVENT'
    case 'boundaryEvent': return 'BOUNDARY_EVENT'
    case 'serviceTask': return 'SERVICE_TASK'
    case 'sendTask': return 'SEND_TASK'
    case 'scriptTask': return 'SCRIPT_TASK'
    case 'businessRuleTask': return 'BUSINESS_RULE_TASK'
    case 'userTask': return 'USER_TASK'
    case 'receiveTask': return 'RECEIVE_TASK'
    case 'manualTask': return 'MANUAL_TASK'
    case 'task': return 'TASK'
    case 'exclusiveGateway': return 'EXCLUSIVE_GATEWAY'
    case 'parallelGateway': return 'PARALLEL_GATEWAY'
    case 'inclusiveGateway': return 'INCLUSIVE_GATEWAY'
    case 'eventBasedGateway': return 'EVENT_BASED_GATEWAY'
    case 'subProcess': return el.triggeredByEvent ? 'EVENT_SUB_PROCESS' : 'SUB_PROCESS'
    case 'callActivity': return 'CALL_ACTIVITY'
  }
}

/** A journaled command: enough to re-apply it deterministically at its engine time. */
export type Command =
  | { c: 'deploy'; r: { n: string; b: string }[]; t: string }
  | { c: 'create'; i: CreateInstanceInput }
  | { c: 'cancel'; k: Key }
  | { c: 'delete'; k: Key }
  | { c: 'resolve'; k: Key }
  | { c: 'complete'; k: Key; v?: VariableDocument }
  | { c: 'fail'; k: Key; r: number; m: string; b: number; v?: VariableDocument }
  | { c: 'error'; k: Key; e: string; m: string; v?: VariableDocument }
  | { c: 'retries'; k: Key; r: number }
  | { c: 'jobTimeout'; k: Key; t: number }
  | { c: 'utComplete'; k: Key; v?: VariableDocument }
  | { c: 'utAssign'; k: Key; a: string; o: boolean }
  | { c: 'utUnassign'; k: Key }
  | { c: 'utUpdate'; k: Key; cs: TaskChangeset }
  | { c: 'setVars'; k: Key; v: VariableDocument; l: boolean }
  | { c: 'publish'; i: PublishMessageInput }
  | { c: 'correlate'; i: Omit<PublishMessageInput, 'timeToLive' | 'messageId'> }
  | { c: 'signal'; n: string; v?: VariableDocument; t?: string }
  | { c: 'key' }
  | { c: 'gap'; n: number }
  | { c: 'tick' }
  | { c: 'act'; k: Key; w: string; t: number }
  | { c: 'yield'; k: Key }

export interface TaskChangeset {
  dueDate?: string | null
  followUpDate?: string | null
  candidateUsers?: string[] | null
  candidateGroups?: string[] | null
  priority?: number | null
}

/** Where commands go before they run; `durable()` resolves once they are on disk. */
export interface Journal {
  append(time: number, command: string): void
  durable(): Promise<void>
  readonly failure: Error | undefined
}

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
}
