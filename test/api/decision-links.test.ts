/**
 * The other party decides from its mail (issue 15; PRD-4, CHG-5): a provider's task (here the
 * provider's approval of a service opening) is mailed to that provider's contacts with personal,
 * signed, single-use, expiring links. The whole application runs: embedded engine, real workers,
 * SMTP to a sink on loopback; the link is read from the mail received, and used over HTTP.
 */
import { Writable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { credentialsFrom } from '../../src/api/auth'
import { startApplication, type Application } from '../../src/wiring/application'
import type { Config } from '../../src/config'
import type { SmtpSink, StoredMail } from '../../src/notify'
import { persistentSecret } from '../../src/app/access/persistent-secret'
import { DecisionLinkSigner } from '../../src/app/access/decision-links'
import { DECISION_LINK_SECRET } from '../../src/wiring/decision-links-wiring'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../support/engine-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

const TOKENS = { P_CAMILLE: 'portail-camille-token', P_OPS: 'portail-operations-token', A_SACHA: 'alpha-sacha-token' }

let engine: TestEngine
let client: TestClient
let smtp: SmtpSink
let dataDir: string
let app: Application
let base: string
/** every line the application logged */
const logged: string[] = []
const config: Config = {
  ...exampleConfig(),
  api: {
    port: 0,
    tokens: [
      { tokenEnv: 'P_CAMILLE', roles: ['operator', 'manager'], organisation: 'portail', contact: 'camille.martin@portail.example.org' },
      { tokenEnv: 'P_OPS', roles: ['operator'], organisation: 'portail', team: 'operations' },
      { tokenEnv: 'A_SACHA', roles: ['operator', 'manager'], organisation: 'fournisseur-alpha', contact: 'sacha.durand@fournisseur-alpha.example.org' },
    ],
  },
}

async function start(): Promise<void> {
  const logStream = new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(chunk.toString('utf8')); done() } })
  app = await startApplication({
    config,
    credentials: credentialsFrom(config, TOKENS),
    camunda: client.camunda,
    smtpUrl: smtp.url,
    dataDir,
    logger: pino({ level: 'info' }, logStream),
    apiPort: 0,
    workers: { pollIntervalMs: 50, backoffBaseMs: 10_000 },
  })
  base = `http://127.0.0.1:${app.apiPort}`
}

beforeAll(async () => {
  engine = await startTestEngine()
  client = createTestClient(engine)
  smtp = await startTestSmtp()
  dataDir = await mkdtemp(join(tmpdir(), 'raccord-decision-links-'))
  await start()
})

afterAll(async () => {
  await app?.close()
  await client?.close()
  await smtp?.close()
  await engine?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

/** Requests the opening of a provider's service; answers its reference. */
async function requestOpening(providerId: string, serviceId: string): Promise<string> {
  const started = await api('POST', '/api/openings', TOKENS.P_CAMILLE, { providerId, serviceId })
  expect(started.status).toBe(201)
  return started.body.reference as string
}

/** The decision mail of `reference` received by `to`. */
function decisionMail(reference: string, to: string): Promise<StoredMail> {
  return eventually(`the decision mail of ${reference} to ${to}`, () => smtp.list().find((mail) => mail.to.includes(to) && mail.subject.includes(reference) && mail.text.includes('/decisions/')))
}

/** The links of a mail, by the label in front of each (`Approuver : https://...`). */
function linksOf(mail: StoredMail): Record<string, string> {
  return Object.fromEntries([...mail.text.matchAll(/^(.+?) ?: (https?:\/\/\S+\/decisions\/\S+)$/gm)].map((match) => [match[1], match[2].replace(/^https?:\/\/[^/]+/, base)]))
}

const tokenOf = (link: string) => link.slice(link.lastIndexOf('/') + 1)

async function page(method: 'GET' | 'POST', link: string, form?: Record<string, string>, language?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {}
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (language !== undefined) headers['accept-language'] = language
  const response = await fetch(link, { method, headers, body: form === undefined ? undefined : new URLSearchParams(form).toString() })
  return { status: response.status, text: await response.text() }
}

async function opening(reference: string) {
  const view = (await api('GET', `/api/openings/${reference}`, TOKENS.P_CAMILLE)).body as { processInstanceKey: string; waitingAt: Array<{ elementId: string }>; variables: Record<string, unknown> }
  return { ...view, waitingAt: view.waitingAt.map((element) => element.elementId) }
}

/** The open task `elementId` of a process instance, through the public /v2 API. */
async function openTask(processInstanceKey: string, elementId: string): Promise<string> {
  return eventually(`the task ${elementId}`, async () => {
    const found = await client.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: Array<{ userTaskKey: string }> }>({
      method: 'POST', urlPath: 'user-tasks/search', body: { filter: { processInstanceKey, elementId, state: 'CREATED' } },
    })
    return found.items[0]?.userTaskKey
  })
}

/** The provider's open approval task of an opening. */
async function providerTask(reference: string): Promise<string> {
  return openTask((await opening(reference)).processInstanceKey, 'approve-opening-provider')
}

/** Given: the client's own step of a procedure, done through the public /v2 API. */
async function completeClientTask(processInstanceKey: string, elementId: string, variables: Record<string, unknown>): Promise<void> {
  await client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: await openTask(processInstanceKey, elementId), variables })
}

const alphaDirector = 'jean.moreau@fournisseur-alpha.example.org'
const betaDirector = 'alex.brown@provider-beta.example.org'

describe('a provider decides from the link in its mail', () => {
  let reference: string
  let links: Record<string, string>

  beforeAll(async () => {
    reference = await requestOpening('fournisseur-alpha', 'demarches-alpha')
    links = linksOf(await decisionMail(reference, alphaDirector))
  })

  test('PRD-4: the provider director receives personal approve and refuse links, in French', () => {
    expect(Object.keys(links).sort()).toEqual(['Approuver', 'Refuser'])
  })

  test('PRD-4: opening the link decides nothing and shows the decision and the record in French', async () => {
    const shown = await page('GET', links.Approuver)
    expect(shown.status).toBe(200)
    expect(shown.text).toContain('<html lang="fr">')
    expect(shown.text).toContain(reference)
    expect(shown.text).toContain('Approuver')
    expect(shown.text).toContain('Jean Moreau (fournisseur-alpha)')
    expect((await opening(reference)).waitingAt).toContain('approve-opening-provider')
  })

  test('CHG-5: the refusal page asks for reasons, and a refusal without them is a 400 page naming the field', async () => {
    const shown = await page('GET', links.Refuser)
    expect(shown.text).toContain('name="reasons"')
    const refused = await page('POST', links.Refuser, { reasons: '' })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('data-field="reasons"')
    expect(refused.text).toContain('Raisons (reasons) : obligatoire')
    expect((await opening(reference)).waitingAt).toContain('approve-opening-provider')
  })

  test('PRD-4: approving completes the provider task as the addressee, and the process moves on', async () => {
    const approved = await page('POST', links.Approuver)
    expect(approved.status).toBe(200)
    expect(approved.text).toContain('Jean Moreau (fournisseur-alpha)')
    const view = await eventually('the provider decision', async () => {
      const seen = await opening(reference)
      return seen.variables.providerDecision === 'approve' ? seen : undefined
    })
    expect(view.waitingAt).not.toContain('approve-opening-provider')
    expect(view.waitingAt).toContain('approve-opening-client')
  })

  test('a link works once: the second use is refused', async () => {
    const again = await page('POST', links.Approuver)
    expect(again.status).toBe(409)
    expect(again.text).toContain('déjà été utilisé')
    expect(again.text).toMatch(/Utilisé le .+ par Jean Moreau \(fournisseur-alpha\)/)
  })

  test('a task completed another way says so on its other links', async () => {
    const other = await page('GET', links.Refuser)
    expect(other.status).toBe(409)
    expect(other.text).toContain('terminée par une autre voie')
  })
  test('PRD-4: once both approved, the provider operations team activates the service from its mail: one link, the form asked on the page', async () => {
    await completeClientTask((await opening(reference)).processInstanceKey, 'approve-opening-client', { decision: 'approve' })
    const answer = linksOf(await decisionMail(reference, 'supervision@fournisseur-alpha.example.org'))
    expect(Object.keys(answer)).toEqual(['Répondre'])
    const shown = await page('GET', answer['Répondre'])
    expect(shown.text).toContain('name="activationChannel"')
    expect(shown.text).toContain('name="activatedAt"')
    const missing = await page('POST', answer['Répondre'], { activationChannel: 'signed-link' })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('data-field="activatedAt"')
    const smuggled = await page('POST', answer['Répondre'], { activationChannel: 'signed-link', activatedAt: new Date().toISOString(), providerDecision: 'refuse' })
    expect(smuggled.status).toBe(200)
    const view = await eventually('the activation', async () => {
      const seen = await opening(reference)
      return seen.waitingAt.includes('activate-in-production') ? undefined : seen
    })
    // Only the form's fields reach the process: a field the page does not show is dropped.
    expect(view.variables.providerDecision).toBe('approve')
  })
})

describe('CHG-4, CHG-5: each provider validates a portal change on qualification from its own mail', () => {
  test('Alpha approves and Beta refuses with reasons, each through its link; the joint answer holds both', async () => {
    const started = await api('POST', '/api/changes', TOKENS.P_CAMILLE, { kind: 'portal-change', title: 'Portail 5.0', description: 'Refonte du dépôt', version: '5.0', previousVersion: '4.9' })
    expect(started.status).toBe(201)
    const reference = started.body.reference as string
    const change = async () => {
      const view = (await api('GET', `/api/changes/${reference}`, TOKENS.P_CAMILLE)).body as { processInstanceKey: string; waitingAt: Array<{ elementId: string }>; variables: Record<string, unknown> }
      return { ...view, waitingAt: view.waitingAt.map((element) => element.elementId) }
    }
    const { processInstanceKey } = await change()
    await completeClientTask(processInstanceKey, 'test-on-integration', { stepDone: true })
    await completeClientTask(processInstanceKey, 'install-on-qualification', { stepDone: true })
    await completeClientTask(processInstanceKey, 'validate-functionally', { decision: 'approve' })
    const alphaMail = await decisionMail(reference, 'sacha.durand@fournisseur-alpha.example.org')
    const betaMail = await decisionMail(reference, 'robin.taylor@provider-beta.example.org')
    // The task is named in each reader's language, as the console names it.
    expect(alphaMail.subject).toContain('Tester ou valider en qualification')
    expect(betaMail.subject).toContain('Test or validate on qualification')
    const alpha = linksOf(alphaMail)
    const beta = linksOf(betaMail)
    expect((await page('POST', alpha.Approuver)).status).toBe(200)
    const refusal = await page('GET', beta.Refuse)
    expect(refusal.text).toContain('<html lang="en">')
    expect(refusal.text).toContain('Robin Taylor (provider-beta)')
    expect((await page('POST', beta.Refuse, { reasons: 'Payments fail on qualification' })).status).toBe(200)
    const answered = await eventually('both provider answers', async () => {
      const view = await change()
      return Array.isArray(view.variables.providerAnswers) ? view : undefined
    })
    expect(answered.variables.providerAnswers).toEqual(expect.arrayContaining([
      { providerId: 'fournisseur-alpha', decision: 'approve', reasons: null },
      { providerId: 'provider-beta', decision: 'refuse', reasons: 'Payments fail on qualification' },
    ]))
  })
})

describe('the decision mail names the record it is about', () => {
  test('INC-1: a provider\'s incident: its restoration task is mailed to its operations team, the subject led by the incident id, in French', async () => {
    const declared = await api('POST', '/api/incidents', TOKENS.A_SACHA, { title: 'Dépôts rejetés', description: 'Erreur 502', service: 'demarches-alpha', impact: 'medium', urgency: 'low' })
    expect(declared.status).toBe(201)
    const incidentId = declared.body.id as string
    const mail = await decisionMail(incidentId, 'supervision@fournisseur-alpha.example.org')
    expect(mail.subject).toBe(`${incidentId} : décision attendue de Fournisseur Alpha : Rétablir le service`)
  })
})

describe('refused links', () => {
  let reference: string
  let taskKey: string
  let links: Record<string, string>
  let signer: DecisionLinkSigner

  beforeAll(async () => {
    reference = await requestOpening('fournisseur-alpha', 'demarches-alpha')
    links = linksOf(await decisionMail(reference, alphaDirector))
    taskKey = await providerTask(reference)
    // The application's own secret, from its data dir: only the claims differ from a mailed link.
    signer = new DecisionLinkSigner(persistentSecret(dataDir, DECISION_LINK_SECRET))
  })

  test('an expired link is refused as expired, in the addressee language, and decides nothing', async () => {
    const expired = signer.sign({ task: taskKey, party: 'fournisseur-alpha', to: alphaDirector, choice: 'approve', exp: Date.now() - 1000 })
    const answer = await page('POST', `${base}/decisions/${expired}`)
    expect(answer.status).toBe(410)
    expect(answer.text).toContain('Lien expiré')
    expect((await opening(reference)).waitingAt).toContain('approve-opening-provider')
  })

  test('an altered link is refused as altered', async () => {
    const token = tokenOf(links.Approuver)
    const [body, mac] = token.split('.')
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>
    const altered = `${Buffer.from(JSON.stringify({ ...claims, choice: 'refuse' })).toString('base64url')}.${mac}`
    const answer = await page('POST', `${base}/decisions/${altered}`, undefined, 'en')
    expect(answer.status).toBe(403)
    expect(answer.text).toContain('Altered link')
  })

  test('an unknown link is refused as unknown, in the reader language (FR and EN)', async () => {
    const fr = await page('GET', `${base}/decisions/nothing-raccord-made`, undefined, 'fr-FR,fr;q=0.9')
    expect(fr.status).toBe(404)
    expect(fr.text).toContain('<html lang="fr">')
    expect(fr.text).toContain('Lien inconnu')
    const en = await page('GET', `${base}/decisions/nothing-raccord-made`, undefined, 'en-GB')
    expect(en.text).toContain('<html lang="en">')
    expect(en.text).toContain('Unknown link')
  })

  test("another party's link cannot act on this party's task (403), and the task stays open", async () => {
    const beta = signer.sign({ task: taskKey, party: 'provider-beta', to: betaDirector, choice: 'approve', exp: Date.now() + 60_000 })
    const answer = await page('POST', `${base}/decisions/${beta}`)
    expect(answer.status).toBe(403)
    expect(answer.text).toContain('data-reason="not-yours"')
    expect((await opening(reference)).waitingAt).toContain('approve-opening-provider')
  })

  test('an API credential of the provider does not stand for the link: the link alone decides, once', async () => {
    const response = await fetch(`${base}/decisions/${tokenOf(links.Refuser)}`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.A_SACHA}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'reasons=' })
    expect(response.status).toBe(400)
    expect((await opening(reference)).waitingAt).toContain('approve-opening-provider')
  })

  test('a task completed another way (the engine API, as the console does) says so on its links, in the addressee language', async () => {
    await client.camunda.getCamundaRestClient().completeUserTask({ userTaskKey: taskKey, variables: { decision: 'approve' } })
    const answer = await page('POST', links.Approuver)
    expect(answer.status).toBe(409)
    expect(answer.text).toContain('<html lang="fr">')
    expect(answer.text).toContain('terminée par une autre voie')
  })
})

describe('the crisis cell decides, each member with a personal link mailed to them (CRI-3)', () => {
  let cutId: string
  let sacha: Record<string, string>
  let dominique: Record<string, string>
  const agreement = () => ({ heldAt: new Date(Date.now() - 60_000).toISOString(), attendees: 'Sacha Durand, Dominique Bernard', causes: 'Clé de service compromise' })

  const cutView = async () => (await api('GET', `/api/cuts/${cutId}`, TOKENS.P_OPS)).body as { timeline: Array<{ event: string; actor: string; at: string; detail: Record<string, unknown> }>; process: unknown }

  beforeAll(async () => {
    const requested = await api('POST', '/api/cuts', TOKENS.P_OPS, { interconnectionId: 'alpha-preprod', reason: 'Suspected intrusion' })
    expect(requested.status).toBe(201)
    cutId = requested.body.id as string
    await eventually('the cut-by-hand task', async () => (JSON.stringify((await cutView()).process).includes('cut-by-hand') ? true : undefined))
    expect((await api('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, { cutAt: new Date().toISOString() })).status).toBe(204)
    sacha = linksOf(await decisionMail(cutId, 'sacha.durand@fournisseur-alpha.example.org'))
    dominique = linksOf(await decisionMail(cutId, 'dominique.bernard@portail.example.org'))
  })

  test('CRI-3: every member of both parties gets their own links, one per decision of the form', () => {
    expect(Object.keys(sacha).sort()).toEqual(["La laisser coupée", "Rétablir l'interconnexion"])
    expect(Object.keys(dominique).sort()).toEqual(Object.keys(sacha).sort())
    expect(sacha["Rétablir l'interconnexion"]).not.toBe(dominique["Rétablir l'interconnexion"])
  })

  test('CRI-2: a meeting held in the future, or without causes, is refused with a page naming the field', async () => {
    const future = await page('POST', sacha["Rétablir l'interconnexion"], { ...agreement(), heldAt: new Date(Date.now() + 86_400_000).toISOString() })
    expect(future.status).toBe(400)
    expect(future.text).toContain('data-field="heldAt"')
    const noCauses = await page('POST', sacha["Rétablir l'interconnexion"], { ...agreement(), causes: '' })
    expect(noCauses.status).toBe(400)
    expect(noCauses.text).toContain('data-field="causes"')
    expect((await cutView()).timeline.filter((entry) => entry.event === 'crisis-agreement')).toEqual([])
  })

  test('CRI-3: one party agreeing records that member, and the link is restored only once the other party agrees too', async () => {
    expect((await page('POST', sacha["Rétablir l'interconnexion"], agreement())).status).toBe(200)
    expect(JSON.stringify((await cutView()).process)).toContain('hold-crisis-meeting')
    expect((await page('POST', dominique["Rétablir l'interconnexion"], agreement())).status).toBe(200)
    const agreements = (await cutView()).timeline.filter((entry) => entry.event === 'crisis-agreement')
    expect(agreements.map((entry) => [entry.actor, entry.detail.party, entry.detail.decision])).toEqual([['Sacha Durand', 'provider', 'restore'], ['Dominique Bernard', 'client', 'restore']])
    for (const entry of agreements) expect(Number.isNaN(Date.parse(entry.at))).toBe(false)
    await eventually('the crisis meeting recorded', async () => (JSON.stringify((await cutView()).process).includes('hold-crisis-meeting') ? undefined : true))
    // The meeting is recorded: the other members' links now say the task is closed.
    expect((await page('POST', sacha['La laisser coupée'], agreement())).status).toBe(409)
  })
})

describe('an English-speaking provider, and a restart between the mail and its use', () => {
  test('EN page; a link mailed before a restart works after it; no log line holds a token', async () => {
    const reference = await requestOpening('provider-beta', 'payments-beta')
    const links = linksOf(await decisionMail(reference, betaDirector))
    expect(Object.keys(links).sort()).toEqual(['Approve', 'Refuse'])
    const shown = await page('GET', links.Refuse)
    expect(shown.text).toContain('<html lang="en">')
    expect(shown.text).toContain('Alex Brown (provider-beta)')

    await app.close()
    await start()
    const moved = links.Refuse.replace(/^https?:\/\/[^/]+/, base)

    const refused = await page('POST', moved, { reasons: 'The service is not ready for production' })
    expect(refused.status).toBe(200)
    expect(refused.text).toContain('Recorded on')
    const view = await eventually('the provider refusal', async () => {
      const seen = await opening(reference)
      return seen.variables.providerDecision === 'refuse' ? seen : undefined
    })
    expect(view.waitingAt).not.toContain('approve-opening-provider')
    expect((await page('POST', moved, { reasons: 'again' })).status).toBe(409)

    const tokens = Object.values(links).map(tokenOf)
    expect(logged.some((line) => line.includes('/decisions/[redacted]'))).toBe(true)
    for (const token of tokens) expect(logged.filter((line) => line.includes(token))).toEqual([])
  })
})
