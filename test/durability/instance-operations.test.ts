/**
 * Modification and migration are journaled commands like any other (issue #17): after a SIGKILL,
 * the engine replays them from its log and the instances are where the operations put them.
 * Uploaded documents are files in the data dir.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestClient } from '../support/engine-harness'
import { engineProcessKit } from '../support/engine-process'

/** The process definition key of the i-th resource of a deployment. */
const processKey = (deployment: { deployments: unknown[] }, i = 0): string =>
  (deployment.deployments[i] as { process: { processDefinitionKey: string } }).process.processDefinitionKey


jest.setTimeout(120_000)

const model = (version: string, extra: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d-${version}">
<bpmn:process id="ops" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:serviceTask id="first"><bpmn:extensionElements><zeebe:taskDefinition type="ops-first" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="second"><bpmn:extensionElements><zeebe:taskDefinition type="ops-second" /></bpmn:extensionElements></bpmn:serviceTask>
${extra}<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" /><bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
</bpmn:process></bpmn:definitions>`

const kit = engineProcessKit('ops')
const search = kit.search
let client: TestClient | undefined

test('a modified and a migrated instance, and a batch operation, are found as the operations left them after a SIGKILL and a restart', async () => {
  // given an engine with two versions of a process and two instances of version 1
  client = await kit.start()
  const v1 = processKey((await client.zeebe.deployResources([{ name: 'ops.bpmn', process: Buffer.from(model('1', '')) }])), 0)
  const v2 = processKey((await client.zeebe.deployResources([{ name: 'ops.bpmn', process: Buffer.from(model('2', '<bpmn:endEvent id="v2-only" />')) }])), 0)
  const moved = (await client.zeebe.createProcessInstance({ bpmnProcessId: 'ops', version: 1, variables: {} })).processInstanceKey
  const migrated = (await client.zeebe.createProcessInstance({ bpmnProcessId: 'ops', version: 1, variables: {} })).processInstanceKey
  // when one moves from first to second, the other migrates to version 2, and the engine is killed
  const [first] = await search<{ elementInstanceKey: string }>('element-instances', { processInstanceKey: moved, elementId: 'first' })
  await client.zeebe.modifyProcessInstance({
    processInstanceKey: moved,
    terminateInstructions: [{ elementInstanceKey: first.elementInstanceKey }],
    activateInstructions: [{ elementId: 'second', ancestorElementInstanceKey: '-1', variableInstructions: [{ variables: { movedBy: 'operator' }, scopeId: '' }] }],
  })
  await client.zeebe.migrateProcessInstance({ processInstanceKey: migrated, migrationPlan: { targetProcessDefinitionKey: v2, mappingInstructions: [{ sourceElementId: 'first', targetElementId: 'first' }] } })
  const canceled = (await client.zeebe.createProcessInstance({ bpmnProcessId: 'ops', version: 1, variables: {} })).processInstanceKey
  const batch = await (await fetch(`http://127.0.0.1:${kit.engine.restPort}/v2/process-instances/cancellation`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter: { processInstanceKey: canceled } }),
  })).json() as { batchOperationKey: string }
  await kit.stop('SIGKILL')
  // then, restarted on the same data dir, both are as the operations left them
  client = await kit.start()
  const states = async (key: string) => (await search<{ elementId: string; state: string }>('element-instances', { processInstanceKey: key }))
    .map((e) => `${e.elementId}:${e.state}`).sort()
  expect(await states(moved)).toEqual(['first:TERMINATED', 'second:ACTIVE', 'start:COMPLETED'])
  expect((await search<{ name: string; value: string }>('variables', { processInstanceKey: moved })).map((v) => [v.name, v.value])).toEqual([['movedBy', '"operator"']])
  const [instance] = await search<{ processDefinitionKey: string; processDefinitionVersion: number }>('process-instances', { processInstanceKey: migrated })
  expect(instance).toMatchObject({ processDefinitionKey: v2, processDefinitionVersion: 2 })
  expect(v1).not.toBe(v2)
  // and the batch operation created before the kill is there, and finishes
  let state = ''
  for (let i = 0; i < 100 && state !== 'COMPLETED'; i++) {
    state = ((await (await fetch(`http://127.0.0.1:${kit.engine.restPort}/v2/batch-operations/${batch.batchOperationKey}`)).json()) as { state: string }).state
    if (state !== 'COMPLETED') await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(state).toBe('COMPLETED')
  expect((await search<{ state: string }>('process-instances', { processInstanceKey: canceled }))[0].state).toBe('TERMINATED')
  // and the moved instance goes on from second
  const jobs = await client.zeebe.activateJobs({ type: 'ops-second', worker: 'ops', maxJobsToActivate: 5, timeout: 60_000, requestTimeout: 2_000 })
  expect(jobs.map((j) => j.processInstanceKey)).toEqual([moved])
})

test('a document uploaded to the engine is kept in its data dir, owner-only, and downloaded after a SIGKILL and a restart', async () => {
  // given an engine with a data dir, and a document uploaded to it
  if (!kit.started) await kit.start()
  const form = new FormData()
  form.append('file', new Blob(['evidence'], { type: 'text/plain' }), 'evidence.txt')
  const uploaded = await (await fetch(`http://127.0.0.1:${kit.engine.restPort}/v2/documents`, { method: 'POST', body: form })).json() as { documentId: string; storeId: string; contentHash: string }
  expect(uploaded.storeId).toBe('local')
  const file = join(kit.dataDir, 'documents', uploaded.documentId)
  expect((await stat(file)).mode & 0o077).toBe(0)
  // when the engine is killed and restarted
  await kit.stop('SIGKILL')
  await kit.start()
  // then the document is there
  const downloaded = await fetch(`http://127.0.0.1:${kit.engine.restPort}/v2/documents/${uploaded.documentId}?contentHash=${uploaded.contentHash}`)
  expect(downloaded.status).toBe(200)
  expect(downloaded.headers.get('content-type')).toContain('text/plain')
  expect(await downloaded.text()).toBe('evidence')
})
