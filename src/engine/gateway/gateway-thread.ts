import { EventEmitter } from 'node:events'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { nameThreadSource, startSharedPoolFirst, THREAD_NAMES } from '../thread-name'

/**
 * The gRPC server (HTTP/2, framing, protobuf) runs in a thread of its own; the calls run on the
 * event loop, against the engine. The thread hands each call over as a plain object (method,
 * decoded request, metadata) and sends back what the event loop answers.
 *
 * Why a thread: under load every call's objects in grpc-js and Node's HTTP/2 live as long as the
 * call waits for its commit, longer than a young collection, so they die in old space; and
 * Node's HTTP/2 makes each request header value an external string, allocated directly in old
 * space. With the server on the event loop, both went into the engine's heap, whose major
 * collections then took longest: at a million waiting instances more than half the garbage
 * promoted, and 108 ms of a 428 ms pause finalising those strings (bench/PERFORMANCE.md). In the
 * thread they go into a heap of their own, small, collected without stopping the engine.
 *
 * The thread's code is plain JavaScript run with `eval` (as the writer thread's), requiring
 * grpc-js and proto-loader by their resolved paths: it runs the same from the sources and from
 * the build.
 */
const THREAD_SOURCE = `
${nameThreadSource(THREAD_NAMES.gateway)}
const { workerData } = require('node:worker_threads')
const grpc = require(workerData.grpc)
const protoLoader = require(workerData.protoLoader)
const port = workerData.port
// The SDK's own proto and proto-loader options: both ends agree on field names (keepCase), int64
// as decimal strings and enums as names.
const definition = protoLoader.loadSync(workerData.proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
const service = grpc.loadPackageDefinition(definition).gateway_protocol.Gateway.service
// Every answer tells the client that this gateway takes uncompressed messages only. The SDK's
// channel gzips its requests until the server says it does not accept the encoding; for messages
// of a few hundred bytes gzip costs more than it saves: 50,000 waiting instances were created at
// 824 to 936/s with it and 2,356/s without (bench/PERFORMANCE.md). A compressed request is still read.
const uncompressedRequests = (_method, call) => new grpc.ServerInterceptingCall(call, {
  sendMetadata: (metadata, next) => {
    metadata.set('grpc-accept-encoding', 'identity')
    next(metadata)
  },
})
const server = new grpc.Server({
  interceptors: [uncompressedRequests],
  // The SDK pings every 6 minutes by default; allow it rather than answering GOAWAY.
  'grpc.http2.min_ping_interval_without_data_ms': 10000,
  // Nothing serves channelz here, and its trackers are garbage on every call.
  'grpc.enable_channelz': 0,
})
const calls = new Map()
let nextId = 1
function textMetadata(call) {
  const map = call.metadata.getMap()
  const text = {}
  for (const key of Object.keys(map)) if (typeof map[key] === 'string') text[key] = map[key]
  return text
}
function open(name, call, callback) {
  const id = nextId++
  const entry = { call, callback }
  calls.set(id, entry)
  call.on('cancelled', () => {
    if (!calls.delete(id)) return
    port.postMessage({ type: 'cancelled', id })
  })
  port.postMessage({ type: 'call', id, method: name, request: call.request, metadata: textMetadata(call), streaming: callback === undefined })
}
const implementation = {}
for (const [name, method] of Object.entries(service)) {
  implementation[name] = method.responseStream ? (call) => open(name, call) : (call, callback) => open(name, call, callback)
}
server.addService(service, implementation)
port.on('message', (message) => {
  if (message.type === 'listen') {
    listen(message.address)
    return
  }
  if (message.type === 'shutdown') {
    let done = false
    const finish = () => {
      if (done) return
      done = true
      port.postMessage({ type: 'closed' })
    }
    const force = setTimeout(() => { server.forceShutdown(); finish() }, message.graceMs)
    server.tryShutdown(() => { clearTimeout(force); finish() })
    return
  }
  const entry = calls.get(message.id)
  if (message.type === 'write') {
    if (entry && !entry.call.cancelled && !entry.call.destroyed) entry.call.write(message.message)
    else port.postMessage({ type: 'undelivered', id: message.id, message: message.message })
    return
  }
  if (!entry) return
  calls.delete(message.id)
  if (message.type === 'answer') entry.callback(message.error ?? null, message.response)
  else if (message.type === 'end') entry.call.end()
  else if (message.type === 'fail') entry.call.emit('error', message.error)
})
function listen(address) {
  server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
    port.postMessage(error ? { type: 'failed', message: error.message } : { type: 'bound', port: bound })
  })
}
`

/**
 * The thread's young generation, larger than V8's default: a call's objects live as long as the
 * call waits for its commit. With 300,000 creations, 256 in flight, it halved the thread's young
 * collections (627 to 312) and their time (10.1 to 7.5 s), and creation went from 2,764 to 2,994/s.
 */
const YOUNG_GENERATION_MB = 64

/** A gRPC status sent to the client: a code of grpc.status and its details. */
export interface CallStatus { code: number; details: string }

/** The metadata of a call: its text values by key (lower case). */
export class CallMetadata {
  constructor(private readonly values: Record<string, string>) {}

  /** The value of `key` as a one-element list, or an empty list (as grpc-js's Metadata.get). */
  get(key: string): string[] {
    const value = this.values[key]
    return value === undefined ? [] : [value]
  }
}

/** A unary call handed over by the thread. */
export interface UnaryCall {
  request: unknown
  metadata: CallMetadata
}

export type UnaryCallback = (error: CallStatus | null, response?: unknown) => void

/**
 * A call whose answer is a stream of messages (ActivateJobs, StreamActivatedJobs), handed over by
 * the thread. As a grpc-js server stream: `write`, `end`, `emit('error', status)` to fail it;
 * `cancelled` and the 'cancelled' event once the client went away. A message written that the
 * thread could no longer send (the client had gone meanwhile) comes back to
 * `ThreadCalls.undelivered`, so that its jobs can be handed to another worker.
 */
export class GatewayStream extends EventEmitter {
  cancelled = false
  /** true once ended or failed: nothing more is sent */
  destroyed = false

  constructor(readonly request: unknown, readonly metadata: CallMetadata, private readonly send: (message: ToThread) => void, private readonly id: number) {
    super()
    // As grpc-js's streams: an 'error' emitted to fail the call is not an unhandled error.
    this.on('error', () => undefined)
  }

  write(message: unknown): boolean {
    if (this.destroyed) return false
    this.send({ type: 'write', id: this.id, message })
    return true
  }

  end(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.send({ type: 'end', id: this.id })
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && !this.destroyed) {
      this.destroyed = true
      const { code, details } = args[0] as CallStatus
      this.send({ type: 'fail', id: this.id, error: { code, details } })
    }
    return super.emit(event, ...args)
  }
}

export type Handler = ((call: UnaryCall, callback: UnaryCallback) => void) | ((call: GatewayStream) => void)

/** The calls the thread hands over: by method name, and whether its answer is a stream. */
export interface ThreadCalls {
  unary(method: string, call: UnaryCall, callback: UnaryCallback): void
  stream(method: string, call: GatewayStream): void
  /** A message written to a stream that the thread could no longer send: the client had gone meanwhile. */
  undelivered(message: unknown): void
}

type FromThread =
  | { type: 'call'; id: number; method: string; request: unknown; metadata: Record<string, string>; streaming: boolean }
  | { type: 'cancelled'; id: number }
  | { type: 'undelivered'; id: number; message: unknown }
  | { type: 'bound'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' }

type ToThread =
  | { type: 'write'; id: number; message: unknown }
  | { type: 'end'; id: number }
  | { type: 'fail'; id: number; error: CallStatus }

/** A byte field arrives as a Uint8Array (structured clone); the request decoders expect Buffers, as grpc-js gives. */
function withBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (Array.isArray(value)) return value.map(withBuffers)
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>
    for (const key of Object.keys(object)) {
      const field = object[key]
      if (field !== null && typeof field === 'object') object[key] = withBuffers(field)
    }
  }
  return value
}

/**
 * The gRPC server thread. `spawn` starts it: it loads grpc-js and the proto meanwhile (about
 * 200 ms), so it is spawned first thing and told to `listen` once the engine can take calls.
 */
export class GatewayThread {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly streams = new Map<number, GatewayStream>()
  private readonly unaryCalls = new Set<number>()
  private calls: ThreadCalls | undefined
  private closedThen: (() => void) | undefined
  private stopped = false
  /** what stopped the thread before it listened (its modules failed to load, say) */
  private failure: Error | undefined
  private listening: { bound(port: number): void; failed(error: Error): void } | undefined

  private constructor() {
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    startSharedPoolFirst()
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        proto: require.resolve('@camunda8/sdk/dist/proto/zeebe.proto'), port: port2,
        grpc: require.resolve('@grpc/grpc-js'), protoLoader: require.resolve('@grpc/proto-loader'),
      },
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    })
    this.worker.on('error', (error) => {
      if (this.stopped) return
      this.failure = error
      if (this.listening) this.listening.failed(error)
      else if (this.calls) console.error(`[grpc-gateway] the gateway thread stopped: ${error.message}`)
    })
    this.worker.on('exit', () => {
      this.stopped = true
      this.failure ??= new Error('the gateway thread stopped')
      this.listening?.failed(this.failure)
      this.closedThen?.()
    })
    this.port.on('message', (message: FromThread) => {
      if (message.type === 'bound') this.listening?.bound(message.port)
      else if (message.type === 'failed') this.listening?.failed(new Error(message.message))
      else if (message.type === 'closed') void this.worker.terminate()
      else this.received(message)
    })
  }

  /** Starts the thread, not listening yet. */
  static spawn(): GatewayThread {
    return new GatewayThread()
  }

  /** Starts the thread and has it listen on `address`. */
  static async start(address: string, calls: ThreadCalls): Promise<{ thread: GatewayThread; port: number }> {
    const thread = GatewayThread.spawn()
    return { thread, port: await thread.listen(address, calls) }
  }

  /**
   * Listens on `address` (host:port; port 0 picks one) and hands the calls to `calls`. Resolves
   * with the port bound; rejects with the reason it could not (the thread is then stopped).
   */
  listen(address: string, calls: ThreadCalls): Promise<number> {
    if (this.failure) {
      void this.worker.terminate()
      return Promise.reject(this.failure)
    }
    this.calls = calls
    return new Promise<number>((resolve, reject) => {
      this.listening = {
        bound: (port) => {
          this.listening = undefined
          resolve(port)
        },
        failed: (error) => {
          this.listening = undefined
          void this.worker.terminate()
          reject(error)
        },
      }
      this.port.postMessage({ type: 'listen', address })
    })
  }

  /** Stops a thread that is not listening (a start that failed before). */
  stop(): Promise<void> {
    this.stopped = true
    return this.worker.terminate().then(() => undefined)
  }

  /** Stops accepting calls, lets those in flight finish for up to `graceMs`, then stops the thread. */
  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) { resolve(); return }
      this.closedThen = resolve
      this.port.postMessage({ type: 'shutdown', graceMs })
    })
  }

  private received(message: Exclude<FromThread, { type: 'bound' | 'failed' | 'closed' }>): void {
    const calls = this.calls
    // (no call comes before the thread listens, which is only once `calls` is set)
    if (!calls) return
    if (message.type === 'call') {
      const metadata = new CallMetadata(message.metadata)
      const request = withBuffers(message.request)
      const { id } = message
      if (message.streaming) {
        const stream = new GatewayStream(request, metadata, (out) => this.send(out, id), id)
        this.streams.set(id, stream)
        calls.stream(message.method, stream)
      } else {
        this.unaryCalls.add(id)
        calls.unary(message.method, { request, metadata }, (error, response) => {
          if (!this.unaryCalls.delete(id)) return
          this.port.postMessage(error ? { type: 'answer', id, error: { code: error.code, details: error.details } } : { type: 'answer', id, response })
        })
      }
    } else if (message.type === 'cancelled') {
      this.unaryCalls.delete(message.id)
      const stream = this.streams.get(message.id)
      if (!stream) return
      this.streams.delete(message.id)
      stream.cancelled = true
      stream.emit('cancelled')
    } else {
      calls.undelivered(message.message)
    }
  }

  private send(message: ToThread, id: number): void {
    if (message.type !== 'write') this.streams.delete(id)
    this.port.postMessage(message)
  }
}
