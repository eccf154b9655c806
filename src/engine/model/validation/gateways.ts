/** Gateways and conditions: which outgoing flows need one, and what an event-based gateway may lead to. */
import type { SequenceFlow, FlowElement } from '../types'
import type { ValidationContext } from './context'
import { checkDuplicateCatchEvents } from './events'
import { checkExpression } from './expressions'

/** A sequence flow's condition is FEEL. */
export function checkCondition(ctx: ValidationContext, flow: SequenceFlow): void {
  if (flow.condition !== undefined) checkExpression(ctx, flow.id, flow.condition, { mandatory: true, nonStatic: true })
}

export function checkGateway(ctx: ValidationContext, gateway: FlowElement): void {
  if (gateway.type === 'exclusiveGateway' || gateway.type === 'inclusiveGateway') checkConditions(ctx, gateway)
  else if (gateway.type === 'eventBasedGateway') checkEventBasedGateway(ctx, gateway)
}

function checkConditions(ctx: ValidationContext, gateway: FlowElement): void {
  if (gateway.outgoing.length <= 1) return
  for (const flowId of gateway.outgoing) {
    const flow = ctx.read.model.flows.get(flowId)
    if (flow === undefined || flow.condition !== undefined || flowId === gateway.defaultFlow) continue
    ctx.problem(flowId, gateway.type === 'exclusiveGateway' ? 'Must have a condition or be default flow' : 'Must have a condition')
  }
}

function checkEventBasedGateway(ctx: ValidationContext, gateway: FlowElement): void {
  if (gateway.outgoing.length < 2) ctx.problem(gateway.id, 'Event-based gateway must have at least 2 outgoing sequence flows.')
  const targets = gateway.outgoing.map((flowId) => ctx.element(ctx.read.model.flows.get(flowId)?.targetRef ?? ''))
  const valid = targets.every((target) => target !== undefined && target.type === 'intermediateCatchEvent'
    && ['message', 'timer', 'signal'].includes(target.event?.kind ?? 'none'))
  if (!valid) {
    ctx.problem(gateway.id,
      'Event-based gateway must not have an outgoing sequence flow to other elements than message/timer/signal intermediate catch events.')
  }
  const ownFlows = new Set(gateway.outgoing)
  if (targets.some((target) => target !== undefined && target.incoming.some((flowId) => !ownFlows.has(flowId)))) {
    ctx.problem(gateway.id,
      'Target elements of an event gateway must not have any additional incoming sequence flows other than that from the event gateway.')
  }
  checkDuplicateCatchEvents(ctx, gateway.id, targets.flatMap((target) => (target !== undefined ? [target.id] : [])))
}
