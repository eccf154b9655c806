/**
 * Deployments, resource deletion, and the deployed definitions: process definitions (search, get,
 * XML), decision definitions (search, get, evaluation) and decision requirements.
 */
import type { RequestHandler, Router } from 'express'
import multer, { MulterError } from 'multer'
import { z } from 'zod'
import type { DeployedItem, EngineApi } from '../api'
import type { Key } from '../api'
import { defaultTenantOnly, invalidArgument, notFound } from './problem'
import {
  decisionDefinitionResult, decisionRequirementsResult, processDefinitionResult,
  type ProcessDefinitionResult,
} from './results'
import { search, searchRequestSchema } from './search'
import { keyParam, keySchema, parseBody, variablesSchema } from './validation'

/** One resource may not exceed the instance payload limit (§2.1). */
const MAX_RESOURCE_BYTES = 4 * 1024 * 1024

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_RESOURCE_BYTES, files: 100, fields: 10 },
})

/** Multer reports limits as MulterError; a malformed body surfaces as busboy's plain Error: a 400 too. */
const receiveResources: RequestHandler = (req, res, next) => {
  upload.any()(req, res, (err?: unknown) => {
    if (err === undefined || err instanceof MulterError) {
      next(err)
      return
    }
    next(invalidArgument(`Invalid multipart request: ${err instanceof Error ? err.message : String(err)}`))
  })
}

const deletionSchema = z.object({ operationReference: z.unknown().optional() })

const evaluationSchema = z.object({
  decisionDefinitionId: z.string().min(1).nullish(),
  decisionDefinitionKey: keySchema.nullish(),
  variables: variablesSchema.nullish(),
  tenantId: z.string().nullish(),
}).refine((b) => Boolean(b.decisionDefinitionId) !== Boolean(b.decisionDefinitionKey), {
  message: 'exactly one of [decisionDefinitionId, decisionDefinitionKey] is required',
})

function deploymentItem(item: DeployedItem): Record<string, unknown> {
  switch (item.kind) {
    case 'process':
      return {
        processDefinition: {
          processDefinitionId: item.bpmnProcessId,
          processDefinitionVersion: item.version,
          resourceName: item.resourceName,
          tenantId: item.tenantId,
          processDefinitionKey: item.processDefinitionKey,
        },
      }
    case 'decision':
      return {
        decisionDefinition: {
          decisionDefinitionId: item.decisionId,
          version: item.version,
          name: item.name ?? item.decisionId,
          tenantId: item.tenantId,
          decisionRequirementsId: item.decisionRequirementsId,
          decisionDefinitionKey: item.decisionKey,
          decisionRequirementsKey: item.decisionRequirementsKey,
        },
      }
    case 'decisionRequirements':
      return {
        decisionRequirements: {
          decisionRequirementsId: item.decisionRequirementsId,
          version: item.version,
          decisionRequirementsName: item.name ?? item.decisionRequirementsId,
          tenantId: item.tenantId,
          resourceName: item.resourceName,
          decisionRequirementsKey: item.decisionRequirementsKey,
        },
      }
    case 'form':
      return {
        form: {
          formId: item.formId,
          version: item.version,
          resourceName: item.resourceName,
          tenantId: item.tenantId,
          formKey: item.formKey,
        },
      }
  }
}

/** The latest version per (process id, tenant), for the `isLatestVersion` filter. */
function latestKeys(definitions: ProcessDefinitionResult[]): Set<Key> {
  const latest = new Map<string, ProcessDefinitionResult>()
  for (const d of definitions) {
    const id = `${d.tenantId}\u0000${d.processDefinitionId}`
    const current = latest.get(id)
    if (!current || current.version < d.version) latest.set(id, d)
  }
  return new Set([...latest.values()].map((d) => d.processDefinitionKey))
}

export function deploymentRoutes(router: Router, engine: EngineApi): void {
  router.post('/deployments', receiveResources, async (req, res) => {
    const files = (req.files as Express.Multer.File[] | undefined) ?? []
    const tenantId = defaultTenantOnly('Deploy Resources', typeof req.body?.tenantId === 'string' ? req.body.tenantId as string : undefined)
    const resources = files
      .filter((f) => f.fieldname === 'resources')
      .map((f) => ({ name: f.originalname, content: f.buffer }))
    const result = await engine.deploy(resources, tenantId)
    res.json({
      deploymentKey: result.deploymentKey,
      tenantId: result.tenantId,
      deployments: result.deployments.map(deploymentItem),
    })
  })

  router.post('/resources/:resourceKey/deletion', (req, res) => {
    const key = keyParam(req, 'resourceKey')
    parseBody(deletionSchema, req)
    engine.deleteResource(key)
    res.status(200).end()
  })

  const activeProcessDefinitions = (): ProcessDefinitionResult[] =>
    [...engine.queries.processDefinitions()].filter((d) => d.active).map(processDefinitionResult)

  router.post('/process-definitions/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const definitions = activeProcessDefinitions()
    const latest = latestKeys(definitions)
    res.json(search(definitions, request, {
      key: 'processDefinitionKey',
      filterable: ['name', 'resourceName', 'version', 'versionTag', 'processDefinitionId', 'tenantId',
        'processDefinitionKey', 'hasStartForm'],
      custom: { isLatestVersion: (d, wanted) => latest.has(d.processDefinitionKey) === Boolean(wanted) },
      sortable: ['processDefinitionKey', 'name', 'resourceName', 'version', 'versionTag', 'processDefinitionId', 'tenantId'],
    }))
  })

  router.get('/process-definitions/:processDefinitionKey', (req, res) => {
    const key = keyParam(req, 'processDefinitionKey')
    const definition = activeProcessDefinitions().find((d) => d.processDefinitionKey === key)
    if (!definition) throw notFound('Process Definition', key)
    res.json(definition)
  })

  router.get('/process-definitions/:processDefinitionKey/xml', (req, res) => {
    const key = keyParam(req, 'processDefinitionKey')
    const xml = engine.queries.processDefinitionXml(key)
    if (xml === undefined) throw notFound('Process Definition', key)
    res.type('text/xml').send(xml)
  })

  const activeDecisionDefinitions = () =>
    [...engine.queries.decisionDefinitions()].filter((d) => d.active).map(decisionDefinitionResult)

  router.post('/decision-definitions/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    res.json(search(activeDecisionDefinitions(), request, {
      key: 'decisionDefinitionKey',
      filterable: ['decisionDefinitionId', 'name', 'version', 'decisionRequirementsId', 'tenantId',
        'decisionDefinitionKey', 'decisionRequirementsKey'],
      sortable: ['decisionDefinitionKey', 'decisionDefinitionId', 'name', 'version', 'decisionRequirementsId',
        'decisionRequirementsKey', 'tenantId'],
    }))
  })

  router.get('/decision-definitions/:decisionDefinitionKey', (req, res) => {
    const key = keyParam(req, 'decisionDefinitionKey')
    const definition = activeDecisionDefinitions().find((d) => d.decisionDefinitionKey === key)
    if (!definition) throw notFound('Decision Definition', key)
    res.json(definition)
  })

  router.post('/decision-definitions/evaluation', (req, res) => {
    const body = parseBody(evaluationSchema, req)
    const result = engine.evaluateDecision({
      decisionId: body.decisionDefinitionId ?? undefined,
      decisionKey: body.decisionDefinitionKey ?? undefined,
      variables: body.variables ?? {},
      tenantId: defaultTenantOnly('Evaluate Decision', body.tenantId),
    })
    res.json({
      decisionDefinitionId: result.decisionId,
      decisionDefinitionName: result.decisionName,
      decisionDefinitionVersion: result.decisionVersion,
      decisionRequirementsId: result.decisionRequirementsId,
      output: result.decisionOutput,
      failedDecisionDefinitionId: result.failedDecisionId,
      failureMessage: result.failureMessage,
      tenantId: result.tenantId,
      decisionDefinitionKey: result.decisionKey,
      decisionRequirementsKey: result.decisionRequirementsKey,
      decisionInstanceKey: result.decisionInstanceKey,
      decisionEvaluationKey: result.decisionInstanceKey,
      evaluatedDecisions: result.evaluatedDecisions.map((d) => ({
        decisionDefinitionId: d.decisionId,
        decisionDefinitionName: d.decisionName,
        decisionDefinitionVersion: d.decisionVersion,
        decisionDefinitionType: d.decisionType,
        output: d.decisionOutput,
        tenantId: d.tenantId,
        matchedRules: d.matchedRules,
        evaluatedInputs: d.evaluatedInputs,
        decisionDefinitionKey: d.decisionKey,
      })),
    })
  })

  const activeDecisionRequirements = () =>
    [...engine.queries.decisionRequirements()].filter((d) => d.active).map(decisionRequirementsResult)

  router.post('/decision-requirements/search', (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    res.json(search(activeDecisionRequirements(), request, {
      key: 'decisionRequirementsKey',
      filterable: ['decisionRequirementsName', 'version', 'decisionRequirementsId', 'tenantId',
        'decisionRequirementsKey', 'resourceName'],
      sortable: ['decisionRequirementsKey', 'decisionRequirementsName', 'version', 'decisionRequirementsId', 'tenantId'],
    }))
  })

  router.get('/decision-requirements/:decisionRequirementsKey', (req, res) => {
    const key = keyParam(req, 'decisionRequirementsKey')
    const requirements = activeDecisionRequirements().find((d) => d.decisionRequirementsKey === key)
    if (!requirements) throw notFound('Decision Requirements', key)
    res.json(requirements)
  })
}
