/** GET /v2/status and /v2/topology, and the controlled clock (PUT /v2/clock, POST /v2/clock/reset). */
import type { Router } from 'express'
import { z } from 'zod'
import { EngineError, type EngineApi } from '../api'
import type { ControllableClock } from '../clock'
import { GATEWAY_VERSION } from '../protocol'
import { parseBody } from './validation'

const clockPinSchema = z.object({
  timestamp: z.number({ error: 'expected an epoch-millisecond timestamp' }).int().nonnegative(),
})

/** The runtime fires due timers (and times out jobs) when told that the clock moved. */
function notifyClockChanged(engine: EngineApi): void {
  (engine as { onClockChanged?: () => void }).onClockChanged?.()
}

export function clusterRoutes(router: Router, engine: EngineApi, clock: ControllableClock, clockControlled: boolean): void {
  // 8.8: 204 when a partition is healthy (this engine's one partition always is once it serves), as load balancers probe it.
  router.get('/status', (_req, res) => {
    res.status(204).end()
  })

  router.get('/topology', (_req, res) => {
    res.json({
      brokers: [{
        nodeId: 0,
        host: '127.0.0.1',
        port: 26501,
        partitions: [{ partitionId: 1, role: 'leader', health: 'healthy' }],
        version: GATEWAY_VERSION,
      }],
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: GATEWAY_VERSION,
      lastCompletedChangeId: '-1',
    })
  })

  // As on Zeebe, only an engine started with a controllable clock lets the API move it.
  const requireControllable = (intent: string) => {
    if (!clockControlled) {
      throw new EngineError('INVALID_STATE', 'Expected the engine clock to be controllable, but it is not: start the engine with ZEEBE_CLOCK_CONTROLLED=true (tests only, never in production)', intent)
    }
  }

  router.put('/clock', (req, res) => {
    requireControllable('PIN')
    const { timestamp } = parseBody(clockPinSchema, req)
    clock.pin(timestamp)
    notifyClockChanged(engine)
    res.status(204).end()
  })

  router.post('/clock/reset', (_req, res) => {
    requireControllable('RESET')
    clock.reset()
    notifyClockChanged(engine)
    res.status(204).end()
  })
}
