/**
 * The application's HTTP surface as a hostile web page and a log reader would see it: security
 * headers on every kind of HTML page, signed-link tokens kept out of the log, and the guard on
 * state-changing routes (foreign Origin 403, foreign Host 421, non-JSON body 415).
 */
import http from 'node:http'
import { Writable } from 'node:stream'
import express from 'express'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { redactLinkTokens } from '../../src/api/log-redaction'
import { problemHandler } from '../../src/api/problem'
import { requestGuard } from '../../src/api/request-guard'
import { startAppHarness, type AppHarness } from '../support/app-harness'

const TOKENS = { T_OPERATOR: 'operator-token', T_ADMIN: 'admin-token' }
/** Shaped like a signed link (base64url claims and MAC): the guard and the log must treat it as one. */
const LINK_TOKEN = 'eyJjdXQiOiJDVVQtMSIsInB1cnBvc2UiOiJhY2tub3dsZWRnZS1jdXQifQ.c2lnbmF0dXJlLW9mLXRoZS1saW5r'

const logLines: string[] = []
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString().split('\n').filter((line) => line !== ''))
    done()
  },
})

let h: AppHarness
beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-hardening-',
    tokens: TOKENS,
    apiTokens: [
      { tokenEnv: 'T_OPERATOR', roles: ['operator'], organisation: 'portail', team: 'operations' },
      { tokenEnv: 'T_ADMIN', roles: ['admin'], organisation: 'portail', team: 'administrators' },
    ],
    outbox: true,
    logger: pino({ level: 'info' }, logSink),
  })
})
afterAll(() => h?.close())

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** A raw request: unlike fetch, it may name any Host and Origin, as a rebinding page's would. */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const { port } = new URL(h.base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const operator = { authorization: `Bearer ${TOKENS.T_OPERATOR}` }
const declaration = JSON.stringify({ title: 'Alpha down', description: '502 on submission', service: 'demarches-alpha', impact: 'high', urgency: 'medium' })

describe('security headers on every HTML page', () => {
  /** The directives of a Content-Security-Policy header, by name. */
  function policy(header: string | undefined): Map<string, string[]> {
    return new Map((header ?? '').split(';').map((part) => part.trim().split(/\s+/)).filter(([name]) => name !== '').map(([name, ...values]) => [name, values]))
  }

  test.each([
    ['the console', '/console/'],
    ['the status page', '/status'],
    ['the outbox', '/outbox'],
    ['a signed-link page', `/links/${LINK_TOKEN}`],
    ['a problem answer', '/nowhere'],
  ])('%s: a content security policy with script-src self, frame-ancestors none, nosniff, no Referer', async (_kind, path) => {
    const answer = await request('GET', path)
    expect(answer.status).toBeLessThan(500)
    const csp = policy(answer.headers['content-security-policy'] as string | undefined)
    expect(csp.get('script-src')).toEqual(["'self'"])
    expect(csp.get('default-src')).toEqual(["'self'"])
    expect(csp.get('frame-ancestors')).toEqual(["'none'"])
    expect(csp.get('object-src')).toEqual(["'none'"])
    // Inline styles only (bpmn-js, form-js, mails): never inline scripts.
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"])
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
    expect(answer.headers['x-frame-options']).toBe('DENY')
    expect(answer.headers['referrer-policy']).toBe('same-origin')
  })
})

describe('signed-link tokens never reach the log', () => {
  test('GET and POST of a /links URL are logged with the token redacted', async () => {
    logLines.length = 0
    await request('GET', `/links/${LINK_TOKEN}?utm=mail`)
    await request('POST', `/links/${LINK_TOKEN}`, { 'content-type': 'application/x-www-form-urlencoded' }, '')
    const requests = logLines.map((line) => JSON.parse(line) as { msg: string; url?: string }).filter((entry) => entry.msg === 'request')
    expect(requests.map((entry) => entry.url)).toEqual(['/links/[redacted]', '/links/[redacted]'])
    expect(logLines.join('\n')).not.toContain(LINK_TOKEN)
    expect(logLines.join('\n')).not.toContain(LINK_TOKEN.slice(0, 20))
  })

  test('other URLs are logged as they are', () => {
    expect(redactLinkTokens('/api/cuts/CUT-1?x=1')).toBe('/api/cuts/CUT-1?x=1')
    expect(redactLinkTokens(`/links/${LINK_TOKEN}`)).toBe('/links/[redacted]')
  })
})

describe('state-changing routes refuse what a foreign web page could send', () => {
  test('a foreign Origin gets 403, before anything is done', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`]) {
      const api = await request('POST', '/api/incidents', { ...operator, origin, 'content-type': 'application/json' }, declaration)
      expect({ origin, status: api.status }).toEqual({ origin, status: 403 })
      expect(JSON.parse(api.body)).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining(`Origin '${origin}'`) })
    }
    const link = await request('POST', `/links/${LINK_TOKEN}`, { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, '')
    expect(link.status).toBe(403)
    expect(link.headers['content-type']).toMatch(/^application\/problem\+json/)
    const consoleApi = await request('POST', '/console/api/incidents', { ...operator, origin: 'http://evil.example', 'content-type': 'application/json' }, declaration)
    expect(consoleApi.status).toBe(403)
  })

  test('a Host that is neither loopback nor configured gets 421, on reads too (a rebinding page could read the outbox)', async () => {
    for (const host of ['evil.example', 'evil.example:3000', 'raccord.attacker.example']) {
      expect({ host, status: (await request('GET', '/outbox', { host })).status }).toEqual({ host, status: 421 })
      expect({ host, status: (await request('POST', '/api/incidents', { ...operator, host, 'content-type': 'application/json' }, declaration)).status }).toEqual({ host, status: 421 })
    }
    const refused = await request('GET', '/outbox.json', { host: 'evil.example' })
    expect(JSON.parse(refused.body)).toMatchObject({ status: 421, title: 'Misdirected Request' })
    // The probes answer whatever address an orchestrator knows the container by.
    expect([200, 503]).toContain((await request('GET', '/healthz', { host: 'raccord-pod' })).status)
  })

  test('a JSON route refuses another body type with 415 (text/plain and forms need no preflight)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await request('POST', '/api/incidents', { ...operator, 'content-type': type }, declaration)
      expect({ type, status: answer.status }).toEqual({ type, status: 415 })
    }
    expect((await request('POST', '/api/incidents', operator, declaration)).status).toBe(415)
    expect((await request('POST', '/console/api/incidents', { ...operator, 'content-type': 'text/plain' }, declaration)).status).toBe(415)
  })

  test('the same requests from raccord\'s own origin, or with no Origin (SDK, curl), go through', async () => {
    const { host } = new URL(h.base)
    const sameOrigin = await request('POST', '/api/incidents', { ...operator, host, origin: h.base, 'content-type': 'application/json' }, declaration)
    expect(sameOrigin.status).toBe(201)
    const noOrigin = await request('POST', '/api/incidents', { ...operator, host: 'localhost', 'content-type': 'application/json; charset=utf-8' }, declaration)
    expect(noOrigin.status).toBe(201)
    const consoleApi = await request('POST', '/console/api/incidents', { ...operator, origin: h.base, 'content-type': 'application/json' }, declaration)
    expect(consoleApi.status).toBe(201)
    // A link used from its own page reaches the link check (this one is forged: an HTML refusal).
    const link = await request('POST', `/links/${LINK_TOKEN}`, { origin: h.base, 'content-type': 'application/x-www-form-urlencoded' }, '')
    expect(link.status).toBe(403)
    expect(link.headers['content-type']).toMatch(/^text\/html/)
  })
})

describe('a configured public URL', () => {
  test('its host name may be in Host and its origin in Origin; others may not', async () => {
    const app = express()
    app.use(requestGuard({ publicUrls: ['https://raccord.example.org'] }))
    app.post('/api/ping', (_req, res) => {
      res.status(204).end()
    })
    app.use(problemHandler(pino({ level: 'silent' })))
    const server = http.createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const post = (headers: Record<string, string>) => new Promise<number>((resolve, reject) => {
      http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/ping', headers }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject).end()
    })
    try {
      expect(await post({ host: 'raccord.example.org', origin: 'https://raccord.example.org' })).toBe(204)
      expect(await post({ host: `127.0.0.1:${port}`, origin: 'https://raccord.example.org' })).toBe(204)
      expect(await post({ host: 'raccord.example.org', origin: 'https://evil.example' })).toBe(403)
      expect(await post({ host: 'other.example.org' })).toBe(421)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
