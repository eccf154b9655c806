/**
 * prepare-watch-review: SEC-1, the security watch is each party's own. A review that a timer starts
 * carries no variables, so this names the party running it (its security team gets the review) and
 * lists the services of the agreement that a finding may affect, for the form's service list.
 */
import { z } from 'zod'
import type { WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'prepare-watch-review' as const

/** The process variables this worker reads: none, the configuration says it all. */
export const inputSchema = z.object({})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** this installation's organisation: its `<id>-security` group reviews the watch */
  selfOrganisation: string
  /** the options of the form's "affected service" list: this party's services first */
  serviceIds: Array<{ label: string; value: string }>
}

export async function handle(_input: Input, ctx: WorkerContext): Promise<Output> {
  const { config } = ctx
  const ordered = [...config.organisations].sort((a, b) => Number(b.id === config.self) - Number(a.id === config.self))
  return {
    selfOrganisation: config.self,
    serviceIds: ordered.flatMap((org) => org.services.map((service) => ({ label: `${service.name} – ${org.name}`, value: service.id }))),
  }
}
