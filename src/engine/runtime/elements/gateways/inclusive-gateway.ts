import { IncidentError } from '../../expressions'
import { memo } from '../../runtime-state'
import { processor } from '../processor'

/** Forks to every outgoing flow whose condition holds (else the default); joining happens in the flow behaviour. */
export const inclusiveGatewayProcessor = processor({
  onActivate: (ctx, ei, el) => {
    if (el.outgoing.length === 0) return ctx.flow.complete(ei)
    const model = ctx.model(ei)
    if (el.outgoing.length === 1 && !model.flows.get(el.outgoing[0])?.condition) return ctx.flow.complete(ei, el.outgoing)
    const vars = memo(ctx.visible(ei))
    const taken: string[] = []
    for (const flowId of el.outgoing) {
      if (flowId === el.defaultFlow) continue
      const flow = model.flows.get(flowId)
      if (!flow?.condition || ctx.expr.boolean(flow.condition, vars)) taken.push(flowId)
    }
    if (taken.length === 0 && el.defaultFlow) taken.push(el.defaultFlow)
    if (taken.length === 0) throw new IncidentError('CONDITION_ERROR', 'Expected at least one condition to evaluate to true, or to have a default flow')
    ctx.flow.complete(ei, taken)
  },
})
