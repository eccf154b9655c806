import type { FlowElement } from '../../model/types'
import type { Key, SignalSubscriptionRecord, VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import { isInterrupting } from '../runtime-state'

/** Signal broadcast: every subscription of the name (start events and waiting elements) in the tenant. */
export class SignalBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  broadcast(signalName: string, variables: VariableDocument, tenantId: string): Key {
    const ctx = this.ctx
    const { signalIndex, signalSubs } = ctx.state
    const key = ctx.nextKey()
    const subs = signalIndex.keys(signalName).map((k) => signalSubs.get(k)).filter((s): s is SignalSubscriptionRecord => !!s && s.tenantId === tenantId)
    for (const sub of subs) {
      if (!signalSubs.has(sub.key)) continue
      if (sub.elementInstanceKey === undefined) {
        const def = ctx.repo.processes.get(sub.processDefinitionKey)
        if (def) ctx.instances.start(def, {}, [sub.elementId], undefined, { ...variables })
        continue
      }
      const owner = ctx.state.elements.get(sub.elementInstanceKey)
      if (!owner) continue
      const catchEl = ctx.model(owner).elements.get(sub.elementId) as FlowElement
      if (isInterrupting(catchEl)) ctx.subscriptions.removeSignalSub(sub.key)
      ctx.subscriptions.trigger(owner, catchEl, { ...variables })
    }
    return key
  }
}
