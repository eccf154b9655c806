/** CRI-3: the crisis cell agreed; our side is restored and the other party is asked to restore its own and confirm it by a signed link. */
import { z } from 'zod'
import { defineTemplate } from './shared'
import { actionLink, cutFacts, cutFields } from './cut-shared'

export const interconnectionRestoreRequested = defineTemplate({
  data: z.object({ ...cutFields, terms: z.string().optional(), confirmRestoreLink: actionLink }),
  content: {
    fr: (d) => ({
      subject: `[${d.reference}] Remise en service du raccordement ${d.interconnection} : merci de rétablir votre côté`,
      heading: `Remise en service du raccordement ${d.interconnection}`,
      paragraphs: [
        `La cellule de crise a donné son accord. ${d.sendingParty} a rétabli le raccordement du service ${d.service} de son côté.`,
        ...(d.terms ? [`Conditions fixées par la cellule : ${d.terms}`] : []),
        'Merci de rétablir le raccordement de votre côté, puis de le confirmer par le lien ci-dessous.',
      ],
      facts: cutFacts(d, 'fr'),
      link: d.confirmRestoreLink,
    }),
    en: (d) => ({
      subject: `[${d.reference}] Interconnection ${d.interconnection} restoration: please restore your side`,
      heading: `Restoring interconnection ${d.interconnection}`,
      paragraphs: [
        `The crisis cell agreed. ${d.sendingParty} has restored its side of the interconnection of ${d.service}.`,
        ...(d.terms ? [`Terms set by the cell: ${d.terms}`] : []),
        'Please restore the interconnection on your side, then confirm it with the link below.',
      ],
      facts: cutFacts(d, 'en'),
      link: d.confirmRestoreLink,
    }),
  },
})
