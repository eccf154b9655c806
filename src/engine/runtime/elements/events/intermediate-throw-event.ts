import type { FlowElement } from '../../../model/types'
import type { ProcessingContext } from '../../processing'
import type { ElementInstance } from '../../runtime-state'
import { processor, terminateJob } from '../processor'

/** Throws a signal or an escalation, or (message) works as a job worker task; a none event passes. */
export function throwEvent(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void {
  const ev = el.event ?? { kind: 'none' as const }
  if (ev.kind === 'signal') {
    ctx.signals.broadcast(ctx.expr.string(ev.signalName, ctx.visible(ei)), ctx.vars.local(ei.key), ei.tenantId)
    // The signal may have interrupted this very scope.
    if (ctx.state.elements.get(ei.key)?.lifecycle !== 'ACTIVATING') return
    return ctx.flow.complete(ei)
  }
  if (ev.kind === 'escalation') {
    const code = ev.escalationCode !== undefined ? ctx.expr.string(ev.escalationCode, ctx.visible(ei)) : ''
    ei.lifecycle = 'ACTIVATED'
    if (ctx.propagation.throwEscalation(ei, code)) return
    return ctx.flow.complete(ei)
  }
  if (ev.kind === 'message') return ctx.jobs.createJob(ei, el)
  if (ev.kind === 'link') return jumpToLink(ctx, ei, el, ev.name)
  if (ev.kind === 'compensation') {
    if (ctx.compensation.throw(ei, ev.activityRef)) return
    return ctx.flow.complete(ei)
  }
  return ctx.flow.complete(ei)
}

/** A link throw event completes without taking a flow; the catch link of its name in the same scope is activated instead. */
function jumpToLink(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, name: string): void {
  const model = ctx.model(ei)
  const target = [...model.elements.values()].find((candidate) =>
    candidate.type === 'intermediateCatchEvent' && candidate.scopeId === el.scopeId && candidate.event?.kind === 'link' && candidate.event.name === name)
  const scope = ctx.scopeOf(ei) as ElementInstance
  // Deployment checks that the catch link exists: it is activated before the throw event leaves, so the scope is never empty.
  if (target) ctx.flow.activate(scope, target)
  ctx.flow.complete(ei, [])
}

export const intermediateThrowEventProcessor = processor({
  onActivate: throwEvent,
  onTerminate: terminateJob,
})
