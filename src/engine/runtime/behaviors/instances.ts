import { EngineError } from '../../api'
import type { FlowElement, ProcessModel } from '../../model/types'
import type { Key, VariableDocument, VariableRecord } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { DeployedProcess } from '../repository'
import type { ElementInstance, InstanceRuntime } from '../runtime-state'
import { putKey } from '../variables'

/** setTimeout takes at most 2^31-1 ms; longer waits are re-armed in steps. */
export const MAX_TIMEOUT = 2 ** 31 - 1

interface Awaiter {
  resolve: (vars: VariableDocument) => void
  reject: (e: Error) => void
  fetch?: string[]
}

/** Process instances: starting, completing (handing back to a call activity), and clients awaiting the result. */
export class InstanceBehavior {
  private readonly awaiters = new Map<Key, Awaiter[]>()

  constructor(private readonly ctx: ProcessingContext) {}

  start(def: DeployedProcess, variables: VariableDocument, startIds: string[], parent?: ElementInstance, payload?: VariableDocument, terminateAfter?: string[]): InstanceRuntime {
    const ctx = this.ctx
    const key = ctx.nextKey()
    const now = ctx.now()
    const rec = def.record
    const inst: InstanceRuntime = {
      key, processDefinitionKey: rec.key, bpmnProcessId: rec.bpmnProcessId, version: rec.version, tenantId: rec.tenantId,
      state: 'ACTIVE', startDate: now, rootElementInstanceKey: key,
      parentProcessInstanceKey: parent?.processInstanceKey, parentElementInstanceKey: parent?.key,
      ...(terminateAfter && terminateAfter.length > 0 ? { terminateAfter } : {}),
    }
    ctx.state.instances.set(key, inst)
    // Known to the call activity before the child runs: a child that ends or throws at once must find it.
    if (parent) parent.childInstanceKey = key
    const root: ElementInstance = {
      key, processInstanceKey: key, processDefinitionKey: rec.key, bpmnProcessId: rec.bpmnProcessId, tenantId: rec.tenantId,
      elementId: rec.bpmnProcessId, elementName: def.model.name, type: 'PROCESS', lifecycle: 'ACTIVATED', startDate: now,
      definitionKey: rec.key,
    }
    ctx.state.elements.set(key, root)
    ctx.vars.setLocalDocument(key, variables)
    if (def.model.executionListeners?.some((listener) => listener.eventType === 'start')) {
      // The process's start listeners run first; what starts waits for them.
      root.lifecycle = 'ACTIVATING'
      root.pendingStart = { startIds, ...(payload ? { payload } : {}) }
      ctx.incidents.guard(root, () => { ctx.listeners.begin(root, 'start') })
      return inst
    }
    this.startContent(root, def.model, startIds, payload)
    return inst
  }

  /** The process's start listeners are done: its event subprocesses listen, its start elements run. */
  continueStart(root: ElementInstance): void {
    const pending = root.pendingStart ?? { startIds: [] }
    root.pendingStart = undefined
    root.lifecycle = 'ACTIVATED'
    this.startContent(root, this.ctx.model(root), pending.startIds, pending.payload)
    this.ctx.flow.checkScopeCompletion(root)
  }

  private startContent(root: ElementInstance, model: ProcessModel, startIds: string[], payload?: VariableDocument): void {
    const ctx = this.ctx
    ctx.subscriptions.openScopeEventSubscriptions(root, model.eventSubProcesses, model)
    for (const id of startIds) {
      const el = model.elements.get(id) as FlowElement
      ctx.flow.activate(root, el, undefined, startIds.length === 1 ? payload : undefined)
    }
  }

  /** Every element of the process is done: its end listeners, then it completes. */
  completeProcess(root: ElementInstance): void {
    const ctx = this.ctx
    if (ctx.model(root).executionListeners?.some((listener) => listener.eventType === 'end')) {
      ctx.subscriptions.closeSubscriptions(root)
      root.lifecycle = 'COMPLETING'
      ctx.incidents.guard(root, () => { if (!ctx.listeners.begin(root, 'end')) this.finishCompletion(root) })
      return
    }
    this.finishCompletion(root)
  }

  finishCompletion(root: ElementInstance): void {
    const ctx = this.ctx
    const inst = ctx.state.instances.get(root.processInstanceKey) as InstanceRuntime
    ctx.subscriptions.closeSubscriptions(root)
    root.lifecycle = 'COMPLETED'
    root.endDate = ctx.now()
    const parentEi = inst.parentElementInstanceKey ? ctx.state.elements.get(inst.parentElementInstanceKey) : undefined
    // (read only for a calling element: a root instance's variables may be MB left in their rows)
    const childVars = parentEi ? ctx.vars.local(root.key) : undefined
    this.finish(inst, 'COMPLETED')
    if (parentEi && parentEi.lifecycle === 'ACTIVATED') {
      const ce = parentEi.element?.calledElement
      parentEi.childInstanceKey = undefined
      if (ce?.propagateAllChildVariables || (parentEi.element?.outputs.length ?? 0) > 0) parentEi.payload = childVars
      ctx.flow.complete(parentEi)
    }
  }

  /**
   * Cancel a root instance and everything below it: at once, or once the canceling listeners of
   * its user tasks are done (the instance stays active meanwhile, its root element terminating).
   */
  cancel(inst: InstanceRuntime, withListeners = true): void {
    if (!this.ctx.flow.terminate(this.ctx.state.elements.get(inst.key) as ElementInstance, { k: 'cancel-instance' }, withListeners)) return
    this.finish(inst, 'TERMINATED')
  }

  finish(inst: InstanceRuntime, state: 'COMPLETED' | 'TERMINATED'): void {
    this.ctx.compensation.dropOf(inst.key)
    inst.state = state
    inst.endDate = this.ctx.now()
    if (inst.parentProcessInstanceKey === undefined) this.ctx.endedRoots.push(inst.key)
    const root = this.ctx.state.elements.get(inst.key) as ElementInstance
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
    if (inst.startCorrelationKey !== undefined) this.ctx.messages.retryBufferedStart(inst)
  }

  awaitCompletion(processInstanceKey: Key, fetchVariables: string[] | undefined, timeoutMs: number): Promise<VariableDocument> {
    // An instance that ran to its end within its creation is already in the history.
    const finished = this.ctx.history.get('instance', processInstanceKey)
    if (finished?.state === 'COMPLETED') return Promise.resolve(this.pick(this.ctx.history.variablesOf(processInstanceKey), fetchVariables))
    const inst = this.ctx.state.instances.get(processInstanceKey) ?? finished
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

  /** The engine closes: every client still awaiting a result is answered. */
  rejectAwaiters(): void {
    for (const list of this.awaiters.values()) for (const a of list) a.reject(new EngineError('RESOURCE_EXHAUSTED', 'The engine is shutting down', 'CREATE_WITH_AWAITING_RESULT'))
    this.awaiters.clear()
  }

  private resultVariables(inst: InstanceRuntime, fetch: string[] | undefined): VariableDocument {
    return this.select(this.ctx.vars.local(inst.key), fetch)
  }

  /** The result of a finished instance from its variables in the history. */
  private pick(records: VariableRecord[], fetch: string[] | undefined): VariableDocument {
    const all: VariableDocument = {}
    for (const v of records) putKey(all, v.name, v.value)
    return this.select(all, fetch)
  }

  private select(all: VariableDocument, fetch: string[] | undefined): VariableDocument {
    if (!fetch || fetch.length === 0) return all
    const out: VariableDocument = {}
    for (const n of fetch) if (Object.hasOwn(all, n)) putKey(out, n, all[n])
    return out
  }
}
