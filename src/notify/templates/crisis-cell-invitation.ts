/** CUT-4, CRI-1, CRI-2: the crisis cell (both parties' technical and functional leads) is invited to meet within 2 days; an .ics goes with it. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime } from './shared'
import { CUT_LABELS, cutFacts, cutFields } from './cut-shared'

export const crisisCellInvitation = defineTemplate({
  data: z.object({
    ...cutFields,
    round: z.number().int().positive(),
    meetingAt: dateTime,
    dueBy: dateTime,
    /** "name (organisation)" of each member */
    members: z.array(z.string().min(1)).min(1),
  }),
  content: {
    fr: (d, ctx) => ({
      subject: `[${d.reference}] Cellule de crise${d.round > 1 ? ` (réunion n°${d.round})` : ''} : raccordement ${d.interconnection}`,
      heading: `Convocation de la cellule de crise – raccordement ${d.interconnection}`,
      paragraphs: [
        d.round > 1
          ? `La cellule de crise a décidé de maintenir la coupure du raccordement du service ${d.service}. Elle se réunit à nouveau.`
          : `Le raccordement du service ${d.service} est coupé. La cellule de crise, formée des responsables techniques et fonctionnels des deux parties, est convoquée.`,
        "Ordre du jour : analyser les causes, fixer les conditions de remise en service, et recueillir la décision de chaque partie. Le raccordement ne sera rétabli qu'avec l'accord des deux parties.",
        "L'invitation de calendrier jointe propose un créneau ; répondez à ce message pour en proposer un autre avant l'échéance.",
      ],
      facts: [
        ...cutFacts(d, 'fr'),
        [CUT_LABELS.fr.round, String(d.round)],
        [CUT_LABELS.fr.meetingAt, formatDateTime(d.meetingAt, 'fr', ctx)],
        [CUT_LABELS.fr.dueBy, formatDateTime(d.dueBy, 'fr', ctx)],
        [CUT_LABELS.fr.members, d.members.join('\n')],
      ],
    }),
    en: (d, ctx) => ({
      subject: `[${d.reference}] Crisis cell${d.round > 1 ? ` (meeting no. ${d.round})` : ''}: interconnection ${d.interconnection}`,
      heading: `Crisis cell convened – interconnection ${d.interconnection}`,
      paragraphs: [
        d.round > 1
          ? `The crisis cell decided to keep the interconnection of ${d.service} cut. It meets again.`
          : `The interconnection of ${d.service} is cut. The crisis cell, made of both parties' technical and functional leads, is convened.`,
        'Agenda: analyse the causes, set the terms for restoring the link, and record each party\'s decision. The link is restored only if both parties agree.',
        'The attached calendar invitation proposes a slot; reply to this message to propose another one before the deadline.',
      ],
      facts: [
        ...cutFacts(d, 'en'),
        [CUT_LABELS.en.round, String(d.round)],
        [CUT_LABELS.en.meetingAt, formatDateTime(d.meetingAt, 'en', ctx)],
        [CUT_LABELS.en.dueBy, formatDateTime(d.dueBy, 'en', ctx)],
        [CUT_LABELS.en.members, d.members.join('\n')],
      ],
    }),
  },
})
