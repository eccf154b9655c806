/**
 * Straight-through processing loops (issue #18): Zeebe refuses a process whose flows loop with no
 * wait state ("Processes are not allowed to contain a straight-through processing loop: ...",
 * reported for the process, as its StraightThroughProcessingLoopValidationTest shows); a loop with
 * a wait state is deployed; a loop of gateways alone is accepted, and an instance caught in one
 * does not stop the engine from serving others.
 */
import { engineTestKit, grpcFailure, until } from '../support/engine-test-kit'

const { client, engine, expectInstanceState } = engineTestKit({ worker: 'loops' })

const flow = (id: string, from: string, to: string, condition?: string): string => condition
  ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression>${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`
  : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
const definitions = (id: string, body: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`

const deploy = (id: string, xml: string) => client.zeebe.deployResources([{ name: `${id}.bpmn`, process: Buffer.from(xml) }])

test('a loop of undefined and manual tasks is refused for its process, naming the loop', async () => {
  const xml = definitions('stp-tasks', `<bpmn:startEvent id="start" /><bpmn:task id="task1" /><bpmn:manualTask id="task2" />
${flow('f1', 'start', 'task1')}${flow('f2', 'task1', 'task2')}${flow('f3', 'task2', 'task1')}`)
  const refused = await grpcFailure(deploy('stp-tasks', xml))
  expect(refused.details).toContain('- Process: stp-tasks\n    - ERROR: Processes are not allowed to contain a straight-through processing loop: task1 > task2 > task1')
})

test('a loop through a gateway and a FEEL script task is refused; the same loop with a user task in it is deployed', async () => {
  const loop = (id: string, wait: string) => definitions(id, `<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="again" default="back" />
<bpmn:scriptTask id="count"><bpmn:extensionElements><zeebe:script expression="=n + 1" resultVariable="n" /></bpmn:extensionElements></bpmn:scriptTask>
${wait}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'count')}${flow('f2', 'count', wait ? 'wait' : 'again')}${wait ? flow('f3', 'wait', 'again') : ''}${flow('out', 'again', 'end', '=n > 3')}${flow('back', 'again', 'count')}`)
  const refused = await grpcFailure(deploy('stp-script', loop('stp-script', '')))
  expect(refused.details).toContain('straight-through processing loop: count > again > count')
  const waiting = loop('stp-waiting', '<bpmn:userTask id="wait"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>')
  await expect(deploy('stp-waiting', waiting)).resolves.toMatchObject({ deployments: [expect.anything()] })
})

test('a loop of gateways alone is deployed, as Zeebe deploys it; an instance caught in it leaves the engine serving', async () => {
  const xml = definitions('stp-gateways', `<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="g1" /><bpmn:exclusiveGateway id="g2" default="round" /><bpmn:endEvent id="end" />
${flow('f1', 'start', 'g1')}${flow('f2', 'g1', 'g2')}${flow('never', 'g2', 'end', '=false')}${flow('round', 'g2', 'g1')}`)
  await deploy('stp-gateways', xml)
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'stp-gateways', variables: {} })
  // the engine still answers, and the looping instance can be canceled
  await until('the engine answering', async () => ((await fetch(`http://127.0.0.1:${engine.restPort}/v2/topology`)).ok ? true : undefined))
  await client.zeebe.cancelProcessInstance(processInstanceKey)
  await expectInstanceState(processInstanceKey, 'TERMINATED')
})
