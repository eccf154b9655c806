/** The page a signed link answers with (a cut's acknowledgement, a decision): no script, not indexed. */
import type { Language } from '../config'
import { html, type SafeHtml } from '../notify'

export function linkPage(lang: Language, title: string, body: SafeHtml): string {
  return html`<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
</head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.value
}
