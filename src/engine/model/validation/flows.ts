/** Sequence flows: both ends are flow nodes of the same scope; a default flow leaves its element. */
import type { FlowElement } from '../types'
import type { ValidationContext } from './context'

export function checkFlowEnds(ctx: ValidationContext): void {
  const { model, unsupported, flowScope } = ctx.read
  for (const flow of model.flows.values()) {
    const source = ctx.element(flow.sourceRef)
    const target = ctx.element(flow.targetRef)
    if (flow.sourceRef === '' || (source === undefined && !unsupported.has(flow.sourceRef))) {
      ctx.problem(flow.id, `Sequence flow source '${flow.sourceRef}' is not a flow node of this process`)
    }
    if (flow.targetRef === '' || (target === undefined && !unsupported.has(flow.targetRef))) {
      ctx.problem(flow.id, `Sequence flow target '${flow.targetRef}' is not a flow node of this process`)
    }
    const scopeId = flowScope.get(flow.id)
    if ((source !== undefined && source.scopeId !== scopeId) || (target !== undefined && target.scopeId !== scopeId)) {
      ctx.problem(flow.id, 'Sequence flow must connect elements of the same flow scope')
    }
  }
}

export function checkDefaultFlow(ctx: ValidationContext, element: FlowElement): void {
  if (element.defaultFlow !== undefined && !element.outgoing.includes(element.defaultFlow)) {
    ctx.problem(element.id, `Default flow '${element.defaultFlow}' must be an outgoing sequence flow of the element`)
  }
}
