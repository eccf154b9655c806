/**
 * Decision instances (Camunda 8.8): every decision evaluated, by a business rule task or by a
 * client, searched and read by its decisionEvaluationInstanceKey (`<evaluation key>-<n>`).
 */
import type { Router } from 'express'
import type { DecisionInstanceRecord, EngineApi } from '../api'
import { HttpProblem } from './problem'
import { isoDate } from './results'
import { instanceScope, search, searchRequestSchema, type SearchSpec } from './search'
import { parseBody } from './validation'

type DecisionInstanceResult = ReturnType<typeof decisionInstanceResult>

function decisionInstanceResult(d: DecisionInstanceRecord) {
  return {
    decisionEvaluationInstanceKey: d.key,
    state: d.state,
    evaluationDate: isoDate(d.evaluationDate),
    ...(d.evaluationFailure ? { evaluationFailure: d.evaluationFailure } : {}),
    ...(d.processDefinitionKey ? { processDefinitionKey: d.processDefinitionKey } : {}),
    ...(d.processInstanceKey ? { processInstanceKey: d.processInstanceKey } : {}),
    ...(d.elementInstanceKey ? { elementInstanceKey: d.elementInstanceKey } : {}),
    decisionDefinitionKey: d.decisionDefinitionKey,
    decisionDefinitionId: d.decisionDefinitionId,
    decisionDefinitionName: d.decisionDefinitionName,
    decisionDefinitionVersion: d.decisionDefinitionVersion,
    decisionDefinitionType: d.decisionDefinitionType,
    rootDecisionDefinitionKey: d.rootDecisionDefinitionKey,
    decisionEvaluationKey: d.decisionEvaluationKey,
    result: d.result,
    tenantId: d.tenantId,
  }
}

const spec: SearchSpec<DecisionInstanceResult> = {
  key: 'decisionEvaluationInstanceKey',
  filterable: ['decisionEvaluationInstanceKey', 'state', 'evaluationFailure', 'evaluationDate', 'processDefinitionKey',
    'processInstanceKey', 'elementInstanceKey', 'decisionDefinitionKey', 'decisionDefinitionId', 'decisionDefinitionName',
    'decisionDefinitionVersion', 'decisionDefinitionType', 'rootDecisionDefinitionKey', 'decisionEvaluationKey', 'tenantId'],
  sortable: ['decisionEvaluationInstanceKey', 'state', 'evaluationDate', 'processDefinitionKey', 'processInstanceKey',
    'decisionDefinitionKey', 'decisionDefinitionId', 'decisionDefinitionName', 'decisionDefinitionVersion', 'decisionDefinitionType', 'tenantId'],
}

const INSTANCE_KEY = /^\d{1,19}-\d{1,9}$/

export function decisionInstanceRoutes(router: Router, engine: EngineApi): void {
  router.post('/decision-instances/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    res.json(search([...engine.queries.decisionInstances(instanceScope(request.filter))].map(decisionInstanceResult), request, spec))
  })

  router.get('/decision-instances/:decisionEvaluationInstanceKey', (req, res) => {
    const key = req.params.decisionEvaluationInstanceKey
    if (!INSTANCE_KEY.test(key)) throw new HttpProblem(400, 'INVALID_ARGUMENT', `The provided decisionEvaluationInstanceKey '${key}' is not a decision instance key (<evaluation key>-<number>)`)
    const found = engine.queries.decisionInstance(key)
    if (!found) throw new HttpProblem(404, 'NOT_FOUND', `Decision instance with key '${key}' not found`)
    res.json({ ...decisionInstanceResult(found), evaluatedInputs: found.evaluatedInputs, matchedRules: found.matchedRules })
  })
}
