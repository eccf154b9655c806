/**
 * call-adapter: asks a system of one party to do a change step through the adapter the
 * configuration names (`changes.adapters`): retire portal version n-1 (CHG-8), show a provider
 * service in the portal's catalogue (PRD-4), put a provider's earlier version back (PRD-6).
 * With a `manual` adapter nothing is called and the process gives the step to a person.
 *
 * Task headers: `adapter` (portalVersions, portalCatalogue or providerRollback) and `action`.
 */
import { z } from 'zod'
import type { AdapterName } from '../src/config'
import { callAdapter, isAdapterName, type AdapterOutcome } from '../src/app/changes/change-adapters'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'call-adapter' as const

/** The process variables this worker reads, and nothing more; all of them go to the adapter. */
export const inputSchema = z.object({
  reference: z.string().min(1),
  providerId: z.string().min(1).nullish(),
  serviceId: z.string().min(1).nullish(),
  version: z.string().min(1).nullish(),
  previousVersion: z.string().min(1).nullish(),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** done: the adapter did it; manual: no adapter is configured, a person does it */
  adapterOutcome: AdapterOutcome
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const adapter = requiredHeader(ctx.job, 'adapter')
  if (!isAdapterName(adapter)) throw new JobInputError([`task header adapter: '${adapter}' is not one of portalVersions, portalCatalogue, providerRollback`])
  const action = requiredHeader(ctx.job, 'action')
  const adapterOutcome = await callAdapter(ctx.config.changes.adapters[adapter as AdapterName], {
    action,
    // A redelivered job calls again with the same key: the adapter does the step once.
    idempotencyKey: `${input.reference}:${ctx.job.key}`,
    body: { action, ...input },
    env: process.env,
    now: () => ctx.now(),
  })
  return { adapterOutcome }
}
