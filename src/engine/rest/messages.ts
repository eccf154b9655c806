/** Messages (publication, correlation) and signals (broadcast). */
import type { Router } from 'express'
import { z } from 'zod'
import type { EngineApi } from '../api'
import { timeToLiveProblem } from '../protocol'
import { defaultTenantOnly } from './problem'
import { parseBody, variablesSchema } from './validation'

const publicationSchema = z.object({
  name: z.string().min(1),
  correlationKey: z.string().nullish(),
  timeToLive: z.number().superRefine((ttl, context) => {
    const problem = timeToLiveProblem(ttl)
    if (problem) context.addIssue({ code: 'custom', message: problem })
  }).nullish(),
  messageId: z.string().nullish(),
  variables: variablesSchema.nullish(),
  tenantId: z.string().nullish(),
})

const correlationSchema = z.object({
  name: z.string().min(1),
  correlationKey: z.string().nullish(),
  variables: variablesSchema.nullish(),
  tenantId: z.string().nullish(),
})

const broadcastSchema = z.object({
  signalName: z.string().min(1),
  variables: variablesSchema.nullish(),
  tenantId: z.string().nullish(),
})

export function messageRoutes(router: Router, engine: EngineApi): void {
  router.post('/messages/publication', (req, res) => {
    const body = parseBody(publicationSchema, req)
    const published = engine.publishMessage({
      name: body.name,
      correlationKey: body.correlationKey ?? '',
      // The REST default TTL is 0: never buffered (§8.1).
      timeToLive: body.timeToLive ?? 0,
      messageId: body.messageId || undefined,
      variables: body.variables ?? undefined,
      tenantId: defaultTenantOnly('Publish Message', body.tenantId),
    })
    res.json({ messageKey: published.key, tenantId: published.tenantId })
  })

  router.post('/messages/correlation', (req, res) => {
    const body = parseBody(correlationSchema, req)
    const correlated = engine.correlateMessage({
      name: body.name,
      correlationKey: body.correlationKey ?? '',
      variables: body.variables ?? undefined,
      tenantId: defaultTenantOnly('Correlate Message', body.tenantId),
    })
    res.json({
      messageKey: correlated.messageKey,
      tenantId: correlated.tenantId,
      processInstanceKey: correlated.processInstanceKey,
    })
  })

  router.post('/signals/broadcast', (req, res) => {
    const body = parseBody(broadcastSchema, req)
    const broadcast = engine.broadcastSignal(body.signalName, body.variables ?? undefined, defaultTenantOnly('Broadcast Signal', body.tenantId))
    res.json({ signalKey: broadcast.key, tenantId: broadcast.tenantId })
  })
}
