/** INC-1: a target passed with the incident still open; the mail says who it was escalated to. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, incidentFacts, incidentFields, incidentLink, LABELS, slaTarget } from './shared'

export const incidentSlaBreached = defineTemplate({
  data: z.object({
    ...incidentFields,
    target: slaTarget,
    dueAt: dateTime,
    /** Names of the people the breach is escalated to. */
    escalatedTo: z.array(z.string().min(1)).default([]),
  }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.priority}] Échéance de ${LABELS.fr.target[d.target]} dépassée pour l'incident ${d.reference}`,
      heading: `Incident ${d.reference} : ${d.title}`,
      paragraphs: [`L'échéance de ${LABELS.fr.target[d.target]} de cet incident est dépassée depuis le ${formatDateTime(d.dueAt, 'fr', ctx)}.`],
      facts: [
        ...incidentFacts(d, 'fr'),
        [LABELS.fr.dueAt, formatDateTime(d.dueAt, 'fr', ctx)],
        ...(d.escalatedTo.length > 0 ? [[LABELS.fr.escalatedTo, d.escalatedTo.join(', ')] as [string, string]] : []),
      ],
      link: incidentLink(d.url, 'fr'),
    }),
    en: (d, ctx) => ({
      subject: `[${d.priority}] ${capitalise(LABELS.en.target[d.target])} target missed for incident ${d.reference}`,
      heading: `Incident ${d.reference}: ${d.title}`,
      paragraphs: [`This incident's ${LABELS.en.target[d.target]} target passed on ${formatDateTime(d.dueAt, 'en', ctx)}.`],
      facts: [
        ...incidentFacts(d, 'en'),
        [LABELS.en.dueAt, formatDateTime(d.dueAt, 'en', ctx)],
        ...(d.escalatedTo.length > 0 ? [[LABELS.en.escalatedTo, d.escalatedTo.join(', ')] as [string, string]] : []),
      ],
      link: incidentLink(d.url, 'en'),
    }),
  },
})

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}
