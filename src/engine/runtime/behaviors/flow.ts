import type { FlowElement, ProcessModel } from '../../model/types'
import type { RestElementType, VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import { type AfterChildrenTerminated, type AfterTermination, type ElementInstance, type InstanceRuntime, type WorkItem } from '../runtime-state'
import { innerCompleted } from '../elements/containers/ad-hoc'

/**
 * The token flow: activating elements (joins included), completing them and taking their
 * outgoing sequence flows, completing scopes, terminating.
 */
export class FlowBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  newElementInstance(scope: ElementInstance, el: FlowElement, type: RestElementType = restType(el)): ElementInstance {
    const ctx = this.ctx
    const ei: ElementInstance = {
      key: ctx.nextKey(), processInstanceKey: scope.processInstanceKey, processDefinitionKey: scope.processDefinitionKey,
      bpmnProcessId: scope.bpmnProcessId, tenantId: scope.tenantId, elementId: el.id, elementName: el.name, type,
      lifecycle: 'ACTIVATING', scopeKey: scope.key, startDate: ctx.now(), element: el, definitionKey: scope.definitionKey,
    }
    ctx.state.elements.set(ei.key, ei)
    ctx.state.activeChildren.add(scope.key, ei.key)
    return ei
  }

  /** A token arrives at `el` in `scope` (through `flowId`, or as a start). */
  activate(scope: ElementInstance, el: FlowElement, flowId?: string, payload?: VariableDocument): void {
    if (el.type === 'parallelGateway' && el.incoming.length > 1) return this.arriveAtParallelJoin(scope, el, flowId)
    if (el.type === 'inclusiveGateway' && el.incoming.length > 1) return this.arriveAtInclusiveJoin(scope, el, flowId)
    if (el.multiInstance) {
      const body = this.newElementInstance(scope, el, 'MULTI_INSTANCE_BODY')
      body.isMiBody = true
      return this.ctx.multiInstance.onActivate(this.ctx, body, el)
    }
    const ei = this.newElementInstance(scope, el)
    if (payload) ei.payload = payload
    this.runActivation(ei)
  }

  /** Input mappings, then the element's own behaviour. A failure parks the element with an incident. */
  runActivation(ei: ElementInstance): void {
    this.ctx.current = ei
    const el = ei.element as FlowElement
    this.ctx.incidents.guard(ei, () => {
      this.ctx.mappings.applyInputs(ei, el)
      if (this.ctx.listeners.begin(ei, 'start')) return
      this.ctx.processorOf(ei).onActivate(this.ctx, ei, el)
    })
  }

  /** The start listeners are done: the element's own behaviour. */
  continueActivation(ei: ElementInstance): void {
    this.ctx.current = ei
    const el = ei.element as FlowElement
    this.ctx.incidents.guard(ei, () => this.ctx.processorOf(ei).onActivate(this.ctx, ei, el))
  }

  /** Complete an element: its output, close subscriptions, take flows, maybe complete its scope. */
  complete(ei: ElementInstance, flows?: string[]): void {
    const el = ei.element
    if (!el) return
    this.ctx.current = ei
    ei.lifecycle = 'COMPLETING'
    if (!this.ctx.incidents.guard(ei, () => this.ctx.processorOf(ei).onComplete(this.ctx, ei, el))) return
    const leaving = flows ?? outgoingOf(ei, el)
    if (el.executionListeners?.some((listener) => listener.eventType === 'end') && !ei.isMiBody) {
      // The element's own subscriptions close before its end listeners run: nothing interrupts them.
      this.ctx.subscriptions.closeSubscriptions(ei)
      let waiting = false
      if (!this.ctx.incidents.guard(ei, () => { waiting = this.ctx.listeners.begin(ei, 'end', leaving) })) return
      if (waiting) return
    }
    this.finishCompletion(ei, leaving)
  }

  finishCompletion(ei: ElementInstance, flows: string[]): void {
    const ctx = this.ctx
    const el = ei.element as FlowElement
    ctx.subscriptions.closeSubscriptions(ei)
    ei.payload = undefined
    ei.lifecycle = 'COMPLETED'
    ei.endDate = ctx.now()
    if (ei.jobKey) ctx.state.jobs.delete(ei.jobKey)
    const scope = ctx.scopeOf(ei) as ElementInstance
    ctx.state.activeChildren.remove(scope.key, ei.key)
    ctx.state.activeChildren.delete(ei.key)
    ctx.compensation.subscribe(ei, el)
    if (!ei.isMiBody && el.multiInstance && scope.isMiBody) return ctx.multiInstance.onInnerCompleted(ctx, scope, ei)
    if (scope.element?.adHoc && scope.lifecycle === 'ACTIVATED') {
      const adHoc = scope.element.adHoc
      if (!ctx.incidents.guard(scope, () => innerCompleted(ctx, scope, ei, adHoc))) return
    }
    ctx.vars.dropScope(ei.key)
    // A compensation handler leaves no flow: the throw event waiting for it may go on.
    if (ei.compensationOf !== undefined) {
      ctx.state.work.push({ k: 'check', scope: scope.key })
      return ctx.compensation.handlerCompleted(ei)
    }
    // A runtime instruction of the instance's creation (Modeler's task testing): terminate it once this element completed.
    const inst = ctx.state.instances.get(ei.processInstanceKey)
    if (inst?.terminateAfter?.includes(el.id) && inst.state === 'ACTIVE') return ctx.instances.cancel(inst)
    const model = ctx.model(ei)
    // The flows are taken from the work stack, not by a nested call: a loop of elements that
    // pass straight through (gateways) then runs step by step instead of growing the call stack.
    const work = ctx.state.work
    work.push({ k: 'check', scope: scope.key })
    for (let i = flows.length - 1; i >= 0; i--) {
      if (!model.flows.has(flows[i])) continue
      work.push({ k: 'take', scope: scope.key, flow: flows[i] })
      scope.tokensInTransit = (scope.tokensInTransit ?? 0) + 1
    }
  }

  /**
   * Run up to `budget` steps from the work stack (last pushed first, so the order is the
   * depth-first order of nested calls). Returns the budget left.
   */
  drain(budget: number): number {
    const ctx = this.ctx
    const work = ctx.state.work
    while (budget > 0 && work.length > 0) {
      const item = work.pop() as WorkItem
      budget--
      if (item.k === 'due') {
        ctx.timers.fireNextDue()
        continue
      }
      const scope = ctx.state.elements.get(item.scope)
      if (!scope) continue
      if (item.k === 'check') {
        this.checkScopeCompletion(scope)
        continue
      }
      scope.tokensInTransit = (scope.tokensInTransit ?? 1) - 1
      if (scope.lifecycle !== 'ACTIVATED' && scope.lifecycle !== 'ACTIVATING') continue
      const model = ctx.model(scope)
      const flow = model.flows.get(item.flow)
      if (flow) this.activate(scope, model.elements.get(flow.targetRef) as FlowElement, item.flow)
    }
    return budget
  }

  /** Is a flow taken into `scope` and not yet followed on its way to the join `target`? */
  private transitCanReach(scope: ElementInstance, model: ProcessModel, target: string, takenFlows: Set<string>): boolean {
    for (const item of this.ctx.state.work) {
      if (item.k !== 'take' || item.scope !== scope.key) continue
      const flow = model.flows.get(item.flow)
      if (!flow) continue
      if (flow.targetRef === target ? !takenFlows.has(item.flow) : canReach(model, flow.targetRef, target, takenFlows)) return true
    }
    return false
  }

  /** The scope's content is terminated: flows taken into it and not yet followed are dropped. */
  dropTokensIn(scope: ElementInstance): void {
    if (!scope.tokensInTransit) return
    const work = this.ctx.state.work
    let kept = 0
    for (const item of work) if (item.k !== 'take' || item.scope !== scope.key) work[kept++] = item
    work.length = kept
    scope.tokensInTransit = undefined
  }

  /** A scope with no active child and no waiting token completes. */
  checkScopeCompletion(scope: ElementInstance): void {
    if (scope.lifecycle !== 'ACTIVATED') return
    if (scope.joins) {
      for (const gwId of Object.keys(scope.joins)) {
        const gw = this.ctx.model(scope).elements.get(gwId)
        if (gw?.type === 'inclusiveGateway') this.tryInclusiveJoin(scope, gw)
      }
    }
    if (this.ctx.state.activeChildren.count(scope.key) > 0) return
    if (scope.tokensInTransit) return
    if (scope.joins && Object.values(scope.joins).some((t) => Object.keys(t).length > 0)) return
    if (scope.isMiBody) return
    // An ad-hoc subprocess with a completion condition (or a job worker) completes once it was met; without one, once something ran.
    const adHoc = scope.element?.adHoc
    if (adHoc && (adHoc.completionCondition !== undefined || adHoc.taskDefinition ? !scope.adHocDone : !scope.adHocActivated)) return
    if (scope.type === 'PROCESS') return this.ctx.instances.completeProcess(scope)
    this.complete(scope)
  }

  /**
   * Terminate an element and everything below it (jobs, user tasks, subscriptions, child
   * instances), children first. Iterative: the depth of nested scopes comes from the model.
   * A user task with canceling listeners holds its termination, and its ancestors' up to `root`,
   * until they are done (Zeebe 8.8): then `then` follows. True when `root` is terminated now.
   * Without `withListeners` (a modification's terminate instruction, as Zeebe's), none is held.
   */
  terminate(root: ElementInstance, then?: AfterTermination, withListeners = true): boolean {
    const ctx = this.ctx
    ctx.current = root
    const stack: { ei: ElementInstance; childrenDone: boolean }[] = [{ ei: root, childrenDone: false }]
    while (stack.length > 0) {
      const top = stack[stack.length - 1]
      if (top.childrenDone) {
        stack.pop()
        if (!this.holdsTermination(top.ei, withListeners)) this.finishTermination(top.ei)
        continue
      }
      if (top.ei.lifecycle === 'COMPLETED' || top.ei.lifecycle === 'TERMINATED') {
        stack.pop()
        continue
      }
      top.childrenDone = true
      top.ei.lifecycle = 'TERMINATING'
      // Nothing triggers an element on its way out, even one held for a while.
      ctx.subscriptions.closeSubscriptions(top.ei)
      const children = ctx.state.activeChildren.keys(top.ei.key)
      for (let i = children.length - 1; i >= 0; i--) stack.push({ ei: ctx.state.elements.get(children[i]) as ElementInstance, childrenDone: false })
    }
    if (root.lifecycle === 'TERMINATED' || root.lifecycle === 'COMPLETED') return true
    if (then) root.afterTermination = then
    return false
  }

  /** Does something below `ei`, or `ei` itself (its task's canceling listeners, its called instance), still hold its termination? */
  private holdsTermination(ei: ElementInstance, withListeners: boolean): boolean {
    if (this.hasActiveChildren(ei)) return true
    return ei.element ? this.ctx.processorOf(ei).onTerminating?.(this.ctx, ei, withListeners) ?? false : false
  }

  /**
   * What held the termination of `ei` is done (its canceling listeners, an element below it):
   * it ends, and so do the terminations that waited for it, up to where one goes on.
   */
  resumeTermination(ei: ElementInstance): void {
    let current: ElementInstance | undefined = ei
    while (current && current.lifecycle === 'TERMINATING' && !this.holdsTermination(current, true)) {
      this.ctx.current = current
      const then = current.afterTermination
      this.finishTermination(current)
      if (then) return this.continueAfterTermination(current, then)
      const scope = this.ctx.scopeOf(current)
      if (scope?.lifecycle === 'ACTIVATED') return this.childTerminated(scope)
      current = scope
    }
  }

  private continueAfterTermination(ei: ElementInstance, then: AfterTermination): void {
    const ctx = this.ctx
    const inst = ctx.state.instances.get(ei.processInstanceKey) as InstanceRuntime
    if (then.k === 'cancel-instance') return ctx.instances.finish(inst, 'TERMINATED')
    if (then.k === 'called-instance') {
      ctx.instances.finish(inst, 'TERMINATED')
      const callActivity = inst.parentElementInstanceKey === undefined ? undefined : ctx.state.elements.get(inst.parentElementInstanceKey)
      if (callActivity) this.resumeTermination(callActivity)
      return
    }
    const scope = ctx.scopeOf(ei)
    // As Zeebe, the boundary event is entered only if its scope is still active and not interrupted meanwhile.
    if (scope?.lifecycle === 'ACTIVATED' && !scope.interrupted) {
      const boundary = this.newElementInstance(scope, ctx.model(ei).elements.get(then.catchId) as FlowElement)
      boundary.payload = then.payload
      return this.runActivation(boundary)
    }
    if (scope?.lifecycle === 'TERMINATING') return this.resumeTermination(scope)
    if (scope?.lifecycle === 'ACTIVATED') this.childTerminated(scope)
  }

  /**
   * The children of `scope` are being terminated: `then` follows once none is left, now or when
   * the last one held by canceling listeners is terminated.
   */
  whenChildrenTerminated(scope: ElementInstance, then: AfterChildrenTerminated): void {
    if (this.hasActiveChildren(scope)) {
      scope.afterChildrenTerminated = then
      return
    }
    this.runAfterChildrenTerminated(scope, then)
  }

  private hasActiveChildren(scope: ElementInstance): boolean {
    for (const k of this.ctx.state.activeChildren.keys(scope.key)) {
      const child = this.ctx.state.elements.get(k)
      if (child && child.lifecycle !== 'COMPLETED' && child.lifecycle !== 'TERMINATED') return true
    }
    return false
  }

  /** A child of the active `scope` was terminated after a hold: the scope goes on as it would have. */
  private childTerminated(scope: ElementInstance): void {
    const then = scope.afterChildrenTerminated
    if (!then) {
      this.ctx.state.work.push({ k: 'check', scope: scope.key })
      return
    }
    if (this.hasActiveChildren(scope)) return
    scope.afterChildrenTerminated = undefined
    this.runAfterChildrenTerminated(scope, then)
  }

  private runAfterChildrenTerminated(scope: ElementInstance, then: AfterChildrenTerminated): void {
    if (then.k === 'complete') return this.complete(scope)
    const esp = this.newElementInstance(scope, this.ctx.model(scope).elements.get(then.espId) as FlowElement, 'EVENT_SUB_PROCESS')
    esp.payload = then.payload
    this.runActivation(esp)
  }

  private finishTermination(ei: ElementInstance): void {
    const ctx = this.ctx
    ctx.state.activeChildren.delete(ei.key)
    ei.joins = undefined
    ei.afterChildrenTerminated = undefined
    ei.afterTermination = undefined
    this.dropTokensIn(ei)
    if (ei.element) ctx.processorOf(ei).onTerminate(ctx, ei)
    // An execution listener's job (or any job left) goes with its element.
    if (ei.jobKey) ctx.jobs.cancelJobOf(ei)
    ei.listener = undefined
    ctx.subscriptions.closeSubscriptions(ei)
    ctx.incidents.resolveOf(ei)
    ei.lifecycle = 'TERMINATED'
    ei.endDate = ctx.now()
    if (ei.scopeKey) ctx.state.activeChildren.remove(ei.scopeKey, ei.key)
    if (ei.type !== 'PROCESS') ctx.vars.dropScope(ei.key)
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
    this.runActivation(this.newElementInstance(scope, el))
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
      const model = this.ctx.model(scope)
      for (const k of this.ctx.state.activeChildren.keys(scope.key)) {
        const child = this.ctx.state.elements.get(k) as ElementInstance
        if (child.element && canReach(model, child.element.id, el.id, new Set(Object.keys(tokens)))) return
      }
      for (const [gwId, t] of Object.entries(scope.joins ?? {})) {
        if (gwId !== el.id && Object.keys(t).length > 0 && canReach(model, gwId, el.id, new Set(Object.keys(tokens)))) return
      }
      if (scope.tokensInTransit && this.transitCanReach(scope, model, el.id, new Set(Object.keys(tokens)))) return
    }
    for (const f of Object.keys(tokens)) {
      tokens[f] -= 1
      if (tokens[f] === 0) delete tokens[f]
    }
    if (scope.joins && Object.keys(tokens).length === 0) delete scope.joins[el.id]
    // The joined gateway then forks like any inclusive gateway.
    this.runActivation(this.newElementInstance(scope, el))
  }
}

/** The inner instances of a multi-instance activity leave no flows: their body does. */
function outgoingOf(ei: ElementInstance, el: FlowElement): string[] {
  if (ei.isMiBody || !el.multiInstance) return el.outgoing
  return []
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

/** An element's type as Zeebe names it (BpmnElementType), which the REST API also uses. */
export function restType(el: FlowElement): RestElementType {
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
    case 'subProcess': return el.adHoc ? 'AD_HOC_SUB_PROCESS' : el.triggeredByEvent ? 'EVENT_SUB_PROCESS' : 'SUB_PROCESS'
    case 'callActivity': return 'CALL_ACTIVITY'
  }
}
