import type { FlowElement } from '../../model/types'
import type { Key, MessageRecord } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { DeployedProcess } from '../repository'
import { subIndexKey, type ElementInstance, type InstanceRuntime } from '../runtime-state'

/** Message correlation: to message start events and open subscriptions, at publication or from the buffer. */
export class MessageBehavior {
  /** Subscriptions opened during a command, checked against buffered messages once it settles. */
  private pendingBufferedChecks: Key[] = []

  constructor(private readonly ctx: ProcessingContext) {}

  registerMessageStart(p: DeployedProcess, el: FlowElement): void {
    if (el.event?.kind !== 'message') return
    const name = this.ctx.expr.string(el.event.messageName, () => ({}))
    const messageStarts = this.ctx.state.messageStarts
    let byDef = messageStarts.get(name)
    if (!byDef) messageStarts.set(name, (byDef = new Map()))
    byDef.set(p.record.key, [...(byDef.get(p.record.key) ?? []), el.id])
  }

  checkBufferedLater(subKey: Key): void {
    this.pendingBufferedChecks.push(subKey)
  }

  /** At the end of a command: the subscriptions it opened take buffered messages. */
  settle(): void {
    while (this.pendingBufferedChecks.length > 0) {
      const subKey = this.pendingBufferedChecks.shift() as Key
      if (this.ctx.state.messages.size > 0) this.checkBufferedFor(subKey)
    }
  }

  /** Correlate to start events and open subscriptions; at most once per BPMN process id. Returns the first instance key. */
  correlate(message: MessageRecord): Key | undefined {
    const ctx = this.ctx
    let first: Key | undefined
    const starts = ctx.state.messageStarts.get(message.name)
    if (starts) {
      for (const [defKey, elementIds] of starts) {
        const def = ctx.repo.processes.get(defKey)
        if (!def || def.record.tenantId !== message.tenantId) continue
        if (message.correlatedProcessIds.includes(def.record.bpmnProcessId)) continue
        if (message.correlationKey !== '' && this.hasActiveMessageStarted(def.record.bpmnProcessId, message.correlationKey)) continue
        const inst = ctx.instances.start(def, {}, [elementIds[0]], undefined, message.variables)
        inst.startCorrelationKey = message.correlationKey
        message.correlatedProcessIds.push(def.record.bpmnProcessId)
        ctx.state.messages.touch(message.key)
        first ??= inst.key
      }
    }
    const idx = ctx.state.messageSubIndex.keys(subIndexKey(message.name, message.correlationKey, message.tenantId))
    if (idx.length > 0) {
      for (const subKey of idx) {
        // (the index is by a hash: a subscription to another message may share its group)
        const found = ctx.state.messageSubs.peek(subKey)
        if (!found || found.messageName !== message.name || found.correlationKey !== message.correlationKey || found.tenantId !== message.tenantId) continue
        const sub = ctx.state.messageSubs.get(subKey) as typeof found
        if (message.correlatedProcessIds.includes(sub.bpmnProcessId)) continue
        const owner = ctx.state.elements.get(sub.elementInstanceKey) as ElementInstance
        const catchEl = ctx.model(owner).elements.get(sub.elementId) as FlowElement
        message.correlatedProcessIds.push(sub.bpmnProcessId)
        ctx.state.messages.touch(message.key)
        first ??= sub.processInstanceKey
        if (sub.interrupting) ctx.subscriptions.removeMessageSub(subKey)
        ctx.subscriptions.trigger(owner, catchEl, { ...message.variables })
      }
    }
    return first
  }

  /** A message-started instance ended: a buffered message with the same key may start the next one. */
  retryBufferedStart(inst: InstanceRuntime): void {
    const ctx = this.ctx
    const now = ctx.now()
    for (const m of ctx.state.messages.values()) {
      if (m.expiresAt <= now || m.correlationKey !== inst.startCorrelationKey) continue
      const starts = ctx.state.messageStarts.get(m.name)
      if (!starts) continue
      for (const [defKey, elementIds] of starts) {
        const def = ctx.repo.processes.get(defKey)
        if (!def || def.record.bpmnProcessId !== inst.bpmnProcessId || m.correlatedProcessIds.includes(inst.bpmnProcessId)) continue
        const next = ctx.instances.start(def, {}, [elementIds[0]], undefined, m.variables)
        next.startCorrelationKey = m.correlationKey
        m.correlatedProcessIds.push(inst.bpmnProcessId)
        ctx.state.messages.touch(m.key)
        return
      }
    }
  }

  private hasActiveMessageStarted(bpmnProcessId: string, correlationKey: string): boolean {
    for (const inst of this.ctx.state.instances.scan()) {
      if (inst.state === 'ACTIVE' && inst.bpmnProcessId === bpmnProcessId && inst.startCorrelationKey === correlationKey) return true
    }
    return false
  }

  /** A newly opened subscription takes the oldest matching buffered message (FIFO). */
  private checkBufferedFor(subKey: Key): void {
    const ctx = this.ctx
    const sub = ctx.state.messageSubs.get(subKey)
    if (!sub) return
    const now = ctx.now()
    for (const m of ctx.state.messages.values()) {
      if (m.expiresAt <= now) continue
      if (m.name !== sub.messageName || m.correlationKey !== sub.correlationKey || m.tenantId !== sub.tenantId) continue
      if (m.correlatedProcessIds.includes(sub.bpmnProcessId)) continue
      m.correlatedProcessIds.push(sub.bpmnProcessId)
      ctx.state.messages.touch(m.key)
      const owner = ctx.state.elements.get(sub.elementInstanceKey) as ElementInstance
      const catchEl = ctx.model(owner).elements.get(sub.elementId) as FlowElement
      if (sub.interrupting) ctx.subscriptions.removeMessageSub(subKey)
      ctx.subscriptions.trigger(owner, catchEl, { ...m.variables })
      return
    }
  }
}
