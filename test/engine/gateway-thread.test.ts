/**
 * The gRPC server runs in a thread of its own and hands each call to the event loop (issue #19:
 * its per-call garbage and HTTP/2's external strings stay out of the engine's heap). What crosses
 * between them must arrive whole: byte fields as Buffers, metadata, cancellation, and a message
 * written for a client that has just gone comes back, so that no job is lost with it.
 */
import { spawnSync } from 'node:child_process'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { GatewayThread, type GatewayStream, type ThreadCalls, type UnaryCall, type UnaryCallback } from '../../src/engine/gateway/gateway-thread'

type GatewayClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>

function gatewayClient(port: number): GatewayClient {
  const definition = protoLoader.loadSync(require.resolve('@camunda8/sdk/dist/proto/zeebe.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  const protocol = grpc.loadPackageDefinition(definition).gateway_protocol as grpc.GrpcObject
  const Gateway = protocol.Gateway as grpc.ServiceClientConstructor
  return new Gateway(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as GatewayClient
}

/** Calls handed over, recorded for the test to answer. */
class Recorded implements ThreadCalls {
  readonly unaryCalls: { method: string; call: UnaryCall; callback: UnaryCallback }[] = []
  readonly streams: { method: string; call: GatewayStream }[] = []
  readonly undeliveredMessages: unknown[] = []
  private waiters: (() => void)[] = []

  unary(method: string, call: UnaryCall, callback: UnaryCallback): void {
    this.unaryCalls.push({ method, call, callback })
    this.wake()
  }

  stream(method: string, call: GatewayStream): void {
    this.streams.push({ method, call })
    this.wake()
  }

  undelivered(message: unknown): void {
    this.undeliveredMessages.push(message)
    this.wake()
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}

let thread: GatewayThread
let client: GatewayClient
let calls: Recorded

beforeEach(async () => {
  calls = new Recorded()
  const started = await GatewayThread.start('127.0.0.1:0', calls)
  thread = started.thread
  client = gatewayClient(started.port)
})

afterEach(async () => {
  client.close()
  await thread.close(100)
})

test('a unary call arrives with its request, byte fields as Buffers, and its text metadata; the answer goes back to the client', async () => {
  // given a DeployResource call with a file's bytes and an authorization header
  const metadata = new grpc.Metadata()
  metadata.set('authorization', 'Basic dGVzdDp0ZXN0')
  const content = Buffer.from('<definitions>é</definitions>')
  const answered = new Promise<unknown>((resolve, reject) => {
    client.DeployResource({ resources: [{ name: 'a.bpmn', content }] }, metadata, (error: unknown, response: unknown) => error ? reject(error as Error) : resolve(response))
  })
  // when the event loop receives it
  await calls.until(() => calls.unaryCalls.length === 1)
  const { method, call, callback } = calls.unaryCalls[0]
  // then it has the method, the bytes as a Buffer, and the metadata
  expect(method).toBe('DeployResource')
  const resource = (call.request as { resources: { content: unknown }[] }).resources[0]
  expect(Buffer.isBuffer(resource.content)).toBe(true)
  expect((resource.content as Buffer).toString('utf8')).toBe('<definitions>é</definitions>')
  expect(call.metadata.get('authorization')).toEqual(['Basic dGVzdDp0ZXN0'])
  expect(call.metadata.get('missing')).toEqual([])
  // and when it answers, the client gets the answer
  callback(null, { key: '2251799813685249', deployments: [], tenantId: '<default>' })
  expect(await answered).toEqual(expect.objectContaining({ key: '2251799813685249', tenantId: '<default>' }))
})

test('a unary call failed on the event loop reaches the client with its code and details', async () => {
  // given a call the event loop refuses
  const answered = new Promise<grpc.ServiceError>((resolve) => {
    client.CancelProcessInstance({ processInstanceKey: '1' }, (error: grpc.ServiceError) => resolve(error))
  })
  await calls.until(() => calls.unaryCalls.length === 1)
  calls.unaryCalls[0].callback({ code: grpc.status.NOT_FOUND, details: 'no such process instance' })
  // then the client sees NOT_FOUND and the details
  const error = await answered
  expect(error.code).toBe(grpc.status.NOT_FOUND)
  expect(error.details).toBe('no such process instance')
})

test('calls that cross in batches each get their own answer: 200 at once, answered in another order, some failed, and a stream written between them', async () => {
  // given 200 calls sent at once (the thread hands them over, and takes the answers back, a turn's worth at a time)
  const stream = client.StreamActivatedJobs({ type: 'work', worker: 'w', timeout: '1000', fetchVariable: [], tenantIds: [] }) as grpc.ClientReadableStream<{ key: string }>
  const received: string[] = []
  stream.on('data', (job: { key: string }) => received.push(job.key))
  stream.on('error', () => undefined)
  const answers = Array.from({ length: 200 }, (_, i) => new Promise<string>((resolve) => {
    client.CancelProcessInstance({ processInstanceKey: String(i) }, (error: grpc.ServiceError | null) => resolve(error ? `failed ${error.details}` : `answered ${i}`))
  }))
  await calls.until(() => calls.unaryCalls.length === 200 && calls.streams.length === 1)
  // when the event loop answers them in one turn, from the last to the first, failing every third, and writes jobs between
  for (const [n, { call, callback }] of [...calls.unaryCalls.entries()].reverse()) {
    const key = (call.request as { processInstanceKey: string }).processInstanceKey
    if (n % 3 === 0) callback({ code: grpc.status.NOT_FOUND, details: `no ${key}` })
    else callback(null, {})
    if (n % 50 === 0) calls.streams[0].call.write({ key: String(1000 + Number(key)), type: 'work', customHeaders: '{}', variables: '{}' })
  }
  // then each client has the answer to its own call, and the stream every job, in the order written
  const results = await Promise.all(answers)
  const expected = calls.unaryCalls.map(({ call }, n) => {
    const key = (call.request as { processInstanceKey: string }).processInstanceKey
    return [key, n % 3 === 0 ? `failed no ${key}` : `answered ${key}`]
  })
  expect(results).toEqual(expected.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, result]) => result))
  await new Promise<void>((resolve) => { const check = () => (received.length === 4 ? resolve() : setTimeout(check, 5)); check() })
  expect(received).toEqual([150, 100, 50, 0].map((n) => String(1000 + Number((calls.unaryCalls[n].call.request as { processInstanceKey: string }).processInstanceKey))))
  stream.cancel()
})

test('long calls (64 KiB or more) reach the event loop one per task, so that what comes between them is answered; the short ones are not held longer than that, and every call is answered', async () => {
  // given a slow event loop, whose tasks are counted, and 6 creations of 100 KB sent at once with 6 short calls between them
  let task = 0
  let counting = false
  const taskOf = new Map<UnaryCall, number>()
  const recorded = calls.unary.bind(calls)
  calls.unary = (method, call, callback) => {
    taskOf.set(call, task)
    if (!counting) {
      counting = true
      setImmediate(() => { task++; counting = false })
    }
    if (taskOf.size === 1) for (const until = Date.now() + 100; Date.now() < until;) { /* the event loop is busy */ }
    recorded(method, call, callback)
  }
  const payload = 'x'.repeat(100_000)
  const answers: Promise<string>[] = []
  for (let i = 0; i < 6; i++) {
    answers.push(new Promise<string>((resolve) => {
      client.CreateProcessInstance({ bpmnProcessId: 'p', version: -1, variables: JSON.stringify({ payload, i }) }, (error: grpc.ServiceError | null) => resolve(error ? `failed ${error.details}` : `created ${i}`))
    }))
    answers.push(new Promise<string>((resolve) => {
      client.CancelProcessInstance({ processInstanceKey: String(i) }, (error: grpc.ServiceError | null) => resolve(error ? `failed ${error.details}` : `cancelled ${i}`))
    }))
  }
  // when the event loop receives them all
  await calls.until(() => calls.unaryCalls.length === 12)
  // then no two creations came in one task of the event loop
  const creations = calls.unaryCalls.filter(({ method }) => method === 'CreateProcessInstance')
  const tasks = creations.map(({ call }) => taskOf.get(call) as number)
  expect(new Set(tasks).size).toBe(6)
  // and each creation came whole, parsed in the thread
  expect(creations.map(({ call }) => ((call.request as { variables: { parsed: { payload: string } } }).variables.parsed.payload.length))).toEqual(Array(6).fill(100_000))
  // and every call gets its own answer
  for (const { callback } of calls.unaryCalls) callback(null, {})
  expect(await Promise.all(answers)).toEqual(Array.from({ length: 6 }, (_, i) => [`created ${i}`, `cancelled ${i}`]).flat())
})

test('a stream gets each message written, then its end; a message written after the client went away comes back as undelivered', async () => {
  // given a job stream the client reads
  const received: unknown[] = []
  const stream = client.StreamActivatedJobs({ type: 'work', worker: 'w', timeout: '1000', fetchVariable: [], tenantIds: [] }) as grpc.ClientReadableStream<unknown>
  stream.on('data', (job) => received.push(job))
  stream.on('error', () => undefined)
  await calls.until(() => calls.streams.length === 1)
  const { method, call } = calls.streams[0]
  expect(method).toBe('StreamActivatedJobs')
  // when the event loop writes a job, the client receives it
  call.write({ key: '1', type: 'work', customHeaders: '{}', variables: '{}' })
  await new Promise<void>((resolve) => { const check = () => (received.length === 1 ? resolve() : setTimeout(check, 5)); check() })
  expect(received[0]).toEqual(expect.objectContaining({ key: '1', type: 'work' }))
  // when the client goes away, the event loop's stream says so
  const cancelled = new Promise<void>((resolve) => call.once('cancelled', resolve))
  stream.cancel()
  await cancelled
  expect(call.cancelled).toBe(true)
  // and a job written meanwhile (before the event loop saw the cancel) comes back, not lost
  call.write({ key: '2', type: 'work', customHeaders: '{}', variables: '{}' })
  await calls.until(() => calls.undeliveredMessages.length === 1)
  expect(calls.undeliveredMessages[0]).toEqual(expect.objectContaining({ key: '2' }))
  expect(received).toHaveLength(1)
})

describe('answers that wait for their commit in the thread (COMMITS)', () => {
  const job = (key: string) => ({ key, type: 'work', customHeaders: '{}', variables: '{}' })
  /** A unary call, answered or refused: its outcome once the client has it. */
  const cancelCall = (key: string) => {
    const outcome: { result?: string } = {}
    const done = new Promise<string>((resolve) => {
      client.CancelProcessInstance({ processInstanceKey: key }, (error: grpc.ServiceError | null) => {
        outcome.result = error ? `${error.code} ${error.details}` : 'answered'
        resolve(outcome.result)
      })
    })
    return { outcome, done }
  }
  const openStream = () => {
    const received: string[] = []
    const stream = client.StreamActivatedJobs({ type: 'work', worker: 'w', timeout: '1000', fetchVariable: [], tenantIds: [] }) as grpc.ClientReadableStream<{ key: string }>
    stream.on('data', (one: { key: string }) => received.push(one.key))
    stream.on('error', () => undefined)
    return { stream, received }
  }
  const until = (condition: () => boolean) => new Promise<void>((resolve) => { const check = () => (condition() ? resolve() : setTimeout(check, 5)); check() })
  let log: MessagePort

  beforeEach(() => {
    // given a gateway thread told by a log thread (here, the test) how far the log is committed
    const { port1, port2 } = new MessageChannel()
    log = port1
    thread.watchCommits(port2, 'refused: ')
    log.postMessage({ ok: true, upTo: 10 })
  })

  afterEach(() => log.close())

  test('each answer and stream message waits until the log is committed up to its position, then they go in order', async () => {
    // given three calls and a stream
    const { received } = openStream()
    const [a, b, c, d] = ['1', '2', '3', '4'].map(cancelCall)
    await calls.until(() => calls.unaryCalls.length === 4 && calls.streams.length === 1)
    const [ca, cb, cc, cd] = ['1', '2', '3', '4'].map((key) => calls.unaryCalls.find(({ call }) => (call.request as { processInstanceKey: string }).processInstanceKey === key) as Recorded['unaryCalls'][number])
    // when the event loop answers at positions 5 (committed), 12 and 14, and writes a job at 13
    ca.callback(null, {}, 5)
    cb.callback(null, {}, 12)
    calls.streams[0].call.write(job('100'), 13)
    cc.callback(null, {}, 14)
    // (an answer given no position goes at once: once it is there, the thread has seen the others)
    cd.callback(null, {})
    await d.done
    // then only the one committed has gone
    expect(await a.done).toBe('answered')
    expect([b.outcome.result, c.outcome.result, received]).toEqual([undefined, undefined, []])
    // when the log is committed up to 13, the answer and the job up to it go; at 14 the last
    log.postMessage({ ok: true, upTo: 13 })
    expect(await b.done).toBe('answered')
    await until(() => received.length === 1)
    expect(received).toEqual(['100'])
    expect(c.outcome.result).toBeUndefined()
    log.postMessage({ ok: true, upTo: 14 })
    expect(await c.done).toBe('answered')
  })

  test('a failed write refuses the answers that waited for it with RESOURCE_EXHAUSTED and its reason; its stream messages wait for the write to succeed', async () => {
    // given an answer and a job waiting for position 12
    const { received } = openStream()
    const b = cancelCall('2')
    await calls.until(() => calls.unaryCalls.length === 1 && calls.streams.length === 1)
    calls.unaryCalls[0].callback(null, {}, 12)
    calls.streams[0].call.write(job('200'), 12)
    // when the write up to 12 fails
    log.postMessage({ ok: false, upTo: 12, error: 'database or disk is full' })
    // then the answer is refused with the reason
    expect(await b.done).toBe(`${grpc.status.RESOURCE_EXHAUSTED} refused: database or disk is full`)
    // and an answer given for a position the failed write held is refused at once
    const e = cancelCall('5')
    await calls.until(() => calls.unaryCalls.length === 2)
    calls.unaryCalls[1].callback(null, {}, 11)
    expect(await e.done).toBe(`${grpc.status.RESOURCE_EXHAUSTED} refused: database or disk is full`)
    // but the job is not sent, nor lost: once the write is done again, it goes
    expect(received).toEqual([])
    log.postMessage({ ok: true, upTo: 12 })
    await until(() => received.length === 1)
    expect(received).toEqual(['200'])
  })

  test('a job waiting for its commit when the client goes away comes back as undelivered once committed', async () => {
    // given a job waiting for position 20 on a stream
    const { stream } = openStream()
    await calls.until(() => calls.streams.length === 1)
    const { call } = calls.streams[0]
    call.write(job('300'), 20)
    // when the client goes away, then the log is committed up to it
    const cancelled = new Promise<void>((resolve) => call.once('cancelled', resolve))
    stream.cancel()
    await cancelled
    log.postMessage({ ok: true, upTo: 20 })
    // then the job comes back, to be activated again
    await calls.until(() => calls.undeliveredMessages.length === 1)
    expect(calls.undeliveredMessages[0]).toEqual(expect.objectContaining({ key: '300' }))
  })
})

test('a stream failed with emit("error") ends at the client with that status', async () => {
  const failed = new Promise<grpc.ServiceError>((resolve) => {
    const stream = client.ActivateJobs({ type: 'work', worker: 'w', maxJobsToActivate: 1, timeout: '1000', requestTimeout: '1000' }) as grpc.ClientReadableStream<unknown>
    stream.on('error', resolve)
  })
  await calls.until(() => calls.streams.length === 1)
  calls.streams[0].call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'maxJobsToActivate must be positive' })
  const error = await failed
  expect(error.code).toBe(grpc.status.INVALID_ARGUMENT)
  expect(error.details).toBe('maxJobsToActivate must be positive')
})

test('a port already taken is refused with the reason', async () => {
  // given a gateway listening on a port
  const first = await GatewayThread.start('127.0.0.1:0', new Recorded())
  try {
    // when another starts on the same port, it is refused with what went wrong
    await expect(GatewayThread.start(`127.0.0.1:${first.port}`, new Recorded())).rejects.toThrow(/No address added out of total 1 resolved|EADDRINUSE|address/i)
  } finally {
    await first.thread.close(100)
  }
})

test('an engine whose start fails after its gRPC thread was spawned stops the thread: the process ends by itself', () => {
  // given a script that starts an engine on a data dir that cannot be opened (a file, not a directory)
  const script = `
    const fs = require('node:fs'), os = require('node:os'), path = require('node:path')
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'raccord-thread-')), 'not-a-dir')
    fs.writeFileSync(file, 'x')
    require(${JSON.stringify(require.resolve('../../src/engine/server'))}).startEngineServer({ dataDir: file, grpcPort: 0, restPort: 0 })
      .then(() => console.log('started'), (error) => console.log('refused: ' + error.message))
  `
  // when it runs, with nothing to end it but its own event loop
  const run = spawnSync(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script], { encoding: 'utf8', timeout: 30_000 })
  // then the start was refused, and the process ended on its own (no thread left to keep it alive)
  expect(run.stdout).toMatch(/^refused: /m)
  expect(run.signal).toBeNull()
  expect(run.status).toBe(0)
})
