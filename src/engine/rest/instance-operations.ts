/**
 * Operations on running process instances: modification and migration
 * (POST /v2/process-instances/{key}/modification and /migration, Camunda 8.8; 204 when applied),
 * and the activation of an ad-hoc subprocess's inner elements.
 */
import type { Router } from 'express'
import { z } from 'zod'
import type { EngineApi } from '../api'
import { keyParam, keySchema, parseBody, variablesSchema } from './validation'

const modificationSchema = z.object({
  operationReference: z.unknown().optional(),
  activateInstructions: z.array(z.object({
    elementId: z.string().min(1),
    ancestorElementInstanceKey: z.union([keySchema, z.literal(-1).transform(() => '-1'), z.literal('-1')]).nullish(),
    variableInstructions: z.array(z.object({ variables: variablesSchema, scopeId: z.string().nullish() })).nullish(),
  })).nullish(),
  terminateInstructions: z.array(z.object({ elementInstanceKey: keySchema })).nullish(),
})

const adHocActivationSchema = z.object({
  elements: z.array(z.object({ elementId: z.string().min(1), variables: variablesSchema.nullish() })).min(1),
})

const migrationSchema = z.object({
  operationReference: z.unknown().optional(),
  targetProcessDefinitionKey: keySchema,
  mappingInstructions: z.array(z.object({ sourceElementId: z.string().min(1), targetElementId: z.string().min(1) })),
})

export function instanceOperationRoutes(router: Router, engine: EngineApi): void {
  router.post('/process-instances/:processInstanceKey/modification', (req, res) => {
    const processInstanceKey = keyParam(req, 'processInstanceKey')
    const body = parseBody(modificationSchema, req)
    engine.modifyProcessInstance({
      processInstanceKey,
      activateInstructions: (body.activateInstructions ?? []).map((a) => ({
        elementId: a.elementId,
        ancestorElementInstanceKey: a.ancestorElementInstanceKey ?? undefined,
        variableInstructions: (a.variableInstructions ?? []).map((v) => ({ variables: v.variables, scopeId: v.scopeId ?? '' })),
      })),
      terminateInstructions: body.terminateInstructions ?? [],
    })
    res.status(204).end()
  })

  router.post('/element-instances/ad-hoc-activities/:adHocSubProcessInstanceKey/activation', (req, res) => {
    const key = keyParam(req, 'adHocSubProcessInstanceKey')
    const body = parseBody(adHocActivationSchema, req)
    engine.activateAdHocElements(key, body.elements.map((e) => ({ elementId: e.elementId, ...(e.variables ? { variables: e.variables } : {}) })))
    res.status(204).end()
  })

  router.post('/process-instances/:processInstanceKey/migration', (req, res) => {
    const processInstanceKey = keyParam(req, 'processInstanceKey')
    const body = parseBody(migrationSchema, req)
    engine.migrateProcessInstance({ processInstanceKey, targetProcessDefinitionKey: body.targetProcessDefinitionKey, mappingInstructions: body.mappingInstructions })
    res.status(204).end()
  })
}
