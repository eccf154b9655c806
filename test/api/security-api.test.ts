/**
 * /api/vulnerabilities and /api/trace-requests against an embedded engine on free ports, with the
 * real workers and SMTP on loopback: what is accepted, and each bad field named in a 400.
 */
import type { SmtpSink } from '../../src/notify'
import { startAppHarness, type AppHarness } from '../support/app-harness'

const TOKENS = { T_OPERATOR: 'operator-token', T_MANAGER: 'manager-token' }

let h: AppHarness
let smtp: SmtpSink
let base: string

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-security-api-',
    tokens: TOKENS,
    apiTokens: [{ tokenEnv: 'T_OPERATOR', roles: ['operator'], organisation: 'portail', team: 'operations' }, { tokenEnv: 'T_MANAGER', roles: ['manager'], organisation: 'portail', team: 'operations' }],
  })
  smtp = h.smtp
  base = h.base
})

afterAll(() => h?.close())

async function call(method: string, path: string, body?: unknown, token = TOKENS.T_OPERATOR): Promise<{ status: number; type: string; body: Record<string, unknown>; text: string }> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  return { status: response.status, type, text, body: type.includes('json') && text !== '' ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const fieldsOf = (body: Record<string, unknown>) => (body.errors as Array<{ field: string }>).map((error) => error.field).sort()

const critical = {
  cveId: 'CVE-2024-3094',
  title: 'Porte dérobée dans xz-utils',
  cvssScore: 10,
  cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
  service: 'demarches-alpha',
  knownExploited: true,
}

describe('POST /api/vulnerabilities (SEC-1)', () => {
  test('SEC-1, SEC-3: a critical vulnerability is reported, evaluated and disclosed', async () => {
    const answer = await call('POST', '/api/vulnerabilities', critical)
    expect(answer.status).toBe(201)
    const id = answer.body.id as string
    expect(id).toMatch(/^VUL-\d{8}-[0-9a-f]{4}$/)
    const view = await eventually(async () => {
      const read = await call('GET', `/api/vulnerabilities/${id}`, undefined, TOKENS.T_MANAGER)
      return read.body.severity === 'Critical' ? read.body : undefined
    })
    expect(view).toMatchObject({ cveId: 'CVE-2024-3094', state: 'open', data: { remediationDeadline: 'P7D', proposeCut: true, cvssVersion: '3.1' } })
    await eventually(async () => smtp.list().find((mail) => mail.subject.includes(id)))
  })

  test('SEC-1: a CVSS v4.0 vector without a CVE id is accepted', async () => {
    const answer = await call('POST', '/api/vulnerabilities', { ...critical, cveId: undefined, cvssScore: 8.8, cvssVector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N/E:A' })
    expect(answer.status).toBe(201)
  })

  test('SEC-2: a score of 2.0 with a vector scoring 10.0 gets a 400 naming the field and both scores', async () => {
    const answer = await call('POST', '/api/vulnerabilities', { ...critical, cvssScore: 2.0 })
    expect(answer.status).toBe(400)
    expect(answer.type).toContain('application/problem+json')
    expect(answer.body.errors).toEqual([{ field: 'cvssScore', detail: 'cvssScore 2.0 disagrees with cvssVector, which scores 10.0 (CVSS 3.1 base score); give 10.0 or leave the score out' }])
    expect((await call('GET', '/api/vulnerabilities')).body.items).not.toContainEqual(expect.objectContaining({ severity: 'Low', title: critical.title }))
  })

  test('SEC-2: without a score, the vector\'s gives the severity', async () => {
    const answer = await call('POST', '/api/vulnerabilities', { ...critical, cvssScore: undefined, knownExploited: false })
    expect(answer.status).toBe(201)
    const view = await eventually(async () => {
      const read = await call('GET', `/api/vulnerabilities/${answer.body.id as string}`, undefined, TOKENS.T_MANAGER)
      return read.body.severity === undefined || read.body.severity === null ? undefined : read.body
    })
    expect(view).toMatchObject({ severity: 'Critical', data: { cvssScore: 10, cvssVersion: '3.1', remediationDeadline: 'P15D' } })
  })

  test.each([
    ['an unknown CVSS vector', { cvssVector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, ['cvssVector']],
    ['a bad metric value', { cvssVector: 'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, ['cvssVector']],
    ['a score out of range', { cvssScore: 10.5 }, ['cvssScore']],
    ['an unknown service and a bad CVE id', { service: 'nowhere', cveId: 'CVE-24-1' }, ['cveId', 'service']],
    ['missing fields', { title: undefined, knownExploited: undefined }, ['knownExploited', 'title']],
  ])('SEC-1: %s gets a 400 naming the field', async (_case, overrides, fields) => {
    const answer = await call('POST', '/api/vulnerabilities', { ...critical, ...overrides })
    expect(answer.status).toBe(400)
    expect(answer.type).toContain('application/problem+json')
    expect(fieldsOf(answer.body)).toEqual(fields)
  })

  test('SEC-1: an unknown vulnerability is a 404', async () => {
    expect((await call('GET', '/api/vulnerabilities/VUL-19700101-0000')).status).toBe(404)
  })
})

const traceRequest = {
  direction: 'outgoing',
  requester: { organisation: 'portail', name: 'Alix Robert' },
  recipient: { organisation: 'fournisseur-alpha', name: 'Sacha Durand' },
  services: ['demarches-alpha'],
  period: { from: '2025-03-01T00:00:00+01:00', to: '2025-03-08T00:00:00+01:00' },
  purpose: 'Analyse de connexions suspectes',
}

describe('POST /api/trace-requests (TRC-1..3)', () => {
  test('TRC-1, TRC-3: a request is registered; its printable letter is served once produced', async () => {
    const answer = await call('POST', '/api/trace-requests', traceRequest)
    expect(answer.status).toBe(201)
    const id = answer.body.id as string
    expect(answer.body.links).toEqual({ self: `/api/trace-requests/${id}`, letter: `/api/trace-requests/${id}/letter` })
    const letter = await eventually(async () => {
      const read = await call('GET', `/api/trace-requests/${id}/letter`, undefined, TOKENS.T_MANAGER)
      return read.status === 200 ? read : undefined
    })
    expect(letter.type).toContain('text/html')
    expect(letter.text).toContain(id)
    expect(letter.text).toContain('69000 Lyon')
    const view = await call('GET', `/api/trace-requests/${id}`)
    expect(view.body).toMatchObject({ state: 'letter-produced', letter: { reference: id } })
  })

  test('TRC-2: a named but unauthorised sender is accepted by the API and refused by the process', async () => {
    const answer = await call('POST', '/api/trace-requests', { ...traceRequest, requester: { organisation: 'portail', name: 'Camille Martin' } })
    expect(answer.status).toBe(201)
    const id = answer.body.id as string
    const view = await eventually(async () => {
      const read = await call('GET', `/api/trace-requests/${id}`)
      return read.body.state === 'refused' ? read.body : undefined
    })
    expect(view.refusal).toEqual([expect.stringContaining('Camille Martin is not an authorised trace-request sender')])
    expect((await call('GET', `/api/trace-requests/${id}/letter`)).status).toBe(409)
  })

  test.each([
    ['an unknown contact', { requester: { organisation: 'portail', name: 'Nobody Known' } }, ['requester.name']],
    ['an unknown recipient organisation', { recipient: { organisation: 'nowhere', name: 'Sacha Durand' } }, ['recipient.organisation']],
    ['an outgoing request from the other party', { requester: { organisation: 'provider-beta', name: 'Jordan Smith' } }, ['requester.organisation']],
    ['a period that ends before it starts, no service', { period: { from: '2025-03-08T00:00:00Z', to: '2025-03-01T00:00:00Z' }, services: [] }, ['period.to', 'services']],
  ])('TRC-2: %s gets a 400 naming the field', async (_case, overrides, fields) => {
    const answer = await call('POST', '/api/trace-requests', { ...traceRequest, ...overrides })
    expect(answer.status).toBe(400)
    expect(fieldsOf(answer.body)).toEqual(fields)
  })
})
