/**
 * /console: the operator and manager pages. One HTML shell and the bundles built by
 * `npm run build:console`, plus the JSON the pages read, behind the API's bearer tokens. Every
 * engine call goes through ConsoleEngine (public /v2 API), so this works against Camunda 8.8 too.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import express, { Router, type Response } from 'express'
import { z } from 'zod'
import { authenticate, callerOf, type Credential } from '../api/auth'
import { ForbiddenProblem, HttpProblem } from '../api/problem'
import { declarationSchema, type IncidentService } from '../app/incidents/incidents'
import { UnknownIncidentError, type TraceEntry } from '../app/incidents/trace-store'
import type { Config } from '../config'
import { isTaskParty } from '../app/access/task-gate'
import { assigneeOf, canSeeTask, CONSOLE_PERMISSIONS, may, type ConsolePermission } from './access'
import type { ConsoleEngine, UserTask, Variable } from '../engine-client/console-engine'
import { checkTaskSubmission, NotYourTaskError, requireTaskParty, TaskSubmissionError } from '../app/access/task-gate'
import type { CutService } from '../app/cuts/cuts'
import { crisisDecisionSchema } from '../app/cuts/cuts'
import { sees } from '../api/scope'
import { instanceParties } from './instance-scope'
import { recordAcknowledgement } from './acknowledgement'
import { dashboardRoutes } from './dashboard'
import { consolePage } from './page'
import { PACKAGE_ROOT } from '../package-root'
import { listPage } from '../app/list-page'
import { taskName } from '../app/access/decision-links-words'
import { LANGUAGES } from '../notify'

/** Where `npm run build:console` writes the bundles. */
export const CONSOLE_ASSETS_DIR = join(PACKAGE_ROOT, 'dist', 'console')

/** Process variables that say what an instance is about, first found wins: its business key. */
/** Without `limit`, the console's lists answer this many at once (its pages ask fewer). */
const MAX_PAGE = 200

export const BUSINESS_KEY_VARIABLES = ['incidentId', 'cutId', 'changeId', 'vulnerabilityId', 'traceRequestId', 'watchReviewId', 'reference'] as const

/** Process variables shown beside a task as its context. */
const CONTEXT_VARIABLES = [...BUSINESS_KEY_VARIABLES, 'title', 'service', 'priority'] as const

export interface ConsoleOptions {
  config: Config
  credentials: readonly Credential[]
  engine: ConsoleEngine
  /** declares incidents, gives the trace shown as the timeline of incident-management instances, and lists them for the dashboard */
  incidents: Pick<IncidentService, 'declare' | 'view' | 'list'>
  /** the outbox page, when the local SMTP sink runs */
  outboxUrl?: string
  /** the public status page */
  statusUrl?: string
  /** default: CONSOLE_ASSETS_DIR */
  assetsDir?: string
  /** records a crisis-cell member's agreement: the crisis meeting task completes through it (CRI-3) */
  cuts?: Pick<CutService, 'decide'>
}

const instanceQuerySchema = z.object({
  process: z.string().optional(),
  state: z.enum(['ACTIVE', 'COMPLETED', 'TERMINATED', '']).optional(),
  incident: z.enum(['true', 'false', '']).optional(),
  businessKey: z.string().trim().max(200).optional(),
  q: z.string().max(200).optional(),
  limit: z.string().optional(),
  offset: z.string().optional(),
})

const completionSchema = z.strictObject({ variables: z.record(z.string(), z.unknown()) })

const ELEMENT_ID = z.string().trim().min(1).max(255)
const moveSchema = z.strictObject({ elementInstanceKey: z.string().regex(/^\d{1,20}$/, 'Not a key'), targetElementId: ELEMENT_ID })
const migrationSchema = z.strictObject({
  targetProcessDefinitionKey: z.string().regex(/^\d{1,20}$/, 'Not a key'),
  mappingInstructions: z.array(z.strictObject({ sourceElementId: ELEMENT_ID, targetElementId: ELEMENT_ID })).max(500),
})
const batchSchema = z.strictObject({
  type: z.enum(['RESOLVE_INCIDENT', 'CANCEL_PROCESS_INSTANCE']),
  processInstanceKeys: z.array(z.string().regex(/^\d{1,20}$/, 'Not a key')).min(1).max(MAX_PAGE),
})

/** zod says "expected string, received undefined"; a person understands "Required", as from /api. */
const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'Required' : undefined) }

export function consoleRouter(options: ConsoleOptions): Router {
  const { config, engine } = options
  const assetsDir = options.assetsDir ?? CONSOLE_ASSETS_DIR
  const organisationIds = config.organisations.map((org) => org.id)
  const declaration = declarationSchema(config)
  const router = Router()

  router.get('/', (req, res) => {
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(308, `${req.baseUrl}/`)
    res.type('html').send(consolePage(req.baseUrl))
  })
  router.use('/assets', (req, res, next) => {
    if (!existsSync(join(assetsDir, 'console.js'))) {
      return next(new HttpProblem(503, 'Service Unavailable', 'The console bundles are not built: run npm run build:console'))
    }
    next()
  }, express.static(assetsDir, { fallthrough: false, index: false }))

  const api = Router()
  router.use('/api', express.json({ limit: '256kb' }), authenticate(options.credentials), api)

  const demand = (permission: ConsolePermission) => (res: Response) => {
    const caller = callerOf(res)
    if (!may(caller, permission)) {
      throw new ForbiddenProblem(`This needs one of the roles ${CONSOLE_PERMISSIONS[permission].join(', ')}; token ${caller.name} has ${caller.roles.join(', ')}`)
    }
  }
  const visibleTask = async (res: Response, key: string): Promise<UserTask> => {
    const task = await engine.userTask(key)
    // The same answer as for a task that does not exist: no hint of another organisation's work.
    if (!canSeeTask(callerOf(res), task, organisationIds, config.self)) throw new HttpProblem(404, 'Not Found', `No user task ${key} among yours`)
    return task
  }

  api.get('/me', (_req, res) => {
    const caller = callerOf(res)
    const organisation = config.organisations.find((org) => org.id === caller.organisation)
    res.json({
      name: caller.name,
      /** who the credential is, as trails and mails record it */
      actor: caller.actor,
      assignee: assigneeOf(caller),
      roles: caller.roles,
      organisation: { id: caller.organisation, name: organisation?.name ?? caller.organisation, role: organisation?.role ?? 'provider', timeZone: organisation?.timeZone ?? 'UTC', language: organisation?.language ?? 'en' },
      may: Object.fromEntries(Object.keys(CONSOLE_PERMISSIONS).map((permission) => [permission, may(caller, permission as ConsolePermission)])),
      links: { outbox: options.outboxUrl, status: options.statusUrl },
    })
  })

  api.get('/services', (_req, res) => {
    const caller = callerOf(res)
    const client = config.organisations.find((org) => org.role === 'client')
    res.json({
      items: config.organisations.flatMap((org) => org.services.map((service) => ({ id: service.id, name: service.name, organisation: { id: org.id, name: org.name, role: org.role } }))),
      // The interconnections the caller is a party to (its own, or all for the client): the ones its forms may name.
      interconnections: config.organisations
        .filter((org) => org.id === caller.organisation || caller.organisation === client?.id)
        .flatMap((org) => org.interconnections.map((link) => ({ id: link.id, service: link.service, environment: link.environment, organisation: { id: org.id, name: org.name } }))),
      organisations: config.organisations.map((org) => ({ id: org.id, name: org.name, role: org.role })),
    })
  })

  // The same validation and the same domain call as POST /api/incidents; a 400 lists each bad field.
  api.post('/incidents', async (req, res) => {
    demand('declareIncident')(res)
    const incident = await options.incidents.declare(declaration.parse(req.body ?? {}, required), callerOf(res))
    res.status(201).json({ id: incident.id, processInstanceKey: incident.processInstanceKey })
  })

  // Oldest first: work waits in the order it came. `q` finds a task by its name (French or English), its record or its title; `state` is mine or group.
  api.get('/tasks', async (req, res) => {
    const caller = callerOf(res)
    const visible = (await engine.userTasks({ state: 'CREATED' })).filter((task) => canSeeTask(caller, task, organisationIds, config.self))
    const contexts = new Map<string, Record<string, unknown>>()
    await Promise.all([...new Set(visible.map((task) => task.processInstanceKey))].map(async (key) => {
      contexts.set(key, contextOf(await engine.variables({ processInstanceKey: key, scopeKey: key })))
    }))
    const me = assigneeOf(caller)
    const items = visible.map((task) => ({ ...task, mine: task.assignee === me, context: contexts.get(task.processInstanceKey) ?? {} }))
    const page = listPage(items, req, (task) => {
      const context = task.context as { businessKey?: { value?: unknown }; title?: unknown }
      return {
        words: [...LANGUAGES.map((lang) => taskName(task.processDefinitionId, task.elementId, task.name, lang)), task.processDefinitionId, String(context.businessKey?.value ?? ''), String(context.title ?? '')],
        state: task.mine ? 'mine' : 'group',
        at: task.creationDate ?? '',
      }
    }, 'oldest', MAX_PAGE)
    res.json(page)
  })

  api.get('/tasks/:key', async (req, res) => {
    const task = await visibleTask(res, key(req.params.key))
    const [form, variables] = await Promise.all([engine.userTaskForm(task.userTaskKey), engine.userTaskVariables(task.userTaskKey)])
    const caller = callerOf(res)
    const me = assigneeOf(caller)
    res.json({
      task,
      form: form ?? null,
      // Innermost scope first: the first of each name is the one the task sees.
      data: Object.fromEntries([...variables].reverse().map((variable) => [variable.name, variable.value])),
      context: contextOf(variables),
      can: {
        claim: task.state === 'CREATED' && task.assignee === undefined,
        unclaim: task.state === 'CREATED' && task.assignee !== undefined && (task.assignee === me || caller.roles.includes('admin')),
        complete: task.state === 'CREATED' && task.assignee === me && isTaskParty(caller, task, organisationIds),
        viewInstance: may(caller, 'viewProcesses'),
      },
    })
  })

  api.post('/tasks/:key/claim', async (req, res) => {
    const task = await visibleTask(res, key(req.params.key))
    if (task.assignee !== undefined) throw new HttpProblem(409, 'Conflict', `Task ${task.userTaskKey} is already claimed by ${task.assignee}`)
    await engine.assign(task.userTaskKey, assigneeOf(callerOf(res)))
    await recordAcknowledgement(engine, task, assigneeOf(callerOf(res)), new Date())
    res.status(204).end()
  })

  api.post('/tasks/:key/unclaim', async (req, res) => {
    const task = await visibleTask(res, key(req.params.key))
    const caller = callerOf(res)
    if (task.assignee !== assigneeOf(caller) && !caller.roles.includes('admin')) {
      throw new ForbiddenProblem(`Task ${task.userTaskKey} is claimed by ${task.assignee ?? 'nobody'}; only they or an admin can unclaim it`)
    }
    await engine.unassign(task.userTaskKey)
    res.status(204).end()
  })

  // The same rule as every task route: the task's party, the form's fields, who did it from the credential.
  api.post('/tasks/:key/completion', async (req, res) => {
    const task = await visibleTask(res, key(req.params.key))
    const caller = callerOf(res)
    if (task.assignee !== assigneeOf(caller)) throw new HttpProblem(409, 'Conflict', `Claim task ${task.userTaskKey} before completing it`)
    const { variables } = completionSchema.parse(req.body ?? {})
    try {
      requireTaskParty(caller, task, organisationIds)
      await checkTaskSubmission(engine, task, variables)
    } catch (error) {
      if (error instanceof NotYourTaskError) throw new ForbiddenProblem(error.message)
      if (error instanceof TaskSubmissionError) throw new HttpProblem(400, 'Bad Request', error.message, { errors: error.errors })
      throw error
    }
    if (task.elementId === 'hold-crisis-meeting' && task.processDefinitionId === 'interconnection-cut') {
      // Each member gives their own party's decision; the meeting is recorded once both parties agreed (CRI-3).
      if (options.cuts === undefined) throw new HttpProblem(503, 'Service Unavailable', 'Crisis decisions are not served here')
      const cutId = (await engine.variables({ processInstanceKey: task.processInstanceKey, scopeKey: task.processInstanceKey, name: 'cutId' }))[0]?.value
      const outcome = await options.cuts.decide(String(cutId), crisisDecisionSchema.parse(variables, required), caller)
      // The other party's member still has to give its decision: the task goes back to the cell, free to claim.
      if (!outcome.recorded) await engine.unassign(task.userTaskKey)
      res.status(outcome.recorded ? 200 : 202).json(outcome)
      return
    }
    await engine.complete(task.userTaskKey, { ...variables, completedBy: caller.actor })
    res.status(204).end()
  })

  api.use(dashboardRoutes({ config, engine, incidents: options.incidents }, demand('viewDashboard')))

  api.get('/processes', async (_req, res) => {
    demand('viewProcesses')(res)
    res.json({ items: await engine.processDefinitions() })
  })

  api.get('/instances', async (req, res) => {
    demand('viewProcesses')(res)
    const query = instanceQuerySchema.parse(req.query)
    const filter = {
      processDefinitionId: query.process || undefined,
      state: query.state || undefined,
      hasIncident: query.incident === '' || query.incident === undefined ? undefined : query.incident === 'true',
    }
    const businessKey = query.businessKey ?? ''
    const found = businessKey === ''
      ? await engine.processInstances(filter)
      : (await Promise.all(BUSINESS_KEY_VARIABLES.map((name) => engine.processInstances({ ...filter, variables: [{ name, value: businessKey }] })))).flat()
    const caller = callerOf(res)
    const visible = []
    for (const instance of found) {
      if (sees(config, caller, instanceParties(config, await engine.variables({ processInstanceKey: instance.processInstanceKey, scopeKey: instance.processInstanceKey }), instance.processInstanceKey))) visible.push(instance)
    }
    const keys = new Map<string, string>()
    await Promise.all(BUSINESS_KEY_VARIABLES.map(async (name) => {
      for (const variable of await engine.variables({ name })) {
        if (variable.name === name && typeof variable.value === 'string' && !keys.has(variable.scopeKey)) keys.set(variable.scopeKey, variable.value)
      }
    }))
    const items = visible.map((instance) => ({ ...instance, businessKey: keys.get(instance.processInstanceKey) ?? null }))
    const page = listPage(items, { query: { q: query.q, limit: query.limit, offset: query.offset } }, (instance) => ({
      words: [instance.processInstanceKey, instance.processDefinitionId, instance.businessKey],
      at: instance.startDate,
    }), 'newest', MAX_PAGE)
    res.json({ ...page, can: { operate: may(caller, 'operateInstances') } })
  })

  /** Another party's instance answers as one that does not exist. */
  const requireInstanceParty = async (res: Response, instanceKey: string): Promise<void> => {
    const variables = await engine.variables({ processInstanceKey: instanceKey, scopeKey: instanceKey })
    if (!sees(config, callerOf(res), instanceParties(config, variables, instanceKey))) throw new HttpProblem(404, 'Not Found', `No process instance ${instanceKey} among yours`)
  }

  api.get('/instances/:key', async (req, res) => {
    demand('viewProcesses')(res)
    const instanceKey = key(req.params.key)
    await requireInstanceParty(res, instanceKey)
    const [instance, elements, variables, incidents] = await Promise.all([
      engine.processInstance(instanceKey),
      engine.elementInstances(instanceKey),
      engine.variables({ processInstanceKey: instanceKey }),
      engine.incidents({ processInstanceKey: instanceKey }),
    ])
    const context = contextOf(variables.filter((variable) => variable.scopeKey === instanceKey))
    let trace: TraceEntry[] = []
    if (typeof context.incidentId === 'string') {
      try {
        trace = (await options.incidents.view(context.incidentId)).timeline
      } catch (error) {
        if (!(error instanceof UnknownIncidentError)) throw error
      }
    }
    const caller = callerOf(res)
    res.json({
      instance,
      elements,
      variables,
      incidents,
      context,
      trace,
      can: {
        retry: may(caller, 'retryIncident'),
        cancel: may(caller, 'cancelInstance') && instance.state === 'ACTIVE',
        operate: may(caller, 'operateInstances') && instance.state === 'ACTIVE',
      },
    })
  })

  // The model only, no variable: every role of a party to the record sees it on the record's page.
  api.get('/instances/:key/diagram', async (req, res) => {
    await requireInstanceParty(res, key(req.params.key))
    const instance = await engine.processInstance(key(req.params.key))
    res.type('application/xml').send(await engine.processDefinitionXml(instance.processDefinitionKey))
  })

  api.post('/instances/:key/cancellation', async (req, res) => {
    demand('cancelInstance')(res)
    await requireInstanceParty(res, key(req.params.key))
    await engine.cancel(key(req.params.key))
    res.status(204).end()
  })

  // Operate's operations, for this installation's admin: move a token, migrate to another version, batch retry or cancel.
  api.post('/instances/:key/modification', async (req, res) => {
    demand('operateInstances')(res)
    const instanceKey = key(req.params.key)
    await requireInstanceParty(res, instanceKey)
    const body = moveSchema.parse(req.body)
    await engine.moveToken(instanceKey, body.elementInstanceKey, body.targetElementId)
    res.status(204).end()
  })

  /** The other versions of the instance's process, to migrate it to. */
  api.get('/instances/:key/migration-targets', async (req, res) => {
    demand('operateInstances')(res)
    const instanceKey = key(req.params.key)
    await requireInstanceParty(res, instanceKey)
    const instance = await engine.processInstance(instanceKey)
    const versions = await engine.processVersions(instance.processDefinitionId)
    res.json({ items: versions.filter((v) => v.processDefinitionKey !== instance.processDefinitionKey) })
  })

  /** A target version's model, to map the instance's active elements onto it. */
  api.get('/instances/:key/migration-targets/:definitionKey/diagram', async (req, res) => {
    demand('operateInstances')(res)
    const instanceKey = key(req.params.key)
    await requireInstanceParty(res, instanceKey)
    const instance = await engine.processInstance(instanceKey)
    const target = (await engine.processVersions(instance.processDefinitionId)).find((v) => v.processDefinitionKey === key(req.params.definitionKey))
    if (!target) throw new HttpProblem(404, 'Not Found', `No version ${req.params.definitionKey} of process ${instance.processDefinitionId}`)
    res.type('application/xml').send(await engine.processDefinitionXml(target.processDefinitionKey))
  })

  api.post('/instances/:key/migration', async (req, res) => {
    demand('operateInstances')(res)
    const instanceKey = key(req.params.key)
    await requireInstanceParty(res, instanceKey)
    const body = migrationSchema.parse(req.body)
    const instance = await engine.processInstance(instanceKey)
    if (!(await engine.processVersions(instance.processDefinitionId)).some((v) => v.processDefinitionKey === body.targetProcessDefinitionKey)) {
      throw new HttpProblem(400, 'Bad Request', `Version ${body.targetProcessDefinitionKey} is not a version of process ${instance.processDefinitionId}`)
    }
    await engine.migrate(instanceKey, body.targetProcessDefinitionKey, body.mappingInstructions)
    res.status(204).end()
  })

  /** Batch operations started here, by the organisation that started them: only it follows them. */
  const batchOwners = new Map<string, string>()

  api.post('/batch-operations', async (req, res) => {
    demand('operateInstances')(res)
    const body = batchSchema.parse(req.body)
    const keys = [...new Set(body.processInstanceKeys)]
    for (const instanceKey of keys) await requireInstanceParty(res, instanceKey)
    const started = await engine.startBatch(body.type, keys)
    batchOwners.set(started.batchOperationKey, callerOf(res).organisation)
    res.status(202).json(started)
  })

  api.get('/batch-operations/:key', async (req, res) => {
    demand('operateInstances')(res)
    const batchKey = key(req.params.key)
    if (batchOwners.get(batchKey) !== callerOf(res).organisation) throw new HttpProblem(404, 'Not Found', `No batch operation ${batchKey} among yours`)
    const [batch, items] = await Promise.all([engine.batchOperation(batchKey), engine.batchItems(batchKey)])
    res.json({ ...batch, items })
  })

  api.post('/incidents/:key/retry', async (req, res) => {
    demand('retryIncident')(res)
    const incident = await engine.incident(key(req.params.key))
    await requireInstanceParty(res, incident.processInstanceKey)
    if (incident.state !== 'ACTIVE') throw new HttpProblem(409, 'Conflict', `Incident ${incident.incidentKey} is ${incident.state}, not active`)
    // A job out of retries comes back only with retries; other incidents need the resolution alone.
    if (incident.jobKey) await engine.updateJobRetries(incident.jobKey, 1)
    await engine.resolveIncident(incident.incidentKey)
    res.status(204).end()
  })

  return router
}

/** Keys are decimal strings: anything else is refused before it reaches the engine's URL. */
function key(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) throw new HttpProblem(400, 'Bad Request', `Not a key: ${String(value)}`)
  return value
}

function contextOf(variables: readonly Variable[]): Record<string, unknown> {
  const context: Record<string, unknown> = {}
  for (const name of CONTEXT_VARIABLES) {
    const found = variables.find((variable) => variable.name === name)
    if (found !== undefined) context[name] = found.value
  }
  const businessKeyName = BUSINESS_KEY_VARIABLES.find((name) => typeof context[name] === 'string')
  if (businessKeyName) context.businessKey = { name: businessKeyName, value: context[businessKeyName] }
  return context
}
