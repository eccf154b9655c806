/**
 * Straight-through work that outlasts one command (issue 14): a command takes at most a bounded
 * number of steps, then yields; the rest runs as journaled continuations. After a SIGKILL the
 * journal replays to the very same state, and work cut short by the crash goes on.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestClient } from '../support/engine-harness'
import { until } from '../support/engine-test-kit'
import { connect, startEngineProcess, type EngineProcess } from '../support/engine-process'

const scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-continuation-'))
let engine: EngineProcess | undefined
let client: TestClient | undefined

afterEach(async () => {
  await client?.close()
  await engine?.kill('SIGTERM')
  client = undefined
  engine = undefined
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const definitions = (id: string, body: string): { name: string; process: Buffer } => ({
  name: `${id}.bpmn`,
  process: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d-${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`),
})

/**
 * 400 FEEL script tasks in a row, each adding one (thousands of steps, several commands), then a
 * job. (A loop of a script and a gateway would be shorter to write, but Zeebe refuses such a
 * straight-through loop at deployment, and so does this engine.)
 */
const STEPS = 400
const COUNTING = definitions('wc-counting', `
  <bpmn:startEvent id="start" />
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="increment-1" />
  ${Array.from({ length: STEPS }, (_, i) => `
  <bpmn:scriptTask id="increment-${i + 1}"><bpmn:extensionElements><zeebe:script expression="=count + 1" resultVariable="count" /></bpmn:extensionElements></bpmn:scriptTask>
  <bpmn:sequenceFlow id="f${i + 1}" sourceRef="increment-${i + 1}" targetRef="${i + 1 === STEPS ? 'after' : `increment-${i + 2}`}" />`).join('')}
  <bpmn:serviceTask id="after"><bpmn:extensionElements><zeebe:taskDefinition type="wc-after" /></bpmn:extensionElements></bpmn:serviceTask>`)

/** Two gateways looping for as long as the instance lives. */
const SPINNING = definitions('wc-spinning', `
  <bpmn:startEvent id="start" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="spin-a" />
  <bpmn:exclusiveGateway id="spin-a" />
  <bpmn:sequenceFlow id="f2" sourceRef="spin-a" targetRef="spin-b" />
  <bpmn:parallelGateway id="spin-b" />
  <bpmn:sequenceFlow id="f3" sourceRef="spin-b" targetRef="spin-a" />`)

async function search<T>(entity: string, filter: Record<string, unknown>): Promise<T[]> {
  const response = await fetch(`http://127.0.0.1:${(engine as EngineProcess).restPort}/v2/${entity}/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter, page: { limit: 10_000 } }),
  })
  if (!response.ok) throw new Error(`search ${entity}: HTTP ${response.status}`)
  return ((await response.json()) as { items: T[] }).items
}

async function restart(dir: string): Promise<void> {
  await client?.close()
  await engine?.kill('SIGKILL')
  engine = await startEngineProcess(dir)
  client = await connect(engine)
}

/** What replay must reproduce exactly: every element instance (key, element, state), the variables and the job. */
async function fingerprint(processInstanceKey: string): Promise<unknown> {
  const elements = await search<{ elementInstanceKey: string; elementId: string; state: string }>('element-instances', { processInstanceKey })
  const variables = await search<{ name: string; value: string }>('variables', { processInstanceKey })
  const jobs = await search<{ jobKey: string; state: string; elementId: string }>('jobs', { processInstanceKey })
  return {
    elements: elements.map((e) => `${e.elementInstanceKey} ${e.elementId} ${e.state}`).sort(),
    variables: variables.map((v) => `${v.name}=${v.value}`).sort(),
    jobs: jobs.map((j) => `${j.jobKey} ${j.elementId} ${j.state}`),
  }
}

test('work longer than one command runs in journaled continuations; after a SIGKILL the replay gives the very same instance', async () => {
  // given an instance that counts to 400 through 400 script tasks in a row, then waits at a job
  const dir = path.join(scratch, 'counting')
  engine = await startEngineProcess(dir)
  client = await connect(engine)
  await client.zeebe.deployResource(COUNTING)
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'wc-counting', variables: { count: 0 } })
  await until('the job after the loop', async () => ((await search('jobs', { processInstanceKey })).length === 1 ? true : undefined), 30_000)
  const before = await fingerprint(processInstanceKey)
  expect(before).toMatchObject({ variables: ['count=400'], jobs: [expect.stringMatching(/ after CREATED$/)] })
  // when the engine is killed and started again on its data dir (the log is replayed)
  await restart(dir)
  // then the instance is exactly as it was
  expect(await fingerprint(processInstanceKey)).toEqual(before)
})

test('an instance spinning in a loop of gateways when the engine is killed spins on after the restart, and can be cancelled', async () => {
  // given an instance spinning when the engine is killed
  const dir = path.join(scratch, 'spinning')
  engine = await startEngineProcess(dir)
  client = await connect(engine)
  await client.zeebe.deployResource(SPINNING)
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'wc-spinning', variables: {} })
  const passes = async () => {
    const response = await fetch(`http://127.0.0.1:${(engine as EngineProcess).restPort}/v2/element-instances/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { processInstanceKey, elementId: 'spin-a' }, page: { limit: 1 } }),
    })
    return ((await response.json()) as { page: { totalItems: number } }).page.totalItems
  }
  await until('a few rounds', async () => ((await passes()) > 10 ? true : undefined), 30_000)
  await restart(dir)
  // when it has been seen going on after the restart
  const afterRestart = await passes()
  await until('more rounds after the restart', async () => ((await passes()) > afterRestart ? true : undefined), 30_000)
  // then it can be cancelled through the SDK
  await client?.zeebe.cancelProcessInstance(processInstanceKey)
  await until('the instance terminated', async () => {
    const [instance] = await search<{ state: string }>('process-instances', { processInstanceKey })
    return instance?.state === 'TERMINATED' ? true : undefined
  }, 30_000)
})
