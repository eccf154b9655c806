/**
 * The live state is stored as a row per record, and a checkpoint writes only the rows of the
 * records changed since the previous one: its cost follows the work done since, not the size of
 * the state, and no part of it is one string (issue #19). A data dir whose state an earlier
 * raccord wrote as a snapshot (in parts, or as one JSON string) still loads, and becomes rows.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { snapshotFromRows } from '../../src/engine/runtime/checkpoint'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import { DirtyTracker, RecordMap } from '../../src/engine/state/record-map'
import { assembleSnapshot } from '../../src/engine/state/snapshot-parts'
import { createTestClient } from '../support/engine-harness'
import { snapshotParts } from '../support/earlier-snapshot'
import { connect, startEngineProcess } from '../support/engine-process'

jest.setTimeout(90_000)

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-checkpoints-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** The stored state of a stopped engine's data dir: its marker, its rows, its log. */
function storedState(dir: string): { marker: string; rows: number; longest: number; log: number } {
  const db = new Database(path.join(dir, 'engine.db'), { readonly: true })
  try {
    const { marker } = db.prepare('SELECT state AS marker FROM snapshot WHERE id = 1').get() as { marker: string }
    const { rows, longest } = db.prepare('SELECT COUNT(*) AS rows, MAX(LENGTH(json)) AS longest FROM live').get() as { rows: number; longest: number }
    db.prepare('ATTACH DATABASE ? AS logs').run(path.join(dir, 'log.db'))
    const { log } = db.prepare('SELECT COUNT(*) AS log FROM logs.log').get() as { log: number }
    return { marker, rows, longest, log }
  } finally {
    db.close()
  }
}

/** Turn a stopped engine's rows into the snapshot an earlier raccord (schema 4) wrote: in parts, or as one string. */
function rewriteAsEarlierSnapshot(dir: string, as: 'parts' | 'one string'): void {
  const db = new Database(path.join(dir, 'engine.db'))
  try {
    const rowsOf = db.prepare('SELECT json FROM live WHERE kind = ?').pluck()
    const state = snapshotFromRows((kind) => rowsOf.all(kind) as string[])
    db.transaction(() => {
      if (as === 'parts') {
        const insert = db.prepare('INSERT INTO snapshot_part (n, path, json) VALUES (?, ?, ?)')
        let n = 0
        for (const part of snapshotParts(state, 1_000)) insert.run(n++, part.path, part.json)
        db.prepare("UPDATE snapshot SET state = 'parts' WHERE id = 1").run()
      } else {
        db.prepare('UPDATE snapshot SET state = ? WHERE id = 1').run(JSON.stringify(state))
      }
      // What schema versions 5 to 11 added, and the log that version 10 moved to log.db
      db.exec('DROP TABLE live')
      db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL)')
      for (const index of ['process', 'definition', 'parent', 'state', 'start', 'end', 'parent_element', 'process_state', 'definition_state']) db.exec(`DROP INDEX history_instance_${index}`)
      db.pragma('user_version = 4')
    })()
  } finally {
    db.close()
  }
}

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

test('the marks of a checkpoint that could not be written are put back, newer marks winning', () => {
  // given marks taken for a checkpoint, and marks made after it
  const tracker = new DirtyTracker()
  tracker.mark('job', '1', true)
  tracker.markRef('variable', '7', { key: '7', value: 'old' })
  tracker.markRef('variable', '8', { key: '8' }, true)
  const taken = tracker.take()
  tracker.markRef('variable', '7', null)
  // when the checkpoint fails and its marks are put back
  tracker.restore(taken)
  // then the next checkpoint writes all of them, the variable removed since as removed
  const again = tracker.take()
  expect(tracker.size).toBe(0)
  expect([...(again.marks.get('job') ?? [])]).toEqual([['1', true]])
  expect(again.refs.get('variable')?.get('7')).toEqual({ record: null, created: false })
  expect(again.refs.get('variable')?.get('8')).toEqual({ record: { key: '8' }, created: true })
})

test('a record created and removed between two checkpoints is no change: no row, and it does not bring the next checkpoint closer', () => {
  // given a tracker told when 3 records have changed, and a record that existed at the last checkpoint
  const tracker = new DirtyTracker()
  let full = 0
  tracker.full = { at: 3, then: () => { full++ } }
  const map = new RecordMap<string, { key: string; instance: string }>('job', (r) => r.instance)
  map.set('1', { key: '1', instance: 'p' })
  map.tracker = tracker
  tracker.active = true

  // when records and variables are created and removed again, 3 times over
  for (const key of ['2', '3', '4']) {
    map.set(key, { key, instance: 'p' })
    map.delete(key)
    tracker.markRef('variable', `v${key}`, { key: `v${key}` }, true)
    tracker.markRef('variable', `v${key}`, null)
  }

  // then nothing counts, and nothing was told
  expect(tracker.size).toBe(0)
  expect(full).toBe(0)

  // when the record that existed is removed
  map.delete('1')

  // then it counts, and the next checkpoint deletes its row
  expect(tracker.size).toBe(1)
  expect([...(tracker.take().marks.get('job') ?? [])]).toEqual([['1', false]])
})

test('a checkpoint writes only the rows of the records changed since the previous one', async () => {
  // given 300 instances waiting on a job, and a checkpoint of them
  const dir = path.join(scratch, 'incremental')
  const server: EngineServer = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  const client = createTestClient(server)
  try {
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    for (let i = 0; i < 300; i++) await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `inc-${i}` } })
    const durable = server.durable as NonNullable<EngineServer['durable']>
    durable.checkpoint()
    const db = new Database(path.join(dir, 'engine.db'), { readonly: true })
    const stored = db.prepare('SELECT COUNT(*) FROM live').pluck().get() as number
    db.close()
    // when one instance moves on: its job is completed, a timer starts
    const jobs = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'checkpoint-test' })
    const afterActivation = durable.checkpoint()
    await client.zeebe.completeJob({ jobKey: jobs[0].key, variables: { done: true } })
    const afterCompletion = durable.checkpoint()
    // then the stored state holds every record, and each later checkpoint wrote only that instance's few rows
    expect(stored).toBeGreaterThan(300 * 4)
    expect(afterActivation).toEqual({ written: expect.any(Number) as number, deleted: 0 })
    expect(afterActivation?.written).toBeLessThanOrEqual(5)
    expect((afterCompletion?.written ?? 0) + (afterCompletion?.deleted ?? 0)).toBeLessThanOrEqual(12)
    expect(afterCompletion?.deleted).toBeGreaterThanOrEqual(1)
    expect(durable.checkpoint()).toBeUndefined()
  } finally {
    await client.close()
    await server.close()
  }
})

test('a clean stop leaves the state as rows, a record each, with no log; the next start loads them, variables intact', async () => {
  // given instances holding 1 MB variables each: 6 MB of state
  const dir = path.join(scratch, 'rows')
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const payload = 'p'.repeat(1_000_000)
  const keys: string[] = []
  for (let i = 0; i < 6; i++) {
    keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `rows-${i}`, payload } })).processInstanceKey)
  }
  await client.close()
  // when
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  // then the state is rows: the largest is one variable, and the log is trimmed
  const stored = storedState(dir)
  expect(stored).toEqual({ marker: 'rows', rows: expect.any(Number) as number, longest: expect.any(Number) as number, log: 0 })
  expect(stored.rows).toBeGreaterThan(6 * 4)
  expect(stored.longest).toBeLessThan(1_100_000)
  engine = await startEngineProcess(dir)
  try {
    expect(engine.output()).toMatch(/checkpoint at [1-9]\d*, 0 commands replayed/)
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

test.each(['parts', 'one string'] as const)('a snapshot an earlier raccord wrote (%s) still loads, and becomes rows', async (as) => {
  // given a data dir whose state an earlier raccord wrote as a snapshot
  const dir = path.join(scratch, `earlier-${as.replace(' ', '-')}`)
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'old-format' } })
  await client.close()
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  rewriteAsEarlierSnapshot(dir, as)
  // when
  engine = await startEngineProcess(dir)
  try {
    // then the instance is there, and the state is rows again
    client = await connect(engine)
    const { items } = await client.camunda.getCamundaRestClient().searchProcessInstances({ filter: { processInstanceKey } })
    expect(items.map((i) => i.state)).toEqual(['ACTIVE'])
    await client.close()
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
  expect(storedState(dir)).toEqual(expect.objectContaining({ marker: 'rows', log: 0 }))
  expect(storedState(dir).rows).toBeGreaterThan(4)
})
