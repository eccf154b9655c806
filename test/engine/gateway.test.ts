import http2 from 'node:http2'
import { setTimeout as delay } from 'node:timers/promises'
import zlib from 'node:zlib'
import { GrpcStatus, bpmnFixture, engineTestKit, grpcFailure, until } from '../support/engine-test-kit'

const SERVICE_TASK_BPMN = bpmnFixture('one-service-task')
const INVALID_BPMN = bpmnFixture('invalid-model')
const PROCESS_ID = 'one-service-task'
const JOB_TYPE = 'gateway-work'
/** A key in the partition-1 range that no entity has. */
const UNKNOWN_KEY = '2251799813999999'

/** The SDK's streamJobs type requires tenantIds (its runtime would default them). */
const TENANT_IDS = ['<default>']

const { engine, client } = engineTestKit({ enginePerTest: true })

async function deployServiceTask(): Promise<void> {
  await client.zeebe.deployResource({ processFilename: SERVICE_TASK_BPMN })
}

test('topology reports one healthy broker leading partition 1', async () => {
  const topology = await client.zeebe.topology()

  expect(topology).toMatchObject({ clusterSize: 1, partitionsCount: 1, replicationFactor: 1, gatewayVersion: '8.8.0' })
  expect(topology.brokers).toHaveLength(1)
  expect(topology.brokers[0]).toMatchObject({ host: '127.0.0.1', port: engine.grpcPort })
  expect(topology.brokers[0].partitions).toEqual([{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }])
})

/** A raw gRPC call of Topology over HTTP/2: its response headers, trailers and whether a message came back. */
function rawTopology(port: number, compressed: boolean): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; bytes: number }> {
  // an empty TopologyRequest, framed: 1 byte compressed flag, 4 bytes length, the message
  const message = compressed ? zlib.gzipSync(Buffer.alloc(0)) : Buffer.alloc(0)
  const frame = Buffer.concat([Buffer.from([compressed ? 1 : 0]), Buffer.alloc(4), message])
  frame.writeUInt32BE(message.length, 1)
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const request = session.request({
      ':method': 'POST', ':path': '/gateway_protocol.Gateway/Topology', 'content-type': 'application/grpc', te: 'trailers',
      ...(compressed ? { 'grpc-encoding': 'gzip' } : {}),
    })
    let headers: http2.IncomingHttpHeaders = {}
    let bytes = 0
    request.on('response', (h) => { headers = h })
    request.on('data', (chunk: Buffer) => { bytes += chunk.length })
    request.on('trailers', (trailers) => {
      session.close()
      resolve({ headers, trailers, bytes })
    })
    request.on('error', reject)
    request.end(frame)
  })
}

test('the gateway tells clients to send uncompressed requests, and still answers a gzip one (the SDK gzips until told)', async () => {
  // when a client sends a request uncompressed, then one gzipped
  for (const compressed of [false, true]) {
    const { headers, trailers, bytes } = await rawTopology(engine.grpcPort, compressed)
    // then each is answered, with the encodings the gateway accepts: identity only
    expect(headers['grpc-accept-encoding']).toBe('identity')
    expect(trailers['grpc-status']).toBe('0')
    expect(bytes).toBeGreaterThan(5)
  }
})

test('an invalid model is rejected with INVALID_ARGUMENT naming the problem, and the engine keeps serving', async () => {
  const failure = await grpcFailure(client.zeebe.deployResource({ processFilename: INVALID_BPMN }))

  expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(failure.details).toContain("Command 'CREATE' rejected with code 'INVALID_ARGUMENT'")
  expect(failure.details).toContain('invalid-model.bpmn')
  expect(failure.details).toContain('untyped-task')

  const deployment = await client.zeebe.deployResource({ processFilename: SERVICE_TASK_BPMN })
  expect(deployment.deployments[0].process).toMatchObject({ bpmnProcessId: PROCESS_ID, version: 1 })
})

test('ActivateJobs long-polls until a job appears', async () => {
  await deployServiceTask()
  const started = Date.now()
  const activation = client.zeebe.activateJobs({
    type: JOB_TYPE, worker: 'long-poller', timeout: 30_000, maxJobsToActivate: 5, requestTimeout: 10_000,
  })
  await delay(300)

  const instance = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: { order: 7 } })
  const jobs = await activation

  const elapsed = Date.now() - started
  expect(jobs).toHaveLength(1)
  expect(jobs[0]).toMatchObject({
    type: JOB_TYPE, worker: 'long-poller', processInstanceKey: instance.processInstanceKey, elementId: 'work',
    bpmnProcessId: PROCESS_ID, retries: 3,
  })
  expect(jobs[0].variables).toEqual({ order: 7 })
  expect(jobs[0].customHeaders).toEqual({ purpose: 'gateway-test' })
  expect(elapsed).toBeGreaterThanOrEqual(300)
  expect(elapsed).toBeLessThan(5_000)
})

test('ActivateJobs with a negative requestTimeout answers at once', async () => {
  const started = Date.now()

  const jobs = await client.zeebe.activateJobs({
    type: JOB_TYPE, worker: 'impatient', timeout: 30_000, maxJobsToActivate: 5, requestTimeout: -1,
  })

  expect(jobs).toEqual([])
  expect(Date.now() - started).toBeLessThan(1_000)
})

test('closing the engine ends a pending long poll promptly', async () => {
  // given a long poll the gateway holds (waited for, not guessed: on a busy machine the call takes a while to arrive)
  let waiting = false
  const subscribe = engine.engine.onJobsAvailable.bind(engine.engine)
  engine.engine.onJobsAvailable = (type, listener) => {
    if (type === JOB_TYPE) waiting = true
    return subscribe(type, listener)
  }
  const activation = client.zeebe.activateJobs({
    type: JOB_TYPE, worker: 'left-waiting', timeout: 30_000, maxJobsToActivate: 5, requestTimeout: 30_000,
  })
  await until('the long poll waits', () => Promise.resolve(waiting ? true : undefined))
  const started = Date.now()

  await engine.close()

  await expect(activation).resolves.toEqual([])
  expect(Date.now() - started).toBeLessThan(2_000)
})

/** Holds the event loop, as a long synchronous step elsewhere in the process would. */
function holdEventLoop(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

test('a long poll answered only after the SDK gave up on it yields its job back instead of stranding it until the job timeout (engine-semantics §6.2, §6.3)', async () => {
  // given a waiting job, and an engine held up for longer than the poll's requestTimeout + 1 s as it activates
  await deployServiceTask()
  const instance = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: {} })
  const activate = engine.engine.activateJobs.bind(engine.engine)
  let held = false
  engine.engine.activateJobs = (input) => {
    if (!held && input.type === JOB_TYPE) { held = true; holdEventLoop(2_300) }
    return activate(input)
  }
  // when an SDK worker with a 1 s long poll (which it abandons after 2 s) asks for it, with a 10 min job timeout
  const handled: string[] = []
  client.zeebe.createWorker({
    taskType: JOB_TYPE, pollInterval: 50, longPoll: 1_000, timeout: 600_000,
    taskHandler: (job) => {
      handled.push(job.processInstanceKey)
      return job.complete()
    },
  })
  // then the job comes back on the next poll and is done, long before its timeout
  await until('the job handled', async () => (handled.length > 0 ? true : undefined), 20_000)
  expect(held).toBe(true)
  expect(handled).toEqual([instance.processInstanceKey])
})

test('malformed or non-object variables JSON is rejected with INVALID_ARGUMENT', async () => {
  await deployServiceTask()
  const instance = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: {} })
  // The SDK passes a string through unchanged, as another client could send it.
  const setRaw = (json: string) => client.zeebe.setVariables({
    elementInstanceKey: instance.processInstanceKey, variables: json as unknown as Record<string, never>, local: false,
  })

  const malformed = await grpcFailure(setRaw('{"unterminated": '))
  const array = await grpcFailure(setRaw('[1, 2]'))

  expect(malformed.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(malformed.details).toContain("Property 'variables' is invalid")
  expect(array.code).toBe(GrpcStatus.INVALID_ARGUMENT)
  expect(array.details).toContain("Expected document to be a root level object, but was 'ARRAY'")
})

test('a command on an unknown job key is rejected with NOT_FOUND', async () => {
  const complete = await grpcFailure(client.zeebe.completeJob({ jobKey: UNKNOWN_KEY, variables: {} }))
  const fail = await grpcFailure(client.zeebe.failJob({ jobKey: UNKNOWN_KEY, retries: 1, errorMessage: 'boom', retryBackOff: 0 }))

  expect(complete.code).toBe(GrpcStatus.NOT_FOUND)
  expect(complete.details).toContain(UNKNOWN_KEY)
  expect(fail.code).toBe(GrpcStatus.NOT_FOUND)
})

test('a streamJobs worker completes jobs', async () => {
  await deployServiceTask()
  const handled: string[] = []
  await client.zeebe.streamJobs({
    type: JOB_TYPE, worker: 'stream-worker', timeout: 30_000, tenantIds: TENANT_IDS,
    taskHandler: (job) => {
      handled.push(job.key)
      return job.complete({ via: 'stream' })
    },
  })

  const results = await Promise.all([1, 2, 3].map((n) =>
    client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: PROCESS_ID, variables: { n } })))

  expect(results.map((r) => r.variables)).toEqual([1, 2, 3].map((n) => ({ n, via: 'stream' })))
  expect(new Set(handled).size).toBe(3)
})

test('a createWorker worker completes jobs', async () => {
  await deployServiceTask()
  const handled: string[] = []
  client.zeebe.createWorker({
    taskType: JOB_TYPE, pollInterval: 100,
    taskHandler: (job) => {
      handled.push(job.key)
      return job.complete({ via: 'poll' })
    },
  })

  const results = await Promise.all([1, 2, 3].map((n) =>
    client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: PROCESS_ID, variables: { n } })))

  expect(results.map((r) => r.variables)).toEqual([1, 2, 3].map((n) => ({ n, via: 'poll' })))
  expect(new Set(handled).size).toBe(3)
})

test('CreateProcessInstanceWithResult returns the variables, or only fetchVariables', async () => {
  await deployServiceTask()
  await client.zeebe.streamJobs({
    type: JOB_TYPE, worker: 'answerer', timeout: 30_000, tenantIds: TENANT_IDS,
    taskHandler: (job) => job.complete({ answer: 42 }),
  })

  const all = await client.zeebe.createProcessInstanceWithResult({
    bpmnProcessId: PROCESS_ID, variables: { question: 'life' }, requestTimeout: 10_000,
  })
  const fetched = await client.zeebe.createProcessInstanceWithResult({
    bpmnProcessId: PROCESS_ID, variables: { question: 'life' }, fetchVariables: ['answer'],
  })

  expect(all).toMatchObject({ bpmnProcessId: PROCESS_ID, version: 1 })
  expect(all.variables).toEqual({ question: 'life', answer: 42 })
  expect(fetched.variables).toEqual({ answer: 42 })
})

test('CreateProcessInstanceWithResult answers DEADLINE_EXCEEDED when the instance does not complete in time', async () => {
  await deployServiceTask()

  const failure = await grpcFailure(client.zeebe.createProcessInstanceWithResult({
    bpmnProcessId: PROCESS_ID, variables: {}, requestTimeout: 300,
  }))

  expect(failure.code).toBe(GrpcStatus.DEADLINE_EXCEEDED)
})
