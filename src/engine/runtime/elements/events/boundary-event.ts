import { processor } from '../processor'

/** A boundary event is activated once its event occurred: it completes at once with the payload. */
export const boundaryEventProcessor = processor({
  onActivate: (ctx, ei) => ctx.flow.complete(ei),
})
