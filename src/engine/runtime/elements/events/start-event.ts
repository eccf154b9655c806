import { processor } from '../processor'

/** A start event completes at once; a triggered one (message, timer, signal) applies its payload on completion. */
export const startEventProcessor = processor({
  onActivate: (ctx, ei) => ctx.flow.complete(ei),
})
