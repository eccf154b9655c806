import type { FlowElement } from '../../../model/types'
import { processor } from '../processor'
import { enterAdHoc, leaveAdHoc } from './ad-hoc'

/** An embedded or event subprocess: a scope whose none start event (or trigger) starts its content. */
export const subProcessProcessor = processor({
  onActivate: (ctx, ei, el) => {
    ei.lifecycle = 'ACTIVATED'
    const model = ctx.model(ei)
    ctx.subscriptions.openBoundarySubscriptions(ei, el)
    if (el.adHoc) {
      ctx.subscriptions.openScopeEventSubscriptions(ei, el.eventSubProcesses ?? [], model)
      return enterAdHoc(ctx, ei, el, el.adHoc)
    }
    if (el.triggeredByEvent) {
      // An event subprocess: its start event runs with the trigger payload.
      const startId = (el.startEvents ?? [])[0]
      const start = model.elements.get(startId) as FlowElement
      const payload = ei.payload
      ei.payload = undefined
      return ctx.flow.activate(ei, start, undefined, payload)
    }
    ctx.subscriptions.openScopeEventSubscriptions(ei, el.eventSubProcesses ?? [], model)
    const none = (el.startEvents ?? []).map((id) => model.elements.get(id) as FlowElement).find((s) => !s.event || s.event.kind === 'none')
    if (none) ctx.flow.activate(ei, none)
    else ctx.flow.checkScopeCompletion(ei)
  },
  onComplete: (ctx, ei, el) => {
    ctx.mappings.applyOutputs(ei, el)
    if (el.adHoc) leaveAdHoc(ctx, ei, el.adHoc)
  },
})
