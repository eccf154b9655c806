/** Lookups over the parties of the agreement. */
import type { Config, Contact, Contacts, OperationsTeam, Organisation } from './schema'

/** A key of an organisation's `contacts` section. */
export type ContactRole = keyof Contacts

/** The operations role is a team (with an on-call phone); every other role is named people. */
export type ContactOf<R extends ContactRole> = R extends 'operations' ? OperationsTeam : Contact

/** An id that names no organisation: a programming or process-variable error, not a config one. */
export class UnknownOrganisationError extends Error {
  constructor(readonly organisationId: string) {
    super(`Unknown organisation '${organisationId}'`)
    this.name = 'UnknownOrganisationError'
  }
}

/** The organisation with this id; throws UnknownOrganisationError. */
export function organisation(config: Config, id: string): Organisation {
  const found = config.organisations.find((org) => org.id === id)
  if (found === undefined) throw new UnknownOrganisationError(id)
  return found
}

/** The organisation this installation runs for. */
export function selfOrganisation(config: Config): Organisation {
  return organisation(config, config.self)
}

/** Every organisation except the one this installation runs for: those raccord reaches by mail. */
export function otherParties(config: Config): Organisation[] {
  return config.organisations.filter((org) => org.id !== config.self)
}

/** The contacts holding `role` in organisation `orgId`, always as a list (one team, one lead, or several people). */
export function contactsFor<R extends ContactRole>(config: Config, orgId: string, role: R): Array<ContactOf<R>> {
  const held = organisation(config, orgId).contacts[role]
  return (Array.isArray(held) ? held : [held]) as Array<ContactOf<R>>
}
