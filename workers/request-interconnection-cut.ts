/**
 * request-interconnection-cut: another process asks for a cut of the interconnection (CUT-1,
 * SEC-4). incident-management asks when an incident is declared a suspected compromise;
 * vulnerability-handling when operations decide to cut. For each production interconnection
 * carrying the affected service, the worker mints a cut id and publishes the message
 * interconnection-cut-requested, which starts interconnection-cut for that id.
 *
 * The cut id and the message id derive from the job, so a redelivered job publishes the same
 * message, which the engine takes once. A service that no production interconnection carries (the
 * portal's own) has nothing to cut automatically: the worker says so, in the trace too, and
 * operations may still request a cut of any interconnection through the API or the console.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { CUT_REQUESTED_MESSAGE, productionInterconnectionsOf } from '../src/app/cuts/cut-services'
import { JobInputError } from '../src/app/worker-kit/job-input'
import { processHandoffOf, securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'request-interconnection-cut' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** the affected service */
  service: z.string().min(1),
  /** incident-management: the incident declared a suspected compromise */
  incidentId: z.string().min(1).optional(),
  title: z.string().optional(),
  declaredBy: z.string().optional(),
  /** vulnerability-handling: the vulnerability, and the review-cut-proposal form */
  vulnerabilityId: z.string().min(1).optional(),
  cutReason: z.string().optional(),
  cutDecidedBy: z.string().optional(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** the cuts requested, one per production interconnection of the service; empty when there is none */
  cutIds: string[]
  /** why no cut was requested, or null */
  cutNotRequestedReason: string | null
}

/**
 * CUT-YYYYMMDD-xxxxxx: the day the incident or vulnerability was recorded (UTC) and a digest of the
 * job, the same on every delivery, whenever it comes.
 */
export function cutIdFor(since: string, processInstanceKey: string, jobKey: string, interconnectionId: string): string {
  const digest = createHash('sha256').update(`${processInstanceKey}:${jobKey}:${interconnectionId}`).digest('hex').slice(0, 6)
  return `CUT-${new Date(since).toISOString().slice(0, 10).replaceAll('-', '')}-${digest}`
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const source = origin(input, ctx)
  if (!ctx.config.organisations.some((org) => org.services.some((service) => service.id === input.service))) {
    throw new JobInputError([`variable service: unknown service '${input.service}'`])
  }
  const at = ctx.now().toISOString()
  const located = productionInterconnectionsOf(ctx.config, input.service)
  if (located.length === 0) {
    const cutNotRequestedReason = `No production interconnection carries the service '${input.service}': there is nothing to cut automatically; operations may request a cut of any interconnection through the API or the console.`
    record(ctx, source, at, 'cut-not-requested', { service: input.service, reason: cutNotRequestedReason })
    return { cutIds: [], cutNotRequestedReason }
  }

  const handoff = processHandoffOf(ctx)
  const cutIds: string[] = []
  for (const { interconnection } of located) {
    const cutId = cutIdFor(source.since, ctx.job.processInstanceKey, ctx.job.key, interconnection.id)
    await handoff.publishMessage({
      name: CUT_REQUESTED_MESSAGE,
      correlationKey: cutId,
      messageId: `cut-request:${cutId}`,
      variables: {
        cutId,
        interconnectionId: interconnection.id,
        reason: source.reason,
        requestedBy: source.requestedBy,
        origin: 'self',
        requestedAt: at,
        ...(input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
        ...(input.vulnerabilityId === undefined ? {} : { vulnerabilityId: input.vulnerabilityId }),
      },
    })
    record(ctx, source, at, 'cut-requested', { cutId, interconnectionId: interconnection.id, reason: source.reason }, interconnection.id)
    cutIds.push(cutId)
  }
  return { cutIds, cutNotRequestedReason: null }
}

interface Source {
  kind: 'incident' | 'vulnerability'
  id: string
  /** when the incident or vulnerability was recorded */
  since: string
  reason: string
  requestedBy: string
}

/** The process asking, from its record in the trace. Throws JobInputError. */
function origin(input: Input, ctx: WorkerContext): Source {
  if ((input.incidentId === undefined) === (input.vulnerabilityId === undefined)) {
    throw new JobInputError(['variables incidentId, vulnerabilityId: exactly one is expected, to say which process asks for the cut'])
  }
  if (input.incidentId !== undefined) {
    const incident = ctx.trace.incident(input.incidentId)
    if (incident === undefined) throw new JobInputError([`variable incidentId: incident '${input.incidentId}' is not in the trace`])
    return {
      kind: 'incident',
      id: input.incidentId,
      since: incident.declaredAt,
      reason: `Suspected compromise, incident ${input.incidentId}${input.title ? `: ${input.title}` : ''}`,
      requestedBy: input.declaredBy ?? 'incident management',
    }
  }
  const id = input.vulnerabilityId as string
  const vulnerability = securityStoreOf(ctx).get(id)
  if (vulnerability?.kind !== 'vulnerability') throw new JobInputError([`variable vulnerabilityId: vulnerability '${id}' is not in the security trace`])
  return {
    kind: 'vulnerability',
    id,
    since: vulnerability.createdAt,
    reason: input.cutReason ? `${input.cutReason} (vulnerability ${id})` : `Vulnerability ${id} is known to be exploited`,
    requestedBy: input.cutDecidedBy ?? 'operations',
  }
}

/** INC-2 or SEC-4: the asking process's trace says which cut it asked for, or why none. */
function record(ctx: WorkerContext, source: Source, at: string, event: string, detail: Record<string, unknown>, suffix = ''): void {
  const idempotencyKey = `${source.kind}:${source.id}:${ctx.job.key}${suffix ? `:${suffix}` : ''}`
  if (source.kind === 'incident') {
    ctx.trace.append({ idempotencyKey, incidentId: source.id, at, actor: source.requestedBy, event, detail })
    return
  }
  securityStoreOf(ctx).append({ idempotencyKey, recordId: source.id, at, actor: source.requestedBy, event, detail: { ...detail, elementId: ctx.job.elementId } })
}
