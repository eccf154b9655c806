/** The mails kept by the local SMTP sink, for people (GET /outbox) and scripts (GET /outbox.json). */
import { Router, type Response } from 'express'
import { html, type SafeHtml } from './html'
import type { SmtpSink, StoredMail } from './smtp-sink'

/** Which mails the caller of a request may see; another party's mail answers as one that does not exist. */
export type MailFilter = (res: Response) => (mail: StoredMail) => boolean

export function outboxRouter(sink: Pick<SmtpSink, 'list' | 'get'>, visibleTo: MailFilter = () => () => true): Router {
  const router = Router()

  router.get('/outbox.json', (_req, res) => {
    res.json(sink.list().filter(visibleTo(res)))
  })

  router.get('/outbox', (_req, res) => {
    res.type('html').send(listPage(sink.list().filter(visibleTo(res)).reverse()).value)
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

function listPage(mails: StoredMail[]): SafeHtml {
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
${
  mails.length === 0
    ? html`<p>No mail yet.</p>`
    : html`<table>
<caption>${mails.length} mail${mails.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`
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
