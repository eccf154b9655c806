/**
 * /links/:token: the other party's signed links (CUT-3, CRI-3). GET shows what the link does and a
 * button, so that a mail scanner fetching the link changes nothing; POST uses it, once. A forged,
 * expired or replayed link gets a page saying so, and the process is left untouched.
 */
import express, { Router } from 'express'
import type { Config, Language } from '../config'
import { LinkReplayedError, type CutService } from '../app/cuts/cuts'
import { UnknownCutError } from '../app/cuts/cut-store'
import { LinkRefusedError, type LinkClaims, type LinkPurpose } from '../app/cuts/signed-links'
import { EngineUnavailableError } from '../app/incidents/incidents'
import { html } from '../notify'
import { linkPage } from './link-page'

const WORDS = {
  fr: {
    action: { 'acknowledge-cut': 'Accuser réception de la coupure', 'confirm-cut': 'Confirmer que notre côté est coupé', 'confirm-restore': 'Confirmer que notre côté est rétabli' } satisfies Record<LinkPurpose, string>,
    about: (cut: string, link: string) => `Coupure ${cut} du raccordement ${link}.`,
    once: 'Ce lien ne sert qu\'une fois.',
    done: (at: string) => `C'est enregistré (${at}). Merci.`,
    forged: "Lien inconnu : raccord ne reconnaît pas ce lien (il n'en est pas l'auteur, ou il est incomplet). Rien n'a été enregistré.",
    expired: "Lien expiré : ce lien a expiré. Rien n'a été enregistré ; appelez l'équipe d'exploitation qui vous l'a envoyé.",
    replayed: "Ce lien a déjà été utilisé. Rien de plus n'a été enregistré.",
    unavailable: "L'enregistrement a échoué ; le lien reste utilisable. Réessayez dans un instant.",
    refused: 'Lien refusé',
  },
  en: {
    action: { 'acknowledge-cut': 'Acknowledge the cut', 'confirm-cut': 'Confirm that our side is cut', 'confirm-restore': 'Confirm that our side is restored' } satisfies Record<LinkPurpose, string>,
    about: (cut: string, link: string) => `Cut ${cut} of interconnection ${link}.`,
    once: 'This link works once.',
    done: (at: string) => `Recorded (${at}). Thank you.`,
    forged: 'Unknown link: raccord does not know this link (it did not issue it, or it is incomplete). Nothing was recorded.',
    expired: 'Expired link: this link has expired. Nothing was recorded; phone the operations team that sent it.',
    replayed: 'This link has already been used. Nothing more was recorded.',
    unavailable: 'Recording failed; the link can still be used. Try again in a moment.',
    refused: 'Link refused',
  },
} as const


export function cutLinkRoutes(config: Config, cuts: CutService): Router {
  const router = Router()
  const languageOf = (party: string | undefined): Language => config.organisations.find((org) => org.id === party)?.language ?? 'en'

  /** A refusal as a page: 403 forged, 410 expired, 409 replayed, 503 when the engine could not be told. */
  const refuse = (res: express.Response, error: unknown, lang: Language) => {
    const words = WORDS[lang]
    const [status, text] =
      error instanceof LinkRefusedError
        ? error.reason === 'expired' ? [410, words.expired] : [403, words.forged]
        : error instanceof LinkReplayedError
          ? [409, words.replayed]
          : error instanceof UnknownCutError
            ? [403, words.forged]
            : error instanceof EngineUnavailableError
              ? [503, words.unavailable]
              : [undefined, '']
    if (status === undefined) throw error
    res.status(status).set('cache-control', 'no-store').type('html').send(linkPage(lang, words.refused, html`<p class="refusal">${text}</p>\n`))
  }

  router.get('/:token', (req, res) => {
    let inspected: { claims: LinkClaims; cut: { id: string; interconnectionId: string } }
    try {
      inspected = cuts.inspectLink(String(req.params.token))
    } catch (error) {
      return refuse(res, error, 'en')
    }
    const { claims, cut } = inspected
    const words = WORDS[languageOf(claims.party)]
    res.set('cache-control', 'no-store').type('html').send(linkPage(languageOf(claims.party), words.action[claims.purpose], html`<p>${words.about(cut.id, cut.interconnectionId)}</p>
<form method="post"><button type="submit">${words.action[claims.purpose]}</button></form>
<p><small>${words.once}</small></p>
`))
  })

  router.post('/:token', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    let lang: Language = 'en'
    try {
      const used = await cuts.useLink(String(req.params.token))
      lang = languageOf(used.claims.party)
      res.set('cache-control', 'no-store').type('html').send(linkPage(lang, WORDS[lang].action[used.claims.purpose], html`<p class="done">${WORDS[lang].done(used.at)}</p>\n<p>${WORDS[lang].about(used.cut.id, used.cut.interconnectionId)}</p>\n`))
    } catch (error) {
      refuse(res, error, lang)
    }
  })

  return router
}
