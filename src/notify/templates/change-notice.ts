/**
 * CHG-1..8, PRD-1..6: the mails of change management and production openings. PRD-2: the parties
 * use the channels of incident management, so each step of a two-party gate reaches the other
 * party by mail. One template, one sentence per event and language.
 */
import { z } from 'zod'
import type { Language } from '../../config'
import type { RenderContext } from '../mail-content'
import { dateTime, defineTemplate, formatDateTime } from './shared'

/** The step a mail announces: the `event` header of a notify-parties task. */
export const CHANGE_EVENTS = [
  'change-on-qualification',
  'provider-answer-overdue',
  'change-sent-back',
  'change-released',
  'retention-agreed',
  'retention-reminder',
  'retirement-overdue',
  'previous-version-retired',
  'provider-change-released',
  'preproduction-link-requested',
  'preproduction-link-overdue',
  'preproduction-link-refused',
  'preproduction-link-still-cut',
  'preproduction-link-ready',
  'opening-refused',
  'service-opened',
  'portal-release-planned',
  'portal-released',
  'provider-release-refused',
  'provider-released',
  'release-rolled-back',
] as const
export type ChangeEvent = (typeof CHANGE_EVENTS)[number]

const text = z.string().trim().min(1)

const data = z.object({
  event: z.enum(CHANGE_EVENTS),
  /** The reference both parties quote: CHG-..., OPN-..., REL-..., PPL-... */
  reference: text,
  title: text,
  /** Name of the provider concerned, when one is. */
  provider: text.optional(),
  /** Name of the service concerned, when one is. */
  service: text.optional(),
  version: text.optional(),
  previousVersion: text.optional(),
  /** The date that matters for this step: answer due, planned release, retirement deadline. */
  dueAt: dateTime.optional(),
  /** Why a party refused, or what fails. */
  reasons: text.optional(),
  /** RFC 9745 Deprecation and RFC 8594 Sunset header values for version n-1 (CHG-8). */
  headers: z.object({ deprecation: text, sunset: text }).optional(),
})

type Data = z.output<typeof data>

/** What each event says: the subject's phrase and the first paragraph. */
const WORDING: Record<Language, Record<ChangeEvent, { subject: string; body: (d: Data, when: string) => string }>> = {
  fr: {
    'change-on-qualification': { subject: 'évolution du portail en qualification', body: (d, when) => `L'évolution ${d.version ?? ''} du portail est installée en qualification. Réalisez vos tests de non-régression, ou validez l'évolution qui vous concerne, puis donnez votre feu vert ou refusez en disant pourquoi${when ? `, avant le ${when}` : ''}.` },
    'provider-answer-overdue': { subject: 'réponse du fournisseur attendue', body: (d, when) => `${d.provider ?? 'Le fournisseur'} n'a pas répondu dans le délai convenu${when ? ` (${when})` : ''}. Le feu vert commun attend sa réponse.` },
    'change-sent-back': { subject: "évolution renvoyée en intégration", body: () => "L'évolution n'a pas reçu le feu vert commun : elle repart en intégration avec les motifs ci-dessous." },
    'change-released': { subject: 'version mise en production', body: (d) => `Le feu vert commun est donné : la version ${d.version ?? ''} du portail est en production.` },
    'retention-agreed': { subject: 'maintien de la version n-1', body: (d, when) => `La version ${d.previousVersion ?? 'n-1'} reste en ligne jusqu'au ${when}, au plus 6 mois après la mise en production de la version ${d.version ?? 'n'}.` },
    'retention-reminder': { subject: 'retrait prochain de la version n-1', body: (d, when) => `Rappel : la version ${d.previousVersion ?? 'n-1'} sera retirée le ${when}.` },
    'retirement-overdue': { subject: "version n-1 toujours en ligne après l'échéance", body: (d, when) => `La version ${d.previousVersion ?? 'n-1'} devait être retirée le ${when}, au plus 6 mois après la mise en production de la version ${d.version ?? 'n'}, comme convenu. Elle est toujours en ligne : retirez-la et confirmez-le. Ce rappel revient chaque semaine jusqu'au retrait.` },
    'previous-version-retired': { subject: 'version n-1 retirée', body: (d) => `La version ${d.previousVersion ?? 'n-1'} est retirée ; seule la version ${d.version ?? 'n'} reste en ligne.` },
    'provider-change-released': { subject: 'évolution du fournisseur mise en production', body: (d) => `${d.provider ?? 'Le fournisseur'} a mis en production une évolution de ${d.service ?? 'son service'} sans lien avec les fonctionnalités du portail, après ses tests de non-régression.` },
    'preproduction-link-requested': { subject: 'raccordement de pré-production demandé', body: (d, when) => `Le raccordement de pré-production de ${d.provider ?? 'du fournisseur'} doit être maintenu ou réactivé${when ? ` avant le ${when}` : ''}, puis confirmé par les deux parties.` },
    'preproduction-link-overdue': { subject: 'délai de raccordement de pré-production dépassé', body: (_d, when) => `Le délai convenu${when ? ` (${when})` : ''} est dépassé et le raccordement de pré-production n'est pas prêt.` },
    'preproduction-link-refused': { subject: 'raccordement de pré-production non confirmé', body: () => "Le raccordement de pré-production n'est pas confirmé par les deux parties : il est repris avec les motifs ci-dessous." },
    'preproduction-link-still-cut': { subject: 'raccordement de pré-production toujours coupé', body: () => "Le raccordement de pré-production n'est ni maintenu ni réactivé : son interconnexion est coupée, et la coupure ci-dessous n'est pas levée. Il ne revient qu'au rétablissement de cette coupure, avec l'accord exprès de la cellule de crise ; renouvelez alors la demande." },
    'preproduction-link-ready': { subject: 'raccordement de pré-production prêt', body: () => 'Les deux parties ont confirmé le raccordement de pré-production.' },
    'opening-refused': { subject: "ouverture du service refusée", body: (d) => `L'ouverture de ${d.service ?? 'du service'} n'a pas reçu l'accord des deux parties. La demande sera revue avec les motifs ci-dessous.` },
    'service-opened': { subject: 'service ouvert', body: (d) => `${d.service ?? 'Le service'} de ${d.provider ?? 'du fournisseur'} est activé en production et visible dans le portail.` },
    'portal-release-planned': { subject: 'nouvelle version du portail prévue', body: (d, when) => `La version ${d.version ?? ''} du portail est prévue le ${when}.` },
    'portal-released': { subject: 'nouvelle version du portail en production', body: (d) => `La version ${d.version ?? ''} du portail est en production.` },
    'provider-release-refused': { subject: 'mise en production refusée', body: (d) => `La version ${d.version ?? ''} de ${d.service ?? 'du service'} ne peut pas aller en production : aucune validation enregistrée sur la pré-production du portail ne la couvre. Motif ci-dessous.` },
    'provider-released': { subject: 'nouvelle version du fournisseur en production', body: (d) => `${d.provider ?? 'Le fournisseur'} a mis en production la version ${d.version ?? ''} de ${d.service ?? 'son service'}, validée sur la pré-production du portail. Elle reste sous surveillance.` },
    'release-rolled-back': { subject: 'version antérieure remise en production', body: (d) => `Après un dysfonctionnement, la version ${d.previousVersion ?? 'antérieure'} de ${d.service ?? 'du service'} est de nouveau en production.` },
  },
  en: {
    'change-on-qualification': { subject: 'portal change on qualification', body: (d, when) => `Portal change ${d.version ?? ''} is installed on qualification. Run your non-regression tests, or validate the change that concerns you, then give your green light or refuse with your reasons${when ? `, by ${when}` : ''}.` },
    'provider-answer-overdue': { subject: 'provider answer overdue', body: (d, when) => `${d.provider ?? 'The provider'} has not answered within the agreed delay${when ? ` (${when})` : ''}. The joint green light waits for its answer.` },
    'change-sent-back': { subject: 'change sent back to integration', body: () => 'The change did not get the joint green light: it goes back to integration with the reasons below.' },
    'change-released': { subject: 'version released', body: (d) => `The joint green light is given: portal version ${d.version ?? ''} is in production.` },
    'retention-agreed': { subject: 'version n-1 kept online', body: (d, when) => `Version ${d.previousVersion ?? 'n-1'} stays online until ${when}, at most 6 months after the release of version ${d.version ?? 'n'}.` },
    'retention-reminder': { subject: 'version n-1 retires soon', body: (d, when) => `Reminder: version ${d.previousVersion ?? 'n-1'} will be retired on ${when}.` },
    'retirement-overdue': { subject: 'version n-1 still online past its deadline', body: (d, when) => `Version ${d.previousVersion ?? 'n-1'} was to be retired on ${when}, at most 6 months after the release of version ${d.version ?? 'n'}, as agreed. It is still online: retire it and confirm. This reminder comes back every week until it is retired.` },
    'previous-version-retired': { subject: 'version n-1 retired', body: (d) => `Version ${d.previousVersion ?? 'n-1'} is retired; only version ${d.version ?? 'n'} stays online.` },
    'provider-change-released': { subject: 'provider change released', body: (d) => `${d.provider ?? 'The provider'} has released a change of ${d.service ?? 'its service'} unrelated to portal features, after its non-regression tests.` },
    'preproduction-link-requested': { subject: 'pre-production link requested', body: (d, when) => `The pre-production link of ${d.provider ?? 'the provider'} is to be kept or reactivated${when ? ` by ${when}` : ''}, then confirmed by both parties.` },
    'preproduction-link-overdue': { subject: 'pre-production link delay passed', body: (_d, when) => `The agreed delay${when ? ` (${when})` : ''} has passed and the pre-production link is not ready.` },
    'preproduction-link-refused': { subject: 'pre-production link not confirmed', body: () => 'Both parties have not confirmed the pre-production link: it is taken up again with the reasons below.' },
    'preproduction-link-still-cut': { subject: 'pre-production link still cut', body: () => "The pre-production link is neither kept nor reactivated: its interconnection is cut, and the cut below is not restored. It comes back only when that cut is restored, on the crisis cell's express agreement; ask again then." },
    'preproduction-link-ready': { subject: 'pre-production link ready', body: () => 'Both parties have confirmed the pre-production link.' },
    'opening-refused': { subject: 'service opening refused', body: (d) => `Opening ${d.service ?? 'the service'} did not get both parties' approval. The request will be revised with the reasons below.` },
    'service-opened': { subject: 'service opened', body: (d) => `${d.service ?? 'The service'} of ${d.provider ?? 'the provider'} is active in production and visible in the portal.` },
    'portal-release-planned': { subject: 'new portal version planned', body: (d, when) => `Portal version ${d.version ?? ''} is planned for ${when}.` },
    'portal-released': { subject: 'new portal version released', body: (d) => `Portal version ${d.version ?? ''} is in production.` },
    'provider-release-refused': { subject: 'release refused', body: (d) => `Version ${d.version ?? ''} of ${d.service ?? 'the service'} cannot go to production: no validation recorded on the portal's pre-production covers it. The reason is below.` },
    'provider-released': { subject: 'new provider version released', body: (d) => `${d.provider ?? 'The provider'} has released version ${d.version ?? ''} of ${d.service ?? 'its service'}, validated on the portal's pre-production. It is being watched.` },
    'release-rolled-back': { subject: 'earlier version back in production', body: (d) => `After a malfunction, version ${d.previousVersion ?? 'the earlier version'} of ${d.service ?? 'the service'} is back in production.` },
  },
}

const LABELS = {
  fr: { reference: 'Référence', provider: 'Fournisseur', service: 'Service', version: 'Version', previousVersion: 'Version précédente', dueAt: 'Échéance', reasons: 'Motifs' },
  en: { reference: 'Reference', provider: 'Provider', service: 'Service', version: 'Version', previousVersion: 'Previous version', dueAt: 'Due', reasons: 'Reasons' },
} as const

function content(lang: Language) {
  return (d: Data, ctx: RenderContext) => {
    const l = LABELS[lang]
    const wording = WORDING[lang][d.event]
    const when = d.dueAt === undefined ? '' : formatDateTime(d.dueAt, lang, ctx)
    const facts: Array<[string, string]> = [[l.reference, d.reference]]
    if (d.provider) facts.push([l.provider, d.provider])
    if (d.service) facts.push([l.service, d.service])
    if (d.version) facts.push([l.version, d.version])
    if (d.previousVersion) facts.push([l.previousVersion, d.previousVersion])
    if (when) facts.push([l.dueAt, when])
    if (d.reasons) facts.push([l.reasons, d.reasons])
    if (d.headers) facts.push(['Deprecation', d.headers.deprecation], ['Sunset', d.headers.sunset])
    return {
      subject: `[${d.reference}] ${wording.subject}${lang === 'fr' ? ' : ' : ': '}${d.title}`,
      heading: `${d.reference}${lang === 'fr' ? ' : ' : ': '}${d.title}`,
      paragraphs: [wording.body(d, when), ...(d.reasons ? [d.reasons] : [])],
      facts,
    }
  }
}

export const changeNotice = defineTemplate({ data, content: { fr: content('fr'), en: content('en') } })
