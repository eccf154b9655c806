/**
 * Where feelin and FEEL-Scala (Zeebe 8.8's FEEL engine) differ, the engine follows FEEL-Scala,
 * proven through the real SDK on models of our own (issue #18). FEEL-Scala docs: `is defined()`
 * returns false for null and missing values; a name is a variable unless it is called; string
 * literals may span lines. Zeebe raises an incident when a condition is not a boolean.
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, activeIncident, elementInstances, variablesOf } = engineTestKit({ worker: 'feel-semantics' })

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
  + ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">'

/** start → exclusive gateway: `condition` to "yes", default to "no". */
function gatewayModel(id: string, condition: string): string {
  return `${HEADER}<bpmn:process id="${id}" isExecutable="true">
<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gw" default="to-no" />
<bpmn:endEvent id="yes" /><bpmn:endEvent id="no" />
<bpmn:sequenceFlow id="to-gw" sourceRef="start" targetRef="gw" />
<bpmn:sequenceFlow id="to-yes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="to-no" sourceRef="gw" targetRef="no" />
</bpmn:process></bpmn:definitions>`
}

async function deploy(name: string, xml: string): Promise<void> {
  await client.zeebe.deployResources([{ name: `${name}.bpmn`, process: Buffer.from(xml) }])
}

const reached = async (key: string) => (await elementInstances(key)).map((element) => element.elementId)

test('is defined(x) takes the default path when x is missing or null, the condition when it is set', async () => {
  // given
  await deploy('feel-is-defined', gatewayModel('feel-is-defined', '=is defined(x)'))
  // when
  const missing = await startInstance('feel-is-defined')
  const isNull = await startInstance('feel-is-defined', { x: null } as unknown as Record<string, string>)
  const set = await startInstance('feel-is-defined', { x: 'a' })
  // then
  for (const key of [missing, isNull, set]) await expectInstanceState(key, 'COMPLETED')
  expect(await reached(missing)).toContain('no')
  expect(await reached(isNull)).toContain('no')
  expect(await reached(set)).toContain('yes')
})

test('`count > 5` without a variable count raises the incident Zeebe raises (EXTRACT_VALUE_ERROR: the condition is null, not a boolean), not the default path', async () => {
  // given
  await deploy('feel-count', gatewayModel('feel-count', '=count &gt; 5'))
  // when
  const missing = await startInstance('feel-count')
  const seven = await startInstance('feel-count', { count: 7 })
  // then
  const incident = await activeIncident(missing)
  expect(incident.elementId).toBe('gw')
  expect(incident.errorType).toBe('EXTRACT_VALUE_ERROR')
  expect(incident.errorMessage).toContain("No variable found with name 'count'")
  await expectInstanceState(seven, 'COMPLETED')
  expect(await reached(seven)).toContain('yes')
})

test('a string literal holding a real line break deploys and evaluates to a string with that line break', async () => {
  // given
  const xml = `${HEADER}<bpmn:process id="feel-newline" isExecutable="true">
<bpmn:startEvent id="start"><bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=&quot;first
second&quot;" target="text" /></zeebe:ioMapping></bpmn:extensionElements></bpmn:startEvent>
<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end" />
</bpmn:process></bpmn:definitions>`
  await deploy('feel-newline', xml)
  // when
  const key = await startInstance('feel-newline')
  // then
  await expectInstanceState(key, 'COMPLETED')
  expect(await variablesOf(key)).toMatchObject({ text: 'first\nsecond' })
})
