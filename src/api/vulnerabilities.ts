/** /api/vulnerabilities: thin routes over VulnerabilityService (SEC-1..4). */
import { Router } from 'express'
import type { Config } from '../config'
import { UnknownRecordError } from '../app/security/security-store'
import { reportSchema, type VulnerabilityService } from '../app/security/vulnerabilities'
import { callerOf, requireRole } from './auth'
import { HttpProblem } from './problem'
import { sees } from './scope'
import { listPage } from '../app/list-page'

/** Where a vulnerability lives in the API. */
function linksOf(id: string) {
  return { self: `/api/vulnerabilities/${encodeURIComponent(id)}` }
}

export function vulnerabilityRoutes(config: Config, vulnerabilities: VulnerabilityService): Router {
  const router = Router()
  const schema = reportSchema(config)

  router.post('/', requireRole('operator', 'admin'), async (req, res) => {
    // zod says "expected string, received undefined"; a caller understands "Required".
    const report = schema.parse(req.body ?? {}, { error: (issue) => (issue.input === undefined ? 'Required' : undefined) })
    const vulnerability = await vulnerabilities.report(report, callerOf(res))
    const links = linksOf(vulnerability.id)
    res.status(201).location(links.self).json({ id: vulnerability.id, processInstanceKey: vulnerability.processInstanceKey, links })
  })

  router.get('/', requireRole('operator', 'manager', 'admin'), (req, res) => {
    const caller = callerOf(res)
    const items = vulnerabilities.list().filter((vulnerability) => sees(config, caller, vulnerabilities.parties(vulnerability.id)))
    const page = listPage(items, req, (vulnerability) => ({ words: [vulnerability.id, vulnerability.cveId, vulnerability.title, vulnerability.service, vulnerability.severity], state: vulnerability.state, at: vulnerability.reportedAt }))
    res.json({ ...page, items: page.items.map((vulnerability) => ({ ...vulnerability, links: linksOf(vulnerability.id) })) })
  })

  router.get('/:id', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    const id = String(req.params.id)
    try {
      // Another party's vulnerability, or one not yet disclosed to the caller, answers as unknown.
      if (!sees(config, callerOf(res), vulnerabilities.parties(id))) throw new UnknownRecordError(id)
      const vulnerability = await vulnerabilities.view(id)
      res.json({ ...vulnerability, links: linksOf(vulnerability.id) })
    } catch (error) {
      if (error instanceof UnknownRecordError) throw new HttpProblem(404, 'Not Found', `Unknown vulnerability '${id}'`)
      throw error
    }
  })

  return router
}
