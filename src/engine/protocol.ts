/**
 * What the two adapters in front of the engine (the gRPC gateway and the REST /v2 API) agree on:
 * the version they answer as and the bounds of the input they accept, with one wording, so a
 * request refused over one protocol is refused for the same reason over the other.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** The Camunda version both adapters answer as (gRPC Topology and GET /v2/topology). */
export const GATEWAY_VERSION = '8.8.0'

/**
 * The deepest variables document accepted, counting the document itself as level 1. Zeebe turns
 * variables from JSON into MessagePack with Jackson, whose StreamReadConstraints refuse documents
 * nested deeper than 1,000 levels by default since Jackson 2.15
 * (https://github.com/FasterXML/jackson-core/wiki/StreamReadConstraints); Zeebe documents no lower
 * limit of its own. We accept the same 1,000: far beyond any real document, and shallow enough for
 * every recursive walk in the engine (copying, FEEL, serialisation).
 */
export const MAX_VARIABLE_DEPTH = 1_000

/**
 * The longest message time-to-live accepted, in ms: the largest integer a JSON number carries
 * exactly (2^53 - 1), so the same bound holds for a REST body and a gRPC int64.
 */
export const MAX_TIME_TO_LIVE_MS = Number.MAX_SAFE_INTEGER

/**
 * How deeply `value` nests objects and arrays (a scalar is 0, `{}` is 1), found without recursion
 * and giving up as soon as `limit` is passed: checking a hostile document costs at most `limit`
 * levels of work per branch, and never the call stack.
 */
function nestingBeyond(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue
    const depth = next.depth + 1
    if (depth > limit) return true
    for (const child of Object.values(next.value)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth })
    }
  }
  return false
}

/**
 * Variable documents the gRPC thread parsed from long JSON text (gateway-thread.ts): that text's
 * length, and the JSON of each long string variable in it, as UTF-8 bytes. A command carrying one
 * is journaled as the command itself, for the log thread to turn into JSON (journal.ts), and the
 * checkpoint hands such a variable's row over with its bytes (checkpoint.ts): on the event loop,
 * the JSON of a 3 MB document and the copies that hand a 3 MB string to a thread were the
 * MB-sized work of a creation, while those bytes, in shared memory, cross without a copy
 * (bench/PERFORMANCE.md).
 */
const longDocuments = new WeakMap<object, { chars: number; values?: Record<string, Uint8Array> }>()

/** Marks `document` as parsed from JSON text `chars` long, with `values`: variable name to its JSON as UTF-8 bytes. */
export function markLongDocument(document: object, chars: number, values?: Record<string, Uint8Array>): void {
  longDocuments.set(document, { chars, values })
}

/** The length of the JSON text `document` was parsed from, when it was marked long; else undefined. */
export function longDocumentChars(document: unknown): number | undefined {
  return typeof document === 'object' && document !== null ? longDocuments.get(document)?.chars : undefined
}

/** The JSON of variable `name` of `document` as UTF-8 bytes, when the gRPC thread gave it. */
export function longValueJson(document: object, name: string): Uint8Array | undefined {
  const values = longDocuments.get(document)?.values
  return values !== undefined && Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined
}

/** Why a variables document is refused, or undefined when it is acceptable. */
export function variablesDepthProblem(document: unknown): string | undefined {
  if (!nestingBeyond(document, MAX_VARIABLE_DEPTH)) return undefined
  return `Expected variables nested at most ${MAX_VARIABLE_DEPTH} levels deep (objects and arrays), but they are nested deeper`
}

/**
 * Why a message time-to-live is refused, or undefined when it is acceptable. gRPC carries int64 as
 * a decimal string: the answer quotes it as sent, not as rounded to a JavaScript number.
 */
export function timeToLiveProblem(timeToLive: number | string): string | undefined {
  const ms = Number(timeToLive)
  if (Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIME_TO_LIVE_MS) return undefined
  return `Expected timeToLive to be an integer between 0 and ${MAX_TIME_TO_LIVE_MS} ms, but it was ${timeToLive}`
}

/** The environment settings of the engine's listening and access; refusals name them. */
export const ENGINE_ENV = {
  host: 'RACCORD_ENGINE_HOST',
  username: 'RACCORD_ENGINE_USERNAME',
  password: 'RACCORD_ENGINE_PASSWORD',
  allowedHosts: 'RACCORD_ENGINE_ALLOWED_HOSTS',
  allowedOrigins: 'RACCORD_ENGINE_ALLOWED_ORIGINS',
  historyRetentionDays: 'RACCORD_ENGINE_HISTORY_RETENTION_DAYS',
  recordsInMemory: 'RACCORD_ENGINE_RECORDS_IN_MEMORY',
} as const

/** The user name and password clients must present (HTTP basic authentication, as Camunda 8.8's). */
export interface EngineCredentials {
  username: string
  password: string
}

/**
 * Whether an `authorization` header carries these credentials. The unmodified SDK sends
 * `authorization: Basic base64(user:password)` on both gRPC (as metadata) and REST when
 * CAMUNDA_AUTH_STRATEGY=BASIC. Compared in constant time, so the answer's timing reveals nothing.
 */
export function basicAuthorizationMatches(header: string | undefined, credentials: EngineCredentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match) return false
  const presented = createHash('sha256').update(Buffer.from(match[1], 'base64')).digest()
  const expected = createHash('sha256').update(`${credentials.username}:${credentials.password}`).digest()
  return timingSafeEqual(presented, expected)
}

/** Host names that always designate this machine's loopback interface. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

/** Whether a listening address or host name stays on this machine. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase()
  return LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name)
}
