/**
 * record-trace: appends a step of the incident's history to its trace (INC-2). The task header
 * `event` names the step. `incident-declared` opens the incident in the trace (it may come from the
 * API or from another process's message); `incident-closed` closes it with its root cause.
 */
import { z } from 'zod'
import { JobInputError, parseInput, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'record-trace' as const

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  incidentId: z.string().min(1),
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  service: z.string().min(1).optional(),
  impact: z.enum(['high', 'medium', 'low']).optional(),
  urgency: z.enum(['high', 'medium', 'low']).optional(),
  declaredBy: z.string().min(1).optional(),
  reportingOrganisation: z.string().min(1).optional(),
  declaredAt: z.iso.datetime({ offset: true }).optional(),
  /** from the close-incident form */
  rootCause: z.string().optional(),
  /** who closed the incident, when the form or the console says so */
  closedBy: z.string().min(1).optional(),
})

export type Input = z.output<typeof inputSchema>

/** Nothing: the trace is the result. */
export type Output = Record<string, never>

/** The trace entry of this job: a redelivered job appends once; the incident id keeps keys apart across engine resets. */
export function idempotencyKey(incidentId: string, jobKey: string): string {
  return `trace:${incidentId}:${jobKey}`
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  const at = ctx.now().toISOString()
  const entry = { idempotencyKey: idempotencyKey(input.incidentId, ctx.job.key), incidentId: input.incidentId, at, event }

  switch (event) {
    case 'incident-declared': {
      const declared = declaration(input, ctx)
      const incident = ctx.trace.openIncident({ ...declared, declaredAt: input.declaredAt ?? at, processInstanceKey: ctx.job.processInstanceKey })
      if (incident.processInstanceKey === undefined) ctx.trace.setProcessInstanceKey(incident.id, ctx.job.processInstanceKey)
      ctx.trace.append({
        ...entry,
        actor: declared.declaredBy,
        detail: { title: declared.title, service: declared.service, impact: declared.impact, urgency: declared.urgency, reportingOrganisation: declared.reportingOrganisation },
      })
      break
    }
    case 'incident-closed': {
      const incident = requireIncident(input.incidentId, ctx)
      ctx.trace.append({ ...entry, actor: input.closedBy ?? `${incident.reportingOrganisation}-operations`, detail: { rootCause: input.rootCause ?? null } })
      ctx.trace.setState(input.incidentId, 'closed', at)
      break
    }
    default:
      requireIncident(input.incidentId, ctx)
      ctx.trace.append({ ...entry, actor: 'raccord', detail: { elementId: ctx.job.elementId } })
  }
  return {}
}

function requireIncident(id: string, ctx: WorkerContext) {
  const incident = ctx.trace.incident(id)
  if (incident === undefined) throw new JobInputError([`variable incidentId: incident '${id}' is not in the trace`])
  return incident
}

/** Declaring needs every declaration variable, naming a known organisation and service. */
const declarationSchema = inputSchema.required({ title: true, service: true, impact: true, urgency: true, declaredBy: true, reportingOrganisation: true })

function declaration(input: Input, ctx: WorkerContext) {
  const declared = parseInput(declarationSchema, input)
  const problems: string[] = []
  if (!ctx.config.organisations.some((org) => org.id === declared.reportingOrganisation)) {
    problems.push(`variable reportingOrganisation: unknown organisation '${declared.reportingOrganisation}'`)
  }
  if (!ctx.config.organisations.some((org) => org.services.some((candidate) => candidate.id === declared.service))) {
    problems.push(`variable service: unknown service '${declared.service}'`)
  }
  if (problems.length > 0) throw new JobInputError(problems)
  const { incidentId, title, description, service, impact, urgency, declaredBy, reportingOrganisation } = declared
  return { id: incidentId, title, description, service, impact, urgency, declaredBy, reportingOrganisation }
}
