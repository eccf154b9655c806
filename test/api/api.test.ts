/**
 * The HTTP API against an embedded engine on free ports, with the real workers running and mails
 * going over SMTP to a sink on loopback: INC-1..4 from a POST to the mail in the other party's box.
 */
import type { Application } from '../../src/wiring/application'
import type { SmtpSink, StoredMail } from '../../src/notify'
import * as sendNotification from '../../workers/send-notification'
import { startAppHarness, type AppHarness } from '../support/app-harness'
import type { TestClient } from '../support/engine-harness'
import { startTestSmtp } from '../support/smtp-sink'

const TOKENS = { T_OPERATOR: 'operator-token', T_MANAGER: 'manager-token', T_ADMIN: 'admin-token' }
const POLL_MS = 25
const WAIT_MS = 10_000

let h: AppHarness
let client: TestClient
let smtp: SmtpSink
let app: Application
let base: string

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-api-',
    tokens: TOKENS,
    apiTokens: [
      { tokenEnv: 'T_OPERATOR', roles: ['operator'], organisation: 'portail', team: 'operations' },
      { tokenEnv: 'T_MANAGER', roles: ['manager'], organisation: 'portail', team: 'operations' },
      { tokenEnv: 'T_ADMIN', roles: ['admin'], organisation: 'portail', team: 'operations' },
    ],
    outbox: true,
  })
  client = h.client
  smtp = h.smtp
  app = h.app
  base = h.base
})

afterAll(() => h?.close())

interface ApiAnswer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

const declaration = {
  title: 'Démarches Alpha indisponibles',
  description: 'Erreur 502 à la soumission des formulaires',
  service: 'demarches-alpha',
  impact: 'high',
  urgency: 'medium',
}

async function declare(body: Record<string, unknown> = declaration): Promise<{ id: string; processInstanceKey: string }> {
  const answer = await call('POST', '/api/incidents', { token: TOKENS.T_OPERATOR, body })
  expect(answer.status).toBe(201)
  return answer.body as { id: string; processInstanceKey: string }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

function search<T>(entity: string, filter: Record<string, unknown>): Promise<{ items: T[] }> {
  return client.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: T[] }>({
    method: 'POST', urlPath: `${entity}/search`, body: { filter },
  })
}

function restoreServiceTask(processInstanceKey: string) {
  return waitFor(`the restore-service user task of ${processInstanceKey}`, async () => {
    const page = await search<{ userTaskKey: string }>('user-tasks', { processInstanceKey, elementId: 'restore-service', state: 'CREATED' })
    return page.items[0]
  })
}

function mailsAbout(sink: SmtpSink, incidentId: string): StoredMail[] {
  return sink.list().filter((mail) => mail.subject.includes(incidentId))
}

function pinClock(epochMs: number) {
  return client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'PUT', urlPath: 'clock', body: { timestamp: epochMs }, json: false })
}

describe('declaring an incident (INC-1..4)', () => {
  let incident: { id: string; processInstanceKey: string }

  test('POST declares it: 201 with its id, its process instance and its link', async () => {
    const answer = await call('POST', '/api/incidents', { token: TOKENS.T_OPERATOR, body: declaration })
    expect(answer.status).toBe(201)
    expect(answer.body).toEqual({
      id: expect.stringMatching(/^INC-\d{8}-[0-9a-f]{4}$/),
      processInstanceKey: expect.stringMatching(/^\d+$/),
      links: { self: `/api/incidents/${answer.body.id as string}` },
    })
    expect(answer.headers.get('location')).toBe(`/api/incidents/${answer.body.id as string}`)
    incident = answer.body as typeof incident
  })

  test('the process reaches restore-service, and the other party is told by mail, in its language (INC-4)', async () => {
    await restoreServiceTask(incident.processInstanceKey)
    const [mail] = await waitFor('the declaration mail', () => {
      const mails = mailsAbout(smtp, incident.id)
      return mails.length > 0 ? mails : undefined
    })
    expect(mail.envelopeTo).toEqual(['supervision@fournisseur-alpha.example.org'])
    expect(mail.subject).toBe(`[P2] Incident ${incident.id} déclaré : Démarches Alpha indisponibles`)
    expect(mail.text).toContain('Erreur 502 à la soumission des formulaires')
    expect(mailsAbout(smtp, incident.id)).toHaveLength(1)
  })

  test('GET shows its state, its priority (INC-3), where the process waits, and its trace with the Message-ID (INC-2)', async () => {
    const answer = await call('GET', `/api/incidents/${incident.id}`, { token: TOKENS.T_MANAGER })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      id: incident.id,
      state: 'open',
      service: 'demarches-alpha',
      reportingOrganisation: 'portail',
      // the credential's identity: T_OPERATOR is the portal's operations team
      declaredBy: 'Centre de services du portail (portail)',
      priority: { priority: 'P2', responseTarget: 'PT1H', resolutionTarget: 'PT8H' },
      processInstanceKey: incident.processInstanceKey,
      process: { state: 'ACTIVE', waitingAt: [expect.objectContaining({ elementId: 'restore-service', type: 'USER_TASK' })], incidents: [] },
    })
    const timeline = answer.body.timeline as Array<{ event: string; messageId?: string }>
    expect(timeline.map((entry) => entry.event)).toEqual(['incident-declared', 'notification-sent'])
    expect(timeline[1].messageId).toBe(mailsAbout(smtp, incident.id)[0].messageId)
  })

  test('GET /api/incidents lists it with its priority', async () => {
    const answer = await call('GET', '/api/incidents', { token: TOKENS.T_ADMIN })
    expect(answer.status).toBe(200)
    expect(answer.body.items).toContainEqual(expect.objectContaining({ id: incident.id, priority: 'P2', state: 'open', links: { self: `/api/incidents/${incident.id}` } }))
  })

  test('a provider that reads English gets its mail in English', async () => {
    const beta = await declare({ ...declaration, service: 'payments-beta', impact: 'low', urgency: 'low' })
    const mail = await waitFor('the mail to Beta', () => mailsAbout(smtp, beta.id)[0])
    expect(mail.envelopeTo).toEqual(['servicedesk@provider-beta.example.org'])
    expect(mail.subject).toBe(`[P4] Incident ${beta.id} declared: Démarches Alpha indisponibles`)
  })

  test('a job handled twice with the same job key sends one mail and traces it once', async () => {
    const input = sendNotification.inputSchema.parse({
      incidentId: incident.id, ...declaration, reportingOrganisation: 'portail',
      priority: { priority: 'P2', responseTarget: 'PT1H', resolutionTarget: 'PT8H' },
    })
    const ctx = {
      ...app.services,
      job: { key: 'redelivered-job-1', processInstanceKey: incident.processInstanceKey, elementId: 'notify-other-party', retries: 3,
        headers: { template: 'incident-declared', recipients: 'other-party:operations' } },
    }
    const before = mailsAbout(smtp, incident.id).length
    const [first, concurrent] = await Promise.all([sendNotification.handle(input, ctx), sendNotification.handle(input, ctx)])
    const again = await sendNotification.handle(input, ctx)
    expect(concurrent).toEqual(first)
    expect(again).toEqual(first)
    expect(mailsAbout(smtp, incident.id)).toHaveLength(before + 1)
    expect(mailsAbout(smtp, incident.id).filter((mail) => mail.messageId === first.messageIds[0])).toHaveLength(1)
    const answer = await call('GET', `/api/incidents/${incident.id}`, { token: TOKENS.T_OPERATOR })
    expect((answer.body.timeline as Array<{ messageId?: string }>).filter((entry) => entry.messageId === first.messageIds[0])).toHaveLength(1)
  })
})

describe('bad requests are RFC 9457 problems', () => {
  test('400 names each bad field', async () => {
    const answer = await call('POST', '/api/incidents', {
      token: TOKENS.T_OPERATOR,
      body: { title: '', service: 'nope', impact: 'huge', reportingOrganisation: 'acme' },
    })
    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(answer.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, instance: '/api/incidents' })
    const fields = (answer.body.errors as Array<{ field: string; detail: string }>).map((error) => error.field)
    expect(fields.sort()).toEqual(['description', 'impact', 'reportingOrganisation', 'service', 'title', 'urgency'])
    expect(answer.body.errors).toContainEqual({ field: 'service', detail: expect.stringContaining('Unknown service') })
    expect(answer.body.errors).toContainEqual({ field: 'description', detail: 'Required' })
  })

  test('400 for malformed JSON', async () => {
    const answer = await call('POST', '/api/incidents', { token: TOKENS.T_OPERATOR, raw: '{"title": ' })
    expect(answer.status).toBe(400)
    expect(answer.body.detail).toBe('The request body is not valid JSON')
  })

  test('401 without a token or with an unknown one; 403 with a token lacking the role', async () => {
    const none = await call('GET', '/api/incidents')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="raccord"')
    expect((await call('GET', '/api/incidents', { token: 'not-a-token' })).status).toBe(401)

    const forbidden = await call('POST', '/api/incidents', { token: TOKENS.T_MANAGER, body: declaration })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toMatchObject({ title: 'Forbidden', status: 403, detail: expect.stringContaining('operator, admin') })
    expect((await call('GET', '/api/incidents', { token: TOKENS.T_MANAGER })).status).toBe(200)
  })

  test('404 for an unknown incident and an unknown route', async () => {
    const answer = await call('GET', '/api/incidents/INC-20000101-0000', { token: TOKENS.T_MANAGER })
    expect(answer.status).toBe(404)
    expect(answer.body).toMatchObject({ title: 'Not Found', status: 404, detail: "Unknown incident 'INC-20000101-0000'" })
    expect((await call('GET', '/nowhere')).status).toBe(404)
  })

  test('413 for an oversized body', async () => {
    const answer = await call('POST', '/api/incidents', { token: TOKENS.T_OPERATOR, body: { ...declaration, description: 'x'.repeat(100_000) } })
    expect(answer.status).toBe(413)
    expect(answer.body).toMatchObject({ status: 413, title: 'Content Too Large' })
  })
})

describe('hand-offs between processes, wired by the application', () => {
  test('CUT-1, USR-1: a P1 incident declared as a suspected compromise cuts its interconnection and shows on the status page', async () => {
    // when
    const incident = await declare({ ...declaration, urgency: 'high', suspectedCompromise: true })
    // then: the cut, started by the incident's message through the SDK, is in the cut API
    const cut = await waitFor('the cut of the incident', async () => {
      const list = await call('GET', '/api/cuts', { token: TOKENS.T_MANAGER })
      return (list.body.items as Array<{ id: string; incidentId?: string; interconnectionId: string; processInstanceKey?: string }>).find((item) => item.incidentId === incident.id && item.processInstanceKey !== undefined)
    }, 30_000) // two processes and a message hand-off: ample on a loaded machine
    expect(cut.interconnectionId).toBe('alpha-prod')
    const status = await waitFor('the incident notice on the status page', async () => {
      const summary = (await (await fetch(`${base}/status.json`)).json()) as { incidents: Array<{ id: string; components: string[] }> }
      return summary.incidents.find((notice) => notice.id === `incident:${incident.id}`)
    })
    expect(status.components).toEqual(['demarches-alpha'])
    const timeline = (await call('GET', `/api/incidents/${incident.id}`, { token: TOKENS.T_MANAGER })).body.timeline as Array<{ event: string; detail: Record<string, unknown> }>
    expect(timeline.find((entry) => entry.event === 'cut-requested')?.detail).toMatchObject({ cutId: cut.id, interconnectionId: 'alpha-prod' })
    await client.camunda.getZeebeGrpcApiClient().cancelProcessInstance(cut.processInstanceKey as string)
    await client.camunda.getZeebeGrpcApiClient().cancelProcessInstance(incident.processInstanceKey)
  })
})

describe('operations', () => {
  test('/healthz says the engine is reachable', async () => {
    const answer = await call('GET', '/healthz')
    expect(answer).toMatchObject({ status: 200, body: { status: 'ok', engine: 'reachable' } })
  })

  test('/metrics counts requests, jobs and mails', async () => {
    const text = await (await fetch(`${base}/metrics`)).text()
    expect(text).toMatch(/raccord_http_requests_total\{method="POST",route="\/api\/incidents",status="201"\} \d+/)
    expect(text).toMatch(/raccord_jobs_handled_total\{type="send-notification",outcome="completed"\} \d+/)
    expect(text).toMatch(/raccord_mails_sent_total\{template="incident-declared"\} \d+/)
  })

  test('/outbox lists the mails of the sink to the admin, and needs a credential', async () => {
    const anonymous = await fetch(`${base}/outbox.json`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="raccord outbox"/)
    const answer = await fetch(`${base}/outbox.json`, { headers: { authorization: `Bearer ${TOKENS.T_ADMIN}` } })
    expect(answer.status).toBe(200)
    expect(((await answer.json()) as unknown[]).length).toBe(smtp.list().length)
  })
})

describe('SMTP outage', () => {
  afterAll(async () => {
    await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: 'clock/reset', json: false })
  })

  test('the job fails with backoff, then raises an incident; once SMTP is back and the incident resolved, exactly one mail arrives', async () => {
    const port = smtp.port
    await smtp.close()
    const startedAt = Date.now()
    await pinClock(startedAt)

    const incident = await declare()
    const job = () => search<{ jobKey: string; retries: number; errorMessage?: string; state: string }>('jobs', {
      processInstanceKey: incident.processInstanceKey, type: 'send-notification',
    }).then((page) => page.items[0])

    const failed = await waitFor('the first failure', async () => {
      const current = await job()
      return current?.retries === 2 ? current : undefined
    })
    expect(failed.errorMessage).toMatch(/TransientMailError: SMTP delivery failed/)
    // Backoff: the engine does not hand the job out again until 10 s of its time have passed.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await job()).retries).toBe(2)

    await pinClock(startedAt + 10_001)
    await waitFor('the second failure', async () => ((await job())?.retries === 1 ? true : undefined))
    await pinClock(startedAt + 10_001 + 20_001)
    const engineIncident = await waitFor('the JOB_NO_RETRIES incident', async () => {
      const page = await search<{ incidentKey: string; errorType: string; errorMessage: string }>('incidents', {
        processInstanceKey: incident.processInstanceKey, state: 'ACTIVE',
      })
      return page.items[0]
    })
    expect(engineIncident.errorType).toBe('JOB_NO_RETRIES')
    expect(engineIncident.errorMessage).toMatch(/TransientMailError/)
    const view = await call('GET', `/api/incidents/${incident.id}`, { token: TOKENS.T_MANAGER })
    expect(view.body.process).toMatchObject({ incidents: [expect.objectContaining({ errorType: 'JOB_NO_RETRIES', elementId: 'notify-other-party' })] })

    smtp = h.smtp = await startTestSmtp(port)
    const zeebe = client.zeebe
    await zeebe.updateJobRetries({ jobKey: failed.jobKey, retries: 1 })
    await zeebe.resolveIncident({ incidentKey: engineIncident.incidentKey })

    await restoreServiceTask(incident.processInstanceKey)
    const mail = await waitFor('the mail after the outage', () => mailsAbout(smtp, incident.id)[0])
    expect(mail.envelopeTo).toEqual(['supervision@fournisseur-alpha.example.org'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(mailsAbout(smtp, incident.id)).toHaveLength(1)
  })
})
