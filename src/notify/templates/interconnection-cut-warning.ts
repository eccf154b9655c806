/**
 * CUT-3: the party that cut tells the other at once, so that both sides cut in step. The mail
 * carries signed links to acknowledge it and to confirm the other side is cut; when the other party
 * cut first, it confirms that ours is cut too and carries no link.
 */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime } from './shared'
import { actionLink, CUT_LABELS, cutFacts, cutFields, linkParagraphs } from './cut-shared'

export const interconnectionCutWarning = defineTemplate({
  data: z.object({
    ...cutFields,
    cutAt: dateTime,
    /** true when the other party announced its cut first */
    answeringAnnouncement: z.boolean().default(false),
    acknowledgeLink: actionLink.optional(),
    confirmCutLink: actionLink.optional(),
    /** how long before someone phones */
    acknowledgementDelayMinutes: z.number().int().positive(),
  }),
  content: {
    fr: (d, ctx) => ({
      subject: d.answeringAnnouncement
        ? `[${d.reference}] Raccordement ${d.interconnection} : coupé de notre côté aussi`
        : `[${d.reference}] Coupure du raccordement ${d.interconnection} : merci de couper de votre côté`,
      heading: d.answeringAnnouncement ? `Raccordement ${d.interconnection} coupé des deux côtés` : `Raccordement ${d.interconnection} coupé par ${d.sendingParty}`,
      paragraphs: d.answeringAnnouncement
        ? [
            `Suite à votre annonce, ${d.sendingParty} a désactivé à son tour le raccordement du service ${d.service}. Les deux côtés sont coupés.`,
            'Une cellule de crise est convoquée : vous recevrez une invitation séparée.',
          ]
        : [
            `Par précaution, à la suite d'un problème de sécurité suspecté, ${d.sendingParty} a désactivé le raccordement du service ${d.service}.`,
            'Merci de désactiver le raccordement de votre côté dès maintenant, puis de le confirmer par le lien ci-dessous.',
            `Sans accusé de réception sous ${d.acknowledgementDelayMinutes} minutes, notre équipe appellera votre astreinte.`,
            ...linkParagraphs(d.confirmCutLink ? [d.confirmCutLink] : [], 'fr'),
            'Une cellule de crise est convoquée : vous recevrez une invitation séparée.',
          ],
      facts: [...cutFacts(d, 'fr'), [CUT_LABELS.fr.cutAt, formatDateTime(d.cutAt, 'fr', ctx)]],
      link: d.acknowledgeLink,
    }),
    en: (d, ctx) => ({
      subject: d.answeringAnnouncement
        ? `[${d.reference}] Interconnection ${d.interconnection}: cut on our side too`
        : `[${d.reference}] Interconnection ${d.interconnection} cut: please cut your side`,
      heading: d.answeringAnnouncement ? `Interconnection ${d.interconnection} cut on both sides` : `Interconnection ${d.interconnection} cut by ${d.sendingParty}`,
      paragraphs: d.answeringAnnouncement
        ? [
            `Following your announcement, ${d.sendingParty} has disabled its side of the interconnection of ${d.service} as well. Both sides are cut.`,
            'A crisis cell is convened: a separate invitation follows.',
          ]
        : [
            `As a precaution, on a suspected security problem, ${d.sendingParty} has disabled the interconnection of ${d.service}.`,
            'Please disable the interconnection on your side now, then confirm it with the link below.',
            `Without an acknowledgement within ${d.acknowledgementDelayMinutes} minutes, our team will phone your on-call team.`,
            ...linkParagraphs(d.confirmCutLink ? [d.confirmCutLink] : [], 'en'),
            'A crisis cell is convened: a separate invitation follows.',
          ],
      facts: [...cutFacts(d, 'en'), [CUT_LABELS.en.cutAt, formatDateTime(d.cutAt, 'en', ctx)]],
      link: d.acknowledgeLink,
    }),
  },
})
