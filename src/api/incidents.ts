/** /api/incidents: thin routes over IncidentService (INC-1..4). */
import { Router } from 'express'
import type { Config } from '../config'
import { declarationSchema, type IncidentService } from '../app/incidents/incidents'
import { UnknownIncidentError } from '../app/incidents/trace-store'
import { callerOf, requireRole } from './auth'
import { incidentParties, sees } from './scope'
import { listPage } from '../app/list-page'

/** Where an incident lives in the API. */
function linksOf(id: string) {
  return { self: `/api/incidents/${encodeURIComponent(id)}` }
}

export function incidentRoutes(config: Config, incidents: IncidentService): Router {
  const router = Router()
  const schema = declarationSchema(config)

  router.post('/', requireRole('operator', 'admin'), async (req, res) => {
    // zod says "expected string, received undefined"; a caller understands "Required".
    const declaration = schema.parse(req.body ?? {}, { error: (issue) => (issue.input === undefined ? 'Required' : undefined) })
    const incident = await incidents.declare(declaration, callerOf(res))
    const links = linksOf(incident.id)
    res.status(201).location(links.self).json({ id: incident.id, processInstanceKey: incident.processInstanceKey, links })
  })

  router.get('/', requireRole('operator', 'manager', 'admin'), (req, res) => {
    const caller = callerOf(res)
    const items = incidents.list().filter((incident) => sees(config, caller, incidentParties(config, incident)))
    const page = listPage(items, req, (incident) => ({ words: [incident.id, incident.title, incident.service, incident.priority], state: incident.state, at: incident.declaredAt }))
    res.json({ ...page, items: page.items.map((incident) => ({ ...incident, links: linksOf(incident.id) })) })
  })

  router.get('/:id', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    const incident = await incidents.view(String(req.params.id))
    // Another party's incident answers as one that does not exist.
    if (!sees(config, callerOf(res), incidentParties(config, incident))) throw new UnknownIncidentError(incident.id)
    res.json({ ...incident, links: linksOf(incident.id) })
  })

  return router
}
