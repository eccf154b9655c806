/**
 * The HTTP API: /api/incidents behind bearer tokens, /healthz, /metrics, and the outbox of the
 * local SMTP sink when one runs. One error middleware answers every failure as problem JSON.
 */
import express, { type RequestHandler } from 'express'
import type { Logger } from 'pino'
import type { Config } from '../config'
import { outboxRouter, type SmtpSink } from '../notify'
import type { IncidentService } from '../app/incidents'
import type { Metrics } from '../app/metrics'
import type { ProcessEngine } from '../app/process-engine'
import { authenticate, type Credential } from './auth'
import { incidentRoutes } from './incidents'
import { problemHandler, unknownRoute } from './problem'

/** Larger bodies answer 413: a declaration is a few kilobytes. */
export const JSON_BODY_LIMIT = '64kb'

/** How long /healthz waits for the engine. */
const HEALTH_TIMEOUT_MS = 2000

export interface ApiOptions {
  config: Config
  credentials: readonly Credential[]
  incidents: IncidentService
  engine: Pick<ProcessEngine, 'isReachable'>
  metrics: Metrics
  logger: Logger
  /** the local SMTP sink, when raccord runs one: its mails are listed at /outbox */
  outbox?: Pick<SmtpSink, 'list' | 'get'>
}

export function createApiApp(options: ApiOptions): express.Express {
  const { config, metrics, logger } = options
  const app = express()
  app.disable('x-powered-by')
  app.use(observe(metrics, logger))

  app.get('/healthz', async (_req, res) => {
    const reachable = await options.engine.isReachable(HEALTH_TIMEOUT_MS)
    res.status(reachable ? 200 : 503).json({ status: reachable ? 'ok' : 'unavailable', engine: reachable ? 'reachable' : 'unreachable' })
  })
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
  if (options.outbox) app.use(outboxRouter(options.outbox))

  app.use('/api', express.json({ limit: JSON_BODY_LIMIT }), authenticate(options.credentials))
  app.use('/api/incidents', incidentRoutes(config, options.incidents))

  app.use(unknownRoute)
  app.use(problemHandler(logger))
  return app
}

/** Counts, times and logs every request once it is answered. */
function observe(metrics: Metrics, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint()
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      // The route pattern, not the URL, so that ids do not make a label each.
      const route = req.route ? `${req.baseUrl}${req.route.path === '/' ? '' : String(req.route.path)}` || '/' : 'unmatched'
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) })
      metrics.httpDuration.observe({ method: req.method, route }, seconds)
      logger.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request')
    })
    next()
  }
}
