/** TRC-3: a trace request has had no answer within the agreed delay. */
import { z } from 'zod'
import { dateTime, defineTemplate, formatDateTime, formatDuration } from './shared'

export const traceAnswerReminder = defineTemplate({
  data: z.object({
    /** The request's reference, as the letter quotes it. */
    reference: z.string().trim().min(1),
    /** outgoing: we asked and wait for the traces; incoming: we were asked and owe them. */
    direction: z.enum(['outgoing', 'incoming']),
    otherParty: z.string().trim().min(1),
    dispatchedAt: dateTime,
    postalReference: z.string().trim().min(1),
    /** The agreed delay, an ISO 8601 duration (P30D). */
    answerDelay: z.string().trim().min(1),
  }),
  content: {
    fr: (d, ctx) => ({
      subject: `[Traces ${d.reference}] Rappel : pas de réponse dans le délai convenu (${formatDuration(d.answerDelay, 'fr')})`,
      heading: `Demande de traces ${d.reference}`,
      paragraphs: [
        d.direction === 'outgoing'
          ? `${d.otherParty} n'a pas encore répondu à la demande de traces envoyée par courrier le ${formatDateTime(d.dispatchedAt, 'fr', ctx)}. Relancez-la, puis enregistrez la réponse dès sa réception.`
          : `La demande de traces de ${d.otherParty} attend toujours sa réponse. Envoyez les traces par courrier, puis enregistrez la réponse.`,
      ],
      facts: [['Référence', d.reference], ['Partie', d.otherParty], ['Courrier posté le', formatDateTime(d.dispatchedAt, 'fr', ctx)], ['Référence postale', d.postalReference]],
    }),
    en: (d, ctx) => ({
      subject: `[Traces ${d.reference}] Reminder: no answer within ${formatDuration(d.answerDelay, 'en')}`,
      heading: `Trace request ${d.reference}`,
      paragraphs: [
        d.direction === 'outgoing'
          ? `${d.otherParty} has not yet answered the trace request posted on ${formatDateTime(d.dispatchedAt, 'en', ctx)}. Chase it, then record the answer when it arrives.`
          : `The trace request of ${d.otherParty} still awaits its answer. Post the traces, then record the answer.`,
      ],
      facts: [['Reference', d.reference], ['Party', d.otherParty], ['Letter posted at', formatDateTime(d.dispatchedAt, 'en', ctx)], ['Postal reference', d.postalReference]],
    }),
  },
})
