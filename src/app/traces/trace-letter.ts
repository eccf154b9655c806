/**
 * The postal letter of a trace request (TRC-3): a printable HTML page with the sender's and the
 * addressee's postal addresses, the reference both parties quote, and what is asked. An outgoing
 * request gets the request itself; an incoming one gets the acknowledgement that the traces
 * will follow. The letter is written in the addressee's language.
 */
import { organisation, type Config, type Contact, type Language } from '../../config'
import { html } from '../../notify'
import { contactNamed, type PartyContact, type TraceRequestData } from './trace-requests'

/** The two ends of the letter: who signs it (this installation's contact) and who receives it. */
function letterEnds(data: Pick<TraceRequestData, 'direction' | 'requester' | 'recipient'>): { from: PartyContact; to: PartyContact } {
  return data.direction === 'outgoing' ? { from: data.requester, to: data.recipient } : { from: data.recipient, to: data.requester }
}

/** The configured contact of a party: the sender list for a requester, the receiver list for a recipient. */
function contactOf(config: Config, party: PartyContact, list: 'traceRequestSenders' | 'traceRequestReceivers'): Contact {
  const found = contactNamed(organisation(config, party.organisation).contacts[list], party.name)
  // The process produces the letter only once both contacts are authorised (TRC-2).
  if (found === undefined) throw new Error(`${party.name} is not in ${party.organisation}'s ${list}`)
  return found
}

const WORDING = {
  fr: {
    /** French typography: a non-breaking space before the colon */
    colon: '\u00a0:',
    reference: 'Référence',
    object: 'Objet',
    requestObject: 'Demande de traces (annexe sécurité, § 3)',
    ackObject: 'Accusé de réception de votre demande de traces (annexe sécurité, § 3)',
    salutation: (name: string) => `${name},`,
    request: (services: string, from: string, to: string) =>
      `Conformément au § 3 de l'annexe relative à la sécurité de notre convention, nous vous demandons de nous transmettre les traces des services ${services}, pour la période du ${from} au ${to}.`,
    ack: (date: string, services: string, from: string, to: string) =>
      `Nous avons bien reçu votre demande de traces du ${date}, portant sur les services ${services}, pour la période du ${from} au ${to}. Nous vous les transmettrons par courrier.`,
    purpose: 'Motif de la demande',
    format: "Les traces sont échangées dans le format défini par l'annexe 4 de la convention (spécifications du format d'échange des traces). Merci d'indiquer le format, sa version et l'empreinte SHA-256 de l'archive livrée.",
    reply: (reference: string) => `Merci de rappeler la référence ${reference} dans votre réponse, à adresser par courrier à l'adresse ci-dessus.`,
    closing: "Veuillez agréer l'expression de nos salutations distinguées.",
    printed: 'Document produit par raccord',
  },
  en: {
    colon: ':',
    reference: 'Reference',
    object: 'Subject',
    requestObject: 'Request for traces (security annex, § 3)',
    ackObject: 'Acknowledgement of your request for traces (security annex, § 3)',
    salutation: (name: string) => `Dear ${name},`,
    request: (services: string, from: string, to: string) =>
      `Under § 3 of the security annex of our agreement, we ask you to send us the traces of the services ${services}, for the period from ${from} to ${to}.`,
    ack: (date: string, services: string, from: string, to: string) =>
      `We have received your request for traces dated ${date}, covering the services ${services}, for the period from ${from} to ${to}. We will send them to you by post.`,
    purpose: 'Purpose of the request',
    format: 'Traces are exchanged in the format set by annex 4 of the agreement (trace exchange format specification). Please state the format, its version and the SHA-256 digest of the delivered archive.',
    reply: (reference: string) => `Please quote the reference ${reference} in your answer, to be sent by post to the address above.`,
    closing: 'Yours sincerely,',
    printed: 'Produced by raccord',
  },
} as const

const LOCALE: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' }

/** The printable letter. `producedAt` dates it. */
export function renderTraceLetter(config: Config, reference: string, data: TraceRequestData, producedAt: string): string {
  const { from, to } = letterEnds(data)
  const outgoing = data.direction === 'outgoing'
  const sender = contactOf(config, from, outgoing ? 'traceRequestSenders' : 'traceRequestReceivers')
  const addressee = contactOf(config, to, outgoing ? 'traceRequestReceivers' : 'traceRequestSenders')
  const senderOrg = organisation(config, from.organisation)
  const addresseeOrg = organisation(config, to.organisation)
  const lang = addresseeOrg.language
  const w = WORDING[lang]
  const date = (iso: string, withTime = false) =>
    new Intl.DateTimeFormat(LOCALE[lang], { day: 'numeric', month: 'long', year: 'numeric', ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}), timeZone: senderOrg.timeZone }).format(new Date(iso))
  const serviceNames = data.services.map((id) => config.organisations.flatMap((org) => org.services).find((service) => service.id === id)?.name ?? id).join(', ')
  const period = [date(data.period.from, true), date(data.period.to, true)] as const
  const address = (org: string, contact: Contact) => html`<p class="address"><strong>${contact.name}</strong><br>${contact.function}<br>${org}<br>${contact.postalAddress.trim().split('\n').map((line, i) => (i === 0 ? line : html`<br>${line}`))}</p>`

  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>${reference} – ${outgoing ? w.requestObject : w.ackObject}</title>
<style>
  @page { size: A4; margin: 20mm; }
  body { font-family: Georgia, 'Times New Roman', serif; font-size: 11pt; line-height: 1.45; max-width: 170mm; margin: 0 auto; color: #000; }
  .sender { float: left; width: 45%; }
  .addressee { margin-left: 55%; margin-top: 30mm; }
  .meta { clear: both; margin-top: 12mm; }
  .signature { margin-top: 14mm; }
  footer { margin-top: 20mm; font-size: 8pt; color: #555; }
</style>
</head>
<body>
<section class="sender">${address(senderOrg.name, sender)}</section>
<section class="addressee">${address(addresseeOrg.name, addressee)}</section>
<section class="meta">
<p>${date(producedAt)}</p>
<p><strong>${w.reference}${w.colon}</strong> ${reference}<br><strong>${w.object}${w.colon}</strong> ${outgoing ? w.requestObject : w.ackObject}</p>
</section>
<p>${w.salutation(addressee.name)}</p>
<p>${outgoing ? w.request(serviceNames, ...period) : w.ack(date(data.registeredAt), serviceNames, ...period)}</p>
<p><strong>${w.purpose}${w.colon}</strong> ${data.purpose}</p>
<p>${w.format}</p>
<p>${w.reply(reference)}</p>
<p>${w.closing}</p>
<section class="signature"><p>${sender.name}<br>${sender.function}<br>${senderOrg.name}</p></section>
<footer>${w.printed} – ${reference}</footer>
</body>
</html>
`.value
}
