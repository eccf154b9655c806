import type { FlowElement } from '../../../model/types'
import type { ElementInstance } from '../../runtime-state'
import { processor } from '../processor'

/** Opens the subscriptions of the catch events after it; the first to occur wins the token. */
export const eventBasedGatewayProcessor = processor({
  onActivate: (ctx, ei, el) => {
    ei.lifecycle = 'ACTIVATED'
    const model = ctx.model(ei)
    for (const flowId of el.outgoing) {
      const target = model.elements.get(model.flows.get(flowId)?.targetRef ?? '') as FlowElement
      ctx.subscriptions.openEventSubscription(ei, target)
    }
  },
  onEventOccurred: (ctx, ei, catchEl, payload) => {
    const model = ctx.model(ei)
    ctx.subscriptions.closeSubscriptions(ei)
    const flowId = (ei.element as FlowElement).outgoing.find((f) => model.flows.get(f)?.targetRef === catchEl.id) as string
    ei.lifecycle = 'COMPLETING'
    // The winning catch event is activated (with the event payload) before the gateway leaves
    // its scope: otherwise the scope would look empty and complete without the chosen branch.
    const scope = ctx.scopeOf(ei) as ElementInstance
    ctx.flow.activate(scope, catchEl, flowId, payload)
    ctx.flow.finishCompletion(ei, [])
  },
})
