/**
 * start-fix-change: the fix of a vulnerability goes through change management (SEC-2). When the
 * affected service is this installation's own, the worker starts its change (portal-change for
 * the client, provider-change for a provider, see fixChange in src/app/changes/changes.ts) and answers its
 * reference. Otherwise, or when the change process is not deployed here, it answers why not, and
 * the process falls back to a person recording the reference the affected party gives.
 *
 * The reference derives from the vulnerability, and the started change is written to the security
 * trace at once, so a redelivered job answers the change already started instead of a second one.
 */
import { z } from 'zod'
import { fixChange } from '../src/app/changes/changes'
import { ProcessNotDeployedError } from '../src/engine-client/process-handoff'
import type { VulnerabilityData } from '../src/app/security/vulnerabilities'
import { JobInputError } from '../src/app/worker-kit/job-input'
import { processHandoffOf, securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'start-fix-change' as const

/** The process variables this worker reads, and nothing more: the rest is in the security trace. */
export const inputSchema = z.object({
  vulnerabilityId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** true: a change was started, and changeReference is its reference */
  changeStarted: boolean
  changeReference: string | null
  /** as the request-fix-change form names it: portal or provider */
  changeKind: string | null
  changeRequestedBy: string | null
  changeProcessInstanceKey: string | null
  /** why no change was started: shown to the person who records the reference instead */
  changeFallbackReason: string | null
}

const KIND = { 'portal-change': 'portal', 'provider-change': 'provider' } as const

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const store = securityStoreOf(ctx)
  const vulnerability = store.get<VulnerabilityData & { changeProcessInstanceKey?: string }>(input.vulnerabilityId)
  if (vulnerability?.kind !== 'vulnerability') throw new JobInputError([`variable vulnerabilityId: vulnerability '${input.vulnerabilityId}' is not in the security trace`])
  const { data } = vulnerability
  if (data.changeProcessInstanceKey !== undefined && data.changeReference) {
    return started(data.changeReference, data.changeKind ?? null, data.changeProcessInstanceKey)
  }

  const at = ctx.now().toISOString()
  const fallback = (reason: string): Output => {
    store.append({ idempotencyKey: `security:${vulnerability.id}:${ctx.job.key}`, recordId: vulnerability.id, at, actor: 'raccord', event: 'change-not-started', detail: { reason, elementId: ctx.job.elementId } })
    return { changeStarted: false, changeReference: null, changeKind: null, changeRequestedBy: null, changeProcessInstanceKey: null, changeFallbackReason: reason }
  }
  const change = fixChange(ctx.config, { vulnerabilityId: vulnerability.id, ...data })
  if (!change.startable) return fallback(change.reason)

  let processInstanceKey: string
  try {
    processInstanceKey = await processHandoffOf(ctx).startProcess(change.process, change.variables)
  } catch (error) {
    if (error instanceof ProcessNotDeployedError) return fallback(`The change process '${change.process}' is not deployed on this engine: record the reference of the change opened by hand.`)
    throw error
  }
  const kind = KIND[change.process]
  store.update(vulnerability.id, { data: { changeReference: change.reference, changeKind: kind, changeProcess: change.process, changeProcessInstanceKey: processInstanceKey }, at })
  return started(change.reference, kind, processInstanceKey)
}

function started(changeReference: string, changeKind: string | null, changeProcessInstanceKey: string): Output {
  return { changeStarted: true, changeReference, changeKind, changeRequestedBy: 'raccord', changeProcessInstanceKey, changeFallbackReason: null }
}
