import { processor } from '../processor'

/** A plain (undefined) task passes at once, as in Zeebe. */
export const undefinedTaskProcessor = processor({
  onActivate: (ctx, ei) => ctx.flow.complete(ei),
})
