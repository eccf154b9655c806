import type { DecisionDefinitionRecord, DecisionInstanceRecord, Key } from '../state/records'
import type { DecisionEvaluation } from './decision'
import type { ProcessingContext } from './processing'
import type { DeployedDrg } from './repository'
import type { ElementInstance } from './runtime-state'

const BOXED_TYPE = { literal: 'LITERAL_EXPRESSION', context: 'CONTEXT', list: 'LIST', relation: 'RELATION', invocation: 'INVOCATION' } as const

/**
 * Records an evaluation as Camunda 8.8's decision instances (the decision-instances search): one
 * per decision evaluated, required ones first, and for a failed evaluation one FAILED instance of
 * the decision that failed. Called inside the command that evaluated. Returns the evaluation key.
 */
export function recordDecisionEvaluation(
  ctx: ProcessingContext,
  root: DecisionDefinitionRecord,
  drg: DeployedDrg,
  evaluation: DecisionEvaluation,
  origin?: ElementInstance,
): Key {
  const evaluationKey = ctx.nextKey()
  const byId = new Map<string, DecisionDefinitionRecord>()
  for (const d of ctx.repo.decisions.values()) if (d.decisionRequirementsKey === drg.record.key) byId.set(d.decisionId, d)
  const now = ctx.now()
  let n = 0
  const add = (decisionId: string, fields: Pick<DecisionInstanceRecord, 'state' | 'result' | 'evaluatedInputs' | 'matchedRules' | 'decisionDefinitionType'> & { evaluationFailure?: string }) => {
    const definition = byId.get(decisionId)
    const record: DecisionInstanceRecord = {
      key: `${evaluationKey}-${++n}`, decisionEvaluationKey: evaluationKey, evaluationDate: now,
      decisionDefinitionKey: definition?.key ?? root.key, decisionDefinitionId: decisionId,
      decisionDefinitionName: definition?.name ?? decisionId, decisionDefinitionVersion: definition?.version ?? root.version,
      rootDecisionDefinitionKey: root.key, decisionRequirementsKey: drg.record.key, tenantId: root.tenantId,
      ...(origin ? { processDefinitionKey: origin.processDefinitionKey, processInstanceKey: origin.processInstanceKey, elementInstanceKey: origin.key } : {}),
      ...fields,
    }
    ctx.state.decisionInstances.set(record.key, record)
  }
  for (const e of evaluation.evaluated) {
    add(e.decisionId, {
      state: 'EVALUATED', decisionDefinitionType: e.decisionType, result: JSON.stringify(e.output ?? null),
      evaluatedInputs: e.evaluatedInputs.map((i) => ({ inputId: i.inputId, inputName: i.inputName, inputValue: JSON.stringify(i.inputValue ?? null) })),
      matchedRules: e.matchedRules.map((r) => ({
        ruleId: r.ruleId, ruleIndex: r.ruleIndex,
        evaluatedOutputs: r.evaluatedOutputs.map((o) => ({ outputId: o.outputId, outputName: o.outputName, outputValue: JSON.stringify(o.outputValue ?? null) })),
      })),
    })
  }
  if (evaluation.failedDecisionId !== undefined) {
    const failed = drg.model.decisions.find((d) => d.id === evaluation.failedDecisionId)
    add(evaluation.failedDecisionId, {
      state: 'FAILED', evaluationFailure: evaluation.failureMessage, result: 'null', evaluatedInputs: [], matchedRules: [],
      decisionDefinitionType: failed?.table ? 'DECISION_TABLE' : failed?.literalExpression ? 'LITERAL_EXPRESSION' : failed?.boxed ? BOXED_TYPE[failed.boxed.kind] : 'UNSPECIFIED',
    })
  }
  return evaluationKey
}
