/** CRI-3: both sides are restored, with the crisis cell's agreement; everyone involved is told. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime } from './shared'
import { CUT_LABELS, cutFacts, cutFields } from './cut-shared'

export const interconnectionRestored = defineTemplate({
  data: z.object({ ...cutFields, restoredAt: dateTime, terms: z.string().optional() }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.reference}] Raccordement ${d.interconnection} rétabli`,
      heading: `Raccordement ${d.interconnection} rétabli`,
      paragraphs: [
        `Avec l'accord de la cellule de crise, le raccordement du service ${d.service} est rétabli des deux côtés.`,
        ...(d.terms ? [`Conditions de remise en service : ${d.terms}`] : []),
      ],
      facts: [...cutFacts(d, 'fr'), [CUT_LABELS.fr.restoredAt, formatDateTime(d.restoredAt, 'fr', ctx)]],
    }),
    en: (d, ctx) => ({
      subject: `[${d.reference}] Interconnection ${d.interconnection} restored`,
      heading: `Interconnection ${d.interconnection} restored`,
      paragraphs: [
        `With the crisis cell's agreement, the interconnection of ${d.service} is restored on both sides.`,
        ...(d.terms ? [`Restoration terms: ${d.terms}`] : []),
      ],
      facts: [...cutFacts(d, 'en'), [CUT_LABELS.en.restoredAt, formatDateTime(d.restoredAt, 'en', ctx)]],
    }),
  },
})
