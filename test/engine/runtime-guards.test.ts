/**
 * Runtime guards (issue 14): no command runs unbounded work, and variable names are plain JSON
 * keys. Driven through the real @camunda8/sdk; states are read through REST /v2 searches.
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, search, expectInstanceState, instanceState, cancelAfterTest } = engineTestKit({ worker: 'rg-test' })

const process = (id: string, body: string): { name: string; process: Buffer } => ({
  name: `${id}.bpmn`,
  process: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d-${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`),
})

beforeAll(async () => {
  // Two exclusive gateways looping to each other while `spin` holds: Zeebe accepts this model
  // and runs it step by step, serving other commands in between.
  await client.zeebe.deployResource(process('rg-gateway-loop', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
    <bpmn:exclusiveGateway id="merge" />
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="check" />
    <bpmn:exclusiveGateway id="check" default="out" />
    <bpmn:sequenceFlow id="back" sourceRef="check" targetRef="merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=spin</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="out" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />`))
  // A ring of a parallel and an exclusive gateway.
  await client.zeebe.deployResource(process('rg-gateway-ring', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ring-a" />
    <bpmn:exclusiveGateway id="ring-a" />
    <bpmn:sequenceFlow id="f2" sourceRef="ring-a" targetRef="ring-b" />
    <bpmn:parallelGateway id="ring-b" />
    <bpmn:sequenceFlow id="f3" sourceRef="ring-b" targetRef="ring-a" />`))
  await client.zeebe.deployResource(process('rg-straight', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />`))
})

test.each([['rg-gateway-loop', 'merge'], ['rg-gateway-ring', 'ring-a']])('%s: a loop made only of gateways runs step by step; another instance completes meanwhile and the looping one is cancelled while it spins', async (bpmnProcessId, loopElement) => {
  // given an instance spinning in a loop of gateways
  const looping = await client.zeebe.createProcessInstance({ bpmnProcessId, variables: { spin: true } })
  cancelAfterTest(looping.processInstanceKey)
  // when another instance is created and the looping one is cancelled
  const other = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rg-straight', variables: {} })
  // then the other completes while the loop still runs
  await expectInstanceState(other.processInstanceKey, 'COMPLETED')
  expect(await instanceState(looping.processInstanceKey)).toBe('ACTIVE')
  await client.zeebe.cancelProcessInstance(looping.processInstanceKey)
  await expectInstanceState(looping.processInstanceKey, 'TERMINATED')
  // and it had gone round more than once
  const passes = await search<{ elementId: string }>('element-instances', { processInstanceKey: looping.processInstanceKey, elementId: loopElement })
  expect(passes.length).toBeGreaterThan(1)
})

test('the loop leaves by its default flow once the condition stops holding', async () => {
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rg-gateway-loop', variables: { spin: false } })
  await expectInstanceState(processInstanceKey, 'COMPLETED')
})
