/** INC-4: the other party learns of a new incident by mail, with its priority and targets (INC-3). */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, incidentFacts, incidentFields, incidentLink, LABELS, level } from './shared'

export const incidentDeclared = defineTemplate({
  data: z.object({
    ...incidentFields,
    description: z.string().optional(),
    impact: level,
    urgency: level,
    declaredAt: dateTime,
    responseDueAt: dateTime,
    resolutionDueAt: dateTime,
    /** Who at the declaring party answers questions about this incident. */
    contact: z.object({ name: z.string().min(1), email: z.email(), phone: z.string().min(1) }),
  }),
  content: {
    fr: (d, ctx) => {
      const l = LABELS.fr
      return {
        subject: `[${d.priority}] Incident ${d.reference} déclaré : ${d.title}`,
        heading: `Incident ${d.reference} : ${d.title}`,
        paragraphs: [
          `${d.declaringParty} a déclaré un incident sur le service ${d.service}.`,
          ...(d.description ? [d.description] : []),
          `Pour toute question, contactez ${d.contact.name} (${d.contact.email}, ${d.contact.phone}).`,
        ],
        facts: [
          ...incidentFacts(d, 'fr'),
          [l.impact, l.impactLevel[d.impact]],
          [l.urgency, l.urgencyLevel[d.urgency]],
          [l.declaredAt, formatDateTime(d.declaredAt, 'fr', ctx)],
          [l.responseDueAt, formatDateTime(d.responseDueAt, 'fr', ctx)],
          [l.resolutionDueAt, formatDateTime(d.resolutionDueAt, 'fr', ctx)],
        ],
        link: incidentLink(d.url, 'fr'),
      }
    },
    en: (d, ctx) => {
      const l = LABELS.en
      return {
        subject: `[${d.priority}] Incident ${d.reference} declared: ${d.title}`,
        heading: `Incident ${d.reference}: ${d.title}`,
        paragraphs: [
          `${d.declaringParty} has declared an incident on the service ${d.service}.`,
          ...(d.description ? [d.description] : []),
          `For any question, contact ${d.contact.name} (${d.contact.email}, ${d.contact.phone}).`,
        ],
        facts: [
          ...incidentFacts(d, 'en'),
          [l.impact, l.impactLevel[d.impact]],
          [l.urgency, l.urgencyLevel[d.urgency]],
          [l.declaredAt, formatDateTime(d.declaredAt, 'en', ctx)],
          [l.responseDueAt, formatDateTime(d.responseDueAt, 'en', ctx)],
          [l.resolutionDueAt, formatDateTime(d.resolutionDueAt, 'en', ctx)],
        ],
        link: incidentLink(d.url, 'en'),
      }
    },
  },
})
