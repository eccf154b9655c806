/**
 * The HTTP API: /api/... (incidents, vulnerabilities, trace requests, changes, cuts) behind bearer
 * tokens, /healthz, /metrics, the console, the status page, the cut links, and the outbox of the
 * local SMTP sink when one runs. One error middleware answers every failure as problem JSON.
 */
import express, { type RequestHandler, type Router } from 'express'
import type { Logger } from 'pino'
import type { Config } from '../config'
import type { SmtpSink } from '../notify'
import { outboxRouter } from './outbox-router'
import type { ChangeService } from '../app/changes/changes'
import type { CutService } from '../app/cuts/cuts'
import type { IncidentService } from '../app/incidents/incidents'
import type { Metrics } from '../app/metrics'
import type { ProcessEngine } from '../engine-client/process-engine'
import { authenticate, type Credential } from './auth'
import { mailVisibleTo, outboxAuthentication, outboxReader } from './outbox-access'
import { changeRoutes } from './changes'
import { cutLinkRoutes } from './cut-links'
import { decisionLinkRoutes } from './decision-links'
import type { DecisionLinkService } from '../app/access/decision-links'
import { cutRoutes } from './cuts'
import { incidentRoutes } from './incidents'
import type { TraceRequestService } from '../app/traces/trace-requests'
import type { VulnerabilityService } from '../app/security/vulnerabilities'
import { traceRequestRoutes } from './trace-requests'
import { vulnerabilityRoutes } from './vulnerabilities'
import { problemHandler, unknownRoute } from './problem'
import { withLinkTokensRedacted } from './log-redaction'
import { requestGuard } from './request-guard'
import { securityHeaders } from './security-headers'

/** Larger bodies answer 413: a declaration is a few kilobytes. */
export const JSON_BODY_LIMIT = '64kb'

/** How long /healthz waits for the engine. */
const HEALTH_TIMEOUT_MS = 2000

export interface ApiOptions {
  config: Config
  credentials: readonly Credential[]
  incidents: IncidentService
  /** changes, openings and releases (CHG-1..8, PRD-1..6) */
  changes?: ChangeService
  engine: Pick<ProcessEngine, 'isReachable'>
  metrics: Metrics
  logger: Logger
  /** the local SMTP sink, when raccord runs one: its mails are listed at /outbox */
  outbox?: Pick<SmtpSink, 'list' | 'get'>
  /** vulnerabilities (SEC-1..4) */
  vulnerabilities?: VulnerabilityService
  /** trace requests and their letters (TRC-1..3) */
  traceRequests?: TraceRequestService
  /** the operator and manager console, served at /console */
  console?: Router
  /** interconnection cuts (CUT-1..4, CRI-1..3): /api/cuts, and the other party's signed links at /links */
  cuts?: CutService
  /** the public status page (USR-1) at /status, /status.json, /status.atom */
  statusPage?: Router
  /** the other party's decision links (approve / refuse a task of its own from its mail) at /decisions */
  decisionLinks?: DecisionLinkService
}

export function createApiApp(options: ApiOptions): express.Express {
  const { config, metrics } = options
  const logger = withLinkTokensRedacted(options.logger)
  const app = express()
  app.disable('x-powered-by')
  app.use(observe(metrics, logger))
  app.use(securityHeaders())
  app.use(requestGuard({ publicUrls: config.interconnectionCuts.publicUrl === undefined ? [] : [config.interconnectionCuts.publicUrl] }))

  app.get('/healthz', async (_req, res) => {
    const reachable = await options.engine.isReachable(HEALTH_TIMEOUT_MS)
    res.status(reachable ? 200 : 503).json({ status: reachable ? 'ok' : 'unavailable', engine: reachable ? 'reachable' : 'unreachable' })
  })
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
  if (options.outbox) {
    app.use(['/outbox', '/outbox.json'], outboxAuthentication(options.credentials))
    app.use(outboxRouter(options.outbox, (res) => mailVisibleTo(config, res), (res) => outboxReader(config, res)))
  }
  if (options.console) app.use('/console', options.console)
  if (options.statusPage) app.use(options.statusPage)
  if (options.cuts) app.use('/links', cutLinkRoutes(config, options.cuts))
  if (options.decisionLinks) app.use('/decisions', decisionLinkRoutes(config, options.decisionLinks))

  app.use('/api', express.json({ limit: JSON_BODY_LIMIT }), authenticate(options.credentials))
  app.use('/api/incidents', incidentRoutes(config, options.incidents))
  if (options.vulnerabilities) app.use('/api/vulnerabilities', vulnerabilityRoutes(config, options.vulnerabilities))
  if (options.traceRequests) app.use('/api/trace-requests', traceRequestRoutes(config, options.traceRequests))
  if (options.changes) app.use('/api', changeRoutes(config, options.changes))
  if (options.cuts) app.use('/api/cuts', cutRoutes(config, options.cuts))

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
