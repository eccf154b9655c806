/**
 * Finished instances leave the live state for the history (issue #19): the engine's memory and
 * snapshot hold only work in flight, while the /v2 searches and gets still find a finished
 * instance with its element instances, variables, incidents and user tasks, until the retention
 * period (engine time) prunes it. A durable engine keeps its history in the data dir.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEngineServer, type EngineServer } from '../../src/engine'
import { createTestClient, type TestClient } from '../support/engine-harness'
import { DAY, engineTestKit } from '../support/engine-test-kit'
import { Engine } from '../../src/engine/runtime/engine'
import { MemoryHistory } from '../../src/engine/state/history'
import { ControllableClock } from '../../src/engine/clock'

const { client, engine, startInstance, search, expectInstanceState, activateOne, increaseTime } = engineTestKit({ worker: 'history', pinClock: true })

const MODEL = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-history">
<bpmn:process id="history" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="history-work" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" /><bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="review" /><bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
</bpmn:process></bpmn:definitions>`
const STRAIGHT = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-straight">
<bpmn:process id="straight" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /></bpmn:process></bpmn:definitions>`

interface Item { [field: string]: unknown }

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'history.bpmn', process: Buffer.from(MODEL) }, { name: 'straight.bpmn', process: Buffer.from(STRAIGHT) }])
})

/** Runs one instance of `history` to its end: a job failed once (an incident, resolved), then the user task. */
async function runToEnd(): Promise<string> {
  const key = await startInstance('history', { order: 'A-1' })
  const job = await activateOne('history-work', key)
  await client.zeebe.failJob({ jobKey: job.key, retries: 0, errorMessage: 'printer on fire', retryBackOff: 0 })
  const [incident] = await search<Item>('incidents', { processInstanceKey: key })
  await client.zeebe.updateJobRetries({ jobKey: job.key, retries: 1 })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey as string })
  await client.zeebe.completeJob({ jobKey: (await activateOne('history-work', key)).key, variables: { printed: true } })
  let task: Item | undefined
  for (let i = 0; i < 100 && !task; i++) [task] = await search<Item>('user-tasks', { processInstanceKey: key })
  await client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: task?.userTaskKey as string, variables: { approved: true } })
  await expectInstanceState(key, 'COMPLETED')
  return key
}

test('a finished instance leaves the live state, and the searches still find it with its elements, variables, incident and user task', async () => {
  // given an instance that ran to its end
  const key = await runToEnd()
  // then the engine's live state no longer holds it
  expect(engine.engine.exportState().instances.map((i) => i.key)).not.toContain(key)
  expect(engine.engine.historySize()).toBeGreaterThan(0)
  // and the searches and gets find it as it ended
  expect(await search<Item>('process-instances', { processInstanceKey: key })).toEqual([expect.objectContaining({ state: 'COMPLETED', hasIncident: false })])
  const got = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances/${key}`)
  expect(((await got.json()) as Item).state).toBe('COMPLETED')
  const elements = await search<Item>('element-instances', { processInstanceKey: key })
  expect(elements.map((e) => `${e.elementId as string}:${e.state as string}`).sort()).toEqual(['end:COMPLETED', 'review:COMPLETED', 'start:COMPLETED', 'work:COMPLETED'])
  const variables = await search<Item>('variables', { processInstanceKey: key })
  expect(Object.fromEntries(variables.map((v) => [v.name, v.value]))).toEqual({ order: '"A-1"', printed: 'true', approved: 'true' })
  expect(await search<Item>('incidents', { processInstanceKey: key })).toEqual([expect.objectContaining({ state: 'RESOLVED', errorMessage: 'printer on fire' })])
  expect(await search<Item>('user-tasks', { processInstanceKey: key })).toEqual([expect.objectContaining({ state: 'COMPLETED', elementId: 'review' })])
  // and commands on it are refused as Zeebe refuses them on a finished instance
  await expect(client.zeebe.cancelProcessInstance(key)).rejects.toThrow(/NOT_FOUND/)
})

test('searches by state find running records in the live state and finished ones in the history', async () => {
  // given a finished instance and a running one
  const finished = await runToEnd()
  const running = await startInstance('history', { order: 'B-2' })
  await activateOne('history-work', running)
  // then a search for running states finds only the running one, a search for final states the finished one
  const keysOf = (items: Item[]) => items.map((i) => i.processInstanceKey)
  expect(keysOf(await search<Item>('process-instances', { state: 'ACTIVE' }))).toEqual(expect.arrayContaining([running]))
  expect(keysOf(await search<Item>('process-instances', { state: 'ACTIVE' }))).not.toContain(finished)
  expect(keysOf(await search<Item>('process-instances', { state: 'COMPLETED' }))).toContain(finished)
  expect(keysOf(await search<Item>('element-instances', { state: 'ACTIVE', elementId: 'work' }))).toEqual([running])
  expect(keysOf(await search<Item>('element-instances', { state: 'COMPLETED', elementId: 'review', processInstanceKey: finished }))).toEqual([finished])
  expect(keysOf(await search<Item>('user-tasks', { state: 'COMPLETED', processInstanceKey: finished }))).toEqual([finished])
  expect(keysOf(await search<Item>('incidents', { state: 'RESOLVED', processInstanceKey: finished }))).toEqual([finished])
  await client.zeebe.cancelProcessInstance(running)
})

test('an instance that ends within its creation answers a create-with-result call with its variables', async () => {
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'straight', variables: { x: 1, y: 'two' } })
  expect(result.variables).toEqual({ x: 1, y: 'two' })
  expect(await search<Item>('process-instances', { processInstanceKey: result.processInstanceKey })).toEqual([expect.objectContaining({ state: 'COMPLETED' })])
})

test('the retention period prunes finished instances once they are older than it (engine time), and only those', async () => {
  // given an instance finished 31 days ago and one finished now
  const old = await runToEnd()
  await increaseTime(31 * DAY)
  const recent = await runToEnd()
  // when the history is pruned (every minute, and here at once)
  await engine.engine.pruneHistory()
  // then only the instance older than the 30 days retention is gone, with its records
  expect(await search<Item>('process-instances', { processInstanceKey: old })).toEqual([])
  expect(await search<Item>('element-instances', { processInstanceKey: old })).toEqual([])
  expect(await search<Item>('variables', { processInstanceKey: old })).toEqual([])
  expect(await search<Item>('user-tasks', { processInstanceKey: old })).toEqual([])
  expect(await search<Item>('process-instances', { processInstanceKey: recent })).toEqual([expect.objectContaining({ state: 'COMPLETED' })])
})

test('a retention period that is not a positive number of days stops the engine from starting, naming the setting', async () => {
  for (const value of ['0', '-3', 'thirty']) {
    process.env.RACCORD_ENGINE_HISTORY_RETENTION_DAYS = value
    try {
      await expect(startEngineServer({ grpcPort: 0, restPort: 0 })).rejects.toThrow(`RACCORD_ENGINE_HISTORY_RETENTION_DAYS must be a positive number of days (finished instances are kept that long), got '${value}'`)
    } finally {
      delete process.env.RACCORD_ENGINE_HISTORY_RETENTION_DAYS
    }
  }
})

describe('a durable engine', () => {
  let dir: string
  let server: EngineServer | undefined
  let durableClient: TestClient | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raccord-history-'))
  })
  afterAll(async () => {
    await durableClient?.close()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function open(): Promise<TestClient> {
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
    durableClient = createTestClient(server)
    return durableClient
  }

  async function searchOn(entity: string, filter: Record<string, unknown>): Promise<Item[]> {
    const response = await fetch(`http://127.0.0.1:${(server as EngineServer).restPort}/v2/${entity}/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter }),
    })
    return ((await response.json()) as { items: Item[] }).items
  }

  test('keeps the history in its data dir: out of the snapshot, found again after a restart', async () => {
    // given finished instances on a durable engine
    const c = await open()
    await c.zeebe.deployResources([{ name: 'straight.bpmn', process: Buffer.from(STRAIGHT) }])
    const keys: string[] = []
    for (let i = 0; i < 5; i++) keys.push((await c.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'straight', variables: { i } })).processInstanceKey)
    // then its snapshot holds none of them
    expect((server as EngineServer).engine.exportState().instances).toEqual([])
    // when it stops and starts again
    await c.close()
    await (server as EngineServer).close()
    await open()
    // then the searches find every one of them, with its variables
    const found = await searchOn('process-instances', { processDefinitionId: 'straight' })
    expect(found.map((i) => i.processInstanceKey).sort()).toEqual([...keys].sort())
    expect(found.every((i) => i.state === 'COMPLETED')).toBe(true)
    expect(await searchOn('variables', { processInstanceKey: keys[3] })).toEqual([expect.objectContaining({ name: 'i', value: '3' })])
    expect((server as EngineServer).engine.historySize()).toBe(5)
  })

  test('prunes in its writer thread: the instances past the retention period go with all their rows, the others stay', async () => {
    // given instances finished 31 days ago and others finished now, on a durable engine of its own
    const clock = new ControllableClock()
    const own = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: join(dir, 'pruned'), clock })
    try {
      await own.engine.deploy([{ name: 'straight.bpmn', content: Buffer.from(STRAIGHT) }])
      const started = Date.UTC(2026, 0, 5)
      const finishAt = (at: number, count: number) => {
        clock.pin(at)
        return Array.from({ length: count }, (_, i) => own.engine.createProcessInstance({ bpmnProcessId: 'straight', variables: { i } }).processInstanceKey)
      }
      const old = finishAt(started, 3)
      const recent = finishAt(started + 31 * DAY, 2)
      // (all of them written to the data dir)
      expect(own.engine.historySize()).toBe(5)
      // when a round of pruning runs
      const round = own.engine.pruneHistory()
      // then the event loop was not kept waiting for it: the writer thread answers later
      let answered = false
      void round.then(() => { answered = true })
      await Promise.resolve()
      expect(answered).toBe(false)
      // and it prunes the three old ones, with their element instances and variables
      expect(await round).toBe(3)
      const found = async (entity: string, processInstanceKey: string) => {
        const response = await fetch(`http://127.0.0.1:${own.restPort}/v2/${entity}/search`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter: { processInstanceKey } }),
        })
        return ((await response.json()) as { items: Item[] }).items.length
      }
      for (const key of old) expect([await found('process-instances', key), await found('element-instances', key), await found('variables', key)]).toEqual([0, 0, 0])
      for (const key of recent) expect(await found('process-instances', key)).toBe(1)
      expect(own.engine.historySize()).toBe(2)
    } finally {
      await own.close()
    }
  })
})

test('a history that cannot be pruned is said once per round and left as it is; the engine goes on', async () => {
  // given an engine whose history refuses to prune (a full disk, say)
  const engine = new Engine()
  const history = new MemoryHistory()
  history.prune = () => { throw new Error('database or disk is full') }
  engine.useHistory(history)
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined)
  try {
    // when a round of pruning runs
    const pruned = await engine.pruneHistory()

    // then nothing is pruned, the cause is said, and no error escapes the round
    expect(pruned).toBe(0)
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('pruning the history failed (database or disk is full)'))
  } finally {
    errors.mockRestore()
    engine.close()
  }
})
