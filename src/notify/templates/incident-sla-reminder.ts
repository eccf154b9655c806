/** INC-1: a target (response or resolution) is near and the incident is still open. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, incidentFacts, incidentFields, incidentLink, LABELS, slaTarget } from './shared'

export const incidentSlaReminder = defineTemplate({
  data: z.object({ ...incidentFields, target: slaTarget, dueAt: dateTime }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.priority}] Rappel : échéance de ${LABELS.fr.target[d.target]} proche pour l'incident ${d.reference}`,
      heading: `Incident ${d.reference} : ${d.title}`,
      paragraphs: [
        `L'échéance de ${LABELS.fr.target[d.target]} de cet incident approche : ${formatDateTime(d.dueAt, 'fr', ctx)}. L'incident est toujours ouvert.`,
      ],
      facts: [...incidentFacts(d, 'fr'), [LABELS.fr.dueAt, formatDateTime(d.dueAt, 'fr', ctx)]],
      link: incidentLink(d.url, 'fr'),
    }),
    en: (d, ctx) => ({
      subject: `[${d.priority}] Reminder: ${LABELS.en.target[d.target]} target near for incident ${d.reference}`,
      heading: `Incident ${d.reference}: ${d.title}`,
      paragraphs: [`This incident's ${LABELS.en.target[d.target]} target is near: ${formatDateTime(d.dueAt, 'en', ctx)}. The incident is still open.`],
      facts: [...incidentFacts(d, 'en'), [LABELS.en.dueAt, formatDateTime(d.dueAt, 'en', ctx)]],
      link: incidentLink(d.url, 'en'),
    }),
  },
})
