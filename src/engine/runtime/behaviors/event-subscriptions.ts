import type { FlowElement, ProcessModel } from '../../model/types'
import type { Key, MessageSubscriptionRecord, SignalSubscriptionRecord, VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { DeployedProcess } from '../repository'
import { isInterrupting, memo, subIndexKey, type ElementInstance } from '../runtime-state'
import type { TimerSchedule } from '../timer-schedule'

/**
 * The subscriptions of catch events (timers, messages, signals): opened for a waiting element,
 * its boundary events, the event subprocesses of a scope and the start events of a process;
 * closed when their owner leaves; and what happens when one of them is triggered.
 */
export class EventSubscriptionBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  /** Open the subscription for a catch event (message, timer, signal) owned by `owner`. */
  openEventSubscription(owner: ElementInstance, catchEl: FlowElement): void {
    const ctx = this.ctx
    const ev = catchEl.event
    if (!ev) return
    const vars = memo(ctx.visible(owner))
    if (ev.kind === 'timer') {
      const s = ctx.timers.schedule(ev.timerType, ev.expression, vars)
      const t = ctx.timers.addTimer(s, { elementId: catchEl.id, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, tenantId: owner.tenantId })
      ;(owner.timerKeys ??= []).push(t.key)
    } else if (ev.kind === 'message') {
      const name = ctx.expr.string(ev.messageName, vars)
      const correlationKey = ev.correlationKey !== undefined ? ctx.expr.correlationKey(ev.correlationKey, vars) : ''
      const interrupting = isInterrupting(catchEl)
      const sub: MessageSubscriptionRecord = {
        key: ctx.nextKey(), messageName: name, correlationKey, elementId: catchEl.id, elementInstanceKey: owner.key,
        processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey,
        bpmnProcessId: owner.bpmnProcessId, interrupting, tenantId: owner.tenantId,
      }
      ctx.state.messageSubs.set(sub.key, sub)
      ctx.state.messageSubIndex.add(subIndexKey(name, correlationKey, owner.tenantId), sub.key)
      ;(owner.messageSubKeys ??= []).push(sub.key)
      ctx.messages.checkBufferedLater(sub.key)
    } else if (ev.kind === 'signal') {
      const name = ctx.expr.string(ev.signalName, vars)
      const s = this.addSignalSub({ signalName: name, elementId: catchEl.id, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, bpmnProcessId: owner.bpmnProcessId, tenantId: owner.tenantId })
      ;(owner.signalSubKeys ??= []).push(s.key)
    }
  }

  openBoundarySubscriptions(host: ElementInstance, el: FlowElement): void {
    // Boundary events of a multi-instance activity belong to its body, not to the inner instances.
    if (el.multiInstance && !host.isMiBody) return
    const model = this.ctx.model(host)
    for (const id of el.boundaryEvents) {
      const b = model.elements.get(id) as FlowElement
      const kind = b.event?.kind
      if (kind === 'timer' || kind === 'message' || kind === 'signal') this.openEventSubscription(host, b)
    }
  }

  openScopeEventSubscriptions(scope: ElementInstance, eventSubProcesses: string[], model: ProcessModel): void {
    for (const espId of eventSubProcesses) {
      const esp = model.elements.get(espId) as FlowElement
      const start = model.elements.get((esp.startEvents ?? [])[0]) as FlowElement | undefined
      const kind = start?.event?.kind
      if (start && (kind === 'timer' || kind === 'message' || kind === 'signal')) this.openEventSubscription(scope, start)
    }
  }

  closeSubscriptions(ei: ElementInstance): void {
    if (ei.timerKeys) {
      for (const k of ei.timerKeys) this.ctx.state.timers.delete(k)
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

  removeMessageSub(key: Key): void {
    const { messageSubs, messageSubIndex } = this.ctx.state
    const sub = messageSubs.get(key)
    if (!sub) return
    messageSubs.delete(key)
    const idx = subIndexKey(sub.messageName, sub.correlationKey, sub.tenantId)
    messageSubIndex.remove(idx, key)
  }

  addSignalSub(s: Omit<SignalSubscriptionRecord, 'key'>): SignalSubscriptionRecord {
    const sub: SignalSubscriptionRecord = { key: this.ctx.nextKey(), ...s }
    this.ctx.state.signalSubs.set(sub.key, sub)
    this.ctx.state.signalIndex.add(sub.signalName, sub.key)
    return sub
  }

  removeSignalSub(key: Key): void {
    const { signalSubs, signalIndex } = this.ctx.state
    const sub = signalSubs.get(key)
    if (!sub) return
    signalSubs.delete(key)
    signalIndex.remove(sub.signalName, key)
  }

  /**
   * An event fired for a subscription owned by `owner` on catch element `catchEl`: a boundary
   * event, an event-subprocess start, an event after an event-based gateway, or the waiting
   * element itself.
   */
  trigger(owner: ElementInstance, catchEl: FlowElement, payload: VariableDocument): void {
    const ctx = this.ctx
    if (owner.lifecycle !== 'ACTIVATED') return
    ctx.current = owner
    const model = ctx.model(owner)
    if (catchEl.type === 'boundaryEvent') {
      const scope = ctx.scopeOf(owner) as ElementInstance
      // An interrupting one is entered once its activity is terminated: later, if canceling listeners hold that.
      if (catchEl.cancelActivity !== false && !ctx.flow.terminate(owner, { k: 'boundary', catchId: catchEl.id, payload })) return
      const ei = ctx.flow.newElementInstance(scope, catchEl)
      ei.payload = payload
      return ctx.flow.runActivation(ei)
    }
    if (catchEl.type === 'startEvent' && catchEl.scopeId !== model.id && model.elements.get(catchEl.scopeId)?.triggeredByEvent) {
      return this.triggerEventSubProcess(owner, model.elements.get(catchEl.scopeId) as FlowElement, catchEl, payload)
    }
    const onEvent = owner.element ? ctx.processorOf(owner).onEventOccurred : undefined
    if (onEvent) return onEvent(ctx, owner, catchEl, payload)
    owner.payload = payload
    ctx.flow.complete(owner)
  }

  triggerEventSubProcess(scope: ElementInstance, esp: FlowElement, start: FlowElement, payload: VariableDocument): void {
    const ctx = this.ctx
    if (scope.interrupted) return
    if (start.isInterrupting !== false) {
      scope.interrupted = true
      for (const k of ctx.state.activeChildren.keys(scope.key)) ctx.flow.terminate(ctx.state.elements.get(k) as ElementInstance)
      scope.joins = undefined
      ctx.flow.dropTokensIn(scope)
      // Only the scope's own event-subprocess subscriptions close; boundary events of the scope stay.
      this.closeEventSubProcessSubscriptions(scope)
      // The event subprocess is entered once the scope's children are terminated (canceling listeners may hold that).
      return ctx.flow.whenChildrenTerminated(scope, { k: 'event-subprocess', espId: esp.id, payload })
    }
    const ei = ctx.flow.newElementInstance(scope, esp, 'EVENT_SUB_PROCESS')
    ei.payload = payload
    ctx.flow.runActivation(ei)
  }

  private closeEventSubProcessSubscriptions(scope: ElementInstance): void {
    const { timers, messageSubs, signalSubs } = this.ctx.state
    const model = this.ctx.model(scope)
    const isEspStart = (elementId: string) => {
      const el = model.elements.get(elementId)
      return el?.type === 'startEvent' && model.elements.get(el.scopeId)?.triggeredByEvent === true
    }
    if (scope.timerKeys) scope.timerKeys = scope.timerKeys.filter((k) => {
      const t = timers.get(k)
      if (t && isEspStart(t.elementId)) { timers.delete(k); return false }
      return true
    })
    if (scope.messageSubKeys) scope.messageSubKeys = scope.messageSubKeys.filter((k) => {
      const s = messageSubs.get(k)
      if (s && isEspStart(s.elementId)) { this.removeMessageSub(k); return false }
      return true
    })
    if (scope.signalSubKeys) scope.signalSubKeys = scope.signalSubKeys.filter((k) => {
      const s = signalSubs.get(k)
      if (s && isEspStart(s.elementId)) { this.removeSignalSub(k); return false }
      return true
    })
  }

  /** The start events of a newly deployed latest version subscribe: timers, messages, signals. */
  openStartSubscriptions(p: DeployedProcess): void {
    const ctx = this.ctx
    const { model, record } = p
    for (const id of model.startEvents) {
      const el = model.elements.get(id) as FlowElement
      const ev = el.event
      if (!ev) continue
      if (ev.kind === 'timer') {
        const schedule = this.startTimerSchedule(el)
        if (schedule) ctx.timers.addTimer(schedule, { elementId: id, processDefinitionKey: record.key, tenantId: record.tenantId })
      } else if (ev.kind === 'message') {
        ctx.messages.registerMessageStart(p, el)
      } else if (ev.kind === 'signal') {
        const name = ctx.expr.string(ev.signalName, () => ({}))
        this.addSignalSub({ signalName: name, elementId: id, processDefinitionKey: record.key, bpmnProcessId: record.bpmnProcessId, tenantId: record.tenantId })
      }
    }
  }

  private startTimerSchedule(el: FlowElement): TimerSchedule | undefined {
    const ev = el.event
    if (ev?.kind !== 'timer') return undefined
    try {
      return this.ctx.timers.schedule(ev.timerType, ev.expression, () => ({}))
    } catch {
      // An invalid start timer makes no timer; the validator rejects static ones at deploy.
      return undefined
    }
  }

  closeStartSubscriptions(p: DeployedProcess): void {
    const { timers, messageStarts, signalSubs } = this.ctx.state
    const key = p.record.key
    // Read through scan: records left in their rows stay there, but for the few deleted.
    for (const t of [...timers.scan()]) if (t.processDefinitionKey === key && t.elementInstanceKey === undefined) timers.delete(t.key)
    for (const byDef of messageStarts.values()) byDef.delete(key)
    for (const s of [...signalSubs.scan()]) if (s.processDefinitionKey === key && s.elementInstanceKey === undefined) this.removeSignalSub(s.key)
  }
}
