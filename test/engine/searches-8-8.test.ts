/**
 * Endpoints of the Camunda 8.8 REST API that Operate and Camunda Modeler's task testing call:
 * GET /v2/status, the incidents of one process instance, and the message subscriptions (issue #17).
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, engine, startInstance, activeIncident } = engineTestKit({ worker: 'searches-8-8' })

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
  + ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">'

/** A gateway whose condition fails (an incident at once), and a message catch keyed by orderId. */
const MODELS = `${HEADER}<bpmn:message id="msg" name="order-paid"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId" /></bpmn:extensionElements></bpmn:message>
<bpmn:process id="s88-failing" isExecutable="true"><bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="gw" default="no" /><bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="gw" /><bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="e1"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=missing &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="e2" /></bpmn:process>
<bpmn:process id="s88-waiting" isExecutable="true"><bpmn:startEvent id="s2" /><bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="msg" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="e3" />
<bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="paid" /><bpmn:sequenceFlow id="g2" sourceRef="paid" targetRef="e3" /></bpmn:process>
</bpmn:definitions>`

async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as T }
}

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 's88.bpmn', process: Buffer.from(MODELS) }])
})

test('GET /v2/status answers 204 once the engine serves', async () => {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/status`)
  expect(response.status).toBe(204)
})

test('POST /v2/process-instances/{key}/incidents/search answers that instance\'s incidents only; an unknown instance is 404', async () => {
  // given two failing instances
  const first = await startInstance('s88-failing')
  const second = await startInstance('s88-failing')
  const incident = await activeIncident(first)
  await activeIncident(second)
  // when
  const found = await post<{ items: Array<{ incidentKey: string; processInstanceKey: string; elementId: string }>; page: { totalItems: number } }>(`process-instances/${first}/incidents/search`, { filter: { state: 'ACTIVE' } })
  // then
  expect(found.status).toBe(200)
  expect(found.body.items).toEqual([expect.objectContaining({ incidentKey: incident.incidentKey, processInstanceKey: first, elementId: 'gw' })])
  expect(found.body.page.totalItems).toBe(1)
  expect((await post('process-instances/2251799813999999/incidents/search', {})).status).toBe(404)
})

test('POST /v2/message-subscriptions/search lists what an instance waits for, by message name and correlation key', async () => {
  // given
  const waiting = await startInstance('s88-waiting', { orderId: 'ORD-7' })
  // when
  const found = await post<{ items: Array<Record<string, unknown>> }>('message-subscriptions/search', { filter: { processInstanceKey: waiting } })
  // then
  expect(found.status).toBe(200)
  expect(found.body.items).toEqual([expect.objectContaining({
    processInstanceKey: waiting, processDefinitionId: 's88-waiting', elementId: 'paid', messageName: 'order-paid', correlationKey: 'ORD-7', messageSubscriptionState: 'CREATED', tenantId: '<default>',
  })])
  // when the message comes, the subscription is gone
  await client.zeebe.publishMessage({ name: 'order-paid', correlationKey: 'ORD-7', variables: {} })
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await post<{ items: unknown[] }>('message-subscriptions/search', { filter: { processInstanceKey: waiting } })).body.items.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the subscription was still listed after the message')
})
