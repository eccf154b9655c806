/**
 * The embedded engine as a server: one Engine behind Zeebe's gRPC gateway and the /v2 REST API,
 * on the ports an @camunda8/sdk client uses by default.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { ControllableClock } from './clock'
import { FileDocumentStore, MemoryDocumentStore } from './documents'
import { GatewayThread } from './gateway/gateway-thread'
import { startGrpcGateway } from './gateway/grpc-gateway'
import { CommandPacer } from './pacing'
import { ENGINE_ENV, isLoopback, type EngineCredentials } from './protocol'
import { createRestApp } from './rest'
import { Engine } from './runtime/engine'
import { openDurableEngine, type DurableEngine } from './durable'

/** Where and how to serve the engine. Port 0 picks a free port. */
export interface EngineServerOptions {
  grpcPort?: number
  restPort?: number
  /** the address both servers listen on (default 127.0.0.1); beyond loopback, credentials are required */
  host?: string
  /** when set, every gRPC call and /v2 request must carry them (HTTP basic authentication) */
  credentials?: EngineCredentials
  /** Host names /v2 accepts besides the loopback names (DNS rebinding guard) */
  allowedHosts?: string[]
  /** web page origins /v2 accepts besides its own */
  allowedOrigins?: string[]
  /** the engine clock; a fresh ControllableClock when absent */
  clock?: ControllableClock
  /** keep the engine state in SQLite in this directory; absent = in memory only */
  dataDir?: string
  /** let /v2/clock pin the clock, as Zeebe's ZEEBE_CLOCK_CONTROLLED=true; default: that variable */
  clockControlled?: boolean
  /** days finished instances stay searchable; default: RACCORD_ENGINE_HISTORY_RETENTION_DAYS, else 30 */
  historyRetentionDays?: number
  /** the gRPC server's thread, spawned earlier by the caller so that it starts meanwhile (default: spawned here) */
  gatewayThread?: GatewayThread
  /** records a durable engine keeps in memory before it reads the least used from the data dir; default: RACCORD_ENGINE_RECORDS_IN_MEMORY, else 100,000 */
  recordsInMemory?: number
}

/** How many records a durable engine keeps in memory, from the option or the environment. */
function recordsInMemory(option: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const name = ENGINE_ENV.recordsInMemory
  const text = env[name]
  if (option === undefined && (text === undefined || text.trim() === '')) return undefined
  const count = option ?? Number(text)
  if (!Number.isInteger(count) || count < 0) throw new EngineAccessError(`${name} must be a whole number of records (0 or more), got '${option ?? text}'`)
  return count
}

/** The history's retention period, in ms, from the option or the environment. */
function historyRetentionMs(option: number | undefined, env: NodeJS.ProcessEnv): number {
  const name = ENGINE_ENV.historyRetentionDays
  const text = env[name]
  const days = option ?? (text === undefined || text.trim() === '' ? 30 : Number(text))
  if (!Number.isFinite(days) || days <= 0) throw new EngineAccessError(`${name} must be a positive number of days (finished instances are kept that long), got '${option ?? text}'`)
  return days * 24 * 3600_000
}

/** A running engine server. */
export interface EngineServer {
  engine: Engine
  /** bound gRPC port */
  grpcPort: number
  /** bound REST port */
  restPort: number
  clock: ControllableClock
  /** whether clients must authenticate */
  authenticated: boolean
  /** the durable state, when started with a data dir */
  durable?: DurableEngine
  /** Stops both servers (long polls and job streams end at once). */
  close(): Promise<void>
}

/** A listening, access or other engine setting that cannot be used; the message names the setting. */
export class EngineAccessError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EngineAccessError'
  }
}

/** Addresses that mean every interface rather than one name a client could use. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]'])

function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')
  return items.length > 0 ? items : undefined
}

/**
 * The listening address and access settings from the environment (RACCORD_ENGINE_*). Credentials
 * come only from there, never from the command line, where other users of the machine could read
 * them.
 */
export function engineAccessFromEnv(env: NodeJS.ProcessEnv): Pick<EngineServerOptions, 'host' | 'credentials' | 'allowedHosts' | 'allowedOrigins'> {
  const username = env[ENGINE_ENV.username] ?? ''
  const password = env[ENGINE_ENV.password] ?? ''
  if ((username === '') !== (password === '')) {
    const missing = username === '' ? ENGINE_ENV.username : ENGINE_ENV.password
    throw new EngineAccessError(`${missing} is empty or unset: set both ${ENGINE_ENV.username} and ${ENGINE_ENV.password}, or neither`)
  }
  if (username.includes(':')) throw new EngineAccessError(`${ENGINE_ENV.username} must not contain ':' (basic authentication separates user and password with it)`)
  return {
    host: env[ENGINE_ENV.host] || undefined,
    credentials: username !== '' ? { username, password } : undefined,
    allowedHosts: list(env[ENGINE_ENV.allowedHosts]),
    allowedOrigins: list(env[ENGINE_ENV.allowedOrigins]),
  }
}

export async function startEngineServer(options: EngineServerOptions = {}): Promise<EngineServer> {
  // The gRPC server's thread loads its modules and the proto while the engine opens.
  const thread = options.gatewayThread ?? GatewayThread.spawn()
  let opened: Awaited<ReturnType<typeof openEngine>>
  try {
    opened = await openEngine(options)
  } catch (error) {
    await thread.stop()
    throw error
  }
  const { grpcPort = 26500, restPort = 8080, host = '127.0.0.1', credentials } = options
  const { clock, durable, historyRetention } = opened
  const engine = durable?.engine ?? new Engine({ clock, historyRetentionMs: historyRetention })
  const stopEngine = () => (durable ? durable.close() : engine.close())

  // One event loop for both: their commands share its turns.
  const pacer = new CommandPacer()
  const grpcStarting = startGrpcGateway(engine, { host, port: grpcPort, credentials, pacer, thread })
  let rest: http.Server | undefined
  let grpc: Awaited<typeof grpcStarting> | undefined
  try {
    const restApp = createRestApp(engine, {
      clock,
      clockControlled: options.clockControlled ?? process.env.ZEEBE_CLOCK_CONTROLLED === 'true',
      // A client may name the engine by the address it listens on (unless that is every interface).
      documents: options.dataDir !== undefined ? new FileDocumentStore(path.join(options.dataDir, 'documents')) : new MemoryDocumentStore(),
      pacer,
      access: { credentials, allowedHosts: [...(options.allowedHosts ?? []), ...(WILDCARD_HOSTS.has(host) ? [] : [host])], allowedOrigins: options.allowedOrigins },
    })
    // Both listen once both can serve: the REST API's topology answering means gRPC does too.
    grpc = await grpcStarting
    rest = await listen(http.createServer(restApp), restPort, host)
  } catch (error) {
    // (a failure to make the REST app leaves the gRPC start to finish before it is closed)
    grpc ??= await grpcStarting.catch(() => undefined)
    await grpc?.close()
    stopEngine()
    throw error
  }
  const [grpcServer, restServer] = [grpc as Awaited<typeof grpcStarting>, rest as http.Server]

  let closed: Promise<void> | undefined
  return {
    engine,
    grpcPort: grpcServer.port,
    restPort: (restServer.address() as AddressInfo).port,
    clock,
    authenticated: credentials !== undefined,
    durable,
    close() {
      closed ??= Promise.all([grpcServer.close(), closeHttp(restServer)]).then(() => stopEngine())
      return closed
    },
  }
}

/** Checks the options, then opens the engine's data dir (when it has one). */
async function openEngine(options: EngineServerOptions): Promise<{ clock: ControllableClock; durable: DurableEngine | undefined; historyRetention: number }> {
  const { host = '127.0.0.1', credentials } = options
  // Anyone who can reach a port beyond loopback could drive the engine: never without credentials.
  if (!isLoopback(host) && !credentials) {
    throw new EngineAccessError(`listening on ${host}, beyond loopback, requires credentials: set ${ENGINE_ENV.username} and ${ENGINE_ENV.password} `
      + '(clients then use CAMUNDA_AUTH_STRATEGY=BASIC with CAMUNDA_BASIC_AUTH_USERNAME and CAMUNDA_BASIC_AUTH_PASSWORD)')
  }
  const clock = options.clock ?? new ControllableClock()
  const historyRetention = historyRetentionMs(options.historyRetentionDays, process.env)
  const inMemory = recordsInMemory(options.recordsInMemory, process.env)
  const durable = options.dataDir !== undefined ? await openDurableEngine(options.dataDir, clock, historyRetention, inMemory) : undefined
  return { clock, durable, historyRetention }
}

function listen(server: http.Server, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()))
    // Keep-alive connections from SDK clients would otherwise hold close() open.
    server.closeAllConnections()
  })
}
