/**
 * Which organisations are party to a record, per kind (README "Who sees what"). A caller reads
 * only records its organisation is party to; another party's record answers 404, exactly as one
 * that does not exist, so that nothing leaks of other parties' business. The admin of the
 * installation's own organisation sees everything.
 */
import type { Config } from '../config'
import type { Caller } from '../app/incidents/incidents'
import type { ApiRole } from '../config'
import { HttpProblem } from './problem'

/** The client organisation's id. */
export function clientOf(config: Config): string {
  return config.organisations.find((org) => org.role === 'client')?.id ?? config.self
}

/** The organisation that owns a service. */
export function ownerOfService(config: Config, serviceId: string): string | undefined {
  return config.organisations.find((org) => org.services.some((service) => service.id === serviceId))?.id
}

/** Incidents: the declaring party, the owner of the affected service, and the client. */
export function incidentParties(config: Config, incident: { service: string; reportingOrganisation: string }): string[] {
  return present([incident.reportingOrganisation, ownerOfService(config, incident.service), clientOf(config)])
}

/**
 * Changes, releases, openings and pre-production links: the changing party and the parties it
 * affects. A provider's procedure involves that provider and the client; the portal's involves
 * the client and every provider.
 */
export function procedureParties(variables: Record<string, unknown>): string[] {
  const providers = Array.isArray(variables.providers) ? variables.providers.filter((id): id is string => typeof id === 'string') : []
  const affected = typeof variables.providerId === 'string' ? [variables.providerId] : providers
  return present([typeof variables.clientId === 'string' ? variables.clientId : undefined, ...affected])
}

/** Trace requests: the requester and the recipient. */
export function traceRequestParties(request: { requester: { organisation: string }; recipient: { organisation: string } }): string[] {
  return [request.requester.organisation, request.recipient.organisation]
}

/** Whether the caller sees a record of these parties. */
export function sees(config: Config, caller: Pick<Caller, 'organisation'> & { roles: readonly ApiRole[] }, parties: readonly string[]): boolean {
  return parties.includes(caller.organisation) || (caller.roles.includes('admin') && caller.organisation === config.self)
}

/** Throws the 404 of a record the caller is not party to. */
export function requireSeen(config: Config, caller: Pick<Caller, 'organisation'> & { roles: readonly ApiRole[] }, parties: readonly string[], notFound: string): void {
  if (!sees(config, caller, parties)) throw new HttpProblem(404, 'Not Found', notFound)
}

function present(ids: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(ids.filter((id): id is string => id !== undefined))]
}
