import { processor } from '../processor'

/** Waits for its message, timer or signal; activated with a payload (after an event-based gateway) it completes at once. */
export const intermediateCatchEventProcessor = processor({
  onActivate: (ctx, ei, el) => {
    if (ei.payload) return ctx.flow.complete(ei)
    ctx.subscriptions.openEventSubscription(ei, el)
    ei.lifecycle = 'ACTIVATED'
  },
})
