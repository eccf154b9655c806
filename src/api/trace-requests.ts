/** /api/trace-requests: thin routes over TraceRequestService (TRC-1..3), and the printable letter. */
import { Router, type Response } from 'express'
import type { Config } from '../config'
import { UnknownRecordError } from '../app/security/security-store'
import { letterPath, registrationSchema, type TraceRequestService } from '../app/traces/trace-requests'
import { callerOf, requireRole } from './auth'
import { HttpProblem } from './problem'
import { sees, traceRequestParties } from './scope'
import { listPage } from '../app/list-page'

/** Where a trace request lives in the API. */
function linksOf(id: string) {
  return { self: `/api/trace-requests/${encodeURIComponent(id)}`, letter: letterPath(id) }
}

function notFound(id: string): HttpProblem {
  return new HttpProblem(404, 'Not Found', `Unknown trace request '${id}'`)
}

export function traceRequestRoutes(config: Config, traceRequests: TraceRequestService): Router {
  const router = Router()
  const schema = registrationSchema(config)

  router.post('/', requireRole('operator', 'admin'), async (req, res) => {
    const registration = schema.parse(req.body ?? {}, { error: (issue) => (issue.input === undefined ? 'Required' : undefined) })
    const request = await traceRequests.register(registration, callerOf(res))
    const links = linksOf(request.id)
    res.status(201).location(links.self).json({ id: request.id, processInstanceKey: request.processInstanceKey, links })
  })

  router.get('/', requireRole('operator', 'manager', 'admin'), (req, res) => {
    const caller = callerOf(res)
    const items = traceRequests.list().filter((request) => sees(config, caller, traceRequestParties(request)))
    const page = listPage(items, req, (request) => ({ words: [request.id, request.requester.name, request.requester.organisation, request.recipient.name, request.recipient.organisation], state: request.state, at: request.registeredAt }))
    res.json({ ...page, items: page.items.map((request) => ({ ...request, links: linksOf(request.id) })) })
  })

  /** The requester and the recipient see a request and its letter; anyone else gets the 404 of an unknown one. */
  const requireParty = (res: Response, id: string): void => {
    const request = traceRequests.list().find((candidate) => candidate.id === id)
    if (request === undefined || !sees(config, callerOf(res), traceRequestParties(request))) throw notFound(id)
  }

  router.get('/:id', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    const id = String(req.params.id)
    requireParty(res, id)
    try {
      const request = await traceRequests.view(id)
      res.json({ ...request, links: linksOf(request.id) })
    } catch (error) {
      if (error instanceof UnknownRecordError) throw notFound(id)
      throw error
    }
  })

  router.get('/:id/letter', requireRole('operator', 'manager', 'admin'), (req, res) => {
    const id = String(req.params.id)
    requireParty(res, id)
    let letter: string | undefined
    try {
      letter = traceRequests.letter(id)
    } catch (error) {
      if (error instanceof UnknownRecordError) throw notFound(id)
      throw error
    }
    // Refused requests never get a letter; others get it as soon as the process produces it.
    if (letter === undefined) throw new HttpProblem(409, 'Conflict', `The letter of trace request '${id}' is not produced (yet): see GET /api/trace-requests/${id}`)
    res.type('html').send(letter)
  })

  return router
}
