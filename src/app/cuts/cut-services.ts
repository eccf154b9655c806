/**
 * What the interconnection-cut workers and routes share: the cut trail, the link signer, the
 * link-control adapter and the settings of the configuration, plus the lookups of a cut's parties.
 */
import { organisation, type Config, type Interconnection, type InterconnectionCutsConfig, type Organisation } from '../../config'
import type { CutStore } from './cut-store'
import type { LinkAction, LinkControl } from './link-control'
import { LinkSigner, type LinkPurpose } from './signed-links'
import { addDuration } from '../iso-duration'
import { JobInputError, type WorkerContext } from '../worker-kit/worker-context'

export interface CutServices {
  store: CutStore
  links: LinkSigner
  linkControl: LinkControl
  settings: InterconnectionCutsConfig
  /** base URL of this raccord for the other party, without a trailing slash */
  publicUrl(): string
}

/** The cut services of a job; a worker run without them is a wiring mistake. Throws JobInputError. */
export function cutServicesOf(ctx: Pick<WorkerContext, 'cuts'>): CutServices {
  if (ctx.cuts === undefined) throw new JobInputError(['raccord runs without interconnection cut services (WorkerServices.cuts)'])
  return ctx.cuts
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

/** The cut of a job, with its interconnection and the other party. Throws JobInputError. */
export function cutContext(ctx: WorkerContext, cutId: string) {
  const services = cutServicesOf(ctx)
  const cut = services.store.cut(cutId)
  if (cut === undefined) throw new JobInputError([`variable cutId: cut '${cutId}' is not in the trail`])
  const located = findInterconnection(ctx.config, cut.interconnectionId)
  if (located === undefined) throw new JobInputError([`cut '${cutId}': interconnection '${cut.interconnectionId}' is no longer in the configuration`])
  return { services, cut, located, otherParty: organisation(ctx.config, cut.otherParty) }
}

/**
 * Disables or enables our side through the interconnection's link control, and traces it. Answers
 * whether it is done; false means the link control is manual and an operator must do it.
 */
export async function switchInterconnection(ctx: WorkerContext, cutId: string, action: LinkAction): Promise<{ done: boolean; at?: string }> {
  const { services, located } = cutContext(ctx, cutId)
  const outcome = await services.linkControl.apply({ interconnection: located.interconnection, action, cutId, idempotencyKey: `${cutId}:${action}:${ctx.job.key}` })
  const at = outcome.mode === 'webhook' ? outcome.at : ctx.now().toISOString()
  services.store.append({
    idempotencyKey: `cut:${cutId}:${ctx.job.key}`,
    cutId,
    at,
    actor: 'raccord',
    event: outcome.mode === 'webhook' ? `interconnection-${action}d` : `manual-${action}-requested`,
    detail: outcome.mode === 'webhook'
      ? { linkControl: 'webhook', url: located.interconnection.linkControl.type === 'webhook' ? located.interconnection.linkControl.url : null, status: outcome.status }
      : { linkControl: 'manual', elementId: ctx.job.elementId },
  })
  return outcome.mode === 'webhook' ? { done: true, at } : { done: false }
}
