/**
 * Crash recovery: the engine runs as a child process under load from SDK clients, is killed with
 * SIGKILL at seeded random moments and restarted on the same data dir. After each restart, what
 * the engine acknowledged is still there, and nothing happened twice. The run ends with every
 * acknowledged instance completed.
 *
 * Reproduce a run with DURABILITY_SEED=<seed> (the seed is in the test name).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { TestClient } from '../support/engine-harness'
import { connect, startEngineProcess, type EngineProcess } from '../support/engine-process'

const SEED = Number(process.env.DURABILITY_SEED ?? 0x5eed_d00d)
const PROCESS_ID = 'crash'
const MESSAGE = 'du-go'
const MESSAGE_TTL_MS = 10 * 60_000
const JOB_TIMEOUT_MS = 1_500
const CREATORS = 3
/** Bounds the whole run: creation stops at this many attempts. */
const MAX_INSTANCES = 1_200
const CREATE_PAUSE_MS = 15
const GRPC_NOT_FOUND = 5
const GRPC_ALREADY_EXISTS = 6
const ELEMENTS = ['work', 'wait-timer', 'count', 'wait-message'] as const

jest.setTimeout(110_000)

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = seededRandom(SEED)
const between = (min: number, max: number) => Math.floor(min + random() * (max - min))

/** What the clients were told, across all runs of the engine. */
const seen = {
  /** every order id a creation was attempted for */
  attempted: [] as string[],
  /** acknowledged creations: instance key -> order id */
  instances: new Map<string, string>(),
  /** acknowledged message publications, by order id */
  published: new Set<string>(),
  /** acknowledged job completions */
  completions: [] as { jobKey: string; processInstanceKey: string; elementId: string }[],
  /** the largest key any response or search showed */
  maxKey: 0n,
}

function noteKey(key: string): void {
  const k = BigInt(key)
  if (k > seen.maxKey) seen.maxKey = k
}

const messageIdOf = (orderId: string) => `msg-${orderId}`

function codeOf(error: unknown): number | undefined {
  return (error as { code?: number }).code
}

/**
 * Clients against one run of the engine: creators (create, then publish the instance's message)
 * and a polling worker per job type. Every call may fail once the engine is killed; only answers
 * count.
 */
class Load {
  private stopped = false
  private readonly loops: Promise<void>[] = []
  /** keys of entities created in this run: instances and messages */
  readonly newKeys: bigint[] = []
  errors = 0

  constructor(private readonly client: TestClient) {}

  start(create: boolean): this {
    if (create) for (let i = 0; i < CREATORS; i++) this.loops.push(this.createLoop())
    for (const type of ['du-work', 'du-count']) this.loops.push(this.workLoop(type))
    return this
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.loops)
  }

  private async createLoop(): Promise<void> {
    while (!this.stopped && seen.attempted.length < MAX_INSTANCES) {
      const orderId = `o-${seen.attempted.length}`
      seen.attempted.push(orderId)
      try {
        const { processInstanceKey } = await this.client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: { orderId } })
        seen.instances.set(processInstanceKey, orderId)
        this.newKeys.push(BigInt(processInstanceKey))
        noteKey(processInstanceKey)
        await this.publish(orderId)
      } catch {
        this.errors++
        await delay(50)
      }
      await delay(CREATE_PAUSE_MS)
    }
  }

  /** Publish the message for `orderId`; an earlier publication that was stored answers ALREADY_EXISTS. */
  async publish(orderId: string): Promise<'published' | 'already-exists'> {
    try {
      const { key } = await this.client.zeebe.publishMessage({
        name: MESSAGE, correlationKey: orderId, messageId: messageIdOf(orderId), timeToLive: MESSAGE_TTL_MS, variables: {},
      })
      seen.published.add(orderId)
      this.newKeys.push(BigInt(key))
      noteKey(key)
      return 'published'
    } catch (error) {
      if (codeOf(error) !== GRPC_ALREADY_EXISTS) throw error
      return 'already-exists'
    }
  }

  private async workLoop(type: string): Promise<void> {
    while (!this.stopped) {
      let jobs
      try {
        jobs = await this.client.zeebe.activateJobs({
          type, worker: `du-${type}`, maxJobsToActivate: 32, timeout: JOB_TIMEOUT_MS, requestTimeout: 300,
        })
      } catch {
        this.errors++
        await delay(50)
        continue
      }
      await Promise.all(jobs.map(async (job) => {
        noteKey(job.key)
        try {
          await this.client.zeebe.completeJob({ jobKey: job.key, variables: {} })
          seen.completions.push({ jobKey: job.key, processInstanceKey: job.processInstanceKey, elementId: job.elementId })
        } catch (error) {
          // A job delivered twice (after a timeout or a crash) may already be completed.
          if (codeOf(error) !== GRPC_NOT_FOUND) this.errors++
        }
      }))
    }
  }
}

type RestClient = ReturnType<TestClient['camunda']['getCamundaRestClient']>

async function allInstances(rest: RestClient) {
  const items = []
  for (let from = 0; ; from += 1000) {
    const page = await rest.searchProcessInstances({ filter: { processDefinitionId: PROCESS_ID }, page: { from, limit: 1000 } })
    items.push(...page.items)
    if (page.items.length < 1000) return items
  }
}

/** Element instances of `elementId` in the crash instances, grouped by instance key. */
async function elementsById(rest: RestClient, elementId: string): Promise<Map<string, { key: string; state: string }[]>> {
  const byInstance = new Map<string, { key: string; state: string }[]>()
  for (let from = 0; ; from += 1000) {
    const page = await rest.searchElementInstances({ filter: { processDefinitionId: PROCESS_ID, elementId }, page: { from, limit: 1000 } })
    for (const e of page.items) {
      const list = byInstance.get(e.processInstanceKey) ?? []
      list.push({ key: e.elementInstanceKey, state: e.state })
      byInstance.set(e.processInstanceKey, list)
    }
    if (page.items.length < 1000) return byInstance
  }
}

async function openJobs(restPort: number): Promise<Map<string, string>> {
  const jobs = new Map<string, string>()
  for (let from = 0; ; from += 1000) {
    const response = await fetch(`http://127.0.0.1:${restPort}/v2/jobs/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { processDefinitionId: PROCESS_ID }, page: { from, limit: 1000 } }),
    })
    expect(response.status).toBe(200)
    const { items } = await response.json() as { items: { jobKey: string; state: string }[] }
    for (const j of items) jobs.set(j.jobKey, j.state)
    if (items.length < 1000) return jobs
  }
}

/** What must hold after every restart, against everything acknowledged before it. */
async function expectNothingAcknowledgedLost(engine: EngineProcess, client: TestClient, load: Load): Promise<void> {
  const rest = client.camunda.getCamundaRestClient()

  // every acknowledged creation exists
  const instances = await allInstances(rest)
  const present = new Set(instances.map((i) => i.processInstanceKey))
  const missing = [...seen.instances.keys()].filter((k) => !present.has(k))
  expect(missing).toEqual([])
  for (const i of instances) noteKey(i.processInstanceKey)

  // no element ran twice: one instance of each element at most, per process instance
  const elements = new Map<string, Map<string, { key: string; state: string }[]>>()
  for (const id of ELEMENTS) {
    const byInstance = await elementsById(rest, id)
    elements.set(id, byInstance)
    const twice = [...byInstance].filter(([, list]) => list.length > 1).map(([key]) => key)
    expect({ elementId: id, twice }).toEqual({ elementId: id, twice: [] })
    for (const list of byInstance.values()) for (const e of list) noteKey(e.key)
  }

  // every acknowledged completion stays completed: its element is COMPLETED and its job is gone
  const jobs = await openJobs(engine.restPort)
  const undone = seen.completions.filter((c) => {
    const states = elements.get(c.elementId)?.get(c.processInstanceKey)?.map((e) => e.state)
    return states?.length !== 1 || states[0] !== 'COMPLETED' || (jobs.has(c.jobKey) && jobs.get(c.jobKey) !== 'COMPLETED')
  })
  expect(undone).toEqual([])

  // an acknowledged messageId is still known: publishing it again is refused
  const republished: string[] = []
  const orderIds = [...seen.published]
  for (let i = 0; i < orderIds.length; i += 50) {
    const answers = await Promise.all(orderIds.slice(i, i + 50).map(async (orderId) => [orderId, await load.publish(orderId)] as const))
    for (const [orderId, answer] of answers) if (answer !== 'already-exists') republished.push(orderId)
  }
  expect(republished).toEqual([])
}

describe(`crash recovery under load (seed ${SEED})`, () => {
  let dataDir: string
  let engine: EngineProcess | undefined
  let client: TestClient | undefined

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'raccord-crash-'))
  })

  afterAll(async () => {
    await client?.close()
    await engine?.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('acknowledged instances, completions, timers and messageIds survive SIGKILL; the run then completes', async () => {
    const kills = between(3, 5)
    engine = await startEngineProcess(dataDir)
    client = await connect(engine)
    await client.zeebe.deployResource({ processFilename: path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn') })

    for (let run = 1; run <= kills; run++) {
      const load = new Load(client).start(true)
      // Kill at a random moment, while creations, completions, timers and publications are in flight.
      await delay(between(800, 2_500))
      await engine.kill('SIGKILL')
      await load.stop()
      await client.close()
      const maxKeyBeforeCrash = seen.maxKey

      engine = await startEngineProcess(dataDir)
      expect(engine.output()).toMatch(/recovered in \d+ ms: checkpoint at \d+, \d+ commands replayed/)
      client = await connect(engine)
      await expectNothingAcknowledgedLost(engine, client, new Load(client))

      // keys of entities created after the restart are above every key seen before the crash
      const probe = new Load(client)
      const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: { orderId: `probe-${run}` } })
      seen.instances.set(processInstanceKey, `probe-${run}`)
      seen.attempted.push(`probe-${run}`)
      await probe.publish(`probe-${run}`)
      expect(BigInt(processInstanceKey)).toBeGreaterThan(maxKeyBeforeCrash)
      for (const key of probe.newKeys) expect(key).toBeGreaterThan(maxKeyBeforeCrash)

      if (run === 2) {
        // A clean stop in the middle: later recoveries start from its snapshot and replay the log after it.
        const busy = new Load(client).start(true)
        await delay(between(300, 800))
        expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null })
        await busy.stop()
        await client.close()
        engine = await startEngineProcess(dataDir)
        expect(engine.output()).toMatch(/checkpoint at [1-9]\d*, 0 commands replayed/)
        client = await connect(engine)
        await expectNothingAcknowledgedLost(engine, client, new Load(client))
      }
    }

    // Finish: no more creations; every order gets its message (again, if unsure), the workers drain.
    const finish = new Load(client).start(false)
    for (const orderId of seen.attempted) await finish.publish(orderId)
    const rest = client.camunda.getCamundaRestClient()
    const deadline = Date.now() + 40_000
    let active = -1
    while (Date.now() < deadline) {
      const instances = await allInstances(rest)
      const state = new Map(instances.map((i) => [i.processInstanceKey, i.state]))
      active = [...seen.instances.keys()].filter((k) => state.get(k) !== 'COMPLETED').length
      if (active === 0) break
      await delay(250)
    }
    await finish.stop()
    expect({ acknowledged: seen.instances.size, notCompleted: active }).toEqual({ acknowledged: seen.instances.size, notCompleted: 0 })

    // each acknowledged instance went through each element exactly once: no timer fired twice, no
    // message correlated twice, no job's element completed twice
    for (const id of ELEMENTS) {
      const byInstance = await elementsById(rest, id)
      const wrong = [...seen.instances.keys()]
        .map((key) => ({ key, states: (byInstance.get(key) ?? []).map((e) => e.state) }))
        .filter(({ states }) => states.length !== 1 || states[0] !== 'COMPLETED')
      expect({ elementId: id, wrong }).toEqual({ elementId: id, wrong: [] })
    }
    await expectNothingAcknowledgedLost(engine, client, new Load(client))
    expect(seen.instances.size).toBeGreaterThan(kills * 20)
    expect(seen.completions.length).toBeGreaterThan(0)
  })
})
