import { processor } from '../processor'

/** Nothing for the engine to do: it passes at once. */
export const manualTaskProcessor = processor({
  onActivate: (ctx, ei) => ctx.flow.complete(ei),
})
