/**
 * Runtime guards (issue 14): no command runs unbounded work, and variable names are plain JSON
 * keys. Driven through the real @camunda8/sdk; states are read through REST /v2 searches.
 */
import { engineTestKit } from '../support/engine-test-kit'
import { MAX_VARIABLE_DEPTH } from '../../src/engine/protocol'

const { engine, client, search, expectInstanceState, instanceState, cancelAfterTest } = engineTestKit({ worker: 'rg-test' })

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
  await client.zeebe.deployResource(process('rg-two-jobs', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:serviceTask id="first"><bpmn:extensionElements><zeebe:taskDefinition type="rg-first" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:serviceTask id="second"><bpmn:extensionElements><zeebe:taskDefinition type="rg-second" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
    <bpmn:endEvent id="end" />`))
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

// ------------------------------------------------------------------ any JSON key is a variable name

/**
 * POST a raw JSON body to /v2 and parse the answer with JSON.parse. The SDK's serializer
 * (lossless-json) drops a `__proto__` key on its own side, both when it sends variables and when
 * it parses a job's, so that key travels here as text, as any HTTP client of the 8.8 API sends it.
 */
async function postRaw(path: string, body: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await response.text()
  if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${text}`)
  return text === '' ? undefined : JSON.parse(text)
}

/** The own properties of a document, `__proto__` included, as sorted entries. */
const ownEntries = (doc: object): [string, unknown][] =>
  Object.getOwnPropertyNames(doc).sort().map((name) => [name, Object.getOwnPropertyDescriptor(doc, name)?.value])

test('variables named __proto__, constructor and prototype are stored and returned: at creation, by set variables, by a job completion, in fetched job variables and in the REST variable search', async () => {
  // given an instance created with such variables (Zeebe stores any JSON key)
  const created = await postRaw('/process-instances', '{"processDefinitionId": "rg-two-jobs", "variables": {"__proto__": {"polluted": true}, "constructor": "c", "prototype": [1, 2]}}') as { processInstanceKey: string }
  const { processInstanceKey } = created
  cancelAfterTest(processInstanceKey)
  // when a worker fetches them, one is set again, and the job completes with another
  const activation = await postRaw('/jobs/activation', '{"type": "rg-first", "worker": "rg-test", "timeout": 30000, "maxJobsToActivate": 1}') as { jobs: { jobKey: string; variables: object }[] }
  const [first] = activation.jobs
  await postRaw(`/element-instances/${processInstanceKey}/variables`, '{"variables": {"__proto__": {"replaced": 1}}}')
  await postRaw(`/jobs/${first.jobKey}/completion`, '{"variables": {"constructor": "from-job"}}')
  const [second] = await client.zeebe.activateJobs({ type: 'rg-second', worker: 'rg-test', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 5_000, fetchVariable: ['__proto__', 'constructor', 'prototype'] })

  // then every step saw them as plain variables
  expect(ownEntries(first.variables)).toEqual([['__proto__', { polluted: true }], ['constructor', 'c'], ['prototype', [1, 2]]])
  // (the SDK's job parsing keeps every key but __proto__)
  expect(ownEntries(second.variables)).toEqual([['constructor', 'from-job'], ['prototype', [1, 2]]])
  const stored = await search<{ name: string; value: string }>('variables', { processInstanceKey })
  expect(stored.map((v) => [v.name, JSON.parse(v.value) as unknown]).sort()).toEqual([['__proto__', { replaced: 1 }], ['constructor', 'from-job'], ['prototype', [1, 2]]])
})

test('through the SDK alone, variables named constructor and prototype go in and come back', async () => {
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rg-two-jobs', variables: { constructor: 'c', prototype: [1, 2] } })
  cancelAfterTest(processInstanceKey)
  const [first] = await client.zeebe.activateJobs({ type: 'rg-first', worker: 'rg-test', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 5_000 })
  expect(ownEntries(first.variables)).toEqual([['constructor', 'c'], ['prototype', [1, 2]]])
  await client.zeebe.completeJob({ jobKey: first.key, variables: { constructor: 'from-job' } })
  const [second] = await client.zeebe.activateJobs({ type: 'rg-second', worker: 'rg-test', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 5_000, fetchVariable: ['constructor', 'prototype'] })
  expect(ownEntries(second.variables)).toEqual([['constructor', 'from-job'], ['prototype', [1, 2]]])
})

// ------------------------------------------------------------------ deep values

test('a variable nested as deep as the gateways accept, set again with an equal value: the runtime compares it without recursion and keeps serving', async () => {
  // given an instance holding a value nested to the ingress limit, sent as text (the SDK's serializer
  // recurses); one level more is refused at the gateway (test/engine/input-limits.test.ts)
  const deep = `${'{"a":'.repeat(MAX_VARIABLE_DEPTH - 1)}1${'}'.repeat(MAX_VARIABLE_DEPTH - 1)}`
  const { processInstanceKey } = await postRaw('/process-instances', `{"processDefinitionId": "rg-two-jobs", "variables": {"deep": ${deep}}}`) as { processInstanceKey: string }
  cancelAfterTest(processInstanceKey)
  // when the same value is set again (Zeebe's merge compares it with the one stored)
  await postRaw(`/element-instances/${processInstanceKey}/variables`, `{"variables": {"deep": ${deep}}, "local": false}`)
  // then the variable is unchanged and the engine serves the next command
  const [stored] = await search<{ name: string; value: string }>('variables', { processInstanceKey, name: 'deep' })
  expect(stored.value).toBe(deep)
  const other = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rg-straight', variables: {} })
  await expectInstanceState(other.processInstanceKey, 'COMPLETED')
})
