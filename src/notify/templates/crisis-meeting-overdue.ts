/** CRI-2: the crisis cell has not met within 2 days of the cut; both parties' directors are told. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime } from './shared'
import { CUT_LABELS, cutFacts, cutFields } from './cut-shared'

export const crisisMeetingOverdue = defineTemplate({
  data: z.object({ ...cutFields, dueBy: dateTime, round: z.number().int().positive() }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.reference}] Cellule de crise non tenue dans le délai : raccordement ${d.interconnection}`,
      heading: `Cellule de crise en retard – raccordement ${d.interconnection}`,
      paragraphs: [
        `La cellule de crise convoquée après la coupure du raccordement du service ${d.service} ne s'est pas réunie avant le ${formatDateTime(d.dueBy, 'fr', ctx)}.`,
        'Le raccordement reste coupé. Merci de faire en sorte que la cellule se réunisse au plus vite.',
      ],
      facts: [...cutFacts(d, 'fr'), [CUT_LABELS.fr.dueBy, formatDateTime(d.dueBy, 'fr', ctx)], [CUT_LABELS.fr.round, String(d.round)]],
    }),
    en: (d, ctx) => ({
      subject: `[${d.reference}] Crisis cell not held in time: interconnection ${d.interconnection}`,
      heading: `Crisis cell overdue – interconnection ${d.interconnection}`,
      paragraphs: [
        `The crisis cell convened after the cut of the interconnection of ${d.service} did not meet by ${formatDateTime(d.dueBy, 'en', ctx)}.`,
        'The link stays cut. Please see that the cell meets as soon as possible.',
      ],
      facts: [...cutFacts(d, 'en'), [CUT_LABELS.en.dueBy, formatDateTime(d.dueBy, 'en', ctx)], [CUT_LABELS.en.round, String(d.round)]],
    }),
  },
})
