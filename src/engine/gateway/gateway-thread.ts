import { EventEmitter } from 'node:events'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { MAX_VARIABLE_DEPTH } from '../protocol'
import { nameThreadSource, startSharedPoolFirst, THREAD_NAMES } from '../thread-name'

/**
 * The gRPC server (HTTP/2, framing, protobuf) runs in a thread of its own; the calls run on the
 * event loop, against the engine. The thread hands each call over as a plain object (method,
 * decoded request, metadata) and sends back what the event loop answers.
 *
 * The server is gRPC's HTTP/2 protocol (grpc/doc/PROTOCOL-HTTP2.md) on `node:http2`, with the
 * proto's codecs from proto-loader, not grpc-js's server: a call takes one request message and
 * answers one message or a stream of them, which is all the gateway's methods do. grpc-js's
 * server layers (interceptors, metadata objects, filters, per-call trackers) took about 60 µs of
 * CPU per instance in a do-nothing gateway driven by the bench, 37 % of all it used
 * (bench/PERFORMANCE.md). What grpc-js's server does that callers see is kept: the 4 MiB request
 * limit, gzip and deflate requests, `grpc-timeout` deadlines, UNIMPLEMENTED for unknown methods,
 * 415 for other content, statuses in trailers (trailers-only when nothing was sent), and a
 * graceful shutdown. Node's HTTP/2 answers the clients' keepalive pings itself, at any rate.
 *
 * Why a thread: under load every call's objects in grpc-js and Node's HTTP/2 live as long as the
 * call waits for its commit, longer than a young collection, so they die in old space; and
 * Node's HTTP/2 makes each request header value an external string, allocated directly in old
 * space. With the server on the event loop, both went into the engine's heap, whose major
 * collections then took longest: at a million waiting instances more than half the garbage
 * promoted, and 108 ms of a 428 ms pause finalising those strings (bench/PERFORMANCE.md). In the
 * thread they go into a heap of their own, small, collected without stopping the engine.
 *
 * What crosses between the thread and the event loop goes in batches (OUTBOX): the calls a turn
 * of the thread decoded in one message, the answers and stream messages one task of the event loop
 * wrote (a commit's answers, say) in one message. One message a call cost each side a copy and, when the other
 * thread slept, a wake-up; on two cores shared with the client both showed. With the batches,
 * `npm run bench:engine` measured 16 to 42 µs less CPU per instance in the engine (raccord-grpc 14,
 * the event loop 14 durable), and 7 % more instances/s durable, 12 % in memory
 * (bench/PERFORMANCE.md).
 *
 * A command's answer goes only once its commands are committed to the log. The log thread tells
 * this thread directly how far it has committed (COMMITS), and the answers (and the jobs pushed on
 * streams) wait here for their position, given by the event loop with them. Before, each waited
 * on the event loop, which learned of the commit from the log thread and then posted the answer
 * here: one more hop between threads, on two cores busy with the client too.
 *
 * The thread's code is plain JavaScript run with `eval` (as the writer thread's), requiring
 * proto-loader by its resolved path: it runs the same from the sources and from the build.
 */
/** Variables this long or longer are parsed in the thread (preparse, in the thread's code). */
export const PREPARSE_CHARS = 65_536
/** A call whose request message is this long or longer goes to the event loop alone (LONG CALLS, in the thread's code). */
export const LONG_REQUEST_BYTES = 65_536

const THREAD_SOURCE = `
${nameThreadSource(THREAD_NAMES.gateway)}
const http2 = require('node:http2')
const zlib = require('node:zlib')
const net = require('node:net')
const dns = require('node:dns')
const { workerData } = require('node:worker_threads')
const protoLoader = require(workerData.protoLoader)
const port = workerData.port
// The SDK's own proto and proto-loader options: both ends agree on field names (keepCase), int64
// as decimal strings and enums as names. The requests are decoded and the answers encoded by the
// same functions grpc-js would use (each method's requestDeserialize and responseSerialize).
const definition = protoLoader.loadSync(workerData.proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
const service = definition['gateway_protocol.Gateway']
const methods = new Map()
for (const name of Object.keys(service)) methods.set(service[name].path, { name, method: service[name] })

const OK = 0, DEADLINE_EXCEEDED = 4, RESOURCE_EXHAUSTED = 8, UNIMPLEMENTED = 12, INTERNAL = 13, UNAVAILABLE = 14
// A request message may be 4 MiB, as grpc-js's servers allow by default.
const MAX_MESSAGE = 4 * 1024 * 1024
// Every answer tells the client that this gateway takes uncompressed messages only. The SDK's
// channel gzips its requests until the server says it does not accept the encoding; for messages
// of a few hundred bytes gzip costs more than it saves: 50,000 waiting instances were created at
// 824 to 936/s with it and 2,356/s without (bench/PERFORMANCE.md). A compressed request is still read.
const HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity', 'grpc-encoding': 'identity' }
// (no Date header: gRPC has no use for it, and Zeebe's gateway sends none)
const SEND_HEADERS = { waitForTrailers: true, sendDate: false }
const TRAILERS_ONLY = { endStream: true, sendDate: false }
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' }
// Messages to the event loop wait for the end of this turn of the thread's loop, and go in one
// postMessage (OUTBOX, below).
// LONG CALLS: a call whose request message is ${LONG_REQUEST_BYTES} bytes or more is the last of its
// postMessage, and nothing more goes until the event loop tells it has taken it ('taken'). The
// event loop takes every message of a port that has come in, one after the other, in one task,
// each copied onto its heap as it is received (about 9 ms for 3 MB): with four creations of 3 MB
// in flight, its longest stretches of work were 50 to 73 ms of that, during which nothing else (a
// REST call, say) was answered. Paced, it receives one, then gets back to the rest; the calls keep
// their order. The bench's 3 MB creations ran 38 to 45 MB/s with this, 30 to 35 MB/s without
// (bench/PERFORMANCE.md).
let outbox = []
let longInFlight = false
function toLoop(message) {
  outbox.push(message)
  if (outbox.length === 1 && !longInFlight) setImmediate(flushOutbox)
}
function flushOutbox() {
  if (longInFlight || outbox.length === 0) return
  let n = outbox.findIndex((message) => message.long === true) + 1
  if (n === 0) n = outbox.length
  else longInFlight = true
  const messages = n === outbox.length ? outbox : outbox.slice(0, n)
  outbox = n === outbox.length ? [] : outbox.slice(n)
  port.postMessage(messages.length === 1 ? messages[0] : { type: 'batch', messages })
}
function taken() {
  longInFlight = false
  if (outbox.length > 0) setImmediate(flushOutbox)
}
// A variables field of PREPARSE_CHARS or more is parsed here, off the event loop, and handed over
// as the object with the text's length (requests.ts, VariablesField): there, a 3 MB document cost
// the copy of its text, then the parse (bench/PERFORMANCE.md). Text that is not a JSON object goes
// over as it is, for the event loop to name the problem as for any other; so does a document nested
// past the limit, whose structured clone could also overflow the stack.
// Each string variable of PREPARSE_CHARS or more also goes with its JSON as UTF-8 bytes, in shared
// memory: the event loop hands them on to the writer threads without a copy, where handing over a
// 3 MB string took it 7 to 25 ms (bench/PERFORMANCE.md).
function preparse(request) {
  const text = request.variables
  if (typeof text !== 'string' || text.length < ${PREPARSE_CHARS}) return
  let parsed
  try { parsed = JSON.parse(text) } catch { return }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || nestedPast(parsed, ${MAX_VARIABLE_DEPTH})) return
  const values = {}
  for (const name of Object.keys(parsed)) {
    const value = parsed[name]
    // (a variable named __proto__ would set the object's prototype here: it goes as its value)
    if (typeof value !== 'string' || value.length < ${PREPARSE_CHARS} || name === '__proto__') continue
    values[name] = jsonBytes(value)
  }
  request.variables = { parsed, chars: text.length, values }
}
// A string's JSON (as JSON.stringify writes it) in UTF-8, in a SharedArrayBuffer of its own;
// written straight when nothing in the string needs escaping (quotes, backslashes, control
// characters, surrogates).
const ESCAPED = /["\\\\\\u0000-\\u001f\\ud800-\\udfff]/
function jsonBytes(value) {
  const json = ESCAPED.test(value) ? JSON.stringify(value) : undefined
  const length = json === undefined ? Buffer.byteLength(value, 'utf8') + 2 : Buffer.byteLength(json, 'utf8')
  const bytes = Buffer.from(new SharedArrayBuffer(length))
  if (json !== undefined) {
    bytes.write(json, 0, 'utf8')
  } else {
    bytes[0] = 0x22
    bytes.write(value, 1, 'utf8')
    bytes[length - 1] = 0x22
  }
  return bytes
}
function nestedPast(document, limit) {
  const stack = [[document, 1]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next[1] > limit) return true
    for (const child of Object.values(next[0])) if (child !== null && typeof child === 'object') stack.push([child, next[1] + 1])
  }
  return false
}
// Not handed to the calls as metadata (as grpc-js)
const TRANSPORT_HEADERS = new Set(['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'])
const TIMEOUT_UNITS = { H: 3600000, M: 60000, S: 1000, m: 1, u: 0.001, n: 0.000001 }
const noop = () => undefined

const servers = []
const sessions = new Set()
let closing = false
// calls handed to the event loop, by id, until they are answered, ended or cancelled
const calls = new Map()
let nextId = 1

function status(code, details) {
  let message
  try { message = encodeURI(details) } catch { message = encodeURI(String(details).replace(/[\\uD800-\\uDFFF]/g, '\\uFFFD')) }
  return { 'grpc-status': String(code), 'grpc-message': message }
}

// A message framed as gRPC does: a byte for compression (none), its length, the message.
function frame(message) {
  const framed = Buffer.allocUnsafe(message.length + 5)
  framed[0] = 0
  framed.writeUInt32BE(message.length, 1)
  message.copy(framed, 5)
  return framed
}

class Call {
  constructor(stream, headers, name, method) {
    this.stream = stream
    this.headers = headers
    this.name = name
    this.method = method
    this.id = 0
    this.chunks = []
    this.size = 0
    // (once the first 5 bytes have come: the message's length is checked then)
    this.lengthRead = false
    this.headersSent = false
    // true once the status is sent or the client went away: nothing more goes out
    this.finished = false
    this.timer = undefined
  }

  // Ends the call with a status: in the trailers, or as a trailers-only answer if nothing was sent.
  finish(code, details) {
    if (this.finished) return
    this.finished = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    const stream = this.stream
    if (stream.destroyed || stream.closed) return
    try {
      if (this.headersSent) {
        const trailers = code === OK ? OK_TRAILERS : status(code, details)
        stream.once('wantTrailers', () => stream.sendTrailers(trailers))
        stream.end()
      } else {
        stream.respond(Object.assign({}, HEADERS, status(code, details)), TRAILERS_ONLY)
      }
    } catch {
      // the stream closed meanwhile: the client has gone
    }
  }

  // Sends one message, the headers first if not sent yet. false if the call can no longer send.
  send(message, last) {
    if (this.finished || this.stream.destroyed || this.stream.closed) return false
    let framed
    try {
      framed = frame(this.method.responseSerialize(message))
    } catch (error) {
      this.finish(INTERNAL, 'Error serializing response: ' + error.message)
      return true
    }
    const stream = this.stream
    try {
      if (!this.headersSent) {
        this.headersSent = true
        stream.respond(HEADERS, SEND_HEADERS)
      }
      if (last) {
        this.finished = true
        if (this.timer !== undefined) clearTimeout(this.timer)
        stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS))
        stream.end(framed)
      } else {
        stream.write(framed)
      }
    } catch {
      return false
    }
    return true
  }

  received(chunk) {
    if (this.finished) return
    this.chunks.push(chunk)
    this.size += chunk.length
    // a message longer than allowed is refused from its length, before it has all come
    if (!this.lengthRead && this.size >= 5) {
      this.lengthRead = true
      const head = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks)
      const length = head.readUInt32BE(1)
      if (length > MAX_MESSAGE) this.refuse(RESOURCE_EXHAUSTED, 'Received message larger than max (' + length + ' vs. ' + MAX_MESSAGE + ')')
    }
    if (this.size > 2 * (MAX_MESSAGE + 5)) this.refuse(RESOURCE_EXHAUSTED, 'Received more than ' + 2 * MAX_MESSAGE + ' bytes for one call')
  }

  refuse(code, details) {
    this.chunks = []
    this.finish(code, details)
  }

  // The client has sent all of its request: decode it and hand the call to the event loop.
  ended() {
    if (this.finished) return
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    this.chunks = []
    const path = this.headers[':path']
    if (all.length < 5 || all.length < all.readUInt32BE(1) + 5) return this.refuse(UNIMPLEMENTED, 'Received no request message for method ' + path)
    const length = all.readUInt32BE(1)
    if (all.length > length + 5) return this.refuse(UNIMPLEMENTED, 'Received a second request message for method ' + path)
    let body = all.subarray(5)
    if (all[0] === 1) {
      const encoding = this.headers['grpc-encoding']
      try {
        if (encoding === 'gzip') body = zlib.gunzipSync(body, { maxOutputLength: MAX_MESSAGE })
        else if (encoding === 'deflate') body = zlib.inflateSync(body, { maxOutputLength: MAX_MESSAGE })
        else return this.refuse(UNIMPLEMENTED, 'Received message compressed with unsupported encoding "' + encoding + '"')
      } catch (error) {
        if (error.code === 'ERR_BUFFER_TOO_LARGE') return this.refuse(RESOURCE_EXHAUSTED, 'Received message that decompresses to a size larger than ' + MAX_MESSAGE)
        return this.refuse(INTERNAL, 'Failed to decompress message')
      }
    }
    let request
    try {
      request = this.method.requestDeserialize(body)
    } catch (error) {
      return this.refuse(INTERNAL, 'Error deserializing request: ' + error.message)
    }
    preparse(request)
    if (request.request) preparse(request.request)
    this.id = nextId++
    calls.set(this.id, this)
    const call = { type: 'call', id: this.id, method: this.name, request, metadata: textMetadata(this.headers), streaming: this.method.responseStream }
    if (length >= ${LONG_REQUEST_BYTES}) call.long = true
    toLoop(call)
  }

  // The stream is closed: if the call was not finished, the client went away (or its deadline passed).
  closed() {
    if (this.finished) return
    this.finished = true
    this.chunks = []
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.cancelled()
  }

  cancelled() {
    if (this.id !== 0 && calls.delete(this.id)) toLoop({ type: 'cancelled', id: this.id })
  }
}

// The text metadata of a call, as grpc-js's Metadata.getMap(): each key's first value.
function textMetadata(headers) {
  const text = {}
  for (const key of Object.keys(headers)) {
    if (key.charCodeAt(0) === 58 || key.endsWith('-bin') || TRANSPORT_HEADERS.has(key)) continue
    const value = headers[key]
    if (typeof value === 'string') text[key] = value
    else if (Array.isArray(value) && value.length > 0) text[key] = value[0]
  }
  return text
}

function onStream(stream, headers) {
  stream.on('error', noop)
  const contentType = headers['content-type']
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
    stream.respond({ ':status': 415 }, { endStream: true })
    return
  }
  const path = headers[':path']
  const entry = methods.get(path)
  if (entry === undefined) {
    stream.respond(Object.assign({}, HEADERS, status(UNIMPLEMENTED, 'The server does not implement the method ' + path)), TRAILERS_ONLY)
    return
  }
  const call = new Call(stream, headers, entry.name, entry.method)
  if (closing) return call.refuse(UNAVAILABLE, 'The gateway is shutting down')
  const timeout = headers['grpc-timeout']
  if (timeout !== undefined) {
    const match = /^(\\d{1,8})([HMSmun])$/.exec(timeout)
    if (match === null) return call.refuse(INTERNAL, 'Invalid grpc-timeout value "' + timeout + '"')
    const ms = Math.ceil(Number(match[1]) * TIMEOUT_UNITS[match[2]])
    // (a deadline past setTimeout's range is as good as none)
    if (ms <= 0x7fffffff) call.timer = setTimeout(() => { call.finish(DEADLINE_EXCEEDED, 'Deadline exceeded'); call.cancelled() }, ms)
  }
  stream.on('data', (chunk) => call.received(chunk))
  stream.on('end', () => call.ended())
  stream.on('close', () => call.closed())
}

function onSession(session) {
  sessions.add(session)
  session.on('error', noop)
  session.on('close', () => sessions.delete(session))
}

async function listen(address) {
  const colon = address.lastIndexOf(':')
  const host = address.slice(0, colon).replace(/^\\[(.*)\\]$/, '$1')
  let bound = Number(address.slice(colon + 1))
  let hosts
  try {
    hosts = net.isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((found) => found.address)
  } catch (error) {
    toLoop({ type: 'failed', message: 'cannot resolve ' + host + ': ' + error.message })
    return
  }
  // As grpc-js: every address the name resolves to, on one port; refused only if none could be bound.
  const errors = []
  for (const each of hosts) {
    // maxSessionMemory: as grpc-js, Node's per-session limit is not enforced (calls of several MB
    // would otherwise be refused with ENHANCE_YOUR_CALM).
    const server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER })
    server.on('stream', onStream)
    server.on('session', onSession)
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(bound, each, () => { server.off('error', reject); resolve() })
      })
      bound = server.address().port
      server.on('error', noop)
      servers.push(server)
    } catch (error) {
      errors.push(each + ':' + bound + ': ' + error.message)
    }
  }
  if (servers.length === 0) toLoop({ type: 'failed', message: 'No address added out of total ' + hosts.length + ' resolved: ' + errors.join('; ') })
  else toLoop({ type: 'bound', port: bound })
}

// Stops taking connections and calls; the calls in flight have graceMs to finish, then every
// connection is cut.
function shutdown(graceMs) {
  closing = true
  let open = servers.length
  let done = false
  const finish = () => {
    if (done) return
    done = true
    clearTimeout(force)
    toLoop({ type: 'closed' })
  }
  const force = setTimeout(() => {
    for (const session of sessions) session.destroy(http2.constants.NGHTTP2_CANCEL)
    finish()
  }, graceMs)
  if (open === 0) return finish()
  for (const server of servers) server.close(() => { if (--open === 0) finish() })
  for (const session of sessions) session.close()
}

// What the event loop sends comes one message or a batch of them at a time (OUTBOX, below).
port.on('message', (message) => {
  if (message.type === 'batch') for (const one of message.messages) received(one)
  else received(message)
})

function received(message) {
  if (message.type === 'taken') return taken()
  if (message.type === 'listen') return void listen(message.address)
  if (message.type === 'shutdown') return shutdown(message.graceMs)
  if (message.type === 'commits') return watchCommits(message)
  if (message.after > 0 && commits !== undefined && message.after > commits.committed) {
    if (message.type === 'answer' && message.after <= commits.failedUpTo) return refuseUncommitted(message)
    held.push(message)
    return
  }
  deliver(message)
}

// COMMITS: answers and stream writes wait here until the log is committed up to their 'after',
// as the log thread tells (its notices come straight here, not through the event loop). They
// come in the order they were given, each 'after' at least the one before.
let commits = undefined
let held = []

function watchCommits(message) {
  commits = { committed: 0, failedUpTo: 0, failure: '', failureDetails: message.failureDetails }
  message.port.on('message', committed)
}

function committed(notice) {
  if (notice.ok) {
    commits.committed = Math.max(commits.committed, notice.upTo)
    let n = 0
    while (n < held.length && held[n].after <= commits.committed) n++
    if (n === 0) return
    const released = held.slice(0, n)
    held = held.slice(n)
    for (const message of released) deliver(message)
    return
  }
  // A write failed: the answers that waited for it are refused now, as the event loop refuses the
  // commands; the store writes the commands again later. Stream writes wait for that: their jobs
  // are activated, and go once they are committed.
  commits.failedUpTo = Math.max(commits.failedUpTo, notice.upTo)
  commits.failure = notice.error
  held = held.filter((message) => {
    if (message.type !== 'answer' || message.after > notice.upTo) return true
    refuseUncommitted(message)
    return false
  })
}

function refuseUncommitted(message) {
  const call = calls.get(message.id)
  if (call === undefined) return
  calls.delete(message.id)
  call.finish(RESOURCE_EXHAUSTED, commits.failureDetails + commits.failure)
}

function deliver(message) {
  const call = calls.get(message.id)
  if (message.type === 'write') {
    if (call === undefined || !call.send(message.message, false)) toLoop({ type: 'undelivered', id: message.id, message: message.message })
    return
  }
  if (call === undefined) return
  calls.delete(message.id)
  if (message.type === 'answer') {
    if (message.error) call.finish(message.error.code, message.error.details)
    else call.send(message.response, true)
  } else if (message.type === 'end') call.finish(OK, 'OK')
  else if (message.type === 'fail') call.finish(message.error.code, message.error.details)
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

/** `after`: the answer waits in the thread until the log is committed up to this position (COMMITS). */
export type UnaryCallback = (error: CallStatus | null, response?: unknown, after?: number) => void

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

  /** `after`: the message waits in the thread until the log is committed up to this position (COMMITS). */
  write(message: unknown, after?: number): boolean {
    if (this.destroyed) return false
    this.send({ type: 'write', id: this.id, message, after })
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
  | { type: 'call'; id: number; method: string; request: unknown; metadata: Record<string, string>; streaming: boolean; long?: true }
  | { type: 'cancelled'; id: number }
  | { type: 'undelivered'; id: number; message: unknown }
  | { type: 'bound'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' }

type ToThread =
  | { type: 'taken' }
  | { type: 'shutdown'; graceMs: number }
  | { type: 'commits'; port: MessagePort; failureDetails: string }
  | { type: 'write'; id: number; message: unknown; after?: number }
  | { type: 'end'; id: number }
  | { type: 'fail'; id: number; error: CallStatus }
  | { type: 'answer'; id: number; error?: CallStatus; response?: unknown; after?: number }

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
  private outbox: ToThread[] = []
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
        protoLoader: require.resolve('@grpc/proto-loader'),
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
    this.port.on('message', (message: FromThread | { type: 'batch'; messages: FromThread[] }) => {
      if (message.type === 'batch') for (const one of message.messages) this.fromThread(one)
      else this.fromThread(message)
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

  /**
   * The thread releases the answers and stream messages given an `after` itself, as the log thread
   * tells it on `port` how far the log is committed (COMMITS; api.ts, CommitNotices). An answer
   * whose write failed is refused with RESOURCE_EXHAUSTED, `failureDetails` followed by the reason.
   */
  watchCommits(port: MessagePort, failureDetails: string): void {
    // (ahead of anything given an `after`)
    if (this.outbox.length > 0) this.flushOutbox()
    this.port.postMessage({ type: 'commits', port, failureDetails }, [port])
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
      this.toThread({ type: 'shutdown', graceMs })
    })
  }

  private fromThread(message: FromThread): void {
    if (message.type === 'bound') this.listening?.bound(message.port)
    else if (message.type === 'failed') this.listening?.failed(new Error(message.message))
    else if (message.type === 'closed') void this.worker.terminate()
    else this.received(message)
  }

  private received(message: Exclude<FromThread, { type: 'bound' | 'failed' | 'closed' }>): void {
    const calls = this.calls
    // (no call comes before the thread listens, which is only once `calls` is set)
    if (!calls) return
    if (message.type === 'call') {
      // LONG CALLS (in the thread's code): the next goes once this task and the I/O after it are done
      if (message.long) setImmediate(() => this.toThread({ type: 'taken' }))
      const metadata = new CallMetadata(message.metadata)
      const request = withBuffers(message.request)
      const { id } = message
      if (message.streaming) {
        const stream = new GatewayStream(request, metadata, (out) => this.send(out, id), id)
        this.streams.set(id, stream)
        calls.stream(message.method, stream)
      } else {
        this.unaryCalls.add(id)
        calls.unary(message.method, { request, metadata }, (error, response, after) => {
          if (!this.unaryCalls.delete(id)) return
          this.toThread(error ? { type: 'answer', id, error: { code: error.code, details: error.details } } : { type: 'answer', id, response, after })
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
    this.toThread(message)
  }

  /**
   * OUTBOX: messages to the thread wait until the task that wrote them and its microtasks have
   * run, and go in one postMessage; the thread's to the event loop wait for the end of the
   * thread's turn. A message between threads costs its sender a copy and, when the other thread
   * sleeps, a wake-up, which on two busy cores is often a switch of threads. One commit answers
   * many calls in one task. Waiting for the end of the event loop's turn instead (`setImmediate`)
   * held those answers behind every other callback of the turn, new calls included: measured
   * against it, the durable engine ran 3.6 % more instances/s with this (bench/PERFORMANCE.md).
   */
  private toThread(message: ToThread): void {
    this.outbox.push(message)
    if (this.outbox.length === 1) queueMicrotask(() => this.flushOutbox())
  }

  private flushOutbox(): void {
    if (this.outbox.length === 0) return
    const messages = this.outbox
    this.outbox = []
    this.port.postMessage(messages.length === 1 ? messages[0] : { type: 'batch', messages })
  }
}
