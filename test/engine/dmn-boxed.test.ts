/**
 * DMN boxed expressions (issue #18): decisions whose logic is a context, a list, a relation or an
 * invocation of a business knowledge model, which Zeebe 8.8's DMN engine (dmn-scala) evaluates,
 * through the SDK's EvaluateDecision and a business rule task.
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, variablesOf } = engineTestKit({ worker: 'dmn-boxed' })

const literal = (text: string): string => `<literalExpression><text>${text}</text></literalExpression>`
const DMN = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="boxed-drg" name="Boxed" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fee" name="Fee">
    <context>
      <contextEntry><variable name="base" />${literal('amount * 0.01')}</contextEntry>
      <contextEntry><variable name="capped" />${literal('min([base, 20])')}</contextEntry>
      <contextEntry>${literal('{fee: capped, currency: "EUR"}')}</contextEntry>
    </context>
  </decision>
  <decision id="steps" name="Steps">
    <context>
      <contextEntry><variable name="first" />${literal('"cut"')}</contextEntry>
      <contextEntry><variable name="second" />${literal('"meet within 2 days"')}</contextEntry>
    </context>
  </decision>
  <decision id="channels" name="Channels"><list>${literal('"email"')}${literal('"phone"')}</list></decision>
  <decision id="contacts" name="Contacts">
    <relation>
      <column name="party" /><column name="channel" />
      <row>${literal('"portail"')}${literal('"phone"')}</row>
      <row>${literal('"fournisseur"')}${literal('"email"')}</row>
    </relation>
  </decision>
  <businessKnowledgeModel id="greet-bkm" name="Greet">
    <encapsulatedLogic><formalParameter name="who" />${literal('"Bonjour " + who')}</encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="greeting" name="Greeting">
    <knowledgeRequirement><requiredKnowledge href="#greet-bkm" /></knowledgeRequirement>
    <invocation>${literal('Greet')}<binding><parameter name="who" />${literal('name')}</binding></invocation>
  </decision>
  <businessKnowledgeModel id="rate-bkm" name="Discount Rate">
    <encapsulatedLogic><formalParameter name="amount" />${literal('if amount > 100 then 0.1 else 0')}</encapsulatedLogic>
  </businessKnowledgeModel>
  <businessKnowledgeModel id="net-bkm" name="net">
    <encapsulatedLogic><formalParameter name="amount" />${literal('amount * (1 - Discount Rate(amount))')}</encapsulatedLogic>
    <knowledgeRequirement><requiredKnowledge href="#rate-bkm" /></knowledgeRequirement>
  </businessKnowledgeModel>
  <decision id="price" name="Price">
    <knowledgeRequirement><requiredKnowledge href="#net-bkm" /></knowledgeRequirement>
    <knowledgeRequirement><requiredKnowledge href="#rate-bkm" /></knowledgeRequirement>
    ${literal('{net: net(gross), rate: Discount Rate(amount: gross)}')}
  </decision>
  <decision id="price-table" name="Price table">
    <knowledgeRequirement><requiredKnowledge href="#net-bkm" /></knowledgeRequirement>
    <decisionTable id="price-rules">
      <input id="in-gross"><inputExpression typeRef="number"><text>gross</text></inputExpression></input>
      <output id="out-net" name="net" typeRef="number" />
      <rule id="any"><inputEntry><text>-</text></inputEntry><outputEntry><text>net(gross)</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`

const BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-boxed">
<bpmn:process id="boxed-fee" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:businessRuleTask id="compute"><bpmn:extensionElements><zeebe:calledDecision decisionId="fee" resultVariable="fee" /></bpmn:extensionElements></bpmn:businessRuleTask>
<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" /><bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end" /></bpmn:process></bpmn:definitions>`

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'boxed.dmn', decision: Buffer.from(DMN) }, { name: 'boxed-fee.bpmn', process: Buffer.from(BPMN) }])
})

const evaluate = async (decisionId: string, variables: Record<string, string | number> = {}) => {
  const result = await client.zeebe.evaluateDecision({ decisionId, variables })
  return { output: JSON.parse(result.decisionOutput) as unknown, type: result.evaluatedDecisions[0]?.decisionType, failure: result.failureMessage }
}

test('a context: entries in order, each seeing those before it; an entry without a name is the result', async () => {
  expect(await evaluate('fee', { amount: 3000 })).toEqual({ output: { fee: 20, currency: 'EUR' }, type: 'CONTEXT', failure: '' })
  expect((await evaluate('steps')).output).toEqual({ first: 'cut', second: 'meet within 2 days' })
})

test('a list, a relation, and an invocation of a business knowledge model by its name', async () => {
  expect(await evaluate('channels')).toMatchObject({ output: ['email', 'phone'], type: 'LIST' })
  expect(await evaluate('contacts')).toMatchObject({ output: [{ party: 'portail', channel: 'phone' }, { party: 'fournisseur', channel: 'email' }], type: 'RELATION' })
  expect(await evaluate('greeting', { name: 'Camille' })).toMatchObject({ output: 'Bonjour Camille', type: 'INVOCATION' })
})

test("a business rule task takes a context decision's result", async () => {
  const key = await startInstance('boxed-fee', { amount: 500 })
  await expectInstanceState(key, 'COMPLETED')
  expect((await variablesOf(key)).fee).toEqual({ fee: 5, currency: 'EUR' })
})

test('business knowledge models are FEEL functions of the decisions (and models) that require them, called by name, multi-word names too', async () => {
  // a literal expression calling a model that calls another, positionally and with a named argument
  expect(await evaluate('price', { gross: 200 })).toMatchObject({ output: { net: 180, rate: 0.1 }, failure: '' })
  expect((await evaluate('price', { gross: 50 })).output).toEqual({ net: 50, rate: 0 })
  // and a decision table's output entry
  expect((await evaluate('price-table', { gross: 300 })).output).toBe(270)
})
