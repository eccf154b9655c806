/**
 * Who a credential is: every API token belongs to one organisation and names either a person (a
 * contact of that organisation, by email) or a team of it. That identity, never a field of a
 * request body, is what raccord records as the actor in trails, mails and decisions.
 */
import { z } from 'zod'
import type { ApiToken, Config, Contact } from './schema'

/** The person or team behind a credential. */
export interface Identity {
  organisation: string
  /** set when the credential is a person's: a contact of `organisation` */
  person?: { name: string; email: string }
  /** set when the credential is a team's, e.g. operations */
  team?: string
  /** how trails and mails name the actor, e.g. "Camille Martin (portail)" */
  actor: string
}

/** Every named person of an organisation: leads, directors, trace contacts. */
export function personsOf(config: Pick<Config, 'organisations'>, orgId: string): Contact[] {
  const org = config.organisations.find((candidate) => candidate.id === orgId)
  if (org === undefined) return []
  const { contacts } = org
  return [contacts.technicalLead, contacts.functionalLead, ...contacts.directors, ...contacts.traceRequestSenders, ...contacts.traceRequestReceivers]
}

/** The identity of a configured token; the configuration schema has checked its person exists. */
export function identityOf(config: Pick<Config, 'organisations'>, token: Pick<ApiToken, 'organisation' | 'contact' | 'team' | 'tokenEnv'>): Identity {
  if (token.contact !== undefined) {
    const person = personsOf(config, token.organisation).find((contact) => contact.email === token.contact)
    if (person === undefined) throw new Error(`Token ${token.tokenEnv}: ${token.contact} is not a contact of ${token.organisation}`)
    return { organisation: token.organisation, person: { name: person.name, email: person.email }, actor: `${person.name} (${token.organisation})` }
  }
  if (token.team === undefined) throw new Error(`Token ${token.tokenEnv} names neither a person (contact) nor a team`)
  const org = config.organisations.find((candidate) => candidate.id === token.organisation)
  const teamName = token.team === 'operations' && org !== undefined ? org.contacts.operations.name : `${token.team} team`
  return { organisation: token.organisation, team: token.team, actor: `${teamName} (${token.organisation})` }
}

/**
 * Refuses a body field naming an organisation other than the caller's, as a 400 naming the field:
 * a credential acts for its own organisation only.
 */
export function requireOwnOrganisation(field: string, given: string | undefined, caller: { organisation: string }): void {
  if (given === undefined || given === caller.organisation) return
  throw new z.ZodError([{ code: 'custom', path: field.split('.'), message: `Must be your own organisation '${caller.organisation}' (the credential's), not '${given}'`, input: given }])
}

/** The caller acts on a service of a party it has no agreement with. */
export class NotServicePartyError extends Error {
  override name = 'NotServicePartyError'
}

/**
 * A party acts on the services it is party to: the client on every service (the portal carries
 * them all), a provider on its own services and on the client's, never on another provider's.
 * An unknown service is left to the body's validation. Throws NotServicePartyError.
 */
export function requireServiceParty(config: Pick<Config, 'organisations'>, serviceId: string, caller: { organisation: string }): void {
  const owner = config.organisations.find((org) => org.services.some((service) => service.id === serviceId))
  const party = config.organisations.find((org) => org.id === caller.organisation)
  if (owner === undefined || party === undefined) return
  if (party.role === 'client' || owner.id === party.id || owner.role === 'client') return
  throw new NotServicePartyError(`${party.id} is not a party to service '${serviceId}', which ${owner.id} operates: a provider acts on its own services and on the client's`)
}
