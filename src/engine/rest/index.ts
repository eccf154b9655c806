/**
 * The Camunda 8.8 REST API (/v2) over the embedded engine: thin routes that validate the request,
 * call EngineApi, and answer 8.8 shapes. Every failure goes through one problem-JSON middleware.
 */
import express from 'express'
import type { EngineApi } from '../api'
import type { ControllableClock } from '../clock'
import { batchOperationRoutes } from './batch-operations'
import { clusterRoutes } from './cluster'
import { decisionInstanceRoutes } from './decision-instances'
import { MemoryDocumentStore, type DocumentStore } from '../documents'
import { deploymentRoutes } from './deployments'
import { documentRoutes } from './documents'
import { instanceOperationRoutes } from './instance-operations'
import { jobRoutes } from './jobs'
import { messageRoutes } from './messages'
import { CommandPacer } from '../pacing'
import { problemBody, problemDetail, problemHandler, requestPath, unknownRoute } from './problem'
import { processInstanceRoutes } from './process-instances'
import { requestGuard, type RestAccess } from './request-guard'
import { userTaskRoutes } from './user-tasks'

/** Request bodies above this size answer 413 (the instance payload limit, §2.1). */
const JSON_BODY_LIMIT = '4mb'

export interface RestAppOptions {
  /** the engine's clock, pinned and reset by /v2/clock */
  clock: ControllableClock
  /** whether /v2/clock may move it (Zeebe's ZEEBE_CLOCK_CONTROLLED); false answers 409 */
  clockControlled: boolean
  /** who may call beyond programs on this machine (default: loopback names, no web page, no credentials) */
  access?: RestAccess
  /** where uploaded documents go (default: in memory) */
  documents?: DocumentStore
  /** the turns commands take, shared with the gRPC gateway (default: this API's own) */
  pacer?: CommandPacer
}

export function createRestApp(engine: EngineApi, options: RestAppOptions): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  // Refused requests are answered before their body is read.
  app.use('/v2', requestGuard(options.access))
  app.use(express.json({ limit: JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] }))

  app.use(answerWhenDurable(engine))
  app.use(paced(options.pacer ?? new CommandPacer()))
  const v2 = express.Router()
  clusterRoutes(v2, engine, options.clock, options.clockControlled)
  deploymentRoutes(v2, engine)
  processInstanceRoutes(v2, engine)
  instanceOperationRoutes(v2, engine)
  batchOperationRoutes(v2, engine)
  decisionInstanceRoutes(v2, engine)
  documentRoutes(v2, options.documents ?? new MemoryDocumentStore())
  jobRoutes(v2, engine)
  userTaskRoutes(v2, engine)
  messageRoutes(v2, engine)
  app.use('/v2', v2)

  app.use(unknownRoute)
  app.use(problemHandler)
  return app
}

/** A state-changing request runs in its turn (pacing.ts); reads run at once. */
function paced(pacer: CommandPacer): express.RequestHandler {
  return (req, _res, next) => {
    if (isRead(req)) return next()
    pacer.run(next).catch(next)
  }
}

const isRead = (req: express.Request) => req.method === 'GET' || req.method === 'HEAD' || req.path.endsWith('/search')

/**
 * A state-changing request is answered only once the engine has stored its effects durably. If
 * storing fails (disk full, read-only), the answer becomes a 503 problem naming the cause.
 */
function answerWhenDurable(engine: EngineApi): express.RequestHandler {
  return (req, res, next) => {
    // Reads change nothing: they answer at once, even while the disk is full.
    if (isRead(req)) return next()
    const end = res.end.bind(res) as (...args: unknown[]) => express.Response
    res.end = ((...args: unknown[]) => {
      engine.whenDurable().then(() => end(...args), (error: Error) => {
        if (res.headersSent) return end()
        const { contentType, body } = problemBody(problemDetail(503, 'RESOURCE_EXHAUSTED', error.message, requestPath(req)))
        res.statusCode = 503
        res.removeHeader('content-length')
        res.setHeader('content-type', contentType)
        return end(body)
      })
      return res
    }) as typeof res.end
    next()
  }
}
