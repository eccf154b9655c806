/** Data and wording shared by the interconnection-cut templates (CUT-3, CUT-4, CRI-1..3). */
import { z } from 'zod'
import type { Language } from '../../config'
import { webUrl } from './shared'

const text = z.string().trim().min(1)

/** What every cut mail shows. */
export const cutFields = {
  /** The cut's reference, quoted by both parties (e.g. CUT-20250314-7f3a). */
  reference: text,
  /** Id of the interconnection, as both parties name it in their configuration. */
  interconnection: text,
  /** Name of the service the interconnection carries. */
  service: text,
  environment: z.enum(['preproduction', 'production']),
  /** Name of the organisation sending the mail. */
  sendingParty: text,
  /** Who to call at the sending party. */
  contact: z.object({ name: text, email: z.email(), phone: text }),
}

/** A link for the recipient to act on, signed and single-use. */
export const actionLink = z.object({ label: text, url: webUrl })

export const CUT_LABELS = {
  fr: {
    reference: 'Référence',
    interconnection: 'Raccordement',
    service: 'Service',
    environment: 'Environnement',
    environments: { preproduction: 'pré-production', production: 'production' },
    contact: 'Contact',
    cutAt: 'Coupé le',
    meetingAt: 'Réunion proposée le',
    dueBy: 'À tenir au plus tard le',
    round: 'Réunion n°',
    restoredAt: 'Rétabli le',
    members: 'Membres de la cellule',
  },
  en: {
    reference: 'Reference',
    interconnection: 'Interconnection',
    service: 'Service',
    environment: 'Environment',
    environments: { preproduction: 'pre-production', production: 'production' },
    contact: 'Contact',
    cutAt: 'Cut at',
    meetingAt: 'Meeting proposed for',
    dueBy: 'To be held by',
    round: 'Meeting no.',
    restoredAt: 'Restored at',
    members: 'Crisis cell members',
  },
} as const

export function cutFacts(
  d: { reference: string; interconnection: string; service: string; environment: 'preproduction' | 'production'; contact: { name: string; email: string; phone: string } },
  lang: Language,
): Array<[string, string]> {
  const l = CUT_LABELS[lang]
  return [
    [l.reference, d.reference],
    [l.interconnection, d.interconnection],
    [l.service, d.service],
    [l.environment, l.environments[d.environment]],
    [l.contact, `${d.contact.name}, ${d.contact.phone}, ${d.contact.email}`],
  ]
}

/** Extra links go in the body as "label: url" paragraphs; the layout has room for one button. */
export function linkParagraphs(links: Array<{ label: string; url: string }>, lang: Language): string[] {
  return links.map((link) => `${link.label}${lang === 'fr' ? ' : ' : ': '}${link.url}`)
}
