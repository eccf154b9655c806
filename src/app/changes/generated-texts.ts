/**
 * The texts raccord writes itself into a change, an opening or a release (titles, the description of
 * a security fix, why a fix cannot be started here), in the language of the organisation that asks:
 * the same language as the titles its people type.
 */
import type { Config, Language } from '../../config'

interface FixFacts { title: string; description?: string; vulnerabilityId: string; cveId?: string; severity?: string; remediationDueAt?: string }

interface GeneratedTexts {
  preproductionLink(action: 'keep' | 'reactivate', linkId: string): string
  opening(serviceName: string): string
  portalVersion(version: string): string
  serviceVersion(serviceId: string, version: string): string
  fixTitle(title: string): string
  fixDescription(fix: FixFacts, due: string | undefined): string
  unknownService(serviceId: string): string
  otherPartysService(serviceId: string, ownerName: string, ownerId: string): string
}

const TEXTS: Record<Language, GeneratedTexts> = {
  fr: {
    preproductionLink: (action, linkId) => `${action === 'keep' ? 'Maintien' : 'Réactivation'} du raccordement de pré-production ${linkId}`,
    opening: (serviceName) => `Ouverture de ${serviceName}`,
    portalVersion: (version) => `Version ${version} du portail`,
    serviceVersion: (serviceId, version) => `${serviceId} version ${version}`,
    fixTitle: (title) => `Correctif de sécurité : ${title}`,
    fixDescription: (fix, due) => `${fix.description ?? fix.title}\n\nVulnérabilité ${fix.vulnerabilityId}${fix.cveId ? ` (${fix.cveId})` : ''}${fix.severity ? `, gravité ${fix.severity}` : ''}.${due ? ` À corriger avant le ${due}.` : ''}`,
    unknownService: (serviceId) => `Le service « ${serviceId} » n'est pas dans la configuration.`,
    otherPartysService: (serviceId, ownerName, ownerId) => `Le service « ${serviceId} » appartient à ${ownerName} (${ownerId}) : son correctif passe par la gestion des changements de ${ownerId}, que raccord ne peut pas démarrer ici. Enregistrez la référence de changement que ${ownerId} donnera.`,
  },
  en: {
    preproductionLink: (action, linkId) => `${action === 'keep' ? 'Keep' : 'Reactivate'} the pre-production link ${linkId}`,
    opening: (serviceName) => `Opening of ${serviceName}`,
    portalVersion: (version) => `Portal version ${version}`,
    serviceVersion: (serviceId, version) => `${serviceId} version ${version}`,
    fixTitle: (title) => `Security fix: ${title}`,
    fixDescription: (fix, due) => `${fix.description ?? fix.title}\n\nVulnerability ${fix.vulnerabilityId}${fix.cveId ? ` (${fix.cveId})` : ''}${fix.severity ? `, severity ${fix.severity}` : ''}.${due ? ` Due by ${due}.` : ''}`,
    unknownService: (serviceId) => `The service '${serviceId}' is not in the configuration.`,
    otherPartysService: (serviceId, ownerName, ownerId) => `The service '${serviceId}' belongs to ${ownerName} (${ownerId}): its fix goes through ${ownerId}'s own change management, which raccord here cannot start. Record the change reference ${ownerId} gives.`,
  },
}

/** The generated texts in the language of `organisationId` (this installation's when it is not configured). */
export function generatedTexts(config: Config, organisationId: string = config.self): GeneratedTexts {
  const organisation = config.organisations.find((org) => org.id === organisationId) ?? config.organisations.find((org) => org.id === config.self)
  return TEXTS[organisation?.language ?? 'en']
}

/** A date for a generated text: the organisation's language and time zone. */
export function generatedDate(config: Config, iso: string, organisationId: string = config.self): string {
  const organisation = config.organisations.find((org) => org.id === organisationId) ?? config.organisations.find((org) => org.id === config.self)
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return new Intl.DateTimeFormat(organisation?.language === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: organisation?.timeZone ?? 'UTC' }).format(date)
}
