/**
 * Decision instances (Camunda 8.8 /v2/decision-instances): each decision a business rule task or
 * a client evaluates is kept and found by search and by key, with its inputs and matched rules,
 * and a failed evaluation is a FAILED instance with the reason (issue #17).
 */
import { bpmnFixture, dmnFixture, engineTestKit, until } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState } = engineTestKit({ worker: 'decision-instances' })

interface DecisionInstance {
  decisionEvaluationInstanceKey: string
  state: string
  decisionDefinitionId: string
  decisionDefinitionType: string
  processInstanceKey?: string
  elementInstanceKey?: string
  result: string
  evaluationFailure?: string
  evaluatedInputs?: { inputId: string; inputValue: string }[]
  matchedRules?: { ruleId: string; ruleIndex: number }[]
}

beforeAll(async () => {
  await client.zeebe.deployResource({ decisionFilename: dmnFixture('risk') })
  await client.zeebe.deployResource({ processFilename: bpmnFixture('decision-task') })
})

async function searchDecisionInstances(filter: Record<string, unknown>): Promise<DecisionInstance[]> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/decision-instances/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter }),
  })
  return ((await response.json()) as { items: DecisionInstance[] }).items
}

async function get(key: string): Promise<{ status: number; body: DecisionInstance & { detail?: string } }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/decision-instances/${key}`)
  return { status: response.status, body: (await response.json()) as DecisionInstance & { detail?: string } }
}

test('the decision a business rule task evaluated is found by its process instance, with the rule that matched', async () => {
  // given an instance whose task evaluates the risk of 2,500 from FR
  const key = await startInstance('decision-task', { amount: 2500, country: 'FR' })
  await expectInstanceState(key, 'COMPLETED')
  // when its decision instances are searched
  const [found] = await until('the decision instance', async () => { const items = await searchDecisionInstances({ processInstanceKey: key }); return items.length > 0 ? items : undefined })
  // then there is the evaluation, and reading it by key gives its inputs and matched rule
  expect(found).toMatchObject({ state: 'EVALUATED', decisionDefinitionId: 'risk', decisionDefinitionType: 'DECISION_TABLE', result: '"high"' })
  expect(found.elementInstanceKey).toBeDefined()
  const read = await get(found.decisionEvaluationInstanceKey)
  expect(read.status).toBe(200)
  expect(read.body.evaluatedInputs).toEqual([{ inputId: 'input-amount', inputName: 'Amount', inputValue: '2500' }, { inputId: 'input-country', inputName: 'Country', inputValue: '"FR"' }])
  expect(read.body.matchedRules?.map((r) => r.ruleId)).toEqual(['rule-high'])
})

test('a decision evaluated by a client is kept under the key the evaluation answered; a failed one is FAILED with its reason', async () => {
  const rest = client.camunda.getCamundaRestClient()
  // (the proto's EvaluateDecisionResponse has decisionInstanceKey, field 12; the SDK's type omits it)
  const evaluated = await client.zeebe.evaluateDecision({ decisionId: 'risk', variables: { amount: 10, country: 'DE' } }) as unknown as { decisionInstanceKey: string }
  const [instance] = await searchDecisionInstances({ decisionEvaluationKey: evaluated.decisionInstanceKey })
  expect(instance).toMatchObject({ state: 'EVALUATED', result: '"low"', decisionEvaluationInstanceKey: `${evaluated.decisionInstanceKey}-1` })
  expect(instance.processInstanceKey).toBeUndefined()
  // a UNIQUE table with two matching rules fails
  const failed = await rest.evaluateDecision({ decisionDefinitionId: 'risk', variables: { amount: 10, country: 'XX' } })
  const [failure] = await searchDecisionInstances({ decisionEvaluationKey: failed.decisionEvaluationKey, state: 'FAILED' })
  expect(failure.evaluationFailure).toContain("Expected to evaluate decision 'risk'")
  expect(failure.evaluationFailure).toBe(failed.failureMessage)
})

test('reading a decision instance that does not exist is 404, and a malformed key 400', async () => {
  expect((await get('2251799813999999-1')).status).toBe(404)
  const malformed = await get('not-a-key')
  expect(malformed.status).toBe(400)
  expect(malformed.body.detail).toContain("'not-a-key'")
})
