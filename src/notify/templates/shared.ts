/** Data and wording shared by the incident templates. */
import { z } from 'zod'
import type { Language } from '../../config'
import type { MailContent, RenderContext } from '../mail-content'

const text = z.string().trim().min(1)

export const dateTime = z.iso.datetime({ offset: true })
export const priority = z.enum(['P1', 'P2', 'P3', 'P4'])
export const level = z.enum(['critical', 'high', 'medium', 'low'])
export const slaTarget = z.enum(['response', 'resolution'])
/** Only http(s) links: a template never renders a javascript: or data: URL. */
export const webUrl = z.url({ protocol: /^https?$/ })

/** What every incident mail shows. */
export const incidentFields = {
  /** The incident's reference, quoted by both parties in their exchanges (INC-2). */
  reference: text,
  title: text,
  /** Name of the affected service. */
  service: text,
  priority,
  /** Name of the organisation that declared the incident. */
  declaringParty: text,
  /** Page of the incident, when the recipient can open it. */
  url: webUrl.optional(),
}

/** How a template turns its data into content, per language: both languages are required. */
export interface Template<S extends z.ZodType> {
  data: S
  content: Record<Language, (data: z.output<S>, ctx: RenderContext) => MailContent>
}

export function defineTemplate<S extends z.ZodType>(template: Template<S>): Template<S> {
  return template
}

export const LABELS = {
  fr: {
    reference: 'Référence',
    service: 'Service',
    priority: 'Priorité',
    impact: 'Impact',
    urgency: 'Urgence',
    declaredBy: 'Déclaré par',
    declaredAt: 'Déclaré le',
    responseDueAt: 'Prise en charge attendue avant',
    resolutionDueAt: 'Résolution attendue avant',
    dueAt: 'Échéance',
    previousPriority: 'Priorité précédente',
    reason: 'Motif',
    resolvedAt: 'Résolu le',
    resolution: 'Solution',
    escalatedTo: 'Escaladé à',
    contact: 'Contact',
    open: "Ouvrir l'incident",
    // « impact » is masculine, « urgence » feminine.
    impactLevel: { critical: 'critique', high: 'élevé', medium: 'moyen', low: 'faible' },
    urgencyLevel: { critical: 'critique', high: 'élevée', medium: 'moyenne', low: 'faible' },
    target: { response: 'prise en charge', resolution: 'résolution' },
    resolutionKind: { workaround: 'contournement', fix: 'correction définitive' },
  },
  en: {
    reference: 'Reference',
    service: 'Service',
    priority: 'Priority',
    impact: 'Impact',
    urgency: 'Urgency',
    declaredBy: 'Declared by',
    declaredAt: 'Declared at',
    responseDueAt: 'Response due by',
    resolutionDueAt: 'Resolution due by',
    dueAt: 'Due by',
    previousPriority: 'Previous priority',
    reason: 'Reason',
    resolvedAt: 'Resolved at',
    resolution: 'Resolution',
    escalatedTo: 'Escalated to',
    contact: 'Contact',
    open: 'Open the incident',
    impactLevel: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
    urgencyLevel: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
    target: { response: 'response', resolution: 'resolution' },
    resolutionKind: { workaround: 'workaround', fix: 'permanent fix' },
  },
} as const

const LOCALE: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' }

/** A date as the recipient reads it: their language, their time zone, the zone named. */
export function formatDateTime(iso: string, lang: Language, ctx: RenderContext): string {
  return new Intl.DateTimeFormat(LOCALE[lang], {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    timeZone: ctx.timeZone,
  }).format(new Date(iso))
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/
const DURATION_UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const

/** An ISO 8601 duration as the recipient reads it: P30D → "30 jours" / "30 days", PT8H → "8 h" / "8 hours"; anything else as it is. */
export function formatDuration(iso: string, lang: Language): string {
  const match = DURATION.exec(iso)
  if (match === null || iso === 'P' || iso.endsWith('T')) return iso
  const parts = DURATION_UNITS.flatMap((unit, i) => {
    const amount = Number(match[i + 1] ?? 0)
    if (amount === 0) return []
    // "8 h" and "15 min" read well in French; English reads "8 hours" better than "8 hr".
    const short = lang === 'fr' && (unit === 'hour' || unit === 'minute' || unit === 'second')
    return [new Intl.NumberFormat(LOCALE[lang], { style: 'unit', unit, unitDisplay: short ? 'short' : 'long' }).format(amount)]
  })
  return parts.length === 0 ? new Intl.NumberFormat(LOCALE[lang], { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(0) : parts.join(' ')
}

/** The facts every incident mail starts with. */
export function incidentFacts(
  data: { reference: string; service: string; priority: string; declaringParty: string },
  lang: Language,
): Array<[string, string]> {
  const l = LABELS[lang]
  return [
    [l.reference, data.reference],
    [l.service, data.service],
    [l.priority, data.priority],
    [l.declaredBy, data.declaringParty],
  ]
}

export function incidentLink(url: string | undefined, lang: Language): MailContent['link'] {
  return url === undefined ? undefined : { label: LABELS[lang].open, url }
}
