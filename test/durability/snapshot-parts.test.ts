/**
 * The snapshot is written in bounded parts, never as one string: V8 cannot build a string over
 * about 512 M characters, so an engine whose live state grew past that could no longer snapshot,
 * never trimmed its log and replayed everything at each start (issue #19). A snapshot written as
 * one string by an earlier raccord still loads.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { assembleSnapshot, snapshotParts } from '../../src/engine/state/snapshot-parts'
import { connect, startEngineProcess } from '../support/engine-process'

jest.setTimeout(90_000)

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-snapshot-parts-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

test('a state is cut into parts of at most the bound (a larger record alone), and put back together equal', () => {
  // given a state shaped like the engine's, with one record larger than the bound
  const state = {
    v: 1,
    counter: 42,
    repository: { resources: [{ key: '1', content: 'x'.repeat(50) }], maxVersions: { 'a\u0000b': 3 } },
    instances: Array.from({ length: 100 }, (_, i) => ({ key: String(i), state: 'ACTIVE' })),
    variables: [{ key: 'big', value: 'y'.repeat(500) }, { key: 'small', value: '1' }],
    jobs: [],
    work: undefined,
  }
  // when
  const parts = [...snapshotParts(state, 200)]
  // then
  expect(parts.length).toBeGreaterThan(10)
  const oversized = parts.filter((p) => p.json.length > 200 + 2)
  expect(oversized).toHaveLength(1)
  expect(oversized[0].json).toContain('y'.repeat(500))
  expect(assembleSnapshot(parts)).toEqual(JSON.parse(JSON.stringify(state)))
})

test('a clean stop writes the snapshot in parts and the next start loads it, variables intact', async () => {
  // given instances holding 1 MB variables each: 6 MB of state
  const dir = path.join(scratch, 'parts')
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const payload = 'p'.repeat(1_000_000)
  const keys: string[] = []
  for (let i = 0; i < 6; i++) {
    keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `parts-${i}`, payload } })).processInstanceKey)
  }
  await client.close()
  // when
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  // then the snapshot is in parts, each bounded, and the log is trimmed
  const db = new Database(path.join(dir, 'engine.db'), { readonly: true })
  try {
    expect((db.prepare('SELECT state FROM snapshot WHERE id = 1').get() as { state: string }).state).toBe('parts')
    const { n, longest } = db.prepare('SELECT COUNT(*) AS n, MAX(LENGTH(json)) AS longest FROM snapshot_part').get() as { n: number; longest: number }
    expect(n).toBeGreaterThan(2)
    expect(longest).toBeLessThanOrEqual(4_000_000)
    expect((db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n).toBe(0)
  } finally {
    db.close()
  }
  engine = await startEngineProcess(dir)
  try {
    expect(engine.output()).toMatch(/snapshot at [1-9]\d*, 0 commands replayed/)
    client = await connect(engine)
    const rest = client.camunda.getCamundaRestClient()
    const { items } = await rest.searchProcessInstances({ filter: { processDefinitionId: 'crash' } })
    expect(items.map((i) => i.processInstanceKey).sort()).toEqual([...keys].sort())
    const variables = await rest.searchVariables({ filter: { processInstanceKey: keys[5], name: 'payload' } })
    expect(variables.items[0]?.value).toBe(JSON.stringify(payload))
    await client.close()
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
})

test('a snapshot an earlier raccord wrote as one JSON string still loads', async () => {
  // given a data dir whose snapshot is one string, as schema version 1 wrote it
  const dir = path.join(scratch, 'one-string')
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'old-format' } })
  await client.close()
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  const db = new Database(path.join(dir, 'engine.db'))
  try {
    const parts = db.prepare('SELECT path, json FROM snapshot_part ORDER BY n').all() as { path: string; json: string }[]
    db.prepare('UPDATE snapshot SET state = ? WHERE id = 1').run(JSON.stringify(assembleSnapshot(parts)))
    db.prepare('DELETE FROM snapshot_part').run()
  } finally {
    db.close()
  }
  // when
  engine = await startEngineProcess(dir)
  try {
    // then
    client = await connect(engine)
    const { items } = await client.camunda.getCamundaRestClient().searchProcessInstances({ filter: { processInstanceKey } })
    expect(items.map((i) => i.state)).toEqual(['ACTIVE'])
    await client.close()
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
})
