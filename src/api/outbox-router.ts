/** The mails kept by the local SMTP sink, for people (GET /outbox) and scripts (GET /outbox.json). */
import { Router, type Response } from 'express'
import { html, type SafeHtml, type SmtpSink, type StoredMail } from '../notify'
import { listPage as pageOf, type ListPage } from '../app/list-page'

/** Which mails the caller of a request may see; another party's mail answers as one that does not exist. */
export type MailFilter = (res: Response) => (mail: StoredMail) => boolean

export function outboxRouter(sink: Pick<SmtpSink, 'list' | 'get'> & Partial<Pick<SmtpSink, 'attachment'>>, visibleTo: MailFilter = () => () => true): Router {
  const router = Router()

  router.get('/outbox.json', (_req, res) => {
    res.json(sink.list().filter(visibleTo(res)))
  })

  // Newest first; `q` searches subject, sender and recipients; 50 a page.
  router.get('/outbox', (req, res) => {
    const page = pageOf(sink.list().filter(visibleTo(res)), { query: { ...req.query, limit: String(OUTBOX_PAGE) } }, (mail) => ({
      words: [mail.subject, mail.from, ...mail.to, ...mail.cc, ...mail.envelopeTo],
      at: mail.receivedAt,
    }))
    res.type('html').send(listPage(page, typeof req.query.q === 'string' ? req.query.q : '').value)
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
    res.type('html').send(mailPage(mail).value)
  })

  return router
}

function page(title: string, body: SafeHtml): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="en">
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

function listPage(found: ListPage<StoredMail>, q: string): SafeHtml {
  const mails = found.items
  const link = (offset: number) => `outbox?${new URLSearchParams({ ...(q === '' ? {} : { q }), offset: String(offset) }).toString()}`
  const rows = mails.map(
    (mail) => html`<tr>
<td><time datetime="${mail.receivedAt}">${mail.receivedAt}</time></td>
<td>${mail.from}</td>
<td>${[...mail.to, ...mail.cc].join(', ')}</td>
<td><a href="outbox/${encodeURIComponent(mail.id)}">${mail.subject || '(no subject)'}</a></td>
</tr>
`,
  )
  return page(
    'Outbox - raccord',
    html`<h1>Outbox</h1>
<p>Mails received by raccord's local SMTP sink, newest first. Set SMTP_URL to send real mail instead.
Also as <a href="outbox.json">JSON</a>.</p>
<form role="search" method="get" action="outbox"><label for="q">Search</label> <input id="q" name="q" type="search" value="${q}"> <button type="submit">Search</button></form>
${
  mails.length === 0
    ? html`<p>No mail${q === '' ? ' yet' : ' matches'}.</p>`
    : html`<table>
<caption>${found.offset + 1}–${found.offset + mails.length} of ${found.total} mail${found.total === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
<nav aria-label="Pages">${found.offset > 0 ? html`<a href="${link(Math.max(0, found.offset - found.limit))}">Previous page</a> ` : ''}${found.offset + mails.length < found.total ? html`<a href="${link(found.offset + found.limit)}">Next page</a>` : ''}</nav>`
}`,
  )
}

function mailPage(mail: StoredMail): SafeHtml {
  const headers: Array<[string, string]> = [
    ['From', mail.from],
    ['To', mail.to.join(', ')],
    ['Cc', mail.cc.join(', ')],
    ['Envelope recipients', mail.envelopeTo.join(', ')],
    ['Date', mail.date],
    ['Received', mail.receivedAt],
    ['Message-ID', mail.messageId],
  ]
  return page(
    `${mail.subject} - Outbox - raccord`,
    html`<p><a href="../outbox">Back to the outbox</a></p>
<h1>${mail.subject || '(no subject)'}</h1>
<dl>
${headers.filter(([, value]) => value !== '').map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>\n`)}</dl>
${
  (mail.attachments ?? []).length === 0
    ? ''
    : html`<h2>Attachments</h2>
<ul>
${(mail.attachments ?? []).map((attachment, index) => html`<li><a href="${encodeURIComponent(mail.id)}/attachments/${index}">${attachment.filename}</a> (${attachment.contentType}, ${attachment.size} bytes)</li>\n`)}</ul>`
}
<h2>Plain text</h2>
<pre>${mail.text}</pre>
${
  mail.html === ''
    ? ''
    : html`<h2>HTML</h2>
<iframe title="HTML version of the mail" sandbox srcdoc="${mail.html}" style="width: 100%; height: 40em; border: 1px solid"></iframe>`
}`,
  )
}
