import { IncidentError } from '../../expressions'
import { memo } from '../../runtime-state'
import { processor } from '../processor'

/** Takes the first outgoing flow whose condition holds, else the default flow. */
export const exclusiveGatewayProcessor = processor({
  onActivate: (ctx, ei, el) => {
    if (el.outgoing.length === 0) return ctx.flow.complete(ei)
    const model = ctx.model(ei)
    if (el.outgoing.length === 1 && !model.flows.get(el.outgoing[0])?.condition) return ctx.flow.complete(ei, el.outgoing)
    const vars = memo(ctx.visible(ei))
    for (const flowId of el.outgoing) {
      if (flowId === el.defaultFlow) continue
      const flow = model.flows.get(flowId)
      if (!flow?.condition) continue
      if (ctx.expr.boolean(flow.condition, vars)) return ctx.flow.complete(ei, [flowId])
    }
    if (el.defaultFlow) return ctx.flow.complete(ei, [el.defaultFlow])
    throw new IncidentError('CONDITION_ERROR', 'Expected at least one condition to evaluate to true, or to have a default flow')
  },
})
