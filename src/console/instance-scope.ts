/**
 * Which organisations are party to a process instance, read from its process-level variables with
 * the same rule per record kind as the API (src/api/scope.ts): a manager lists and acts only on the
 * instances of records its organisation is party to.
 */
import type { Config } from '../config'
import { clientOf, ownerOfService } from '../api/scope'
import type { Variable } from '../engine-client/console-engine'

const ORGANISATION_VARIABLES = ['reportingOrganisation', 'providerId', 'clientId', 'otherParty'] as const

export function instanceParties(config: Config, variables: readonly Variable[], processInstanceKey: string): string[] {
  const own = variables.filter((variable) => variable.scopeKey === processInstanceKey)
  const value = (name: string) => own.find((variable) => variable.name === name)?.value
  const parties = new Set<string>()
  for (const name of ORGANISATION_VARIABLES) {
    const id = value(name)
    if (typeof id === 'string') parties.add(id)
  }
  // A provider's procedure carries the list of every provider too; only the portal's involves them all.
  const providers = value('providers')
  if (Array.isArray(providers) && typeof value('providerId') !== 'string') providers.filter((id): id is string => typeof id === 'string').forEach((id) => parties.add(id))
  for (const side of ['requester', 'recipient']) {
    const party = value(side) as { organisation?: unknown } | undefined
    if (typeof party?.organisation === 'string') parties.add(party.organisation)
  }
  const service = value('service') ?? value('serviceId')
  if (typeof service === 'string') {
    const owner = ownerOfService(config, service)
    if (owner !== undefined) parties.add(owner)
  }
  const interconnection = value('interconnectionId')
  if (typeof interconnection === 'string') {
    const owner = config.organisations.find((org) => org.interconnections.some((link) => link.id === interconnection))
    if (owner !== undefined) parties.add(owner.id)
  }
  // Incidents, cuts and changes always involve the client; what names no party (the security watch) is this installation's own.
  if (['incidentId', 'cutId', 'reference'].some((name) => typeof value(name) === 'string')) parties.add(clientOf(config))
  if (parties.size === 0) parties.add(config.self)
  return [...parties]
}
