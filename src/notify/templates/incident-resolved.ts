/** INC-1: service is restored, by a workaround or a permanent fix; both parties are told. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, incidentFacts, incidentFields, incidentLink, LABELS } from './shared'

export const incidentResolved = defineTemplate({
  data: z.object({
    ...incidentFields,
    resolvedAt: dateTime,
    resolution: z.enum(['workaround', 'fix']),
    /** What was done, in the resolver's words. */
    summary: z.string().trim().min(1),
  }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.priority}] Incident ${d.reference} résolu : ${d.title}`,
      heading: `Incident ${d.reference} : ${d.title}`,
      paragraphs: [`Le service est rétabli (${LABELS.fr.resolutionKind[d.resolution]}).`, d.summary],
      facts: [
        ...incidentFacts(d, 'fr'),
        [LABELS.fr.resolution, LABELS.fr.resolutionKind[d.resolution]],
        [LABELS.fr.resolvedAt, formatDateTime(d.resolvedAt, 'fr', ctx)],
      ],
      link: incidentLink(d.url, 'fr'),
    }),
    en: (d, ctx) => ({
      subject: `[${d.priority}] Incident ${d.reference} resolved: ${d.title}`,
      heading: `Incident ${d.reference}: ${d.title}`,
      paragraphs: [`The service is restored (${LABELS.en.resolutionKind[d.resolution]}).`, d.summary],
      facts: [
        ...incidentFacts(d, 'en'),
        [LABELS.en.resolution, LABELS.en.resolutionKind[d.resolution]],
        [LABELS.en.resolvedAt, formatDateTime(d.resolvedAt, 'en', ctx)],
      ],
      link: incidentLink(d.url, 'en'),
    }),
  },
})
