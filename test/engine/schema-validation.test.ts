/**
 * BPMN schema validation (issue #18): Zeebe's model API parses a resource against the BPMN 2.0
 * XSD before any rule of its own, and rejects one that breaks it with the parser's first error
 * (camunda/camunda DeploymentRejectionTest.shouldRejectDeploymentOfSAXException: the reason names
 * the resource, the attribute and bpmndi:BPMNPlane). Since 8.4 it accepts documentation after the
 * extension elements (camunda/camunda issue 17380), which the OMG schema alone refuses.
 */
import { engineTestKit, grpcFailure, GrpcStatus } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState } = engineTestKit({ worker: 'schema-validation' })

const NAMESPACES = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
  + ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'

/** One executable process `id` with `body`, and `diagram` as its BPMNDiagram content. */
function definitions(id: string, body: string, options: { targetNamespace?: boolean; diagram?: string } = {}): string {
  const target = options.targetNamespace === false ? '' : ' targetNamespace="http://bpmn.io/schema/bpmn"'
  const diagram = options.diagram === undefined ? '' : `<bpmndi:BPMNDiagram id="diagram-${id}">${options.diagram}</bpmndi:BPMNDiagram>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NAMESPACES} id="defs-${id}"${target}>
  <bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>${diagram}
</bpmn:definitions>`
}

const STRAIGHT = '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
  + '<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />'

async function deploy(name: string, xml: string): Promise<unknown> {
  return client.zeebe.deployResources([{ name, process: Buffer.from(xml) }])
}

test('deployment refuses a resource the BPMN schema refuses, with the first schema error, its line and the resource name (Zeebe issue 8026)', async () => {
  // given a diagram plane with un-namespaced colour attributes, which the DI schema does not allow
  const xml = definitions('painted', STRAIGHT, { diagram: '<bpmndi:BPMNPlane id="plane" bpmnElement="painted" stroke="#000" fill="#fff" />' })
  // when it is deployed
  const refused = await grpcFailure(deploy('painted.bpmn', xml))
  // then it is refused, naming the resource, the element and the attribute
  expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(refused.details).toContain("Expected to deploy new resources, but encountered the following errors:\n'painted.bpmn': Error: URI=null Line=3: ")
  expect(refused.details).toContain("Element 'bpmndi:BPMNPlane', attribute 'stroke': The attribute 'stroke' is not allowed.")
  // and the process was not deployed
  expect((await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'painted', variables: {} }))).code).toBe(GrpcStatus.NOT_FOUND)
})

test('the schema refuses what the model reader would let through: elements out of order, a missing targetNamespace, an unknown BPMN element', async () => {
  const cases: [string, string][] = [
    [definitions('swapped', '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing><bpmn:incoming>f0</bpmn:incoming></bpmn:startEvent>'),
      "Element 'bpmn:incoming': This element is not expected."],
    [definitions('no-target', STRAIGHT, { targetNamespace: false }),
      "Element 'bpmn:definitions': The attribute 'targetNamespace' is required but missing."],
    [definitions('unknown', `${STRAIGHT}<bpmn:fooTask id="foo" />`), "Element 'bpmn:fooTask': This element is not expected."],
  ]
  for (const [xml, error] of cases) {
    const refused = await grpcFailure(deploy('refused.bpmn', xml))
    expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(refused.details).toContain(error)
  }
})

test('documentation after the extension elements deploys and runs, as on Zeebe 8.4 and later (Zeebe issue 17380)', async () => {
  // given documentation both after and before the extension elements
  const xml = definitions('documented', '<bpmn:extensionElements><zeebe:versionTag value="v1" /></bpmn:extensionElements>'
    + '<bpmn:documentation>After the extension elements</bpmn:documentation>'
    + '<bpmn:startEvent id="start"><bpmn:documentation>Before</bpmn:documentation><bpmn:extensionElements><zeebe:properties><zeebe:property name="a" value="b" /></zeebe:properties></bpmn:extensionElements>'
    + '<bpmn:documentation>and after</bpmn:documentation><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    + '<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />')
  // when it is deployed and started
  await deploy('documented.bpmn', xml)
  const key = await startInstance('documented')
  // then it runs to the end
  await expectInstanceState(key, 'COMPLETED')
})

test('a document that is not well-formed XML is refused with the parser error, even where a lenient reader would go on; the engine keeps serving', async () => {
  const refused = await grpcFailure(deploy('broken.bpmn', definitions('broken', STRAIGHT).replace('</bpmn:process>', '')))
  expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(refused.details).toContain("'broken.bpmn': Error: URI=null Line=4: Opening and ending tag mismatch: process line 3 and definitions")
  // an unescaped '<' in an attribute (a template placeholder left in a connector model)
  const placeholder = definitions('placeholder', STRAIGHT.replace('<bpmn:startEvent id="start">', '<bpmn:startEvent id="start" name="<NAME>">'))
  expect((await grpcFailure(deploy('placeholder.bpmn', placeholder))).details).toContain("'placeholder.bpmn': Error: URI=null Line=3: Unescaped '<' not allowed in attributes values")
  await deploy('straight.bpmn', definitions('straight', STRAIGHT))
  await expectInstanceState(await startInstance('straight'), 'COMPLETED')
})

test('a DMN decision without a name is refused by the DMN 1.3 schema, as on Zeebe', async () => {
  // given a decision with an id but no name
  const dmn = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="unnamed-drg" name="Unnamed" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="unnamed"><literalExpression><text>"yes"</text></literalExpression></decision>
</definitions>`
  // when it is deployed, then it is refused with the schema's reason
  const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'unnamed.dmn', decision: Buffer.from(dmn) }]))
  expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(refused.details).toContain("'unnamed.dmn': Error: URI=null Line=3: Element '{https://www.omg.org/spec/DMN/20191111/MODEL/}decision': The attribute 'name' is required but missing.")
  // and with the name, it deploys
  await client.zeebe.deployResources([{ name: 'named.dmn', decision: Buffer.from(dmn.replace('<decision id="unnamed">', '<decision id="unnamed" name="Unnamed">')) }])
})
