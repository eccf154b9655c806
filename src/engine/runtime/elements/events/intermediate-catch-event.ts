import { processor } from '../processor'

/** Waits for its message, timer or signal; activated with a payload (after an event-based gateway) it completes at once. */
export const intermediateCatchEventProcessor = processor({
  onActivate: (ctx, ei, el) => {
    // A link catch event is reached through its throw link and passes on at once.
    if (ei.payload || el.event?.kind === 'link') return ctx.flow.complete(ei)
    ctx.subscriptions.openEventSubscription(ei, el)
    ei.lifecycle = 'ACTIVATED'
  },
})
