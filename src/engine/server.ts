/**
 * The embedded engine as a server: one Engine behind Zeebe's gRPC gateway and the /v2 REST API,
 * on the ports an @camunda8/sdk client uses by default.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ControllableClock } from './clock'
import { startGrpcGateway } from './gateway/grpc-gateway'
import { createRestApp } from './rest'
import { Engine } from './runtime/engine'
import { openDurableEngine, type DurableEngine } from './durable'

/** Where and how to serve the engine. Port 0 picks a free port. */
export interface EngineServerOptions {
  grpcPort?: number
  restPort?: number
  host?: string
  /** the engine clock; a fresh ControllableClock when absent */
  clock?: ControllableClock
  /** keep the engine state in SQLite in this directory; absent = in memory only */
  dataDir?: string
  /** let /v2/clock pin the clock, as Zeebe's ZEEBE_CLOCK_CONTROLLED=true; default: that variable */
  clockControlled?: boolean
}

/** A running engine server. */
export interface EngineServer {
  engine: Engine
  /** bound gRPC port */
  grpcPort: number
  /** bound REST port */
  restPort: number
  clock: ControllableClock
  /** the durable state, when started with a data dir */
  durable?: DurableEngine
  /** Stops both servers (long polls and job streams end at once). */
  close(): Promise<void>
}

export async function startEngineServer(options: EngineServerOptions = {}): Promise<EngineServer> {
  const { grpcPort = 26500, restPort = 8080, host = '127.0.0.1' } = options
  const clock = options.clock ?? new ControllableClock()
  const durable = options.dataDir !== undefined ? await openDurableEngine(options.dataDir, clock) : undefined
  const engine = durable?.engine ?? new Engine({ clock })
  const stopEngine = () => (durable ? durable.close() : engine.close())

  let grpc
  try {
    grpc = await startGrpcGateway(engine, { host, port: grpcPort })
  } catch (error) {
    stopEngine()
    throw error
  }
  let rest: http.Server
  try {
    rest = await listen(http.createServer(createRestApp(engine, { clock, clockControlled: options.clockControlled ?? process.env.ZEEBE_CLOCK_CONTROLLED === 'true' })), restPort, host)
  } catch (error) {
    await grpc.close()
    stopEngine()
    throw error
  }

  let closed: Promise<void> | undefined
  return {
    engine,
    grpcPort: grpc.port,
    restPort: (rest.address() as AddressInfo).port,
    clock,
    durable,
    close() {
      closed ??= Promise.all([grpc.close(), closeHttp(rest)]).then(() => stopEngine())
      return closed
    },
  }
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
