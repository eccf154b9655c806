import type { FlowElement } from '../../../model/types'
import type { ProcessingContext } from '../../processing'
import { evaluateDecision } from '../../decision'
import { recordDecisionEvaluation } from '../../decision-history'
import { IncidentError } from '../../expressions'
import type { ElementInstance } from '../../runtime-state'
import { processor, terminateJob } from '../processor'

function evaluateCalledDecision(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void {
  const cd = el.calledDecision as NonNullable<FlowElement['calledDecision']>
  const decisionId = ctx.expr.string(cd.decisionId, ctx.visible(ei))
  const found = ctx.repo.latestDecisionOf(decisionId, ei.tenantId)
  if (!found) throw new IncidentError('CALLED_DECISION_ERROR', `Expected to evaluate decision '${decisionId}', but no decision found for id '${decisionId}'`)
  const result = evaluateDecision(found.drg.model, decisionId, ctx.vars.visible(ei.key), ctx.engineClock)
  recordDecisionEvaluation(ctx, found.decision, found.drg, result, ei)
  if (result.failureMessage !== undefined) {
    throw new IncidentError('DECISION_EVALUATION_ERROR', `Expected to evaluate decision '${decisionId}', but ${result.failureMessage}`)
  }
  ei.payload = { [cd.resultVariable]: result.output }
  ctx.flow.complete(ei)
}

/** Evaluates its called decision at once; without one, it is a job for a worker. */
export const businessRuleTaskProcessor = processor({
  onActivate: (ctx, ei, el) => (el.calledDecision ? evaluateCalledDecision(ctx, ei, el) : ctx.jobs.createJob(ei, el)),
  onTerminate: terminateJob,
})
