/**
 * /api/changes, /api/preproduction-links, /api/openings, /api/releases: thin routes over
 * ChangeService (CHG-1..8, PRD-1..6). Starting needs the manager or admin role, and the right
 * organisation: the client alone for its portal, a provider alone for its own service.
 */
import { Router, type NextFunction, type Request, type Response } from 'express'
import type { z } from 'zod'
import type { Config } from '../config'
import { InterconnectionStillCutError, NotThePartyError, ReleaseRefusedError, requestSchemas, UnknownReferenceError, type ChangeService, type Procedure, type Started } from '../app/changes/changes'
import { callerOf, requireRole } from './auth'
import { ForbiddenProblem, HttpProblem } from './problem'
import { procedureParties, sees } from './scope'
import { requireOwnOrganisation } from '../config/identities'
import { listPage } from '../app/list-page'

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
  if (error instanceof ReleaseRefusedError) return new HttpProblem(422, 'Unprocessable Content', error.message, { verdict: error.check.verdict })
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

  /** The procedure, once the caller is one of its parties: another party's answers as an unknown reference. */
  const partyView = async (req: Request, res: Response, collection: Collection) => {
    const view = await changes.view(String(req.params.reference), COLLECTIONS[collection])
    if (!sees(config, callerOf(res), procedureParties(view.variables))) throw new UnknownReferenceError(view.reference)
    return view
  }

  router.post('/changes', starting, handler(async (req, res) => {
    const body = parseBody(schemas.change, req)
    // A provider changes its own service: a providerId naming another organisation is refused.
    if (body.kind === 'provider-change') requireOwnOrganisation('providerId', body.providerId, callerOf(res))
    created(res, 'changes', await changes.startChange(body, callerOf(res)))
  }))
  router.post('/changes/:reference/retirement', requireRole('operator', 'manager', 'admin'), handler(async (req, res) => {
    const reference = String(req.params.reference)
    // CHG-8: only the party that operates version n-1 retires it: the provider for its service, the client for the portal.
    const view = await partyView(req, res, 'changes')
    const operator = typeof view.variables.providerId === 'string' ? view.variables.providerId : view.variables.clientId
    if (callerOf(res).organisation !== operator) throw new ForbiddenProblem(`Only ${String(operator)}, which operates version n-1, retires it; ${callerOf(res).organisation} is not that party: propose it with POST /api/changes/${reference}/retirement-requests`)
    await changes.requestEarlyRetirement(reference, parseBody(schemas.retirement, req), callerOf(res))
    res.status(202).json({ reference, requested: 'early retirement of version n-1', links: linksOf('changes', reference) })
  }))
  // CHG-8: the other party proposes; the operator of version n-1 decides in its task (consider-early-retirement).
  router.post('/changes/:reference/retirement-requests', requireRole('operator', 'manager', 'admin'), handler(async (req, res) => {
    const reference = String(req.params.reference)
    const view = await partyView(req, res, 'changes')
    const operator = typeof view.variables.providerId === 'string' ? view.variables.providerId : view.variables.clientId
    if (callerOf(res).organisation === operator) throw new ForbiddenProblem(`${String(operator)} operates version n-1: it does not propose, it retires it with POST /api/changes/${reference}/retirement`)
    await changes.proposeEarlyRetirement(reference, parseBody(schemas.retirement, req), callerOf(res))
    res.status(202).json({ reference, requested: `early retirement of version n-1, proposed to ${String(operator)}`, links: linksOf('changes', reference) })
  }))
  router.post('/preproduction-links', starting, handler(async (req, res) => created(res, 'preproduction-links', await changes.startPreproductionLink(parseBody(schemas.preproductionLink, req), callerOf(res)))))
  router.post('/openings', starting, handler(async (req, res) => created(res, 'openings', await changes.startOpening(parseBody(schemas.opening, req), callerOf(res)))))
  router.post('/releases', starting, handler(async (req, res) => {
    const body = parseBody(schemas.release, req)
    if (body.kind === 'provider-release') requireOwnOrganisation('providerId', body.providerId, callerOf(res))
    created(res, 'releases', await changes.startRelease(body, callerOf(res)))
  }))

  for (const collection of Object.keys(COLLECTIONS) as Collection[]) {
    router.get(`/${collection}`, reading, handler(async (req, res) => {
      const caller = callerOf(res)
      const items = (await changes.list(COLLECTIONS[collection])).filter((item) => sees(config, caller, procedureParties(item.variables)))
      const page = listPage(items, req, (item) => ({ words: [item.reference, item.title, item.serviceId, item.version, item.providerId], state: item.state, at: item.startedAt }))
      res.json({ ...page, items: page.items.map(({ variables: _variables, ...item }) => ({ ...item, links: linksOf(collection, item.reference) })) })
    }))
    router.get(`/${collection}/:reference`, reading, handler(async (req, res) => {
      const view = await partyView(req, res, collection)
      res.json({ ...view, links: linksOf(collection, view.reference) })
    }))
  }
  return router
}
