/** The console's one HTML page: landmarks and a sign-in form that work before the script runs. */
import { html } from '../notify/html'

/** `base` is where the console is mounted, e.g. /console. */
export function consolePage(base: string): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raccord console</title>
<link rel="stylesheet" href="${base}/assets/console.css">
<script defer src="${base}/assets/console.js"></script>
</head>
<body data-base="${base}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="banner">
  <p class="brand"><a href="#/tasks">raccord console</a></p>
  <nav aria-label="Main" id="nav" hidden></nav>
  <p id="who" class="who"></p>
  <div id="language" class="language"></div>
</header>
<main id="main" tabindex="-1">
  <noscript><p>The console needs JavaScript. The HTTP API at /api answers without it.</p></noscript>
</main>
<div id="announcer" class="visually-hidden" role="status" aria-live="polite"></div>
</body>
</html>
`.value
}
