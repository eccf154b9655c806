/**
 * What a web page opened in a browser on this machine could otherwise do to raccord's own routes:
 * - DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 is same-origin with
 *   raccord to the browser, and could read /outbox (signed links included). Such a request names
 *   evil.example in its Host: answered 421.
 * - cross-site requests: a foreign page may POST a form or a text/plain body without a preflight.
 *   A state-changing request whose Origin is not raccord's own is answered 403, and the JSON
 *   routes take only application/json (415), which no page can send cross-site unasked.
 * The SDK, curl and the tests send no Origin, and name 127.0.0.1 or a configured name.
 */
import { isIP } from 'node:net'
import type { RequestHandler } from 'express'
import { HttpProblem } from './problem'

export interface RequestGuardOptions {
  /**
   * Base URLs this raccord is reached at besides loopback, e.g. interconnectionCuts.publicUrl:
   * their host names may appear in Host, their origins in Origin.
   */
  publicUrls: readonly string[]
}

/** Read-only probes that orchestrators call by whatever address they know (a pod's, a container's). */
const PROBES = new Set(['/healthz', '/metrics'])

/** Routes that take JSON bodies: the API and the console's own API. */
const JSON_ROUTES = /^\/(api|console\/api)(\/|$)/

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The host name of a Host header, without port or IPv6 brackets; undefined when it is malformed. */
function hostName(host: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(:\d{1,5})?$/.exec(host)
  return match?.[1].replace(/^\[|\]$/g, '').toLowerCase()
}

/**
 * Loopback names and IP literals may always be named: rebinding needs a DNS name, and an address
 * typed as such can only reach this server by that address.
 */
function isAcceptedHost(name: string, configured: ReadonlySet<string>): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0 || configured.has(name)
}

function isJson(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase()
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)
}

export function requestGuard(options: RequestGuardOptions): RequestHandler {
  const urls = options.publicUrls.map((url) => new URL(url))
  const configuredHosts = new Set(urls.map((url) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase()))
  const configuredOrigins = new Set(urls.map((url) => url.origin))

  return (req, _res, next) => {
    const host = req.headers.host
    if (host !== undefined && !PROBES.has(req.path)) {
      const name = hostName(host)
      if (name === undefined || !isAcceptedHost(name, configuredHosts)) {
        return next(new HttpProblem(421, 'Misdirected Request', `This server does not answer for host '${host}': use 127.0.0.1, localhost or the name configured in interconnectionCuts.publicUrl`))
      }
    }
    if (SAFE_METHODS.has(req.method)) return next()

    const origin = req.headers.origin
    if (origin !== undefined && !isSameOrigin(origin, host) && !configuredOrigins.has(origin)) {
      return next(new HttpProblem(403, 'Forbidden', `Cross-origin request refused: Origin '${origin}' is not this server's`))
    }

    if (JSON_ROUTES.test(req.path)) {
      const contentType = req.headers['content-type']
      const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
      if (contentType !== undefined ? !isJson(contentType) : hasBody) {
        return next(new HttpProblem(415, 'Unsupported Media Type', `This route takes application/json, not ${contentType ?? 'a body without content-type'}`))
      }
    }
    next()
  }
}

/** An Origin naming the very host the request was sent to (any scheme: TLS may end at a proxy). */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  try {
    const url = new URL(origin)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase()
  } catch {
    // `null` (a sandboxed frame, a file:// page) and any other malformed Origin are foreign.
    return false
  }
}
