import type { FlowElement } from '../../../model/types'
import type { ProcessingContext } from '../../processing'
import { IncidentError } from '../../expressions'
import { memo, type ElementInstance } from '../../runtime-state'
import { unhandledErrorMessage } from '../../behaviors/propagation'
import { processor, terminateJob } from '../processor'
import { throwEvent } from './intermediate-throw-event'

function activateEndEvent(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void {
  const ev = el.event ?? { kind: 'none' as const }
  switch (ev.kind) {
    case 'terminate': {
      const scope = ctx.scopeOf(ei) as ElementInstance
      for (const k of ctx.state.activeChildren.keys(scope.key)) {
        if (k !== ei.key) ctx.flow.terminate(ctx.state.elements.get(k) as ElementInstance)
      }
      scope.joins = undefined
      ctx.flow.dropTokensIn(scope)
      return ctx.flow.complete(ei)
    }
    case 'error': {
      const vars = memo(ctx.visible(ei))
      const code = ev.errorCode !== undefined ? ctx.expr.string(ev.errorCode, vars) : ''
      const message = ev.errorMessage !== undefined ? ctx.expr.string(ev.errorMessage, vars) : ''
      ei.lifecycle = 'ACTIVATED'
      if (!ctx.propagation.throwError(ei, code, {})) {
        throw new IncidentError('UNHANDLED_ERROR_EVENT', unhandledErrorMessage(code, message, ctx.propagation.availableErrorCodes(ei)))
      }
      return
    }
    default:
      // Signal, escalation and message end events throw as intermediate throw events do.
      return throwEvent(ctx, ei, el)
  }
}

export const endEventProcessor = processor({
  onActivate: activateEndEvent,
  onTerminate: terminateJob,
  onIncidentResolved: (ctx, ei) => {
    const el = ei.element
    if (ei.lifecycle !== 'ACTIVATED' || el?.event?.kind !== 'error') return false
    // An uncaught error end event throws again: still uncaught, a new incident.
    const code = el.event.errorCode ? ctx.expr.string(el.event.errorCode, ctx.visible(ei)) : ''
    if (!ctx.propagation.throwError(ei, code, {})) ctx.incidents.raise(ei, 'UNHANDLED_ERROR_EVENT', unhandledErrorMessage(code, '', ctx.propagation.availableErrorCodes(ei)))
    return true
  },
})
