/**
 * Starts an embedded engine on free ports and connects a real @camunda8/sdk client to it, so
 * engine tests exercise the same wire protocol as an application would.
 */
import { Camunda8 } from '@camunda8/sdk'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ControllableClock } from '../../src/engine/clock'
import type { Engine } from '../../src/engine/runtime/engine'
import { startEngineServer } from '../../src/engine/server'
import { auditCheckpoint, liveState, storedDifferences } from './checkpoint-audit'

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

/**
 * With RACCORD_TEST_CHECKPOINT_AUDIT=1, engines are durable (a scratch data dir) and their
 * checkpoints are checked against the live state every few ms: a test file then fails at its end
 * if a command changed a record a checkpoint did not write. After each check every record leaves
 * memory, so each command reads its records back from their rows: a test fails if anything held a
 * record across commands.
 *
 * Every other check is of a checkpoint built in slices while the test goes on, all its rows but
 * one built later (or before a command changes their record: PendingRows): once committed, its rows
 * must hold the state of the turn it began in. A test fails if a command changed a record before
 * telling the tracker, which such a checkpoint would have written with the change.
 */
const AUDIT_EVERY_MS = 5

export async function startTestEngine(): Promise<TestEngine> {
  // Read when the engine starts, so that a test file may set it after its imports.
  const audited = process.env.RACCORD_TEST_CHECKPOINT_AUDIT === '1'
  const dataDir = audited ? mkdtempSync(path.join(os.tmpdir(), 'raccord-audit-')) : undefined
  const server = await startEngineServer({ grpcPort: 0, restPort: 0, clockControlled: true, dataDir })
  const differences: string[] = []
  let closing: Promise<void> | undefined
  // The next check comes after twice the time the last took: a large state is checked less often, not at the cost of the test.
  let auditing: NodeJS.Timeout | undefined
  let sliced = false
  let stopped = false
  const audit = (): void => {
    const started = performance.now()
    const durable = server.durable
    sliced = !sliced
    if (sliced && durable && differences.length === 0) {
      const then = liveState(durable)
      const begun = durable.checkpointInSlices((error) => {
        if (stopped) return
        if (error !== undefined) differences.push(`a checkpoint built in slices failed: ${error.message}`)
        else if (differences.length === 0) differences.push(...storedDifferences(durable, then).map((d) => `(built in slices) ${d}`))
        auditing = setTimeout(audit, Math.max(AUDIT_EVERY_MS, 2 * (performance.now() - started)))
      }, 0)
      if (begun) return
    }
    if (differences.length === 0 && durable) differences.push(...auditCheckpoint(durable))
    durable?.engine.evict(0)
    auditing = setTimeout(audit, Math.max(AUDIT_EVERY_MS, 2 * (performance.now() - started)))
  }
  if (dataDir !== undefined) auditing = setTimeout(audit, AUDIT_EVERY_MS)
  return {
    grpcPort: server.grpcPort,
    restPort: server.restPort,
    clock: server.clock,
    engine: server.engine,
    close: () => {
      closing ??= (async () => {
        stopped = true
        clearTimeout(auditing)
        if (server.durable) differences.push(...auditCheckpoint(server.durable))
        await server.close()
        if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
        if (differences.length > 0) throw new Error(`checkpoint differs from the live state:\n${differences.slice(0, 10).join('\n')}`)
      })()
      return closing
    },
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
