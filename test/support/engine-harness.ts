/**
 * Starts an embedded engine on free ports and connects a real @camunda8/sdk client to it, so
 * engine tests exercise the same wire protocol as an application would.
 */
import { Camunda8 } from '@camunda8/sdk'
import type { ControllableClock } from '../../src/engine/clock'
import type { Engine } from '../../src/engine/runtime/engine'
import { startEngineServer } from '../../src/engine/server'

/** An engine server started for one test file. */
export interface TestEngine {
  grpcPort: number
  restPort: number
  clock: ControllableClock
  engine: Engine
  close(): Promise<void>
}

/** SDK clients bound to a TestEngine. */
export interface TestClient {
  zeebe: ReturnType<Camunda8['getZeebeGrpcApiClient']>
  camunda: Camunda8
  close(): Promise<void>
}

export async function startTestEngine(): Promise<TestEngine> {
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, clockControlled: true })
  return {
    grpcPort: server.grpcPort,
    restPort: server.restPort,
    clock: server.clock,
    engine: server.engine,
    close: () => server.close(),
  }
}

export function createTestClient(h: Pick<TestEngine, 'grpcPort' | 'restPort'>): TestClient {
  const camunda = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${h.grpcPort}`,
    ZEEBE_REST_ADDRESS: `http://127.0.0.1:${h.restPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'none',
    zeebeGrpcSettings: {
      // Fail fast: by default the client retries UNAVAILABLE forever.
      ZEEBE_GRPC_CLIENT_RETRY: false,
      ZEEBE_CLIENT_LOG_LEVEL: 'NONE',
      // Its 3 s connection-state timer is not cleared by close(): it would hold jest open.
      ZEEBE_GRPC_CLIENT_CONNECTION_TOLERANCE_MS: 0,
    },
  })
  return {
    zeebe: camunda.getZeebeGrpcApiClient(),
    camunda,
    close: () => camunda.closeAllClients(),
  }
}
