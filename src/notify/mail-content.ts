/**
 * Every template describes its mail as structured content; this module alone turns it into plain
 * text and HTML, so escaping and layout are the same in every mail.
 */
import type { Language } from '../config'
import { html } from './html'

/** What a template says, before layout. */
export interface MailContent {
  subject: string
  heading: string
  /** Line breaks inside a paragraph are kept. */
  paragraphs: string[]
  /** Label and value pairs, shown as a table in HTML. */
  facts: Array<[label: string, value: string]>
  link?: { label: string; url: string }
  /** One link per answer the reader may give (decision links), each on its own line. */
  actions?: Array<{ label: string; url: string }>
}

/** What every template needs besides its data. */
export interface RenderContext {
  /** IANA time zone of the recipient organisation. */
  timeZone: string
  /** Name of the organisation sending the mail (this installation's). */
  senderName: string
}

/** A mail ready to send. */
export interface RenderedMail {
  subject: string
  text: string
  html: string
}

const FOOTER: Record<Language, (sender: string) => string> = {
  fr: (sender) => `Message envoyé automatiquement par raccord pour ${sender}. Vous pouvez répondre à ce message pour joindre son équipe d'exploitation.`,
  en: (sender) => `Sent automatically by raccord on behalf of ${sender}. Reply to this message to reach its operations team.`,
}

/** French typography puts a space before a colon. */
const COLON: Record<Language, string> = { fr: ' : ', en: ': ' }

export function layoutMail(content: MailContent, lang: Language, ctx: RenderContext): RenderedMail {
  const footer = FOOTER[lang](ctx.senderName)
  const text = [
    content.heading,
    ...content.paragraphs,
    content.facts.map(([label, value]) => `${label}${COLON[lang]}${value}`).join('\n'),
    content.link && `${content.link.label}${COLON[lang]}${content.link.url}`,
    content.actions?.map((action) => `${action.label}${COLON[lang]}${action.url}`).join('\n\n'),
    `-- \n${footer}`,
  ]
    .filter((block): block is string => typeof block === 'string' && block !== '')
    .join('\n\n')

  const body = html`<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>${content.subject}</title>
</head>
<body>
<h1>${content.heading}</h1>
${content.paragraphs.map((paragraph) => html`<p>${lines(paragraph)}</p>\n`)}${
    content.facts.length > 0
      ? html`<table>\n${content.facts.map(([label, value]) => html`<tr><th scope="row" align="left">${label}</th><td>${lines(value)}</td></tr>\n`)}</table>\n`
      : ''
  }${content.link ? html`<p><a href="${content.link.url}">${content.link.label}</a></p>\n` : ''}${
    (content.actions ?? []).map((action) => html`<p><a href="${action.url}">${action.label}</a></p>\n`)
  }<hr>
<p><small>${footer}</small></p>
</body>
</html>
`
  return { subject: content.subject, text: `${text}\n`, html: body.value }
}

function lines(text: string) {
  return text.split('\n').map((line, i) => (i === 0 ? html`${line}` : html`<br>${line}`))
}
