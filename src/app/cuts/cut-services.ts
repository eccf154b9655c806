/**
 * What the interconnection-cut workers and routes share: the cut trail, the link signer, the
 * link-control adapter and the settings of the configuration, plus the lookups of a cut's parties.
 */
import { organisation, type Config, type Interconnection, type InterconnectionCutsConfig, type Organisation } from '../../config'
import type { CutStore } from './cut-store'
import type { LinkControl } from './link-control'
import { LinkSigner, type LinkPurpose } from './signed-links'
import { addDuration } from '../iso-duration'
import { JobInputError } from '../worker-kit/job-input'

export interface CutServices {
  store: CutStore
  links: LinkSigner
  linkControl: LinkControl
  settings: InterconnectionCutsConfig
  /** base URL of this raccord for the other party, without a trailing slash */
  publicUrl(): string
}

/**
 * The message that starts interconnection-cut from another process (CUT-1, SEC-4), correlated by
 * the new cut's id; its variables are those of a cut requested through the API.
 */
export const CUT_REQUESTED_MESSAGE = 'interconnection-cut-requested'

/** The production interconnections carrying a service: what a compromise of that service cuts (CUT-1). */
export function productionInterconnectionsOf(config: Config, serviceId: string): LocatedInterconnection[] {
  return config.organisations.flatMap((owner) =>
    owner.interconnections.filter((link) => link.service === serviceId && link.environment === 'production').map((interconnection) => ({ interconnection, owner })),
  )
}

/** An interconnection and the organisation that declares it (always a provider in the configuration). */
export interface LocatedInterconnection {
  interconnection: Interconnection
  owner: Organisation
}

export function findInterconnection(config: Config, id: string): LocatedInterconnection | undefined {
  for (const owner of config.organisations) {
    const interconnection = owner.interconnections.find((candidate) => candidate.id === id)
    if (interconnection) return { interconnection, owner }
  }
  return undefined
}

/**
 * The party at the other end of an interconnection, seen from this installation: the provider
 * when we are the client, the client when we run for the provider.
 */
export function otherPartyOf(config: Config, located: LocatedInterconnection): Organisation {
  if (located.owner.id !== config.self) return located.owner
  const client = config.organisations.find((org) => org.role === 'client')
  if (client === undefined) throw new JobInputError(['the configuration has no client organisation'])
  return client
}

/** The crisis cell (CRI-1): the technical and functional leads of both parties. */
export function crisisCell(config: Config, otherPartyId: string): Array<{ organisation: string; role: 'technicalLead' | 'functionalLead'; name: string; email: string }> {
  return [config.self, otherPartyId].flatMap((orgId) => {
    const org = organisation(config, orgId)
    return (['technicalLead', 'functionalLead'] as const).map((role) => ({ organisation: org.id, role, name: org.contacts[role].name, email: org.contacts[role].email }))
  })
}

/** A signed link for the other party, valid for the configured time. */
export function signedLink(services: CutServices, now: Date, claims: { cutId: string; purpose: LinkPurpose; party: string }): string {
  const exp = Date.parse(addDuration(now, services.settings.linkValidity))
  return `${services.publicUrl()}/links/${services.links.sign({ ...claims, exp })}`
}
