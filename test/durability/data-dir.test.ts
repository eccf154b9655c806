/**
 * The data dir at start-up and under faults: a file the engine did not write is refused with a
 * clear message and left as it was; a read-only dir or a full disk is reported, not crashed
 * through; a clean stop leaves a snapshot that the next start loads without replaying anything.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import type { EngineStore } from '../../src/engine/state/store'
import type { TestClient } from '../support/engine-harness'
import { connect, runEngineCli, startEngineProcess } from '../support/engine-process'

jest.setTimeout(60_000)

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')
const GRPC_RESOURCE_EXHAUSTED = 8
/** Root writes through file modes: a root test run starts the engine without CAP_DAC_OVERRIDE. */
const isRoot = process.getuid?.() === 0

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-datadir-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

function freshDir(name: string): string {
  const dir = path.join(scratch, name)
  mkdirSync(dir)
  return dir
}

/** Bytes, mtime and the dir's listing: what "untouched" means. */
function fingerprint(file: string) {
  const stat = statSync(file)
  return { bytes: readFileSync(file).toString('base64'), mtimeMs: stat.mtimeMs, size: stat.size, dir: readdirSync(path.dirname(file)).sort() }
}

/** Deterministic "random" bytes, so a failure can be reproduced. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed >>> 0
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

const startArgs = (dataDir: string) => ['--grpc-port', '0', '--rest-port', '0', '--data-dir', dataDir]

describe('a data dir the engine cannot use stops start-up with a clear error and is left untouched', () => {
  test.each([['engine.db', 42], ['log.db', 43]])('random bytes as %s', async (name, seed) => {
    const dir = freshDir(`corrupt-${name}`)
    const file = path.join(dir, name)
    writeFileSync(file, noise(8192, seed))
    const before = fingerprint(file)

    const run = await runEngineCli(startArgs(dir))

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: '${file}' is not an SQLite database`)
    expect(fingerprint(file)).toEqual(before)
  })

  test('a damaged raccord database (valid header, garbage after it)', async () => {
    const dir = freshDir('damaged')
    const file = path.join(dir, 'engine.db')
    const engine = await startEngineProcess(dir)
    const client = await connect(engine)
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    await client.close()
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
    const good = readFileSync(file)
    // Keep SQLite's 100-byte header, scramble every page after the first.
    writeFileSync(file, Buffer.concat([good.subarray(0, 4096), noise(good.length - 4096, 7)]))
    const before = fingerprint(file)

    const run = await runEngineCli(startArgs(dir))

    expect(run.code).toBe(1)
    expect(run.output).toMatch(/cannot start: .*engine\.db.*(damaged|malformed|not a database)/)
    expect(run.output).toContain(file)
    expect(fingerprint(file)).toEqual(before)
  })

  test("another application's SQLite database", async () => {
    const dir = freshDir('foreign')
    const file = path.join(dir, 'engine.db')
    const other = new Database(file)
    other.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace')`)
    other.close()
    const before = fingerprint(file)

    const run = await runEngineCli(startArgs(dir))

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: '${file}' is an SQLite database that raccord did not create`)
    expect(fingerprint(file)).toEqual(before)
  })

  test("another application's SQLite database with a WAL not yet checkpointed", async () => {
    const dir = freshDir('foreign-wal')
    const file = path.join(dir, 'engine.db')
    // A copy taken while the other application runs: its latest writes are only in the WAL.
    const source = path.join(freshDir('foreign-wal-source'), 'app.db')
    const other = new Database(source)
    other.pragma('journal_mode = WAL')
    other.pragma('wal_autocheckpoint = 0')
    other.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace')`)
    copyFileSync(source, file)
    copyFileSync(`${source}-wal`, `${file}-wal`)
    other.close()
    const before = { db: fingerprint(file), wal: fingerprint(`${file}-wal`) }

    const run = await runEngineCli(startArgs(dir))

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: '${file}' is an SQLite database that raccord did not create`)
    expect({ db: fingerprint(file), wal: fingerprint(`${file}-wal`) }).toEqual(before)
  })

  test('a regular file as the data dir', async () => {
    const file = path.join(scratch, 'not-a-dir')
    writeFileSync(file, 'some notes\n')
    const before = fingerprint(file)

    const run = await runEngineCli(startArgs(file))

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: Data dir '${file}' is a file, not a directory`)
    expect(fingerprint(file)).toEqual(before)
  })
})

describe('a read-only data dir is reported at start-up', () => {
  const withoutDacOverride = isRoot

  test('a data dir without write permission', async () => {
    const dir = freshDir('read-only')
    chmodSync(dir, 0o555)

    const run = await runEngineCli(startArgs(dir), { withoutDacOverride })

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: Data dir '${dir}' is not writable`)
    expect(readdirSync(dir)).toEqual([])
  })

  test('a raccord database file without write permission', async () => {
    const dir = freshDir('read-only-file')
    const file = path.join(dir, 'engine.db')
    const engine = await startEngineProcess(dir)
    const client = await connect(engine)
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    await client.close()
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
    chmodSync(file, 0o444)
    const before = fingerprint(file)

    const run = await runEngineCli(startArgs(dir), { withoutDacOverride })

    expect(run.code).toBe(1)
    expect(run.output).toContain(`cannot start: Engine state '${file}' is read-only`)
    expect(fingerprint(file)).toEqual(before)
  })
})

describe('a full disk', () => {
  let server: EngineServer
  let client: TestClient

  afterEach(async () => {
    await client?.close()
    await server?.close()
  })

  async function createInstance(orderId: string): Promise<string> {
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId } })
    return processInstanceKey
  }

  /** Activate and complete every job of `type` that is there now; returns how many. */
  async function completeJobs(type: string): Promise<number> {
    const jobs = await client.zeebe.activateJobs({ type, worker: 'full-disk', maxJobsToActivate: 1000, timeout: 60_000, requestTimeout: 100 })
    await Promise.all(jobs.map((job) => client.zeebe.completeJob({ jobKey: job.key, variables: {} })))
    return jobs.length
  }

  async function instanceStates(keys: string[]): Promise<Map<string, string>> {
    const { items } = await client.camunda.getCamundaRestClient().searchProcessInstances({
      filter: { processDefinitionId: 'crash' }, page: { from: 0, limit: 10_000 },
    })
    const states = new Map(items.map((i) => [i.processInstanceKey, i.state]))
    return new Map(keys.map((k) => [k, states.get(k) ?? 'MISSING']))
  }

  /** With the database not allowed to grow, create instances until one is refused: its error (the others' keys go to `acknowledged`). */
  async function fillUntilRefused(store: EngineStore, prefix: string, acknowledged: string[]): Promise<unknown> {
    store.limitPages(1)
    for (let i = 0; i < 10_000; i++) {
      try {
        acknowledged.push(await createInstance(`${prefix}-${i}`))
      } catch (error) {
        return error
      }
    }
    return undefined
  }

  /** An engine on a fresh data dir, with the crash process deployed: its dir, and its store to fill. */
  async function startWithCrashProcess(name: string): Promise<{ dir: string; store: EngineStore }> {
    const dir = freshDir(name)
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
    client = await connect(server)
    const store = server.durable?.store
    if (!store) throw new Error('the engine was started without durable state')
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    return { dir, store }
  }

  test('commands are refused with RESOURCE_EXHAUSTED naming the cause; the engine keeps serving, then recovers with nothing lost', async () => {
    const { dir, store } = await startWithCrashProcess('full-disk')
    const acknowledged: string[] = []
    for (let i = 0; i < 20; i++) acknowledged.push(await createInstance(`before-${i}`))
    // Their timers (0.5 s) come due while the disk is full.
    expect(await completeJobs('du-work')).toBe(20)

    // when the database may not grow any more
    const refusal = await fillUntilRefused(store, 'filling', acknowledged)

    // then the command is refused as RESOURCE_EXHAUSTED, with the cause
    expect(refusal).toBeDefined()
    expect((refusal as { code?: number }).code).toBe(GRPC_RESOURCE_EXHAUSTED)
    expect(String((refusal as Error).message)).toContain(`Cannot write engine log '${store.logFile}': database or disk is full`)
    // and the engine keeps serving: reads answer, timers that come due are not crashed through
    await delay(1_000)
    // (reads only: the gateways wait for durability on every gRPC call and every REST POST, searches included)
    expect(await client.camunda.getCamundaRestClient().getTopology()).toHaveProperty('brokers')
    for (const key of acknowledged) {
      const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances/${key}`)
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ processInstanceKey: key, state: 'ACTIVE' })
    }

    // when space is back, commands succeed again (the store retries on its own)
    store.limitPages(1_000_000)
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        acknowledged.push(await createInstance('after'))
        break
      } catch (error) {
        if (Date.now() > deadline) throw error
        await delay(100)
      }
    }

    // and every acknowledged instance runs to its end
    const orderIds = [...Array(20).keys()].map((i) => `before-${i}`)
      .concat(acknowledged.slice(20, -1).map((_, i) => `filling-${i}`), ['after'])
    for (const orderId of orderIds) {
      await client.zeebe.publishMessage({ name: 'du-go', correlationKey: orderId, messageId: orderId, timeToLive: 60_000, variables: {} })
    }
    const finished = Date.now() + 20_000
    while (Date.now() < finished) {
      await completeJobs('du-work')
      await completeJobs('du-count')
      if ([...(await instanceStates(acknowledged)).values()].every((s) => s === 'COMPLETED')) break
      await delay(100)
    }
    expect([...(await instanceStates(acknowledged))].filter(([, s]) => s !== 'COMPLETED')).toEqual([])

    // and all of it is on disk: a restart finds every instance completed
    await client.close()
    await server.close()
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
    client = await connect(server)
    expect([...(await instanceStates(acknowledged))].filter(([, s]) => s !== 'COMPLETED')).toEqual([])
  })
  test('a job stream never gets a job whose activation the full disk refused; once space is back it is written again, and the job comes', async () => {
    // given a worker streaming the jobs of 'du-work' (it keeps them: the instances wait there)
    const { store } = await startWithCrashProcess('full-disk-stream')
    const streamed: string[] = []
    await client.zeebe.streamJobs({
      type: 'du-work', worker: 'full-disk-stream', timeout: 60_000, tenantIds: ['<default>'],
      taskHandler: (job) => {
        streamed.push(job.processInstanceKey)
        return Promise.resolve(job.forward())
      },
    })
    const acknowledged = [await createInstance('stream-first')]
    const deadline = Date.now() + 10_000
    while (streamed.length === 0 && Date.now() < deadline) await delay(20)
    expect(streamed).toEqual(acknowledged)

    // when the disk fills while instances are created, until one is refused
    const refusal = await fillUntilRefused(store, 'stream', acknowledged)
    expect((refusal as { code?: number }).code).toBe(GRPC_RESOURCE_EXHAUSTED)
    // then the worker gets the jobs of the instances acknowledged, and no other
    await delay(1_000)
    expect(streamed.filter((key) => !acknowledged.includes(key))).toEqual([])

    // when space is back, the refused command is written again (the store retries it), and its job comes
    store.limitPages(1_000_000)
    const back = Date.now() + 10_000
    while (!streamed.some((key) => !acknowledged.includes(key)) && Date.now() < back) await delay(20)
    const late = streamed.filter((key) => !acknowledged.includes(key))
    expect(late).toHaveLength(1)
    const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances/${late[0]}`)
    expect(await response.json()).toMatchObject({ processInstanceKey: late[0], state: 'ACTIVE' })
  })

  test('over REST, a refused command is a 503 problem naming the cause', async () => {
    const { store } = await startWithCrashProcess('full-disk-rest')
    const create = (orderId: string) => fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ processDefinitionId: 'crash', variables: { orderId } }),
    })

    store.limitPages(1)
    let response = await create('rest-0')
    for (let i = 1; i < 10_000 && response.status === 200; i++) response = await create(`rest-${i}`)

    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const problem = await response.json() as { title: string; detail: string }
    expect(problem.title).toBe('RESOURCE_EXHAUSTED')
    expect(problem.detail).toContain(`Cannot write engine log '${store.logFile}': database or disk is full`)

    store.limitPages(1_000_000)
    const deadline = Date.now() + 10_000
    do {
      await delay(100)
      response = await create('rest-after')
    } while (response.status !== 200 && Date.now() < deadline)
    expect(response.status).toBe(200)
  })
})

test('after a clean stop (SIGTERM) the engine starts from its snapshot and replays nothing', async () => {
  const dir = freshDir('clean-stop')
  let engine = await startEngineProcess(dir)
  let client = await connect(engine)
  await client.zeebe.deployResource({ processFilename: DU_CRASH })
  const keys: string[] = []
  for (let i = 0; i < 10; i++) {
    keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: { orderId: `clean-${i}` } })).processInstanceKey)
  }
  await client.close()
  expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })

  engine = await startEngineProcess(dir)
  try {
    expect(engine.output()).toMatch(/recovered in \d+ ms: checkpoint at [1-9]\d*, 0 commands replayed/)
    client = await connect(engine)
    const { items } = await client.camunda.getCamundaRestClient().searchProcessInstances({ filter: { processDefinitionId: 'crash' } })
    expect(items.map((i) => i.processInstanceKey).sort()).toEqual([...keys].sort())
    expect(items.every((i) => i.state === 'ACTIVE')).toBe(true)
    await client.close()
  } finally {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
  expect(existsSync(path.join(dir, 'engine.db'))).toBe(true)
})

test('a second engine on a data dir in use is refused, naming the running one', async () => {
  // given
  const dir = freshDir('in-use')
  const first = await startEngineProcess(dir)
  try {
    // when
    const second = await runEngineCli(startArgs(dir))
    // then
    expect(second.code).toBe(1)
    expect(second.output).toContain(`is in use by another engine (pid ${first.pid})`)
  } finally {
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null })
  }
  // and once it has stopped, the data dir is free again
  const again = await startEngineProcess(dir)
  expect(await again.kill('SIGTERM')).toEqual({ code: 0, signal: null })
})
