/**
 * Recovery never wedges (issue 14): a journaled command whose replay fails does not keep the
 * data dir from opening. The engine starts, logs the command (kind, log position) and the
 * process instance, and leaves that instance with an incident of type UNKNOWN.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import type { TestClient } from '../support/engine-harness'
import { connect } from '../support/engine-process'

const scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-recovery-'))
let server: EngineServer | undefined
let client: TestClient | undefined

afterEach(async () => {
  await client?.close()
  await server?.close()
  client = undefined
  server = undefined
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const PROCESS = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d-rf" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rf-review" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`)

async function search<T>(entity: string, filter: Record<string, unknown>): Promise<T[]> {
  const response = await fetch(`http://127.0.0.1:${(server as EngineServer).restPort}/v2/${entity}/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter }),
  })
  if (!response.ok) throw new Error(`search ${entity}: HTTP ${response.status}`)
  return ((await response.json()) as { items: T[] }).items
}

test('a journaled command whose replay fails: the engine starts, names the command and the instance in its log, and the instance has an UNKNOWN incident', async () => {
  // given a data dir holding an instance waiting at a user task
  const dir = path.join(scratch, 'failing-replay')
  server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  client = await connect(server)
  await client.zeebe.deployResource({ name: 'rf-review.bpmn', process: PROCESS })
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rf-review', variables: {} })
  const [task] = await search<{ userTaskKey: string }>('user-tasks', { processInstanceKey })
  await client.close()
  await server.close()
  client = undefined
  server = undefined
  // and, at the end of its log, an update of that task whose changeset replay cannot read
  const db = new Database(path.join(dir, 'engine.db'))
  db.prepare('ATTACH DATABASE ? AS logs').run(path.join(dir, 'log.db'))
  // (after the snapshot the clean stop wrote, which the log continues)
  const logged = db.prepare('SELECT MAX(seq) AS seq FROM logs.log').get() as { seq: number | null }
  const snapshot = db.prepare('SELECT seq FROM snapshot WHERE id = 1').get() as { seq: number } | undefined
  const position = Math.max(logged.seq ?? 0, snapshot?.seq ?? 0) + 1
  db.prepare('INSERT INTO logs.log (seq, time, command) VALUES (?, ?, ?)').run(position, Date.now(), JSON.stringify({ c: 'utUpdate', k: task.userTaskKey, cs: null }))
  db.close()

  // when the data dir is opened again
  const errors: string[] = []
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => { errors.push(args.map(String).join(' ')) })
  try {
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  } finally {
    spy.mockRestore()
  }
  client = await connect(server)

  // then the log names the command, its position and the instance
  expect(errors).toEqual([expect.stringMatching(new RegExp(`command 'utUpdate' at log position ${position} failed .*process instance ${processInstanceKey} is left with incident`))])
  // and the incident is visible through REST, on the user task
  const incidents = await search<{ errorType: string; state: string; elementId: string; errorMessage: string }>('incidents', { processInstanceKey })
  expect(incidents).toEqual([expect.objectContaining({ errorType: 'UNKNOWN', state: 'ACTIVE', elementId: 'review', errorMessage: expect.stringContaining("command 'utUpdate'") })])
  // and the engine serves: a new instance is created and its task completed through the SDK
  const next = await client.zeebe.createProcessInstance({ bpmnProcessId: 'rf-review', variables: {} })
  const [nextTask] = await search<{ userTaskKey: string }>('user-tasks', { processInstanceKey: next.processInstanceKey })
  await client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: nextTask.userTaskKey })
  const [instance] = await search<{ state: string }>('process-instances', { processInstanceKey: next.processInstanceKey })
  expect(instance.state).toBe('COMPLETED')
})
