/**
 * The mails kept by the local SMTP sink, for people (GET /outbox, in the reader's organisation's
 * language and time zone) and scripts (GET /outbox.json).
 */
import { Router, type Request, type Response } from 'express'
import { html, type SafeHtml, type SmtpSink, type StoredMail } from '../notify'
import { listPage as pageOf, type ListPage } from '../app/list-page'

/** Which mails the caller of a request may see; another party's mail answers as one that does not exist. */
export type MailFilter = (res: Response) => (mail: StoredMail) => boolean

/** The reader's language and time zone, from the credential's organisation. */
export type ReaderOf = (res: Response) => Reader

export interface Reader {
  lang: 'fr' | 'en'
  timeZone: string
}

export function outboxRouter(sink: Pick<SmtpSink, 'list' | 'get'> & Partial<Pick<SmtpSink, 'attachment'>>, visibleTo: MailFilter = () => () => true, readerOf: ReaderOf = () => ({ lang: 'en', timeZone: 'UTC' })): Router {
  const router = Router()

  /** The reader's organisation's language, unless the page was asked in the other one (`?lang=`, as the console's link does). */
  const readerIn = (req: Request, res: Response): Reader => {
    const reader = readerOf(res)
    return req.query.lang === 'fr' || req.query.lang === 'en' ? { ...reader, lang: req.query.lang } : reader
  }

  router.get('/outbox.json', (_req, res) => {
    res.json(sink.list().filter(visibleTo(res)))
  })

  // Newest first; `q` searches subject, sender and recipients; 50 a page.
  router.get('/outbox', (req, res) => {
    const page = pageOf(sink.list().filter(visibleTo(res)), { query: { ...req.query, limit: String(OUTBOX_PAGE) } }, (mail) => ({
      words: [mail.subject, mail.from, ...mail.to, ...mail.cc, ...mail.envelopeTo],
      at: mail.receivedAt,
    }))
    res.type('html').send(listPage(page, typeof req.query.q === 'string' ? req.query.q : '', readerIn(req, res)).value)
  })

  router.get('/outbox/:id/attachments/:index', async (req, res) => {
    const found = sink.get(req.params.id)
    const index = Number(req.params.index)
    const attachment = found !== undefined && visibleTo(res)(found) && Number.isInteger(index) && index >= 0 ? await sink.attachment?.(found.id, index) : undefined
    if (attachment === undefined) {
      res.status(404).type('application/problem+json').json({ type: 'about:blank', title: 'Not Found', status: 404, detail: `No attachment ${req.params.index} of mail '${req.params.id}' in the outbox` })
      return
    }
    res.type(attachment.contentType).attachment(attachment.filename).send(attachment.content)
  })

  router.get('/outbox/:id', (req, res) => {
    const found = sink.get(req.params.id)
    const mail = found !== undefined && visibleTo(res)(found) ? found : undefined
    if (mail === undefined) {
      res.status(404).type('application/problem+json').json({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: `No mail '${req.params.id}' in the outbox`,
      })
      return
    }
    res.type('html').send(mailPage(mail, readerIn(req, res)).value)
  })

  return router
}

const WORDS = {
  fr: {
    outbox: 'Courriels envoyés',
    intro: 'Les courriels reçus par le serveur SMTP local de raccord, du plus récent au plus ancien. Donnez SMTP_URL pour envoyer de vrais courriels.',
    json: 'Aussi en',
    search: 'Rechercher',
    none: (searching: boolean) => (searching ? 'Aucun courriel ne correspond.' : 'Aucun courriel pour l\'instant.'),
    count: (first: number, last: number, total: number) => `${first}–${last} sur ${total} courriel${total > 1 ? 's' : ''}`,
    columns: ['Reçu le', 'De', 'À', 'Objet'],
    pages: 'Pages',
    previous: 'Page précédente',
    next: 'Page suivante',
    noSubject: '(sans objet)',
    back: 'Retour aux courriels envoyés',
    headers: { from: 'De', to: 'À', cc: 'Cc', envelope: 'Destinataires de l\'enveloppe', date: 'Date', received: 'Reçu le', messageId: 'Message-ID' },
    attachments: 'Pièces jointes',
    bytes: 'octets',
    text: 'Texte brut',
    htmlVersion: 'HTML',
    frame: 'La version HTML du courriel',
  },
  en: {
    outbox: 'Outbox',
    intro: 'Mails received by raccord\'s local SMTP sink, newest first. Set SMTP_URL to send real mail instead.',
    json: 'Also as',
    search: 'Search',
    none: (searching: boolean) => (searching ? 'No mail matches.' : 'No mail yet.'),
    count: (first: number, last: number, total: number) => `${first}–${last} of ${total} mail${total === 1 ? '' : 's'}`,
    columns: ['Received', 'From', 'To', 'Subject'],
    pages: 'Pages',
    previous: 'Previous page',
    next: 'Next page',
    noSubject: '(no subject)',
    back: 'Back to the outbox',
    headers: { from: 'From', to: 'To', cc: 'Cc', envelope: 'Envelope recipients', date: 'Date', received: 'Received', messageId: 'Message-ID' },
    attachments: 'Attachments',
    bytes: 'bytes',
    text: 'Plain text',
    htmlVersion: 'HTML',
    frame: 'HTML version of the mail',
  },
} as const

/** A date for people, in the reader's zone: "4 déc. 2026, 09:30". */
function when(iso: string, reader: Reader): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return new Intl.DateTimeFormat(reader.lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: reader.timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(date)
}

function page(title: string, lang: string, body: SafeHtml): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

/** Mails a page of the outbox lists. */
const OUTBOX_PAGE = 50

function listPage(found: ListPage<StoredMail>, q: string, reader: Reader): SafeHtml {
  const words = WORDS[reader.lang]
  const mails = found.items
  const link = (offset: number) => `outbox?${new URLSearchParams({ ...(q === '' ? {} : { q }), offset: String(offset), lang: reader.lang }).toString()}`
  const rows = mails.map(
    (mail) => html`<tr>
<td><time datetime="${mail.receivedAt}">${when(mail.receivedAt, reader)}</time></td>
<td>${mail.from}</td>
<td>${[...mail.to, ...mail.cc].join(', ')}</td>
<td><a href="outbox/${encodeURIComponent(mail.id)}?lang=${reader.lang}">${mail.subject || words.noSubject}</a></td>
</tr>
`,
  )
  return page(
    `${words.outbox} - raccord`,
    reader.lang,
    html`<h1>${words.outbox}</h1>
<p>${words.intro} ${words.json} <a href="outbox.json">JSON</a>.</p>
<form role="search" method="get" action="outbox"><input type="hidden" name="lang" value="${reader.lang}"><label for="q">${words.search}</label> <input id="q" name="q" type="search" value="${q}"> <button type="submit">${words.search}</button></form>
${
  mails.length === 0
    ? html`<p>${words.none(q !== '')}</p>`
    : html`<table>
<caption>${words.count(found.offset + 1, found.offset + mails.length, found.total)}</caption>
<thead><tr>${words.columns.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
<tbody>
${rows}</tbody>
</table>
<nav aria-label="${words.pages}">${found.offset > 0 ? html`<a href="${link(Math.max(0, found.offset - found.limit))}">${words.previous}</a> ` : ''}${found.offset + mails.length < found.total ? html`<a href="${link(found.offset + found.limit)}">${words.next}</a>` : ''}</nav>`
}`,
  )
}

function mailPage(mail: StoredMail, reader: Reader): SafeHtml {
  const words = WORDS[reader.lang]
  const headers: Array<[string, string]> = [
    [words.headers.from, mail.from],
    [words.headers.to, mail.to.join(', ')],
    [words.headers.cc, mail.cc.join(', ')],
    [words.headers.envelope, mail.envelopeTo.join(', ')],
    [words.headers.date, when(mail.date, reader)],
    [words.headers.received, when(mail.receivedAt, reader)],
    [words.headers.messageId, mail.messageId],
  ]
  return page(
    `${mail.subject} - ${words.outbox} - raccord`,
    reader.lang,
    html`<p><a href="../outbox?lang=${reader.lang}">${words.back}</a></p>
<h1>${mail.subject || words.noSubject}</h1>
<dl>
${headers.filter(([, value]) => value !== '').map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>\n`)}</dl>
${
  (mail.attachments ?? []).length === 0
    ? ''
    : html`<h2>${words.attachments}</h2>
<ul>
${(mail.attachments ?? []).map((attachment, index) => html`<li><a href="${encodeURIComponent(mail.id)}/attachments/${index}">${attachment.filename}</a> (${attachment.contentType}, ${attachment.size} ${words.bytes})</li>\n`)}</ul>`
}
<h2>${words.text}</h2>
<pre>${mail.text}</pre>
${
  mail.html === ''
    ? ''
    : html`<h2>${words.htmlVersion}</h2>
<iframe title="${words.frame}" sandbox srcdoc="${mail.html}" style="width: 100%; height: 40em; border: 1px solid"></iframe>`
}`,
  )
}
