/**
 * The history of finished instances survives a crash (issue #19): it is written in the same
 * transaction as the commands that finished the instances, so after a SIGKILL every instance the
 * engine acknowledged as finished is found once, neither lost nor doubled by the replay.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestClient } from '../support/engine-harness'
import { connect, startEngineProcess, type EngineProcess } from '../support/engine-process'

jest.setTimeout(120_000)

const STRAIGHT = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-straight">
<bpmn:process id="straight" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /></bpmn:process></bpmn:definitions>`

let scratch: string
let engine: EngineProcess | undefined
let client: TestClient | undefined

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'raccord-history-crash-'))
})

afterAll(async () => {
  await client?.close()
  await engine?.kill('SIGTERM')
  await rm(scratch, { recursive: true, force: true })
})

async function finished(): Promise<{ processInstanceKey: string; state: string }[]> {
  const response = await fetch(`http://127.0.0.1:${(engine as EngineProcess).restPort}/v2/process-instances/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filter: { processDefinitionId: 'straight' }, page: { limit: 1000 } }),
  })
  return ((await response.json()) as { items: { processInstanceKey: string; state: string }[] }).items
}

test('every instance acknowledged as finished is found exactly once after a SIGKILL and a restart', async () => {
  // given instances that ran to their end, each acknowledged with its result
  engine = await startEngineProcess(join(scratch, 'engine'))
  client = await connect(engine)
  await client.zeebe.deployResources([{ name: 'straight.bpmn', process: Buffer.from(STRAIGHT) }])
  const keys = new Set<string>()
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 50; i++) keys.add((await (client as TestClient).zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'straight', variables: { i } })).processInstanceKey)
  }))
  // when the engine is killed at once, and started again on its data dir
  await client.close()
  await engine.kill('SIGKILL')
  engine = await startEngineProcess(join(scratch, 'engine'))
  client = await connect(engine)
  // then each of them is found once, completed
  const found = await finished()
  expect(found).toHaveLength(keys.size)
  expect(new Set(found.map((i) => i.processInstanceKey))).toEqual(keys)
  expect(found.every((i) => i.state === 'COMPLETED')).toBe(true)
})
