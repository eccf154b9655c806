/**
 * interconnection-cut, every path, with the harness and the real workers: mails over SMTP to a sink
 * on loopback, the link control's webhook on a loopback server, the cut trail and the status page
 * in a temporary dir. The other party's links, the status page and the cut API are exercised over
 * HTTP, through the same routers raccord serves.
 */
import { randomBytes } from 'node:crypto'
import { readFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { simpleParser } from 'mailparser'
import pino from 'pino'
import { authenticate, credentialsFrom } from '../../src/api/auth'
import { cutLinkRoutes } from '../../src/api/cut-links'
import { cutRoutes } from '../../src/api/cuts'
import { problemHandler } from '../../src/api/problem'
import { CutStore } from '../../src/app/cuts/cut-store'
import { CutService } from '../../src/app/cuts/cuts'
import { sdkCutEngine } from '../../src/engine-client/cut-engine'
import { linkControl, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../../src/app/cuts/link-control'
import { sdkProcessEngine } from '../../src/engine-client/process-engine'
import { LinkSigner } from '../../src/app/cuts/signed-links'
import { TraceStore } from '../../src/app/incidents/trace-store'
import type { Config } from '../../src/config'
import { Mailer, type SmtpSink, type StoredMail } from '../../src/notify'
import { statusRouter, type StatusSummary } from '../../src/status/status-page'
import { StatusStore } from '../../src/status/status-store'
import { startWorkers, type JobServices, type RunningWorkers } from '../../workers'
import { processHarness, type ProcessHarness, type ProcessInstanceRef, type Variables } from '../support/process-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

const PROCESSES = join(__dirname, '../../processes')
const POLL_MS = 25
const WAIT_MS = 10_000
const SETTLE_MS = 500
const LINK_SECRET = 'a-test-secret-of-enough-length'
const WEBHOOK_SECRET = 'webhook-shared-secret'
const TOKENS = { T_OPERATOR: 'operator-token', T_MANAGER: 'manager-token', T_CELL: 'cell-token', T_CELL_ALPHA: 'alpha-cell-token', T_ADMIN: 'admin-token', T_BETA: 'beta-token' }

const ALPHA_OPERATIONS = 'supervision@fournisseur-alpha.example.org'
const PORTAIL_LEADS = ['camille.martin@portail.example.org', 'dominique.bernard@portail.example.org']
const ALPHA_LEADS = ['sacha.durand@fournisseur-alpha.example.org', 'morgan.leroy@fournisseur-alpha.example.org']
const DIRECTORS = ['claude.petit@portail.example.org', 'jean.moreau@fournisseur-alpha.example.org']

/** What the link control's webhook received, and what it answers. */
interface Webhook {
  url: string
  calls: Array<{ body: Record<string, unknown>; signature: string; timestamp: string; raw: string }>
  status: number
  close(): Promise<void>
}

let config: Config
let smtp: SmtpSink
let dataDir: string
let trace: TraceStore
let mailer: Mailer
let store: CutStore
let status: StatusStore
let webhook: Webhook
let api: http.Server
let base: string
let cutService: CutService | undefined

let h: ProcessHarness
let workers: RunningWorkers

async function startWebhook(): Promise<Webhook> {
  const state: Omit<Webhook, 'url' | 'close'> = { calls: [], status: 200 }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()))
    req.on('end', () => {
      state.calls.push({ raw, body: JSON.parse(raw) as Record<string, unknown>, signature: String(req.headers[SIGNATURE_HEADER]), timestamp: String(req.headers[TIMESTAMP_HEADER]) })
      res.statusCode = state.status
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, { url: `http://127.0.0.1:${port}/switch`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) })
}

beforeAll(async () => {
  smtp = await startTestSmtp()
  webhook = await startWebhook()
  const example = exampleConfig()
  // alpha-prod is switched by a webhook; alpha-preprod stays manual.
  config = {
    ...example,
    organisations: example.organisations.map((org) => ({
      ...org,
      interconnections: org.interconnections.map((link) => (link.id === 'alpha-prod' ? { ...link, linkControl: { type: 'webhook' as const, url: webhook.url, secretEnv: 'ALPHA_SWITCH_SECRET' } } : link)),
    })),
    api: {
      port: 0,
      tokens: [
        { tokenEnv: 'T_OPERATOR', roles: ['operator'], organisation: 'portail', team: 'operations' },
        { tokenEnv: 'T_MANAGER', roles: ['manager'], organisation: 'portail', team: 'operations' },
        { tokenEnv: 'T_CELL', roles: ['manager'], organisation: 'portail', contact: 'camille.martin@portail.example.org' },
        { tokenEnv: 'T_CELL_ALPHA', roles: ['manager'], organisation: 'fournisseur-alpha', contact: 'sacha.durand@fournisseur-alpha.example.org' },
        { tokenEnv: 'T_ADMIN', roles: ['admin'], organisation: 'portail', team: 'administration' },
        { tokenEnv: 'T_BETA', roles: ['operator', 'manager'], organisation: 'provider-beta', team: 'operations' },
      ],
    },
  }
  dataDir = await mkdtemp(join(tmpdir(), 'raccord-cut-process-'))
  trace = TraceStore.open(dataDir)
  mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
  store = CutStore.open(dataDir)

  const app = express()
  // Each test has its own status page, so that one test's open notices do not show in another's.
  app.use((req, res, next) => statusRouter(config, status, () => base)(req, res, next))
  app.use('/links', (req, res, next) => {
    if (cutService === undefined) return next(new Error('no cut service'))
    cutLinkRoutes(config, cutService)(req, res, next)
  })
  app.use('/api', express.json(), authenticate(credentialsFrom(config, TOKENS)))
  app.use('/api/cuts', (req, res, next) => {
    if (cutService === undefined) return next(new Error('no cut service'))
    cutRoutes(config, cutService)(req, res, next)
  })
  app.use(problemHandler(pino({ level: 'silent' })))
  api = http.createServer(app)
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve))
  await mailer?.close()
  trace?.close()
  store?.close()
  await smtp?.close()
  await webhook?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

beforeEach(async () => {
  webhook.status = 200
  webhook.calls.length = 0
  status = StatusStore.open(await mkdtemp(join(dataDir, 'status-')))
  h = await processHarness()
  const forms = (await readdir(join(PROCESSES, 'forms'))).map((file) => join(PROCESSES, 'forms', file))
  await h.deploy(join(PROCESSES, 'interconnection-cut.bpmn'), ...forms)
  const cuts = {
    store,
    links: new LinkSigner(LINK_SECRET),
    linkControl: linkControl({ env: { ALPHA_SWITCH_SECRET: WEBHOOK_SECRET }, now: () => new Date(), timeoutMs: 2000 }),
    settings: config.interconnectionCuts,
    publicUrl: () => base,
  }
  // The services the application gives the workers (src/wiring/application.ts), on this test's stores and SMTP sink.
  const services: JobServices = { config, trace, mailer, now: () => new Date(), cuts, status }
  workers = startWorkers(h.camunda.getZeebeGrpcApiClient(), services, { pollIntervalMs: 50, backoffBaseMs: 100 })
  cutService = new CutService(config, cuts, sdkCutEngine(h.camunda, sdkProcessEngine(h.camunda)))
})

afterEach(async () => {
  await workers?.close()
  cutService = undefined
  await h?.close()
  status?.close()
})

function newCutId(): string {
  return `CUT-PT-${randomBytes(4).toString('hex')}`
}

/** The variables the API gives a requested cut (src/app/cuts/cuts.ts). */
function request(cutId: string, overrides: Variables = {}): Variables {
  return { cutId, interconnectionId: 'alpha-prod', reason: 'Suspected intrusion on the provider front end', requestedBy: 'Centre de services du portail', origin: 'self', ...overrides }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

/** Every cut mail puts the cut's reference in its subject. */
function mailsAbout(cutId: string): StoredMail[] {
  return smtp.list().filter((mail) => mail.subject.includes(`[${cutId}]`))
}

function mailsMatching(cutId: string, subject: RegExp, count: number): Promise<StoredMail[]> {
  return waitFor(`${count} mail(s) '${subject}' about ${cutId}`, () => {
    const found = mailsAbout(cutId).filter((mail) => subject.test(mail.subject))
    return found.length >= count ? found : undefined
  })
}

/** The signed links of a mail. */
function linksIn(mail: StoredMail): string[] {
  return [...mail.text.matchAll(/https?:\/\/\S+\/links\/[A-Za-z0-9_.-]+/g)].map((match) => match[0])
}

/** The link of a mail for one purpose, read from its (signed, not secret) claims. */
function linkFor(mail: StoredMail, purpose: string): string {
  const found = linksIn(mail).find((link) => (JSON.parse(Buffer.from(link.split('/links/')[1].split('.')[0], 'base64url').toString()) as { purpose: string }).purpose === purpose)
  if (found === undefined) throw new Error(`no ${purpose} link in '${mail.subject}'`)
  return found
}

async function attachmentsOf(mail: StoredMail) {
  return (await simpleParser(await readFile(join(smtp.dir, `${mail.id}.eml`)))).attachments
}

async function summary(): Promise<StatusSummary> {
  return (await (await fetch(`${base}/status.json`)).json()) as StatusSummary
}

async function component(id: string): Promise<string | undefined> {
  return (await summary()).components.find((candidate) => candidate.id === id)?.status
}

async function cut(variables: Variables): Promise<ProcessInstanceRef> {
  return h.startProcess('interconnection-cut', variables)
}

/** Cut on our side by the webhook, warning sent, waiting for the acknowledgement. */
async function cutAndWarn(cutId: string): Promise<{ instance: ProcessInstanceRef; warning: StoredMail }> {
  const instance = await cut(request(cutId))
  await h.expectInstance(instance).toBeWaitingAt('await-acknowledgement', 'hold-crisis-meeting')
  const [warning] = await mailsMatching(cutId, /merci de couper/, 1)
  return { instance, warning }
}

const outcome = (clientDecision: string, providerDecision: string): Variables => ({
  heldAt: new Date().toISOString(),
  attendees: 'Camille Martin, Dominique Bernard, Sacha Durand, Morgan Leroy',
  causes: 'Compromised API key on the provider front end',
  restorationTerms: 'Keys rotated on both sides',
  clientDecision,
  clientDecidedBy: 'Camille Martin',
  providerDecision,
  providerDecidedBy: 'Sacha Durand',
})

const post = (url: string) => fetch(url, { method: 'POST' })

describe('SEC-4, CUT-1: our side is cut at once through the link control', () => {
  test('CUT-1, CUT-3: the webhook cuts our side, signed, and the other party is warned at once with its links', async () => {
    // given
    const cutId = newCutId()
    // when
    const { instance, warning } = await cutAndWarn(cutId)
    // then
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('cut-requested', 'record-cut-request', 'publish-cut-notice', 'disable-interconnection', 'record-our-cut', 'warn-other-party')
    expect(webhook.calls).toHaveLength(1)
    const [call] = webhook.calls
    expect(call.body).toMatchObject({ action: 'disable', interconnection: 'alpha-prod', cutId })
    expect(call.signature).toBe(webhookSignature(WEBHOOK_SECRET, call.timestamp, call.raw))
    expect(warning.envelopeTo).toEqual([ALPHA_OPERATIONS])
    expect(warning.subject).toBe(`[${cutId}] Coupure du raccordement alpha-prod : merci de couper de votre côté`)
    expect(linksIn(warning)).toHaveLength(2)
    expect(store.entries(cutId).map((entry) => entry.event)).toEqual(expect.arrayContaining(['cut-requested', 'interconnection-disabled', 'our-side-cut', 'notification-sent']))
  })

  test('CUT-1: the webhook down is retried, then the job raises an incident and nothing is mailed', async () => {
    // given
    webhook.status = 503
    const cutId = newCutId()
    // when
    const instance = await cut(request(cutId))
    // then: the retry back-off runs on the engine clock. The clock moves only once the engine has
    // the failure and its back-off: moved between the webhook's answer and the worker's FailJob,
    // the back-off would start after the jump and never end on the pinned clock.
    for (const attempt of [1, 2]) {
      await waitFor(`webhook attempt ${attempt}`, () => (webhook.calls.length >= attempt ? true : undefined))
      await waitFor(`the job failed ${attempt} time(s)`, async () => {
        const jobs = await h.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: Array<{ retries: number }> }>({
          method: 'POST', urlPath: 'jobs/search', body: { filter: { processInstanceKey: instance.processInstanceKey, elementId: 'disable-interconnection' } },
        })
        return jobs.items.some((job) => job.retries === 3 - attempt) ? true : undefined
      })
      await h.increaseTime(`PT${attempt}M`)
    }
    await h.expectInstance(instance).toHaveIncident('JOB_NO_RETRIES')
    expect(webhook.calls.length).toBe(3)
    await h.expectInstance(instance).toBeWaitingAt('disable-interconnection')
    expect(mailsAbout(cutId)).toEqual([])
  })

  test('CUT-1, CUT-2: a manual interconnection is cut by hand by an operator who says who and when; until then the cut reads requested', async () => {
    // given
    const cutId = newCutId()
    const instance = await cut(request(cutId, { interconnectionId: 'alpha-preprod' }))
    await h.expectInstance(instance).toBeWaitingAt('cut-by-hand')
    expect((await h.userTask(instance, 'cut-by-hand')).candidateGroups).toEqual(['portail-operations'])
    expect(mailsAbout(cutId)).toEqual([])
    expect(store.requireCut(cutId).state).toBe('requested')
    // when
    // (raccord completes a task with the form's fields plus completedBy, the identity of the credential that completed it)
    await h.completeUserTask(instance, 'cut-by-hand', { completedBy: 'Lou Garnier (portail)', cutAt: '2025-03-14T10:02:00+01:00' })
    // then
    await h.expectInstance(instance).toBeWaitingAt('await-acknowledgement', 'hold-crisis-meeting')
    expect(webhook.calls).toEqual([])
    expect(store.entries(cutId).find((entry) => entry.event === 'our-side-cut')).toMatchObject({ actor: 'Lou Garnier (portail)', at: '2025-03-14T10:02:00+01:00', detail: { how: 'by hand' } })
    expect(store.requireCut(cutId).state).toBe('cut')
  })

  test('CUT-1: incident management starts a cut with the message interconnection-cut-requested', async () => {
    // given
    const cutId = newCutId()
    // when
    await h.publishMessage('interconnection-cut-requested', cutId, request(cutId, { incidentId: 'INC-20250314-0001' }))
    // then
    const processInstanceKey = await waitFor('the cut in the trail', () => store.cut(cutId)?.processInstanceKey)
    const instance = { processInstanceKey, processDefinitionId: 'interconnection-cut' }
    await h.expectInstance(instance).toBeWaitingAt('await-acknowledgement', 'hold-crisis-meeting')
    expect(store.requireCut(cutId)).toMatchObject({ incidentId: 'INC-20250314-0001', otherParty: 'fournisseur-alpha' })
  })
})

describe('CUT-3: the other party is warned and both sides cut in step', () => {
  test('CUT-3: acknowledged in time by its link: no phone call, then the other side confirms its cut by link', async () => {
    // given
    const cutId = newCutId()
    const { instance, warning } = await cutAndWarn(cutId)
    const acknowledge = linkFor(warning, 'acknowledge-cut')
    const confirm = linkFor(warning, 'confirm-cut')
    // when
    const page = await fetch(acknowledge)
    const done = await post(acknowledge)
    // then
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form method="post">')
    expect(done.status).toBe(200)
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-cut')
    // when
    await post(confirm)
    // then
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('await-acknowledgement', 'acknowledgement-received', 'await-other-side-cut', 'other-side-cut', 'record-synchronisation')
    await h.increaseTime('PT31M')
    await settle()
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    expect(store.entries(cutId).map((entry) => entry.event)).toEqual(expect.arrayContaining(['link-used:acknowledge-cut', 'link-used:confirm-cut', 'other-side-cut']))
  })

  test('CUT-3: no acknowledgement within 30 minutes: an operator phones the on-call team and records who was reached, then chases the confirmation', async () => {
    // given
    const cutId = newCutId()
    const { instance } = await cutAndWarn(cutId)
    // when
    await h.increaseTime('PT29M')
    await settle()
    // then
    await h.expectInstance(instance).toBeWaitingAt('await-acknowledgement')
    // when
    await h.increaseTime('PT31M')
    // then
    await h.expectInstance(instance).toBeWaitingAt('phone-other-party')
    await h.completeUserTask(instance, 'phone-other-party', { completedBy: 'Lou Garnier (portail)', reachedName: 'Alex Roux', reachedAt: '2025-03-14T10:40:00+01:00', callNotes: 'Cutting now' })
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-cut')
    // when: no confirmation either within the same delay
    await h.increaseTime('PT62M')
    // then
    await h.expectInstance(instance).toBeWaitingAt('chase-other-side-cut')
    await h.completeUserTask(instance, 'chase-other-side-cut', { completedBy: 'Lou Garnier (portail)', reachedName: 'Alex Roux', reachedAt: '2025-03-14T11:45:00+01:00' })
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    const entries = store.entries(cutId)
    expect(entries.find((entry) => entry.event === 'acknowledged-by-phone')).toMatchObject({ actor: 'Lou Garnier (portail)', at: '2025-03-14T10:40:00+01:00', detail: { reachedName: 'Alex Roux', notes: 'Cutting now' } })
    expect(entries.find((entry) => entry.event === 'other-side-cut')).toMatchObject({ actor: 'Lou Garnier (portail)', detail: { how: 'phone', reachedName: 'Alex Roux' } })
  })

  test('CUT-3: an acknowledgement arriving while the call is pending ends the call task', async () => {
    // given
    const cutId = newCutId()
    const { instance, warning } = await cutAndWarn(cutId)
    await h.increaseTime('PT31M')
    await h.expectInstance(instance).toBeWaitingAt('phone-other-party')
    // when
    await post(linkFor(warning, 'acknowledge-cut'))
    // then
    await h.expectInstance(instance).toHaveCompletedElements('acknowledged-during-call')
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-cut')
  })

  test('CUT-3: the other party cut first: our side is cut, it is told so without links, and no acknowledgement is awaited', async () => {
    // given
    const cutId = newCutId()
    // when
    const instance = await cut(request(cutId, { origin: 'other-party', announcement: { by: 'Alex Roux (Supervision Alpha)', channel: 'phone', at: '2025-03-14T09:55:00+01:00' } }))
    // then
    const [mail] = await mailsMatching(cutId, /coupé de notre côté aussi/, 1)
    expect(linksIn(mail)).toEqual([])
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('disable-interconnection', 'warn-other-party', 'other-party-cut-first', 'other-side-cut', 'record-synchronisation')
    expect(store.entries(cutId).find((entry) => entry.event === 'other-side-cut')).toMatchObject({ actor: 'Alex Roux (Supervision Alpha)', detail: { how: 'announced by the other party', channel: 'phone' } })
  })
})

describe('CUT-4, CRI-1..3: the crisis cell', () => {
  test('CUT-4, CRI-1, CRI-2: both parties\' technical and functional leads are invited, with an .ics for a meeting within 2 days', async () => {
    // given
    const cutId = newCutId()
    // when
    const { instance } = await cutAndWarn(cutId)
    // then
    const invitations = await mailsMatching(cutId, /Cellule de crise/, 2)
    expect(invitations.flatMap((mail) => mail.envelopeTo).sort()).toEqual([...PORTAIL_LEADS, ...ALPHA_LEADS].sort())
    for (const mail of invitations) {
      const [ics] = await attachmentsOf(mail)
      expect(ics.contentType).toBe('text/calendar')
      expect(ics.filename).toBe('crisis-cell.ics')
      const body = ics.content.toString('utf8')
      expect(body).toContain('METHOD:REQUEST')
      expect(body).toContain(`UID:${cutId}-round-1@raccord.portail`)
      for (const email of [...PORTAIL_LEADS, ...ALPHA_LEADS]) expect(body).toContain(email)
      const start = /DTSTART:(\d{8}T\d{6}Z)/.exec(body)?.[1] ?? ''
      const startMs = Date.parse(start.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'))
      expect(startMs - Date.now()).toBeLessThan(2 * 24 * 3_600_000)
    }
    expect((await h.userTask(instance, 'hold-crisis-meeting')).candidateUsers.sort()).toEqual([...PORTAIL_LEADS, ...ALPHA_LEADS].sort())
  })

  test('CRI-2: not held within 2 days of the cut: both parties\' directors are told and the meeting is still awaited', async () => {
    // given
    const cutId = newCutId()
    const { instance } = await cutAndWarn(cutId)
    // when
    await h.increaseTime('P1DT23H')
    await settle()
    // then
    expect(mailsAbout(cutId).filter((mail) => /non tenue/.test(mail.subject))).toEqual([])
    // when
    await h.increaseTime('P2DT1M')
    // then
    const overdue = await mailsMatching(cutId, /non tenue dans le délai/, 2)
    expect(overdue.flatMap((mail) => mail.envelopeTo).sort()).toEqual(DIRECTORS.sort())
    await h.expectInstance(instance).toHaveCompletedElements('crisis-meeting-overdue', 'notify-directors', 'directors-notified')
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
  })

  test('CRI-3: one party decides to keep the link cut: nothing is restored and the cell meets again', async () => {
    // given
    const cutId = newCutId()
    const { instance } = await cutAndWarn(cutId)
    await mailsMatching(cutId, /Cellule de crise :/, 2)
    // when
    await h.completeUserTask(instance, 'hold-crisis-meeting', outcome('restore', 'keep-cut'))
    // then
    await mailsMatching(cutId, /réunion n°2/, 2)
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('hold-crisis-meeting', 'record-crisis-decision', 'both-parties-agree', 'crisis-round', 'invite-crisis-cell')
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
    expect(webhook.calls.filter((call) => call.body.action === 'enable')).toEqual([])
    expect(store.entries(cutId).find((entry) => entry.event === 'crisis-decision')?.detail).toMatchObject({
      outcome: 'keep-cut',
      decisions: [{ party: 'client', decision: 'restore', decidedBy: 'Camille Martin' }, { party: 'provider', decision: 'keep-cut', decidedBy: 'Sacha Durand' }],
    })
  })

  test('CRI-3, USR-1: restoration only with both agreements: enabled, confirmed by the other party, everyone told, and the status page follows each step', async () => {
    // given
    const cutId = newCutId()
    expect(await component('demarches-alpha')).toBe('operational')
    const { instance, warning } = await cutAndWarn(cutId)
    // then: USR-1, end users see the outage
    expect(await component('demarches-alpha')).toBe('major_outage')
    const open = await summary()
    expect(open.status.indicator).toBe('major')
    expect(open.incidents).toEqual([expect.objectContaining({ id: `cut:${cutId}`, status: 'investigating', impact: 'major', components: ['demarches-alpha'] })])
    expect(JSON.stringify(open)).not.toContain('intrusion')
    const page = await (await fetch(`${base}/status`)).text()
    expect(page).toContain('data-component="demarches-alpha" data-status="major_outage"')
    expect(page).toContain('Démarches en ligne Alpha indisponible depuis le portail')
    // when: both sides cut, the cell agrees
    await post(linkFor(warning, 'confirm-cut'))
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    await h.completeUserTask(instance, 'hold-crisis-meeting', outcome('restore', 'restore'))
    // then
    const [restoreRequest] = await mailsMatching(cutId, /merci de rétablir votre côté/, 1)
    expect(webhook.calls.map((call) => call.body.action)).toEqual(['disable', 'enable'])
    expect(await component('demarches-alpha')).toBe('major_outage')
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-restored')
    // when
    await post(linkFor(restoreRequest, 'confirm-restore'))
    // then
    await h.expectInstance(instance).toBeCompleted()
    const restored = await mailsMatching(cutId, /rétabli$/, 2)
    expect(restored.flatMap((mail) => mail.envelopeTo).sort()).toEqual(['exploitation@portail.example.org', ALPHA_OPERATIONS, ...PORTAIL_LEADS, ...ALPHA_LEADS].sort())
    expect(await component('demarches-alpha')).toBe('operational')
    const after = await summary()
    expect(after.incidents).toEqual([])
    expect(after.history).toEqual(expect.arrayContaining([expect.objectContaining({ id: `cut:${cutId}`, status: 'resolved' })]))
    const atom = await (await fetch(`${base}/status.atom`)).text()
    expect(atom).toContain('<feed xmlns="http://www.w3.org/2005/Atom"')
    expect(atom).toContain(`#cut:${cutId}`)
    expect(atom).toContain('de nouveau accessible')
    expect(store.requireCut(cutId).state).toBe('restored')
    // the trail says who did what and when, every step
    const events = store.entries(cutId).map((entry) => entry.event)
    expect(events).toEqual(expect.arrayContaining([
      'cut-requested', 'status-published', 'interconnection-disabled', 'our-side-cut', 'notification-sent', 'link-used:confirm-cut', 'other-side-cut',
      'crisis-decision', 'interconnection-enabled', 'link-used:confirm-restore', 'our-side-restored', 'other-side-restored', 'cut-closed',
    ]))
    for (const entry of store.entries(cutId)) expect(entry.actor).not.toBe('')
  })
})

describe('CUT-3: signed links are refused when forged, replayed or expired, and leave the instance untouched', () => {
  test.each([
    ['forged: its signature altered', (link: string) => `${link.slice(0, -4)}AAAA`, 403, /Unknown link/],
    ['forged: signed with another secret', (link: string) => link.replace(/links\/.*/, `links/${new LinkSigner('another-secret-long-enough').sign({ cutId: 'x', purpose: 'acknowledge-cut', party: 'fournisseur-alpha', exp: Date.now() + 60_000 })}`), 403, /Unknown link/],
    ['expired', (_link: string, cutId: string) => `${base}/links/${new LinkSigner(LINK_SECRET).sign({ cutId, purpose: 'acknowledge-cut', party: 'fournisseur-alpha', exp: Date.now() - 1000 })}`, 410, /expired/],
  ])('CUT-3: a link %s is refused with a clear page', async (_case, tamper, expected, wording) => {
    // given
    const cutId = newCutId()
    const { instance, warning } = await cutAndWarn(cutId)
    const link = tamper(linkFor(warning, 'acknowledge-cut'), cutId)
    // when
    const viewed = await fetch(link)
    const used = await post(link)
    // then
    expect(viewed.status).toBe(expected)
    expect(used.status).toBe(expected)
    expect(await used.text()).toMatch(wording)
    await settle()
    await h.expectInstance(instance).toBeWaitingAt('await-acknowledgement')
    expect(store.entries(cutId).filter((entry) => entry.event.startsWith('link-used'))).toEqual([])
  })

  test('CUT-3: a link used once is refused the second time, and the process hears of it once', async () => {
    // given
    const cutId = newCutId()
    const { instance, warning } = await cutAndWarn(cutId)
    const acknowledge = linkFor(warning, 'acknowledge-cut')
    expect((await post(acknowledge)).status).toBe(200)
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-cut')
    // when
    const again = await post(acknowledge)
    const viewed = await fetch(acknowledge)
    // then
    expect(again.status).toBe(409)
    expect(await again.text()).toContain('already been used')
    expect(viewed.status).toBe(409)
    expect(store.entries(cutId).filter((entry) => entry.event === 'link-used:acknowledge-cut')).toHaveLength(1)
  })
})

describe('SEC-4, CUT-2, CRI-3: who may do what through the API', () => {
  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })

  test('SEC-4, CUT-2: an operations role requests a cut; a role that may not is refused and nothing starts', async () => {
    // when
    const refused = await call('POST', '/api/cuts', TOKENS.T_MANAGER, { interconnectionId: 'alpha-prod', reason: 'Suspected intrusion' })
    // then
    expect(refused.status).toBe(403)
    expect(store.cuts().filter((record) => record.reason === 'Suspected intrusion')).toEqual([])
    // when
    const accepted = await call('POST', '/api/cuts', TOKENS.T_OPERATOR, { interconnectionId: 'alpha-prod', reason: 'Suspected intrusion' })
    // then
    expect(accepted.status).toBe(201)
    const { id, processInstanceKey } = (await accepted.json()) as { id: string; processInstanceKey: string }
    expect(id).toMatch(/^CUT-\d{8}-[0-9a-f]{4}$/)
    await h.expectInstance({ processInstanceKey, processDefinitionId: 'interconnection-cut' }).toBeWaitingAt('await-acknowledgement', 'hold-crisis-meeting')
    expect(store.requireCut(id)).toMatchObject({ requestedBy: 'Centre de services du portail (portail)', otherParty: 'fournisseur-alpha' })
    const view = (await (await call('GET', `/api/cuts/${id}`, TOKENS.T_MANAGER)).json()) as { timeline: Array<{ event: string }> }
    expect(view.timeline.map((entry) => entry.event)).toContain('cut-requested')
  })

  test('CRI-3, CUT-4: each party\'s cell member gives their own party\'s decision as themselves; no one records it for someone else', async () => {
    // given
    const accepted = await call('POST', '/api/cuts', TOKENS.T_OPERATOR, { interconnectionId: 'alpha-prod', reason: 'Suspected intrusion' })
    const { id, processInstanceKey } = (await accepted.json()) as { id: string; processInstanceKey: string }
    const instance = { processInstanceKey, processDefinitionId: 'interconnection-cut' }
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
    const meeting = { heldAt: new Date(Date.now() - 60_000).toISOString(), attendees: 'Camille Martin, Sacha Durand', causes: 'Compromised API key', restorationTerms: 'Keys rotated' }
    // when: an operator, the admin, a decision for the other party, a meeting in the future, an unrelated party
    const byOperator = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_OPERATOR, { ...meeting, decision: 'restore' })
    const byAdmin = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_ADMIN, { ...meeting, decision: 'restore' })
    const forOthers = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_CELL, { ...meeting, clientDecision: 'restore', providerDecision: 'restore', providerDecidedBy: 'Sacha Durand' })
    const inFuture = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_CELL, { ...meeting, heldAt: new Date(Date.now() + 3_600_000).toISOString(), decision: 'restore' })
    const unrelated = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_BETA, { ...meeting, decision: 'restore' })
    // then
    expect(byOperator.status).toBe(403)
    expect(byAdmin.status).toBe(403)
    expect(forOthers.status).toBe(400)
    expect(inFuture.status).toBe(409)
    expect(unrelated.status).toBe(404)
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
    // when: the client's member agrees alone
    const client = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_CELL, { ...meeting, decision: 'restore' })
    // then: nothing is decided without the provider's express agreement
    expect(client.status).toBe(202)
    expect(await client.json()).toEqual({ recorded: false, waitingFor: ['provider'] })
    await settle()
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
    // when: the provider's member agrees, with their own credential
    const provider = await call('POST', `/api/cuts/${id}/crisis-decision`, TOKENS.T_CELL_ALPHA, { ...meeting, decision: 'restore' })
    // then
    expect(provider.status).toBe(200)
    await h.expectInstance(instance).toHaveCompletedElements('record-crisis-decision')
    const agreements = store.entries(id).filter((entry) => entry.event === 'crisis-agreement')
    expect(agreements.map((entry) => [entry.actor, entry.detail.party, entry.detail.decision])).toEqual([['Camille Martin', 'client', 'restore'], ['Sacha Durand', 'provider', 'restore']])
    for (const entry of agreements) expect(Date.parse(entry.at)).not.toBeNaN()
    await waitFor('the decision in the trail', () => store.entries(id).find((entry) => entry.event === 'crisis-decision'))
    expect(store.entries(id).find((entry) => entry.event === 'crisis-decision')).toMatchObject({
      actor: 'Sacha Durand',
      detail: {
        outcome: 'restore',
        decisions: [
          { party: 'client', decision: 'restore', decidedBy: 'Camille Martin', decidedAt: agreements[0].at },
          { party: 'provider', decision: 'restore', decidedBy: 'Sacha Durand', decidedAt: agreements[1].at },
        ],
      },
    })
  })

  test('CUT-3: an operator records the other side\'s confirmation received by phone through the API', async () => {
    // given
    const accepted = await call('POST', '/api/cuts', TOKENS.T_OPERATOR, { interconnectionId: 'alpha-prod', reason: 'Suspected intrusion' })
    const { id, processInstanceKey } = (await accepted.json()) as { id: string; processInstanceKey: string }
    const instance = { processInstanceKey, processDefinitionId: 'interconnection-cut' }
    // when
    const recorded = await call('POST', `/api/cuts/${id}/confirmations`, TOKENS.T_OPERATOR, { kind: 'other-side-cut', by: 'Alex Roux', channel: 'phone' })
    const acknowledged = await call('POST', `/api/cuts/${id}/confirmations`, TOKENS.T_OPERATOR, { kind: 'acknowledged', by: 'Alex Roux', channel: 'phone' })
    // then
    expect([recorded.status, acknowledged.status]).toEqual([202, 202])
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    expect(store.entries(id).find((entry) => entry.event === 'other-side-cut')).toMatchObject({ actor: 'Alex Roux', detail: { how: 'phone' } })
  })
})

describe('CRI-3: restoring by hand, and chasing the other party\'s restoration', () => {
  /** Both sides cut and synchronised, the crisis cell agreed: our side is being restored. */
  async function agreedToRestore(cutId: string, interconnectionId = 'alpha-prod'): Promise<ProcessInstanceRef> {
    const instance = await cut(request(cutId, { interconnectionId }))
    if (interconnectionId === 'alpha-preprod') {
      await h.expectInstance(instance).toBeWaitingAt('cut-by-hand')
      await h.completeUserTask(instance, 'cut-by-hand', { completedBy: 'Lou Garnier (portail)', cutAt: '2025-03-14T10:02:00+01:00' })
    }
    const [warning] = await mailsMatching(cutId, /merci de couper/, 1)
    await post(linkFor(warning, 'confirm-cut'))
    await h.expectInstance(instance).toHaveCompletedElements('record-synchronisation')
    await h.expectInstance(instance).toBeWaitingAt('hold-crisis-meeting')
    await h.completeUserTask(instance, 'hold-crisis-meeting', outcome('restore', 'restore'))
    return instance
  }

  test('CRI-3: given a manual link control and the cell\'s agreement, when an operator restores our side by hand, then the other party is asked to restore and the trail says who restored ours, when and how', async () => {
    // given
    const cutId = newCutId()
    const instance = await agreedToRestore(cutId, 'alpha-preprod')
    await h.expectInstance(instance).toBeWaitingAt('restore-by-hand')
    expect((await h.userTask(instance, 'restore-by-hand')).candidateGroups).toEqual(['portail-operations'])
    await settle()
    expect(mailsAbout(cutId).filter((mail) => /merci de rétablir/.test(mail.subject))).toEqual([])
    // when
    await h.completeUserTask(instance, 'restore-by-hand', { completedBy: 'Lou Garnier (portail)', restoredAt: '2025-03-15T16:45:00+01:00', restoreNotes: 'Règle 42 réactivée sur le pare-feu' })
    // then
    const [restoreRequest] = await mailsMatching(cutId, /merci de rétablir votre côté/, 1)
    expect(restoreRequest.envelopeTo).toEqual([ALPHA_OPERATIONS])
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('enable-interconnection', 'restored-by-adapter', 'restore-by-hand', 'our-side-restored', 'request-restore-confirmation')
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-restored')
    // when
    await post(linkFor(restoreRequest, 'confirm-restore'))
    // then
    await h.expectInstance(instance).toBeCompleted()
    await mailsMatching(cutId, /rétabli$/, 2)
    expect(webhook.calls).toEqual([])
    const entries = store.entries(cutId)
    expect(entries.map((entry) => entry.event)).toEqual(expect.arrayContaining(['manual-disable-requested', 'manual-enable-requested', 'our-side-restored', 'other-side-restored', 'cut-closed']))
    expect(entries.map((entry) => entry.event)).not.toContain('interconnection-enabled')
    expect(entries.find((entry) => entry.event === 'our-side-restored')).toMatchObject({
      actor: 'Lou Garnier (portail)', at: '2025-03-15T16:45:00+01:00', detail: { how: 'by hand', notes: 'Règle 42 réactivée sur le pare-feu' },
    })
    expect(store.requireCut(cutId).state).toBe('restored')
  })

  test('CRI-3: given our side restored by the webhook, when the other party does not confirm its restoration within 30 minutes, then an operator phones it and records who confirmed and when', async () => {
    // given
    const cutId = newCutId()
    const instance = await agreedToRestore(cutId)
    await mailsMatching(cutId, /merci de rétablir votre côté/, 1)
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-restored')
    // when
    await h.increaseTime('PT29M')
    await settle()
    // then
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-restored')
    // when
    await h.increaseTime('PT31M')
    // then
    await h.expectInstance(instance).toBeWaitingAt('chase-restore-confirmation')
    expect((await h.userTask(instance, 'chase-restore-confirmation')).candidateGroups).toEqual(['portail-operations'])
    expect(store.requireCut(cutId).state).not.toBe('restored')
    // when
    await h.completeUserTask(instance, 'chase-restore-confirmation', { completedBy: 'Lou Garnier (portail)', reachedName: 'Alex Roux', reachedAt: '2025-03-15T17:20:00+01:00', callNotes: 'Restored at 17:15' })
    // then
    await h.expectInstance(instance).toBeCompleted()
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('restore-confirmation-overdue', 'chase-restore-confirmation', 'both-sides-restored', 'notify-restoration', 'record-restoration')
    await mailsMatching(cutId, /rétabli$/, 2)
    expect(await component('demarches-alpha')).toBe('operational')
    expect(store.entries(cutId).find((entry) => entry.event === 'other-side-restored')).toMatchObject({
      actor: 'Lou Garnier (portail)', at: '2025-03-15T17:20:00+01:00', detail: { how: 'phone', reachedName: 'Alex Roux', notes: 'Restored at 17:15' },
    })
    expect(store.entries(cutId).find((entry) => entry.event === 'our-side-restored')).toMatchObject({ actor: 'raccord', detail: { how: 'link control' } })
  })

  test('CRI-3: given the call to chase the restoration is pending, when the other party confirms by its link, then the call task ends and the cut is closed', async () => {
    // given
    const cutId = newCutId()
    const instance = await agreedToRestore(cutId)
    const [restoreRequest] = await mailsMatching(cutId, /merci de rétablir votre côté/, 1)
    await h.expectInstance(instance).toBeWaitingAt('await-other-side-restored')
    await h.increaseTime('PT31M')
    await h.expectInstance(instance).toBeWaitingAt('chase-restore-confirmation')
    // when
    expect((await post(linkFor(restoreRequest, 'confirm-restore'))).status).toBe(200)
    // then
    await h.expectInstance(instance).toBeCompleted()
    await h.expectInstance(instance).toHaveCompletedElements('restore-confirmed-during-call', 'both-sides-restored', 'record-restoration')
    expect(store.entries(cutId).find((entry) => entry.event === 'other-side-restored')).toMatchObject({ detail: { how: 'link' } })
    expect(store.requireCut(cutId).state).toBe('restored')
  })
})
