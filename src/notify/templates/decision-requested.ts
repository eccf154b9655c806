/**
 * A decision of the other party (CHG-4, CHG-5, PRD-1..6): a user task that is that party's to
 * complete, mailed to one of its contacts with personal signed links, one per answer the task's
 * form offers. Each link works once, until `expiresAt`, and records the addressee as the actor.
 */
import { z } from 'zod'
import type { Language } from '../../config'
import type { RenderContext } from '../mail-content'
import { dateTime, defineTemplate, formatDateTime, webUrl } from './shared'

const text = z.string().trim().min(1)

const data = z.object({
  /** Name of the task, as the process names it */
  task: text,
  /** The reference both parties quote, when the procedure has one */
  reference: text.optional(),
  title: text.optional(),
  /** The addressee, by name: the links are theirs */
  addressee: text,
  /** Name of the organisation the task is for */
  party: text,
  actions: z.array(z.object({ label: text, url: webUrl })).min(1),
  expiresAt: dateTime,
})

type Data = z.output<typeof data>

const WORDS = {
  fr: {
    subject: (d: Data) => `${d.reference ? `${d.reference} : ` : ''}décision attendue de ${d.party} : ${d.task}`,
    asked: (d: Data) => `${d.addressee}, ${d.party} doit décider : « ${d.task} »${d.title ? ` pour « ${d.title} »` : ''}. Vous pouvez répondre depuis la console de raccord avec votre accès, ou avec l'un des liens ci-dessous.`,
    personal: (until: string) => `Ces liens sont personnels : votre décision sera enregistrée à votre nom. Chacun ne sert qu'une fois et expire le ${until}. Ouvrir un lien ne décide rien : la page qui s'ouvre montre la décision et demande confirmation ; un refus demande ses raisons.`,
  },
  en: {
    subject: (d: Data) => `${d.reference ? `${d.reference}: ` : ''}decision expected from ${d.party}: ${d.task}`,
    asked: (d: Data) => `${d.addressee}, ${d.party} is to decide: "${d.task}"${d.title ? ` for "${d.title}"` : ''}. You can answer in the raccord console with your own access, or with one of the links below.`,
    personal: (until: string) => `These links are yours: your decision is recorded in your name. Each works once and expires on ${until}. Opening a link decides nothing: the page it opens shows the decision and asks you to confirm; a refusal asks for its reasons.`,
  },
} as const

function content(lang: Language) {
  return (d: Data, ctx: RenderContext) => {
    const words = WORDS[lang]
    return {
      subject: words.subject(d),
      heading: words.subject(d),
      paragraphs: [words.asked(d), words.personal(formatDateTime(d.expiresAt, lang, ctx))],
      facts: [],
      actions: d.actions,
    }
  }
}

export const decisionRequested = defineTemplate({ data, content: { fr: content('fr'), en: content('en') } })
