/**
 * /api/changes, /api/preproduction-links, /api/openings, /api/releases: thin routes over
 * ChangeService (CHG-1..8, PRD-1..6). Starting needs the manager or admin role, and the right
 * organisation: the client alone for its portal, a provider alone for its own service.
 */
import { Router, type NextFunction, type Request, type Response } from 'express'
import type { z } from 'zod'
import type { Config } from '../config'
import { InterconnectionStillCutError, NotThePartyError, requestSchemas, UnknownReferenceError, type ChangeService, type Procedure, type Started } from '../app/changes/changes'
import { callerOf, requireRole } from './auth'
import { ForbiddenProblem, HttpProblem } from './problem'

/** Where each kind of procedure lives in the API. */
const COLLECTIONS = {
  changes: ['portal-change', 'provider-change'],
  'preproduction-links': ['preproduction-link'],
  openings: ['service-opening'],
  releases: ['portal-release', 'provider-release'],
} as const satisfies Record<string, readonly Procedure[]>
type Collection = keyof typeof COLLECTIONS

const linksOf = (collection: Collection, reference: string) => ({ self: `/api/${collection}/${encodeURIComponent(reference)}` })

/** zod says "expected string, received undefined"; a caller understands "Required". */
function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  return schema.parse(req.body ?? {}, { error: (issue) => (issue.input === undefined ? 'Required' : undefined) })
}

/** The domain's refusals, as the API answers them. */
function translate(error: unknown): unknown {
  if (error instanceof NotThePartyError) return new ForbiddenProblem(error.message)
  if (error instanceof UnknownReferenceError) return new HttpProblem(404, 'Not Found', error.message)
  if (error instanceof InterconnectionStillCutError) return new HttpProblem(409, 'Conflict', error.message, { cutId: error.cutId, interconnectionId: error.interconnectionId })
  return error
}

/** Express 5 forwards rejections; this also maps the domain's errors to problems. */
function handler(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => fn(req, res).catch((error: unknown) => next(translate(error)))
}

function created(res: Response, collection: Collection, started: Started): void {
  const links = linksOf(collection, started.reference)
  res.status(201).location(links.self).json({ ...started, links })
}

/** Mounts every collection on one router, at /api. */
export function changeRoutes(config: Config, changes: ChangeService): Router {
  const router = Router()
  const schemas = requestSchemas(config)
  const starting = requireRole('manager', 'admin')
  const reading = requireRole('operator', 'manager', 'admin')

  router.post('/changes', starting, handler(async (req, res) => created(res, 'changes', await changes.startChange(parseBody(schemas.change, req), callerOf(res)))))
  router.post('/changes/:reference/retirement', requireRole('operator', 'manager', 'admin'), handler(async (req, res) => {
    const reference = String(req.params.reference)
    await changes.requestEarlyRetirement(reference, parseBody(schemas.retirement, req), callerOf(res))
    res.status(202).json({ reference, requested: 'early retirement of version n-1', links: linksOf('changes', reference) })
  }))
  router.post('/preproduction-links', starting, handler(async (req, res) => created(res, 'preproduction-links', await changes.startPreproductionLink(parseBody(schemas.preproductionLink, req), callerOf(res)))))
  router.post('/openings', starting, handler(async (req, res) => created(res, 'openings', await changes.startOpening(parseBody(schemas.opening, req), callerOf(res)))))
  router.post('/releases', starting, handler(async (req, res) => created(res, 'releases', await changes.startRelease(parseBody(schemas.release, req), callerOf(res)))))

  for (const collection of Object.keys(COLLECTIONS) as Collection[]) {
    router.get(`/${collection}/:reference`, reading, handler(async (req, res) => {
      const view = await changes.view(String(req.params.reference), COLLECTIONS[collection])
      res.json({ ...view, links: linksOf(collection, view.reference) })
    }))
  }
  return router
}
