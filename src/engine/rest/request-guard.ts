/**
 * Who may drive /v2. A browser on this machine can reach a loopback port from any web page: it
 * sends simple cross-origin requests (a form post, a text/plain body, a bodyless POST) without
 * asking, and DNS rebinding lets a foreign name point at 127.0.0.1. So, before any route runs:
 * - a Host that is not a loopback name or a configured one is answered 421 (DNS rebinding);
 * - an Origin other than the server's own or a configured one is answered 403 (a browser always
 *   sends Origin on a cross-origin request; the SDK and other programs send none);
 * - when credentials are configured, a request without them is answered 401;
 * - a body is read only as JSON (multipart for deployments and documents): anything else is answered 415.
 */
import type { Request, RequestHandler } from 'express'
import { ENGINE_ENV, basicAuthorizationMatches, type EngineCredentials } from '../protocol'
import { HttpProblem } from './problem'

/** Who may call, beyond programs on this machine. */
export interface RestAccess {
  /** Host names (without port) accepted besides localhost, 127.0.0.1 and [::1] */
  allowedHosts?: string[]
  /** Origins (scheme://host[:port]) accepted besides the server's own */
  allowedOrigins?: string[]
  /** when set, every request must carry them (HTTP basic authentication) */
  credentials?: EngineCredentials
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]']

/** Routes whose body is multipart/form-data rather than JSON (path below /v2, method). */
const MULTIPART_ROUTES = new Set(['POST /deployments', 'POST /documents', 'POST /documents/batch'])

/**
 * The host name of a Host header or a configured name, lower-cased, without its port. An IPv6
 * literal keeps (or, configured bare, gains) its brackets, as a Host header always carries them.
 */
function hostName(host: string): string {
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  if (lower.split(':').length > 2) return `[${lower}]`
  return lower.split(':')[0]
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
}

/** The media type of the body, lower-cased, without parameters. */
function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
}

function isJson(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

export function requestGuard(access: RestAccess = {}): RequestHandler {
  const hosts = new Set([...LOOPBACK_HOSTS, ...(access.allowedHosts ?? []).map((h) => hostName(h))])
  const origins = new Set((access.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()))
  const { credentials } = access

  return (req, res, next) => {
    const host = req.headers.host
    if (host === undefined || !hosts.has(hostName(host))) {
      throw new HttpProblem(421, 'MISDIRECTED_REQUEST', host === undefined
        ? 'Expected a Host header naming this engine, but the request has none'
        : `Expected the Host to be a loopback name (localhost, 127.0.0.1, [::1]) or one listed in ${ENGINE_ENV.allowedHosts}, but it was '${host}'`)
    }
    const origin = req.headers.origin
    if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}` && !origins.has(origin.toLowerCase())) {
      throw new HttpProblem(403, 'FORBIDDEN',
        `Expected no Origin (a program) or this server's own, but the request comes from the web page origin '${origin}'; list trusted origins in ${ENGINE_ENV.allowedOrigins}`)
    }
    if (credentials && !basicAuthorizationMatches(req.headers.authorization, credentials)) {
      res.setHeader('www-authenticate', 'Basic realm="raccord engine", charset="UTF-8"')
      throw new HttpProblem(401, 'UNAUTHORIZED', !req.headers.authorization
        ? 'Expected basic authentication (the SDK sends it with CAMUNDA_AUTH_STRATEGY=BASIC), but the request has no Authorization header'
        : 'Expected valid basic authentication credentials, but those presented do not match')
    }
    if (hasBody(req)) {
      const type = mediaType(req)
      const multipart = MULTIPART_ROUTES.has(`${req.method} ${req.path.replace(/\/+$/, '')}`)
      if (multipart ? type !== 'multipart/form-data' : !isJson(type)) {
        throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE',
          `Expected a body of type ${multipart ? 'multipart/form-data' : 'application/json'}, but it was '${type || 'none given'}'`)
      }
    }
    next()
  }
}
