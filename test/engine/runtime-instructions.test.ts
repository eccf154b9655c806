/**
 * Process creation with start and runtime instructions, as Camunda Modeler's task testing sends
 * them over REST (8.8: TERMINATE_PROCESS_INSTANCE after an element): the instance starts at the
 * task under test and ends TERMINATED once that task completed, never running on (issue #17).
 */
import { engineTestKit } from '../support/engine-test-kit'

const { client, engine, expectInstanceState, elementInstances, activateOne } = engineTestKit({ worker: 'runtime-instructions' })

const MODEL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs">
<bpmn:process id="ri-p" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:serviceTask id="task-under-test"><bpmn:extensionElements><zeebe:taskDefinition type="ri-work" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="next"><bpmn:extensionElements><zeebe:taskDefinition type="ri-next" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task-under-test" /><bpmn:sequenceFlow id="f2" sourceRef="task-under-test" targetRef="next" />
<bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end" /></bpmn:process></bpmn:definitions>`

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'ri-p.bpmn', process: Buffer.from(MODEL) }, { name: 'ri-nested.bpmn', process: Buffer.from(NESTED) }])
})

test('TERMINATE_PROCESS_INSTANCE after the task under test: started there, the instance ends TERMINATED once the task completes, and the next element never runs', async () => {
  // given Modeler's task testing request
  const created = await client.camunda.getCamundaRestClient().createProcessInstance({
    processDefinitionId: 'ri-p',
    variables: { input: 1 },
    startInstructions: [{ elementId: 'task-under-test' }],
    runtimeInstructions: [{ type: 'TERMINATE_PROCESS_INSTANCE', afterElementId: 'task-under-test' }],
  })
  const key = created.processInstanceKey
  // when the task's job completes
  const job = await activateOne('ri-work', key)
  await client.zeebe.completeJob({ jobKey: job.key, variables: { output: 2 } })
  // then
  await expectInstanceState(key, 'TERMINATED')
  const elements = await elementInstances(key)
  expect(elements.find((element) => element.elementId === 'task-under-test')?.state).toBe('COMPLETED')
  expect(elements.map((element) => element.elementId)).not.toContain('next')
  expect(elements.map((element) => element.elementId)).not.toContain('start')
})

test('a runtime instruction naming no element of the process is refused, and no instance is created', async () => {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ processDefinitionId: 'ri-p', runtimeInstructions: [{ type: 'TERMINATE_PROCESS_INSTANCE', afterElementId: 'nowhere' }] }),
  })
  expect(response.status).toBe(400)
  expect(((await response.json()) as { detail: string }).detail).toContain("'nowhere'")
})

const NESTED = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-nested">
<bpmn:process id="ri-nested" isExecutable="true"><bpmn:startEvent id="n-start" />
<bpmn:serviceTask id="before"><bpmn:extensionElements><zeebe:taskDefinition type="ri-before" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:subProcess id="sub"><bpmn:startEvent id="sub-start" />
<bpmn:serviceTask id="inside"><bpmn:extensionElements><zeebe:taskDefinition type="ri-inside" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:endEvent id="sub-end" /><bpmn:sequenceFlow id="s1" sourceRef="sub-start" targetRef="inside" /><bpmn:sequenceFlow id="s2" sourceRef="inside" targetRef="sub-end" /></bpmn:subProcess>
<bpmn:subProcess id="many"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=[1]" /></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>
<bpmn:startEvent id="many-start" /><bpmn:endEvent id="in-many" /><bpmn:sequenceFlow id="m1" sourceRef="many-start" targetRef="in-many" /></bpmn:subProcess>
<bpmn:endEvent id="n-end" />
<bpmn:sequenceFlow id="n1" sourceRef="n-start" targetRef="before" /><bpmn:sequenceFlow id="n2" sourceRef="before" targetRef="sub" />
<bpmn:sequenceFlow id="n3" sourceRef="sub" targetRef="many" /><bpmn:sequenceFlow id="n4" sourceRef="many" targetRef="n-end" /></bpmn:process></bpmn:definitions>`

test('a start instruction inside a subprocess starts there, in its subprocess created without its start event, and the instance runs on from it', async () => {
  // given an instance created at the task inside the subprocess (over gRPC)
  const { processInstanceKey: key } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'ri-nested', variables: {}, startInstructions: [{ elementId: 'inside' }] })
  // when the task's job completes
  const job = await activateOne('ri-inside', key)
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
  // then the subprocess completes and the instance goes on to its end
  await expectInstanceState(key, 'COMPLETED')
  const ids = (await elementInstances(key)).map((element) => element.elementId)
  expect(ids).toEqual(expect.arrayContaining(['sub', 'inside', 'sub-end', 'many', 'n-end']))
  expect(ids).not.toContain('sub-start')
  expect(ids).not.toContain('before')
})

test('a start instruction inside a multi-instance subprocess is refused, naming it', async () => {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ processDefinitionId: 'ri-nested', startInstructions: [{ elementId: 'in-many' }] }),
  })
  expect(response.status).toBe(400)
  expect(((await response.json()) as { detail: string }).detail).toContain("inside the multi-instance subprocess 'many'")
})
