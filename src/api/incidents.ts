/** /api/incidents: thin routes over IncidentService (INC-1..4). */
import { Router } from 'express'
import type { Config } from '../config'
import { declarationSchema, type IncidentService } from '../app/incidents/incidents'
import { callerOf, requireRole } from './auth'

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

  router.get('/', requireRole('operator', 'manager', 'admin'), (_req, res) => {
    res.json({ items: incidents.list().map((incident) => ({ ...incident, links: linksOf(incident.id) })) })
  })

  router.get('/:id', requireRole('operator', 'manager', 'admin'), async (req, res) => {
    const incident = await incidents.view(String(req.params.id))
    res.json({ ...incident, links: linksOf(incident.id) })
  })

  return router
}
