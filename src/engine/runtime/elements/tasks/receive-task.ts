import { processor } from '../processor'

/** Waits for its message; its boundary events listen meanwhile. */
export const receiveTaskProcessor = processor({
  onActivate: (ctx, ei, el) => {
    ctx.subscriptions.openEventSubscription(ei, el)
    ctx.subscriptions.openBoundarySubscriptions(ei, el)
    ei.lifecycle = 'ACTIVATED'
  },
})
