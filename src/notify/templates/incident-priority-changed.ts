/** INC-3: a new impact or urgency changes the priority, and with it the targets. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, incidentFacts, incidentFields, incidentLink, LABELS, priority } from './shared'

export const incidentPriorityChanged = defineTemplate({
  data: z.object({
    ...incidentFields,
    previousPriority: priority,
    reason: z.string().optional(),
    responseDueAt: dateTime,
    resolutionDueAt: dateTime,
  }),
  content: {
    fr: (d, ctx) => {
      const l = LABELS.fr
      return {
        subject: `[${d.priority}] Incident ${d.reference} : priorité ${d.previousPriority} → ${d.priority}`,
        heading: `Incident ${d.reference} : ${d.title}`,
        paragraphs: [`La priorité de l'incident passe de ${d.previousPriority} à ${d.priority}. Les échéances sont recalculées.`],
        facts: [
          ...incidentFacts(d, 'fr'),
          [l.previousPriority, d.previousPriority],
          ...(d.reason ? [[l.reason, d.reason] as [string, string]] : []),
          [l.responseDueAt, formatDateTime(d.responseDueAt, 'fr', ctx)],
          [l.resolutionDueAt, formatDateTime(d.resolutionDueAt, 'fr', ctx)],
        ],
        link: incidentLink(d.url, 'fr'),
      }
    },
    en: (d, ctx) => {
      const l = LABELS.en
      return {
        subject: `[${d.priority}] Incident ${d.reference}: priority ${d.previousPriority} → ${d.priority}`,
        heading: `Incident ${d.reference}: ${d.title}`,
        paragraphs: [`The incident's priority changes from ${d.previousPriority} to ${d.priority}. Its targets are recomputed.`],
        facts: [
          ...incidentFacts(d, 'en'),
          [l.previousPriority, d.previousPriority],
          ...(d.reason ? [[l.reason, d.reason] as [string, string]] : []),
          [l.responseDueAt, formatDateTime(d.responseDueAt, 'en', ctx)],
          [l.resolutionDueAt, formatDateTime(d.resolutionDueAt, 'en', ctx)],
        ],
        link: incidentLink(d.url, 'en'),
      }
    },
  },
})
