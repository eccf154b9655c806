/**
 * Security headers on every answer, HTML pages first (console, /links, status page, outbox), with
 * helmet: a content security policy that lets pages load only this server's own scripts, frame
 * nothing and be framed by nobody, plus nosniff and no Referer (a /links URL carries its token).
 */
import type { RequestHandler } from 'express'
import helmet from 'helmet'

/** The policy of every page. */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  // No inline script anywhere: the console's pages are built by its bundle.
  'script-src': ["'self'"],
  // bpmn-js and form-js position and colour their elements with style attributes; a mail shown in
  // the outbox keeps its own inline styles.
  'style-src': ["'self'", "'unsafe-inline'"],
  // The console's bundle inlines its fonts and icons as data: URLs; a mail may carry data: images.
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  // The /links page posts its form to itself; nothing posts elsewhere.
  'form-action': ["'self'"],
  // Not even the status page may be framed: a framed page lends itself to clickjacking.
  'frame-ancestors': ["'none'"],
}

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    // No Referer leaves for another site (a signed link's token stays here). Not no-referrer: with
    // it, a browser sends `Origin: null` with a page's own form, and the origin check refuses the
    // answer a person gives on a signed link's page.
    referrerPolicy: { policy: 'same-origin' },
    // raccord serves plain HTTP on loopback; TLS, and HSTS with it, belong to the proxy in front.
    strictTransportSecurity: false,
  })
}
