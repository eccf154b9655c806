import { processor } from '../processor'

/** Forks to every outgoing flow; joining (all incoming flows) happens in the flow behaviour before activation. */
export const parallelGatewayProcessor = processor({
  onActivate: (ctx, ei, el) => ctx.flow.complete(ei, el.outgoing),
})
