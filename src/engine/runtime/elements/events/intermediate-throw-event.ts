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
  return ctx.flow.complete(ei)
}

export const intermediateThrowEventProcessor = processor({
  onActivate: throwEvent,
  onTerminate: terminateJob,
})
