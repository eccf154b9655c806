/**
 * A durable engine keeps in memory only the records in use (issue #19): a record unused since the
 * last checkpoint may leave memory and is read back from its row on first use, and a checkpoint
 * is loaded with every record left in its row, only the indexes being built. So memory and start
 * time follow the work in hand, not the number of instances waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import { createTestClient, type TestClient } from '../support/engine-harness'

jest.setTimeout(90_000)

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-cold-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

function durableOf(server: EngineServer): NonNullable<EngineServer['durable']> {
  if (!server.durable) throw new Error('the engine has no data dir')
  return server.durable
}

/** Run one instance of `crash` from its first job to its end: job, 0.5 s timer, job, message. */
async function runToEnd(client: TestClient, orderId: string): Promise<void> {
  for (const type of ['du-work', 'du-count']) {
    let jobs: Awaited<ReturnType<TestClient['zeebe']['activateJobs']>> = []
    for (let tries = 0; jobs.length === 0 && tries < 50; tries++) {
      jobs = (await client.zeebe.activateJobs({ type, maxJobsToActivate: 10, timeout: 60_000, worker: 'cold-test', requestTimeout: 1_000 }))
        .filter((j) => j.variables.orderId === orderId)
    }
    expect(jobs).toHaveLength(1)
    await client.zeebe.completeJob({ jobKey: jobs[0].key, variables: { [`${type}-done`]: true } })
  }
  await client.zeebe.publishMessage({ name: 'du-go', correlationKey: orderId, variables: { went: true }, timeToLive: 60_000 })
}

/** `count` instances of `crash` waiting on their first job (orderId `${prefix}-${i}`), then a clean stop; their keys. */
async function parkAndStop(dir: string, prefix: string, count: number): Promise<string[]> {
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  const client = createTestClient(server)
  try {
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    const keys: string[] = []
    for (let i = 0; i < count; i++) keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `${prefix}-${i}` } })).processInstanceKey)
    return keys
  } finally {
    await client.close()
    await server.close()
  }
}

async function stateOf(client: TestClient, processInstanceKey: string): Promise<string | undefined> {
  const { items } = await client.camunda.getCamundaRestClient().searchProcessInstances({ filter: { processInstanceKey } })
  return items[0]?.state
}

async function elementsTaken(client: TestClient, processInstanceKey: string): Promise<string[]> {
  const rest = client.camunda.getCamundaRestClient()
  for (let tries = 0; tries < 100; tries++) {
    if (await stateOf(client, processInstanceKey) === 'COMPLETED') {
      const { items } = await rest.searchElementInstances({ filter: { processInstanceKey }, sort: [{ field: 'elementInstanceKey', order: 'ASC' }] })
      return items.map((e) => e.elementId)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`process instance ${processInstanceKey} did not complete`)
}

test('records unused since the last checkpoint leave memory, and an instance left there runs to its end from its rows', async () => {
  // given three instances waiting on their first job, checkpointed, every record out of memory
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: path.join(scratch, 'evicted'), recordsInMemory: 0 })
  const client = createTestClient(server)
  try {
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    const keys: string[] = []
    for (let i = 0; i < 3; i++) keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `cold-${i}` } })).processInstanceKey)
    const durable = durableOf(server)
    durable.checkpoint()
    server.engine.evict(0)
    expect(server.engine.stats().recordsInMemory).toBe(0)
    // when the second runs: its job, its timer, its second job, its message
    await runToEnd(client, 'cold-1')
    // then it took the whole path, its variables read back from the rows, and the others still wait
    expect(await elementsTaken(client, keys[1])).toEqual(['start', 'work', 'wait-timer', 'count', 'wait-message', 'end'])
    const rest = client.camunda.getCamundaRestClient()
    const { items } = await rest.searchVariables({ filter: { processInstanceKey: keys[1], name: 'orderId' } })
    expect(items.map((v) => v.value)).toEqual([JSON.stringify('cold-1')])
    for (const key of [keys[0], keys[2]]) expect(await stateOf(client, key)).toBe('ACTIVE')
  } finally {
    await client.close()
    await server.close()
  }
})

test('a record a checkpoint has still to write never leaves memory; once written, it may', async () => {
  // given an instance, checkpointed and out of memory
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: path.join(scratch, 'marked'), recordsInMemory: 0 })
  const client = createTestClient(server)
  try {
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'marked' } })
    const durable = durableOf(server)
    durable.checkpoint()
    server.engine.evict(0)
    // when its job is activated (the job record changes) and memory is cut before a checkpoint
    const jobs = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'cold-test' })
    expect(jobs).toHaveLength(1)
    server.engine.evict(0)
    // then the job stays in memory until the checkpoint has written it
    expect(server.engine.stats().recordsInMemory).toBeGreaterThan(0)
    expect(durable.checkpoint()?.written).toBeGreaterThan(0)
    expect(server.engine.evict(0)).toBeGreaterThan(0)
    expect(server.engine.stats().recordsInMemory).toBe(0)
    // and the job is still the worker's, read back from its row
    await client.zeebe.completeJob({ jobKey: jobs[0].key, variables: {} })
  } finally {
    await client.close()
    await server.close()
  }
})

test('a restart loads the checkpoint without its records or variables: searches read them from their rows, and the instances run on', async () => {
  // given 20 waiting instances and a clean stop
  const dir = path.join(scratch, 'restart')
  const keys = await parkAndStop(dir, 'restart', 20)
  // when the engine starts again
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  const client = createTestClient(server)
  try {
    // then no record is in memory; a search finds them all and leaves them out of it
    expect(server.engine.stats()).toMatchObject({ instances: 20, activeInstances: 20, recordsInMemory: 0 })
    const rest = client.camunda.getCamundaRestClient()
    const { items } = await rest.searchProcessInstances({ filter: { processDefinitionId: 'crash', state: 'ACTIVE' } })
    expect(items.map((i) => i.processInstanceKey).sort()).toEqual([...keys].sort())
    expect(server.engine.stats().recordsInMemory).toBe(0)
    // and its variables are found by instance and by key, read from their rows and left there
    const { items: variables } = await rest.searchVariables({ filter: { processInstanceKey: keys[7] } })
    expect(variables.map((v) => [v.name, v.value])).toEqual([['orderId', JSON.stringify('restart-7')]])
    // (the SDK parses the value of a variable it gets by key)
    expect((await rest.getVariable({ variableKey: variables[0].variableKey })).value).toBe('restart-7')
    expect(server.engine.stats().recordsInMemory).toBe(0)
    // and one of them runs to its end: its job was found by type, its timer fired, its subscription was found by correlation key
    await runToEnd(client, 'restart-7')
    expect(await elementsTaken(client, keys[7])).toEqual(['start', 'work', 'wait-timer', 'count', 'wait-message', 'end'])
    // and its variables, read from their rows and then set on, are each found once once it has ended
    const ended = await rest.searchVariables({ filter: { processInstanceKey: keys[7] } })
    expect(ended.items.map((v) => v.name).sort()).toEqual(['du-count-done', 'du-work-done', 'orderId', 'went'])
    // and another instance's variables are still read from their rows
    const other = await rest.searchVariables({ filter: { processInstanceKey: keys[3] } })
    expect(other.items.map((v) => [v.name, v.value])).toEqual([['orderId', JSON.stringify('restart-3')]])
  } finally {
    await client.close()
    await server.close()
  }
})

test('a record whose row is missing is named in the error, and the engine goes on serving', async () => {
  // given an instance out of memory, and its job's row deleted behind the engine's back
  const dir = path.join(scratch, 'missing')
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir, recordsInMemory: 0 })
  const client = createTestClient(server)
  try {
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: 'missing' } })
    const durable = durableOf(server)
    durable.checkpoint()
    server.engine.evict(0)
    const db = new Database(path.join(dir, 'engine.db'))
    const jobKey = db.prepare("SELECT key FROM live WHERE kind = 'job'").pluck().get() as string
    db.prepare("DELETE FROM live WHERE kind = 'job'").run()
    db.close()
    // when a worker asks for jobs
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined)
    const asked = client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'cold-test', requestTimeout: 1_000 })
    // then the answer names the record, and the engine still serves
    await expect(asked).rejects.toThrow(`the job record ${jobKey} has no row in the data dir`)
    expect(logged.mock.calls.flat().map(String).join(' ')).toContain(`the job record ${jobKey} has no row in the data dir`)
    logged.mockRestore()
    expect((await client.camunda.getCamundaRestClient().getTopology()).brokers).toHaveLength(1)
  } finally {
    await client.close()
    await server.close()
  }
})

test.each(['many', '-1', '2.5'])('RACCORD_ENGINE_RECORDS_IN_MEMORY=%s stops the start with a message that names it', async (value) => {
  process.env.RACCORD_ENGINE_RECORDS_IN_MEMORY = value
  try {
    await expect(startEngineServer({ grpcPort: 0, restPort: 0, dataDir: path.join(scratch, 'setting') }))
      .rejects.toThrow(`RACCORD_ENGINE_RECORDS_IN_MEMORY must be a whole number of records (0 or more), got '${value}'`)
  } finally {
    delete process.env.RACCORD_ENGINE_RECORDS_IN_MEMORY
  }
})

test('a data dir of schema 6, its rows without index columns, gets them filled from the JSON and the history its date, parent-element and state indexes, and its instances run on', async () => {
  // given waiting instances stopped cleanly, then their rows put back as schema 6 wrote them (without what versions 7 to 11 added, with the log in engine.db)
  const dir = path.join(scratch, 'schema-6')
  const keys = await parkAndStop(dir, 'schema', 5)
  const db = new Database(path.join(dir, 'engine.db'))
  db.exec('DROP INDEX live_fields; DROP INDEX live_variable_scope; DROP INDEX history_instance_start; DROP INDEX history_instance_end')
  for (const index of ['parent_element', 'process_state', 'definition_state']) db.exec(`DROP INDEX history_instance_${index}`)
  for (const column of ['f1', 'f2', 'f3', 'f4', 'f5', 'size']) db.exec(`ALTER TABLE live DROP COLUMN ${column}`)
  db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL)')
  db.pragma('user_version = 6')
  db.close()
  // when the engine starts on it
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
  const client = createTestClient(server)
  try {
    // then the columns hold each row's fields, and an instance runs to its end from them
    const check = new Database(path.join(dir, 'engine.db'), { readonly: true })
    const jobFields = check.prepare("SELECT f1, f2, f5 FROM live WHERE kind = 'job' ORDER BY key").raw().all()
    const timers = check.prepare("SELECT COUNT(*) FROM live WHERE kind = 'timer'").pluck().get()
    const variableSizes = check.prepare("SELECT COUNT(*), COUNT(CASE WHEN size = length(json) THEN 1 END) FROM live WHERE kind = 'variable'").raw().get()
    const variableNames = check.prepare("SELECT DISTINCT f2 FROM live WHERE kind = 'variable'").pluck().all()
    const orderIndexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('history_instance_start', 'history_instance_end', 'history_instance_parent_element', 'history_instance_process_state', 'history_instance_definition_state') ORDER BY name").pluck().all()
    check.close()
    expect(orderIndexes).toEqual(['history_instance_definition_state', 'history_instance_end', 'history_instance_parent_element', 'history_instance_process_state', 'history_instance_start'])
    expect(jobFields).toEqual(keys.map((key) => [key, 'ACTIVATABLE', 'du-work']))
    expect(timers).toBe(0)
    expect(variableSizes).toEqual([5, 5])
    expect(variableNames).toEqual(['orderId'])
    await runToEnd(client, 'schema-3')
    expect(await elementsTaken(client, keys[3])).toEqual(['start', 'work', 'wait-timer', 'count', 'wait-message', 'end'])
  } finally {
    await client.close()
    await server.close()
  }
})
