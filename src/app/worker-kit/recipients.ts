/**
 * The `recipients` task header of the mailing workers: a comma-separated list of `party:role`.
 * Each worker has its own parties (relative to an incident, a change, a cut); the parsing, the
 * grouping by organisation and the problems reported are the same for all.
 */
import { contactsFor, type Config, type ContactRole, type Organisation } from '../../config'
import { JobInputError } from './job-input'

/** One organisation's share of a notification: who gets the mail, in which language. */
export interface RecipientGroup {
  organisation: Organisation
  /** name and address of each contact, without duplicates */
  contacts: Array<{ name: string; email: string }>
}

/**
 * Resolves a `recipients` header into one group per organisation, in header order. `organisationsOf`
 * names the organisations of a valid party. Throws JobInputError naming every malformed entry.
 */
export function resolveRecipientHeader<P extends string>(
  config: Config,
  header: string,
  parties: readonly P[],
  roles: readonly ContactRole[],
  organisationsOf: (party: P) => Organisation[],
): RecipientGroup[] {
  const groups = new Map<string, RecipientGroup>()
  const problems: string[] = []
  for (const entry of header.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [party, role, ...extra] = entry.split(':').map((part) => part.trim())
    if (!(parties as readonly string[]).includes(party) || !roles.includes(role as ContactRole) || extra.length > 0) {
      problems.push(`recipient '${entry}': expected party:role with party one of ${parties.join(', ')} and role one of ${roles.join(', ')}`)
      continue
    }
    for (const org of organisationsOf(party as P)) {
      const group = groups.get(org.id) ?? { organisation: org, contacts: [] }
      groups.set(org.id, group)
      for (const contact of contactsFor(config, org.id, role as ContactRole)) {
        if (!group.contacts.some((known) => known.email === contact.email)) group.contacts.push({ name: contact.name, email: contact.email })
      }
    }
  }
  if (problems.length === 0 && groups.size === 0) problems.push(`recipients '${header}' name nobody`)
  if (problems.length > 0) throw new JobInputError(problems)
  return [...groups.values()]
}
