/**
 * The gateway thread speaks gRPC's HTTP/2 protocol itself (gateway-thread.ts), not through
 * grpc-js's server. What a client could see of grpc-js's server is kept, and proved here with raw
 * HTTP/2 requests and with grpc-js's own client: the request limit, compressed requests, deadlines,
 * unknown methods, other content, malformed messages, names that resolve to several addresses,
 * and a graceful shutdown. After each refusal the gateway goes on serving.
 */
import dns from 'node:dns/promises'
import http2 from 'node:http2'
import zlib from 'node:zlib'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { GatewayThread, type GatewayStream, type ThreadCalls, type UnaryCall, type UnaryCallback } from '../../src/engine/gateway/gateway-thread'

const definition = protoLoader.loadSync(require.resolve('@camunda8/sdk/dist/proto/zeebe.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
const gateway = definition['gateway_protocol.Gateway'] as unknown as Record<string, { requestSerialize(value: unknown): Buffer; responseDeserialize(bytes: Buffer): unknown }>
type GatewayClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>

function gatewayClient(port: number, host = '127.0.0.1'): GatewayClient {
  const protocol = grpc.loadPackageDefinition(definition).gateway_protocol as grpc.GrpcObject
  const Gateway = protocol.Gateway as grpc.ServiceClientConstructor
  return new Gateway(`${host}:${port}`, grpc.credentials.createInsecure()) as unknown as GatewayClient
}

/** Answers Topology at once; keeps every other call, for the test to answer or watch. */
class Calls implements ThreadCalls {
  readonly held: { method: string; call: UnaryCall | GatewayStream; callback?: UnaryCallback; cancelled: boolean }[] = []

  unary(method: string, call: UnaryCall, callback: UnaryCallback): void {
    if (method === 'Topology') callback(null, { clusterSize: 1, gatewayVersion: '8.8.0' })
    else this.held.push({ method, call, callback, cancelled: false })
  }

  stream(method: string, call: GatewayStream): void {
    const entry = { method, call, cancelled: false }
    call.on('cancelled', () => { entry.cancelled = true })
    this.held.push(entry)
  }

  undelivered(): void {}
}

interface RawAnswer { status: number; headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; messages: Buffer[] }

/** One call over a fresh HTTP/2 connection: the body as given, the answer as it came. */
function rawCall(port: number, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers })
    let answer: Omit<RawAnswer, 'trailers'> = { status: 0, headers: {}, messages: [] }
    const chunks: Buffer[] = []
    request.on('response', (h) => { answer = { ...answer, status: Number(h[':status']), headers: h } })
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    let trailers: http2.IncomingHttpHeaders = {}
    request.on('trailers', (t) => { trailers = t })
    request.on('close', () => {
      session.close()
      const all = Buffer.concat(chunks)
      for (let at = 0; at + 5 <= all.length; at += 5 + all.readUInt32BE(at + 1)) answer.messages.push(all.subarray(at + 5, at + 5 + all.readUInt32BE(at + 1)))
      // a trailers-only answer carries its status in the headers
      resolve({ ...answer, trailers: trailers['grpc-status'] !== undefined ? trailers : answer.headers })
    })
    request.on('error', reject)
    request.end(body)
  })
}

function framed(message: Buffer, compressed = false): Buffer {
  const head = Buffer.from([compressed ? 1 : 0, 0, 0, 0, 0])
  head.writeUInt32BE(message.length, 1)
  return Buffer.concat([head, message])
}

const TOPOLOGY = '/gateway_protocol.Gateway/Topology'
const CREATE = '/gateway_protocol.Gateway/CreateProcessInstance'

let thread: GatewayThread
let port: number
let calls: Calls

beforeEach(async () => {
  calls = new Calls()
  const started = await GatewayThread.start('127.0.0.1:0', calls)
  thread = started.thread
  port = started.port
})

afterEach(async () => {
  await thread.close(100)
})

async function stillServes(): Promise<void> {
  const answer = await rawCall(port, TOPOLOGY, framed(Buffer.alloc(0)))
  expect(answer.trailers['grpc-status']).toBe('0')
  expect(gateway.Topology.responseDeserialize(answer.messages[0])).toMatchObject({ clusterSize: 1, gatewayVersion: '8.8.0' })
}

test('a unary answer carries its headers, one message and an OK status in the trailers', async () => {
  const answer = await rawCall(port, TOPOLOGY, framed(Buffer.alloc(0)))
  expect(answer.status).toBe(200)
  expect(answer.headers['content-type']).toBe('application/grpc+proto')
  expect(answer.headers['grpc-accept-encoding']).toBe('identity')
  expect(answer.messages).toHaveLength(1)
  expect(answer.trailers['grpc-status']).toBe('0')
})

test('an unknown method is answered UNIMPLEMENTED, naming it', async () => {
  const answer = await rawCall(port, '/gateway_protocol.Gateway/NoSuchMethod', framed(Buffer.alloc(0)))
  expect(answer.trailers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED))
  expect(decodeURI(String(answer.trailers['grpc-message']))).toBe('The server does not implement the method /gateway_protocol.Gateway/NoSuchMethod')
  await stillServes()
})

test('a request that is not gRPC is answered 415', async () => {
  const answer = await rawCall(port, TOPOLOGY, Buffer.from('{}'), { 'content-type': 'application/json' })
  expect(answer.status).toBe(415)
  await stillServes()
})

test('a request message over 4 MiB is refused RESOURCE_EXHAUSTED with its size, before it has all come; the call never reaches the event loop', async () => {
  const variables = JSON.stringify({ big: 'x'.repeat(4 * 1024 * 1024) })
  const body = framed(gateway.CreateProcessInstance.requestSerialize({ bpmnProcessId: 'p', variables }))
  const answer = await rawCall(port, CREATE, body)
  expect(answer.trailers['grpc-status']).toBe(String(grpc.status.RESOURCE_EXHAUSTED))
  expect(decodeURI(String(answer.trailers['grpc-message']))).toMatch(/^Received message larger than max \(\d+ vs\. 4194304\)$/)
  expect(calls.held).toHaveLength(0)
  await stillServes()
})

test('gzip and deflate requests are read; one that inflates past 4 MiB is refused RESOURCE_EXHAUSTED', async () => {
  const request = gateway.CreateProcessInstance.requestSerialize({ bpmnProcessId: 'p', variables: '{"a":1}' })
  // when a client sends a gzip request, then a deflate one, each arrives decoded
  await rawCall(port, TOPOLOGY, framed(zlib.gzipSync(Buffer.alloc(0)), true), { 'grpc-encoding': 'gzip' })
  const answered = [rawCall(port, CREATE, framed(zlib.gzipSync(request), true), { 'grpc-encoding': 'gzip' }), rawCall(port, CREATE, framed(zlib.deflateSync(request), true), { 'grpc-encoding': 'deflate' })]
  while (calls.held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(calls.held.map((held) => (held.call as UnaryCall).request)).toEqual([
    expect.objectContaining({ bpmnProcessId: 'p', variables: '{"a":1}' }), expect.objectContaining({ bpmnProcessId: 'p', variables: '{"a":1}' }),
  ])
  for (const held of calls.held) held.callback?.(null, { processInstanceKey: '1' })
  for (const answer of await Promise.all(answered)) expect(answer.trailers['grpc-status']).toBe('0')
  // when a small gzip message inflates past the limit, it is refused
  const bomb = zlib.gzipSync(gateway.CreateProcessInstance.requestSerialize({ bpmnProcessId: 'p', variables: JSON.stringify({ big: ' '.repeat(5 * 1024 * 1024) }) }))
  expect(bomb.length).toBeLessThan(100_000)
  const refused = await rawCall(port, CREATE, framed(bomb, true), { 'grpc-encoding': 'gzip' })
  expect(refused.trailers['grpc-status']).toBe(String(grpc.status.RESOURCE_EXHAUSTED))
  expect(decodeURI(String(refused.trailers['grpc-message']))).toBe('Received message that decompresses to a size larger than 4194304')
  // and an encoding the gateway does not know is UNIMPLEMENTED, naming it
  const unknown = await rawCall(port, CREATE, framed(request, true), { 'grpc-encoding': 'snappy' })
  expect(unknown.trailers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED))
  expect(decodeURI(String(unknown.trailers['grpc-message']))).toBe('Received message compressed with unsupported encoding "snappy"')
  await stillServes()
})

test('a malformed message is refused INTERNAL naming the decoding error; no message at all, or two, are refused UNIMPLEMENTED', async () => {
  // (field 99 with wire type 7, which protobuf does not have)
  const malformed = await rawCall(port, CREATE, framed(Buffer.from([0x9f, 0x06, 0x01])))
  expect(malformed.trailers['grpc-status']).toBe(String(grpc.status.INTERNAL))
  expect(decodeURI(String(malformed.trailers['grpc-message']))).toMatch(/^Error deserializing request: /)
  const none = await rawCall(port, CREATE, Buffer.alloc(0))
  expect(none.trailers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED))
  expect(decodeURI(String(none.trailers['grpc-message']))).toBe(`Received no request message for method ${CREATE}`)
  const two = await rawCall(port, TOPOLOGY, Buffer.concat([framed(Buffer.alloc(0)), framed(Buffer.alloc(0))]))
  expect(two.trailers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED))
  expect(calls.held).toHaveLength(0)
  await stillServes()
})

test('a call past its grpc-timeout is answered DEADLINE_EXCEEDED and cancelled on the event loop; a bad timeout is refused', async () => {
  // given a stream whose client set a 200 ms deadline, held by the event loop
  const answer = rawCall(port, '/gateway_protocol.Gateway/ActivateJobs',
    framed(gateway.ActivateJobs.requestSerialize({ type: 'work', worker: 'w', maxJobsToActivate: 1, timeout: '1000', requestTimeout: '60000' })), { 'grpc-timeout': '200m' })
  // then the client is told DEADLINE_EXCEEDED, and the event loop's stream is cancelled
  expect((await answer).trailers['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED))
  while (!calls.held[0]?.cancelled) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(calls.held[0].method).toBe('ActivateJobs')
  const bad = await rawCall(port, TOPOLOGY, framed(Buffer.alloc(0)), { 'grpc-timeout': 'soon' })
  expect(bad.trailers['grpc-status']).toBe(String(grpc.status.INTERNAL))
  expect(decodeURI(String(bad.trailers['grpc-message']))).toBe('Invalid grpc-timeout value "soon"')
})

test('error details outside ASCII reach a grpc-js client whole', async () => {
  const client = gatewayClient(port)
  try {
    const failed = new Promise<grpc.ServiceError>((resolve) => client.CancelProcessInstance({ processInstanceKey: '1' }, resolve))
    while (calls.held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
    calls.held[0].callback?.({ code: grpc.status.NOT_FOUND, details: 'Instance « 1 » introuvable: 100% sûr\nligne 2' })
    const error = await failed
    expect(error.code).toBe(grpc.status.NOT_FOUND)
    expect(error.details).toBe('Instance « 1 » introuvable: 100% sûr\nligne 2')
  } finally {
    client.close()
  }
})

test('a name that resolves is bound on each of its addresses, on one port', async () => {
  // given the addresses this machine resolves localhost to (127.0.0.1, and ::1 where IPv6 is on)
  const addresses = (await dns.lookup('localhost', { all: true })).map((found) => found.address)
  // when a gateway listens on localhost
  const named = await GatewayThread.start('localhost:0', new Calls())
  try {
    // then a client reaches it on each of them
    for (const address of addresses) {
      const client = gatewayClient(named.port, address.includes(':') ? `[${address}]` : address)
      try {
        const topology = await new Promise<unknown>((resolve, reject) => client.Topology({}, (error: Error | null, answer: unknown) => (error ? reject(error) : resolve(answer))))
        expect(topology).toMatchObject({ clusterSize: 1 })
      } finally {
        client.close()
      }
    }
  } finally {
    await named.thread.close(100)
  }
})

test('close answers the calls in flight within the grace period, then cuts the streams still open', async () => {
  // given a unary call and a job stream held by the event loop
  const client = gatewayClient(port)
  try {
    const unary = new Promise<unknown>((resolve, reject) => client.CancelProcessInstance({ processInstanceKey: '1' }, (error: Error | null, answer: unknown) => (error ? reject(error) : resolve(answer))))
    const stream = client.StreamActivatedJobs({ type: 'work', worker: 'w', timeout: '1000', fetchVariable: [], tenantIds: [] }) as grpc.ClientReadableStream<unknown>
    const streamEnded = new Promise<void>((resolve) => { stream.on('error', () => resolve()); stream.on('end', () => resolve()) })
    while (calls.held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    // when the gateway closes with a grace period, and the unary call is answered meanwhile
    const closed = thread.close(300)
    calls.held.find((held) => held.method === 'CancelProcessInstance')?.callback?.(null, {})
    // then the unary call gets its answer, and the stream is cut once the grace period is over
    await expect(unary).resolves.toEqual({})
    await closed
    await streamEnded
  } finally {
    client.close()
  }
})
