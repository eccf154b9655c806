/**
 * /api/cuts: thin routes over CutService (SEC-4, CUT-1..4, CRI-1..3). Only operations roles may
 * request a cut or act for the operations team; only a crisis-cell member may record the decision.
 */
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express'
import type { Config } from '../config'
import { confirmationSchema, crisisDecisionSchema, cutRequestSchema, CutConflictError, CutForbiddenError, type CutService } from '../app/cuts/cuts'
import { UnknownCutError, type CutRecord } from '../app/cuts/cut-store'
import { NotYourTaskError, TaskSubmissionError } from '../app/access/task-gate'
import { callerOf, requireRole } from './auth'
import { HttpProblem } from './problem'
import { sees } from './scope'
import { listPage } from '../app/list-page'

function linksOf(id: string) {
  return { self: `/api/cuts/${encodeURIComponent(id)}` }
}

/** zod says "expected string, received undefined"; a caller understands "Required". */
const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'Required' : undefined) }

export function cutRoutes(config: Config, cuts: CutService): Router {
  const router = Router()
  const requestSchema = cutRequestSchema(config)

  router.post('/', requireRole('operator', 'admin'), async (req, res) => {
    const cut = await cuts.request(requestSchema.parse(req.body ?? {}, required), callerOf(res))
    const links = linksOf(cut.id)
    res.status(201).location(links.self).json({ id: cut.id, processInstanceKey: cut.processInstanceKey, links })
  })

  /** The two parties of the interconnection see a cut; anyone else gets the 404 of an unknown one. */
  const visible = (cut: CutRecord, res: Response) => sees(config, callerOf(res), cuts.partiesOf(cut))
  const requireParty = (req: Request, res: Response): void => {
    const id = String(req.params.id)
    const cut = cuts.list().find((candidate) => candidate.id === id)
    if (cut === undefined || !visible(cut, res)) throw new UnknownCutError(id)
  }

  router.get('/', requireRole('operator', 'manager', 'admin'), (req, res) => {
    const page = listPage(cuts.list().filter((cut) => visible(cut, res)), req, (cut) => ({ words: [cut.id, cut.interconnectionId, cut.service, cut.reason, cut.incidentId], state: cut.state, at: cut.requestedAt }))
    res.json({ ...page, items: page.items.map((cut) => ({ ...cut, links: linksOf(cut.id) })) })
  })

  router.get('/:id', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    requireParty(req, res)
    const cut = await cuts.view(String(req.params.id))
    res.json({ ...cut, links: linksOf(cut.id) })
  })

  router.post('/:id/confirmations', requireRole('operator', 'admin'), async (req, res) => {
    requireParty(req, res)
    await cuts.confirm(String(req.params.id), confirmationSchema.parse(req.body ?? {}, required), callerOf(res))
    res.status(202).json({ status: 'accepted' })
  })

  router.post('/:id/tasks/:elementId', requireRole('operator', 'admin'), async (req, res) => {
    requireParty(req, res)
    const variables = (req.body ?? {}) as Record<string, unknown>
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) throw new HttpProblem(400, 'Bad Request', 'The body must be a JSON object of the form\'s fields')
    await cuts.completeTask(String(req.params.id), String(req.params.elementId), variables, callerOf(res))
    res.status(204).end()
  })

  // Each crisis-cell member gives their own party's decision with their own credential (CRI-3).
  router.post('/:id/crisis-decision', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    requireParty(req, res)
    const outcome = await cuts.decide(String(req.params.id), crisisDecisionSchema.parse(req.body ?? {}, required), callerOf(res))
    res.status(outcome.recorded ? 200 : 202).json(outcome)
  })

  router.use(cutProblems)
  return router
}

/** The cut service's errors as HTTP problems; the app's one error middleware writes them. */
const cutProblems: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
  if (error instanceof UnknownCutError) return next(new HttpProblem(404, 'Not Found', error.message))
  if (error instanceof CutForbiddenError) return next(new HttpProblem(403, 'Forbidden', error.message))
  if (error instanceof CutConflictError) return next(new HttpProblem(409, 'Conflict', error.message))
  if (error instanceof NotYourTaskError) return next(new HttpProblem(403, 'Forbidden', error.message))
  if (error instanceof TaskSubmissionError) return next(new HttpProblem(400, 'Bad Request', error.message, { errors: error.errors }))
  next(error)
}
