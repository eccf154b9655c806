/**
 * Two parties, one system (issue 15): every credential is a person or a team of one organisation,
 * the actor recorded is that identity, and each party reads only the records it is party to (404
 * otherwise) and acts only on its own (403). The whole application runs: embedded engine, real
 * workers, SMTP to a sink on loopback.
 */
import { join } from 'node:path'
import { startAppHarness, type AppHarness } from '../support/app-harness'
import { callApi, type ApiAnswer } from '../support/api-call'
import { PARTY_API_TOKENS, PARTY_TOKENS } from '../support/party-credentials'
import type { StoredMail } from '../../src/notify'

const TOKENS = PARTY_TOKENS

let h: AppHarness
let base: string
/** the cut of Alpha's pre-production link, open until its restoration */
let preproductionCut: string

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-two-party-',
    tokens: TOKENS,
    apiTokens: PARTY_API_TOKENS,
    outbox: true,
  })
  base = h.base
})

afterAll(() => h?.close())

type Answer = ApiAnswer

const call = (method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> => callApi(base, method, path, token, body)

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const fieldsOf = (answer: Answer) => ((answer.body.errors ?? []) as Array<{ field: string }>).map((error) => error.field).sort()
const ids = (answer: Answer) => (answer.body.items as Array<{ id?: string; processInstanceKey?: string }>).map((item) => item.id ?? item.processInstanceKey)

const declaration = { title: 'Démarches Alpha indisponibles', description: 'Erreur 502', service: 'demarches-alpha', impact: 'high', urgency: 'medium' }

describe('identities: the actor is the credential, never a body field', () => {
  let incidentId: string

  test('a provider\'s operations team declares an incident on its service: recorded as that team of that organisation', async () => {
    const declared = await call('POST', '/api/incidents', TOKENS.A_OPS, declaration)
    expect(declared.status).toBe(201)
    incidentId = declared.body.id as string
    const viewed = await call('GET', `/api/incidents/${incidentId}`, TOKENS.A_OPS)
    expect(viewed.body).toMatchObject({ declaredBy: 'Supervision Alpha (fournisseur-alpha)', reportingOrganisation: 'fournisseur-alpha' })
  })

  test('a body naming another organisation is refused with 400; a body naming an actor is refused with 400', async () => {
    const otherOrganisation = await call('POST', '/api/incidents', TOKENS.A_OPS, { ...declaration, reportingOrganisation: 'portail' })
    const ownOrganisation = await call('POST', '/api/incidents', TOKENS.A_OPS, { ...declaration, reportingOrganisation: 'fournisseur-alpha' })
    const actor = await call('POST', '/api/incidents', TOKENS.A_OPS, { ...declaration, declaredBy: 'Claude Petit' })
    expect(otherOrganisation.status).toBe(400)
    expect(fieldsOf(otherOrganisation)).toEqual(['reportingOrganisation'])
    expect(otherOrganisation.body.detail).toContain("Must be your own organisation 'fournisseur-alpha'")
    expect(ownOrganisation.status).toBe(201)
    expect(actor.status).toBe(400)
    expect(actor.body.detail).toContain('declaredBy')
  })

  test('incidents: a wrong role is 403; an unrelated party gets 404 and does not see it listed; the client and the admin see it', async () => {
    expect((await call('POST', '/api/incidents', TOKENS.A_MORGAN, declaration)).status).toBe(403)
    const unrelated = await call('GET', `/api/incidents/${incidentId}`, TOKENS.B_OPS)
    expect(unrelated.status).toBe(404)
    expect(unrelated.body.detail).toBe(`Unknown incident '${incidentId}'`)
    expect(ids(await call('GET', '/api/incidents', TOKENS.B_OPS))).not.toContain(incidentId)
    expect(ids(await call('GET', '/api/incidents', TOKENS.A_OPS))).toContain(incidentId)
    expect((await call('GET', `/api/incidents/${incidentId}`, TOKENS.P_OPS)).status).toBe(200)
    expect((await call('GET', `/api/incidents/${incidentId}`, TOKENS.P_ADMIN)).status).toBe(200)
  })
})

describe('cuts: the two parties of the interconnection; only the task\'s party completes it, with its form', () => {
  let cutId: string
  let processInstanceKey: string

  test('a party unrelated to the interconnection cannot cut it (403); a body naming the requester is refused (400); a wrong role is 403', async () => {
    const unrelated = await call('POST', '/api/cuts', TOKENS.B_OPS, { interconnectionId: 'alpha-preprod', reason: 'Intrusion' })
    expect(unrelated.status).toBe(403)
    expect(unrelated.body.detail).toContain('provider-beta is not a party to interconnection')
    const spoofed = await call('POST', '/api/cuts', TOKENS.P_OPS, { interconnectionId: 'alpha-preprod', reason: 'Intrusion', requestedBy: 'Claude Petit' })
    expect(spoofed.status).toBe(400)
    expect((await call('POST', '/api/cuts', TOKENS.A_MORGAN, { interconnectionId: 'alpha-preprod', reason: 'Intrusion' })).status).toBe(403)
  })

  test('the client\'s operations team cuts Alpha\'s pre-production link: recorded as that team', async () => {
    const requested = await call('POST', '/api/cuts', TOKENS.P_OPS, { interconnectionId: 'alpha-preprod', reason: 'Suspected intrusion' })
    expect(requested.status).toBe(201)
    cutId = requested.body.id as string
    preproductionCut = cutId
    processInstanceKey = requested.body.processInstanceKey as string
    const viewed = await call('GET', `/api/cuts/${cutId}`, TOKENS.A_OPS)
    expect(viewed.status).toBe(200)
    expect(viewed.body).toMatchObject({ requestedBy: 'Centre de services du portail (portail)' })
    await eventually('the cut-by-hand task', async () => {
      const view = await call('GET', `/api/cuts/${cutId}`, TOKENS.P_OPS)
      return JSON.stringify(view.body.process).includes('cut-by-hand') ? true : undefined
    })
  })

  test('another party\'s cut answers 404 on every route, and is not listed', async () => {
    expect(ids(await call('GET', '/api/cuts', TOKENS.B_OPS))).not.toContain(cutId)
    expect(ids(await call('GET', '/api/cuts', TOKENS.A_OPS))).toContain(cutId)
    for (const [method, path, body] of [
      ['GET', `/api/cuts/${cutId}`, undefined],
      ['POST', `/api/cuts/${cutId}/confirmations`, { kind: 'acknowledged', by: 'Alex Roux', channel: 'phone' }],
      ['POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, { cutAt: '2026-01-01T10:00:00+01:00' }],
      ['POST', `/api/cuts/${cutId}/crisis-decision`, { heldAt: '2026-01-01T10:00:00+01:00', attendees: 'x', causes: 'y', decision: 'restore' }],
    ] as const) {
      const answer = await call(method, path, TOKENS.B_OPS, body)
      expect([path, answer.status]).toEqual([path, 404])
    }
  })

  test('a wrong role is 403 on the cut\'s action routes', async () => {
    expect((await call('POST', `/api/cuts/${cutId}/confirmations`, TOKENS.A_MORGAN, { kind: 'acknowledged', by: 'Alex Roux', channel: 'phone' })).status).toBe(403)
    expect((await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.A_MORGAN, { cutAt: '2026-01-01T10:00:00+01:00' })).status).toBe(403)
  })

  test('the cut-by-hand task takes only its form\'s fields, valid, from its own party; who did it is the credential', async () => {
    const cutAt = new Date().toISOString()
    const empty = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, {})
    const smuggled = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, { cutAt, crisisCell: ['mallory@example.org'] })
    const wrongType = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, { cutAt, restoredBy: 42 })
    const actor = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, { cutAt, cutBy: 'Mallory Intruse' })
    const otherParty = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.A_OPS, { cutAt })
    expect([empty.status, fieldsOf(empty)]).toEqual([400, ['cutAt']])
    expect([smuggled.status, fieldsOf(smuggled)]).toEqual([400, ['crisisCell']])
    expect([wrongType.status, fieldsOf(wrongType)]).toEqual([400, ['restoredBy']])
    expect([actor.status, fieldsOf(actor)]).toEqual([400, ['cutBy']])
    expect(otherParty.status).toBe(403)
    const done = await call('POST', `/api/cuts/${cutId}/tasks/cut-by-hand`, TOKENS.P_OPS, { cutAt, cutNotes: 'Règle 12 désactivée' })
    expect(done.status).toBe(204)
    const cut = await eventually('our side cut in the trail', async () => {
      const view = await call('GET', `/api/cuts/${cutId}`, TOKENS.P_OPS)
      return (view.body.timeline as Array<{ event: string; actor: string }>).find((entry) => entry.event === 'our-side-cut')
    })
    expect(cut.actor).toBe('Centre de services du portail (portail)')
  })

  test('the crisis cell\'s members see the meeting task in the console, matched by their person; others do not', async () => {
    const meeting = async (token: string) => {
      const tasks = await call('GET', '/console/api/tasks', token)
      return (tasks.body.items as Array<{ elementId: string; processInstanceKey: string; userTaskKey: string }>).find((task) => task.elementId === 'hold-crisis-meeting' && task.processInstanceKey === processInstanceKey)
    }
    const seen = await eventually('the crisis meeting task', () => meeting(TOKENS.P_CAMILLE))
    expect(await meeting(TOKENS.A_SACHA)).toBeDefined()
    expect(await meeting(TOKENS.B_OPS)).toBeUndefined()
    expect((await call('GET', `/console/api/tasks/${seen.userTaskKey}`, TOKENS.B_OPS)).status).toBe(404)
  })

  test('CRI-3: the decision needs a member of each party, each as themselves; the console and the API record it alike', async () => {
    const agreement = { heldAt: new Date(Date.now() - 60_000).toISOString(), attendees: 'Camille Martin, Sacha Durand', causes: 'Clé compromise', decision: 'restore' }
    expect((await call('POST', `/api/cuts/${cutId}/crisis-decision`, TOKENS.P_ADMIN, agreement)).status).toBe(403)
    expect((await call('POST', `/api/cuts/${cutId}/crisis-decision`, TOKENS.A_OPS, agreement)).status).toBe(403)
    // Camille, through the console: claim, then complete with the form's fields.
    const tasks = await call('GET', '/console/api/tasks', TOKENS.P_CAMILLE)
    const task = (tasks.body.items as Array<{ elementId: string; processInstanceKey: string; userTaskKey: string }>).find((candidate) => candidate.elementId === 'hold-crisis-meeting' && candidate.processInstanceKey === processInstanceKey)
    expect(task).toBeDefined()
    expect((await call('POST', `/console/api/tasks/${task?.userTaskKey}/claim`, TOKENS.P_CAMILLE)).status).toBe(204)
    const forBoth = await call('POST', `/console/api/tasks/${task?.userTaskKey}/completion`, TOKENS.P_CAMILLE, { variables: { ...agreement, providerDecision: 'restore' } })
    expect([forBoth.status, fieldsOf(forBoth)]).toEqual([400, ['providerDecision']])
    const byCamille = await call('POST', `/console/api/tasks/${task?.userTaskKey}/completion`, TOKENS.P_CAMILLE, { variables: agreement })
    expect(byCamille.status).toBe(202)
    expect(byCamille.body).toEqual({ recorded: false, waitingFor: ['provider'] })
    // Sacha, through the API, with Alpha's own credential.
    const bySacha = await call('POST', `/api/cuts/${cutId}/crisis-decision`, TOKENS.A_SACHA, agreement)
    expect(bySacha.status).toBe(200)
    const view = await call('GET', `/api/cuts/${cutId}`, TOKENS.A_SACHA)
    const agreements = (view.body.timeline as Array<{ event: string; actor: string; at: string; detail: Record<string, unknown> }>).filter((entry) => entry.event === 'crisis-agreement')
    expect(agreements.map((entry) => [entry.actor, entry.detail.party])).toEqual([['Camille Martin', 'client'], ['Sacha Durand', 'provider']])
  })
})

describe('changes and releases: the changing party and the parties it affects; only the operator retires', () => {
  let providerChange: string
  let portalChange: string

  test('a provider changes its own service; a body naming another provider is refused (400); a wrong role is 403', async () => {
    const body = { kind: 'provider-change', title: 'Paiement', description: 'Nouveau prestataire', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', relatedToPortal: false }
    expect((await call('POST', '/api/changes', TOKENS.A_OPS, body)).status).toBe(403)
    const other = await call('POST', '/api/changes', TOKENS.A_SACHA, { ...body, providerId: 'provider-beta' })
    expect([other.status, fieldsOf(other)]).toEqual([400, ['providerId']])
    const started = await call('POST', '/api/changes', TOKENS.A_SACHA, body)
    expect(started.status).toBe(201)
    providerChange = started.body.reference as string
    const portal = await call('POST', '/api/changes', TOKENS.P_CAMILLE, { kind: 'portal-change', title: 'Portail 5.0', description: 'Refonte', version: '5.0', previousVersion: '4.9' })
    expect(portal.status).toBe(201)
    portalChange = portal.body.reference as string
  })

  test('another party\'s change answers 404; the parties it affects read it', async () => {
    expect((await call('GET', `/api/changes/${providerChange}`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('GET', `/api/changes/${providerChange}`, TOKENS.P_CAMILLE)).status).toBe(200)
    // A portal change affects every provider.
    expect((await call('GET', `/api/changes/${portalChange}`, TOKENS.B_OPS)).status).toBe(200)
  })

  test('CHG-8: POST /retirement by a party that does not operate the version is 403, by an unrelated party 404, by the operator 202', async () => {
    const byClient = await call('POST', `/api/changes/${providerChange}/retirement`, TOKENS.P_CAMILLE, {})
    expect(byClient.status).toBe(403)
    expect(byClient.body.detail).toContain('Only fournisseur-alpha, which operates version n-1, retires it')
    expect((await call('POST', `/api/changes/${providerChange}/retirement`, TOKENS.B_OPS, {})).status).toBe(404)
    expect((await call('POST', `/api/changes/${portalChange}/retirement`, TOKENS.A_SACHA, {})).status).toBe(403)
    expect((await call('POST', `/api/changes/${providerChange}/retirement`, TOKENS.A_SACHA, {})).status).toBe(202)
  })

  test('CHG-8: the other party proposes early retirement on a route of its own; the operator and unrelated parties cannot', async () => {
    const proposed = await call('POST', `/api/changes/${portalChange}/retirement-requests`, TOKENS.A_SACHA, { reason: 'Plus aucun appel en 4.9' })
    expect(proposed.status).toBe(202)
    expect(proposed.body.requested).toBe('early retirement of version n-1, proposed to portail')
    expect((await call('POST', `/api/changes/${portalChange}/retirement-requests`, TOKENS.P_CAMILLE, {})).status).toBe(403)
    expect((await call('POST', `/api/changes/${providerChange}/retirement-requests`, TOKENS.B_OPS, {})).status).toBe(404)
  })

  test('CUT-1, CRI-3: a pre-production link that is still cut is neither reactivated nor kept (409, naming the cut); one that is not cut is', async () => {
    for (const action of ['reactivate', 'keep']) {
      const refused = await call('POST', '/api/preproduction-links', TOKENS.A_SACHA, { providerId: 'fournisseur-alpha', interconnectionId: 'alpha-preprod', action })
      expect(refused.status).toBe(409)
      expect(refused.body.detail).toContain(`Interconnection alpha-preprod is still cut (${preproductionCut})`)
    }
    expect((await call('POST', '/api/preproduction-links', TOKENS.B_OPS, { providerId: 'provider-beta', interconnectionId: 'beta-preprod', action: 'reactivate' })).status).toBe(201)
  })

  test('openings and releases: another party\'s answers 404', async () => {
    const opening = await call('POST', '/api/openings', TOKENS.A_SACHA, { providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' })
    expect(opening.status).toBe(201)
    expect((await call('GET', `/api/openings/${String(opening.body.reference)}`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('GET', `/api/openings/${String(opening.body.reference)}`, TOKENS.P_OPS)).status).toBe(200)
    // PRD-5: a release needs a validation on the client's pre-production that raccord recorded
    const change = await call('POST', '/api/changes', TOKENS.A_SACHA, { kind: 'provider-change', title: 'Parcours', description: 'Refonte', serviceId: 'demarches-alpha', version: '2.4', relatedToPortal: true })
    expect(change.status).toBe(201)
    await completeTask(String(change.body.processInstanceKey), 'test-on-connected-preproduction', { applicationTests: 'ok', preproductionTests: 'ok', preproductionValidated: true })
    const release = await waitForRelease(() => call('POST', '/api/releases', TOKENS.A_SACHA, { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', validationReference: String(change.body.reference) }))
    expect(release.status).toBe(201)
    expect((await call('GET', `/api/releases/${String(release.body.reference)}`, TOKENS.B_OPS)).status).toBe(404)
    const spoofed = await call('POST', '/api/releases', TOKENS.A_SACHA, { kind: 'provider-release', providerId: 'provider-beta', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3' })
    expect([spoofed.status, fieldsOf(spoofed)]).toEqual([400, ['providerId']])
  })
})

/** Completes the open user task at `elementId` through the engine's REST API (a step other tests prove). */
async function completeTask(processInstanceKey: string, elementId: string, variables: Record<string, unknown>): Promise<void> {
  const rest = h.client.camunda.getCamundaRestClient()
  for (let attempt = 0; attempt < 300; attempt++) {
    const found = await rest.callApiEndpoint<Record<string, unknown>, { items: Array<{ userTaskKey: string }> }>({ method: 'POST', urlPath: 'user-tasks/search', body: { filter: { processInstanceKey, elementId, state: 'CREATED' } } })
    if (found.items[0] !== undefined) {
      await rest.callApiEndpoint({ method: 'POST', urlPath: `user-tasks/${found.items[0].userTaskKey}/completion`, body: { variables } })
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`No open task ${elementId} in ${processInstanceKey}`)
}

/** A release is refused until the recorded validation is visible: retried until it is started. */
async function waitForRelease(post: () => Promise<{ status: number; body: Record<string, unknown> }>): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let attempt = 0; ; attempt++) {
    const answer = await post()
    if (answer.status !== 422 || attempt >= 100) return answer
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('vulnerabilities: the owner, and the others once disclosed to them', () => {
  const report = { title: 'Injection SQL', cvssScore: 9.8, cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', service: 'demarches-alpha', knownExploited: false }

  test('a provider reports on its service as itself; naming another organisation is 400; a wrong role is 403; an unrelated party gets 404', async () => {
    expect((await call('POST', '/api/vulnerabilities', TOKENS.A_MORGAN, report)).status).toBe(403)
    const spoofed = await call('POST', '/api/vulnerabilities', TOKENS.A_OPS, { ...report, reportingOrganisation: 'portail' })
    expect([spoofed.status, fieldsOf(spoofed)]).toEqual([400, ['reportingOrganisation']])
    const actor = await call('POST', '/api/vulnerabilities', TOKENS.A_OPS, { ...report, reportedBy: 'Claude Petit' })
    expect(actor.status).toBe(400)
    const reported = await call('POST', '/api/vulnerabilities', TOKENS.A_OPS, report)
    expect(reported.status).toBe(201)
    const id = reported.body.id as string
    const own = await call('GET', `/api/vulnerabilities/${id}`, TOKENS.A_OPS)
    expect(own.body).toMatchObject({ data: { reportingOrganisation: 'fournisseur-alpha', reportedBy: 'Supervision Alpha (fournisseur-alpha)' } })
    // Disclosed to the portal (SEC-3), never to Beta.
    await eventually('the disclosure to the portal', async () => ((await call('GET', `/api/vulnerabilities/${id}`, TOKENS.P_OPS)).status === 200 ? true : undefined))
    expect((await call('GET', `/api/vulnerabilities/${id}`, TOKENS.B_OPS)).status).toBe(404)
    expect(ids(await call('GET', '/api/vulnerabilities', TOKENS.B_OPS))).not.toContain(id)
  })
})

describe('trace requests: the requester and the recipient', () => {
  const request = {
    direction: 'outgoing',
    requester: { organisation: 'portail', name: 'Alix Robert' },
    recipient: { organisation: 'fournisseur-alpha', name: 'Sacha Durand' },
    services: ['demarches-alpha'],
    period: { from: '2025-03-01T00:00:00+01:00', to: '2025-03-08T00:00:00+01:00' },
    purpose: 'Analyse de connexions suspectes',
  }

  test('another party\'s request and letter answer 404; naming the registrant is 400; a wrong role is 403', async () => {
    expect((await call('POST', '/api/trace-requests', TOKENS.P_OPS, { ...request, registeredBy: 'Claude Petit' })).status).toBe(400)
    expect((await call('POST', '/api/trace-requests', TOKENS.A_MORGAN, request)).status).toBe(403)
    const registered = await call('POST', '/api/trace-requests', TOKENS.P_OPS, request)
    expect(registered.status).toBe(201)
    const id = registered.body.id as string
    expect((await call('GET', `/api/trace-requests/${id}`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('GET', `/api/trace-requests/${id}/letter`, TOKENS.B_OPS)).status).toBe(404)
    expect(ids(await call('GET', '/api/trace-requests', TOKENS.B_OPS))).not.toContain(id)
    const recipient = await call('GET', `/api/trace-requests/${id}`, TOKENS.A_OPS)
    expect(recipient.status).toBe(200)
    expect((await call('GET', `/api/trace-requests/${id}`, TOKENS.P_OPS)).body).toMatchObject({ id })
  })
})

describe('/outbox: a credential, and each party its own mails', () => {
  const addressesOf = (mail: StoredMail) => [...mail.to, ...mail.cc, ...mail.envelopeTo].join(' ')
  const outbox = async (authorization?: string) => {
    const response = await fetch(`${base}/outbox.json`, { headers: authorization === undefined ? {} : { authorization } })
    return { status: response.status, headers: response.headers, mails: response.status === 200 ? ((await response.json()) as StoredMail[]) : [] }
  }

  test('no credential: 401 with a challenge a browser answers; each party sees the mails to its people; the admin sees all', async () => {
    await eventually('mails to Alpha and to the portal', () => (h.smtp.list().some((mail) => addressesOf(mail).includes('fournisseur-alpha')) && h.smtp.list().some((mail) => addressesOf(mail).includes('portail.example.org')) ? true : undefined))
    const anonymous = await outbox()
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic realm="raccord outbox"')
    const alpha = await outbox(`Bearer ${TOKENS.A_OPS}`)
    expect(alpha.mails.length).toBeGreaterThan(0)
    for (const mail of alpha.mails) expect(addressesOf(mail)).toContain('@fournisseur-alpha.example.org')
    const beta = await outbox(`Basic ${Buffer.from(`beta:${TOKENS.B_OPS}`).toString('base64')}`)
    expect(beta.status).toBe(200)
    for (const mail of beta.mails) expect(addressesOf(mail)).toContain('@provider-beta.example.org')
    // (mails of the earlier tests may still be arriving: the admin's list holds every mail there
    // was before it was asked for, and none that came after it answered)
    const before = h.smtp.list().length
    const admin = await outbox(`Bearer ${TOKENS.P_ADMIN}`)
    const after = h.smtp.list().length
    expect(admin.mails.length).toBeGreaterThanOrEqual(before)
    expect(admin.mails.length).toBeLessThanOrEqual(after)
    // Alpha's mail, asked for by Beta, does not exist.
    const alphaOnly = alpha.mails.find((mail) => !addressesOf(mail).includes('@provider-beta.example.org'))
    expect(alphaOnly).toBeDefined()
    expect((await fetch(`${base}/outbox/${alphaOnly?.id}`, { headers: { authorization: `Bearer ${TOKENS.B_OPS}` } })).status).toBe(404)
    expect((await fetch(`${base}/outbox/${alphaOnly?.id}`, { headers: { authorization: `Bearer ${TOKENS.A_OPS}` } })).status).toBe(200)
  })
})

describe('console server: a manager lists and acts only on its records\' instances', () => {
  test('instances of another party are not listed and answer 404; the Processes pages need the manager role (403)', async () => {
    expect((await call('GET', '/console/api/instances', TOKENS.A_OPS)).status).toBe(403)
    const declared = await call('POST', '/api/incidents', TOKENS.A_OPS, declaration)
    const key = declared.body.processInstanceKey as string
    expect(ids(await call('GET', '/console/api/instances', TOKENS.A_SACHA))).toContain(key)
    expect(ids(await call('GET', '/console/api/instances', TOKENS.P_CAMILLE))).toContain(key)
    expect(ids(await call('GET', '/console/api/instances', TOKENS.B_OPS))).not.toContain(key)
    expect((await call('GET', `/console/api/instances/${key}`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('GET', `/console/api/instances/${key}/diagram`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('GET', `/console/api/instances/${key}`, TOKENS.A_SACHA)).status).toBe(200)
  })

  test('a manager cannot retry another party\'s incident (404), only its own', async () => {
    await h.client.zeebe.deployResource({ processFilename: join(__dirname, '../console/fixtures/console-retry.bpmn') })
    const created = await h.client.zeebe.createProcessInstance({ bpmnProcessId: 'console-retry', variables: { incidentId: 'INC-TWO-PARTY', reportingOrganisation: 'fournisseur-alpha', service: 'demarches-alpha' } })
    const rest = h.client.camunda.getCamundaRestClient()
    const job = await eventually('the job', async () => {
      const { jobs } = await rest.callApiEndpoint<Record<string, unknown>, { jobs: Array<{ jobKey: string }> }>({ method: 'POST', urlPath: 'jobs/activation', body: { type: 'console-fixture-sync', worker: 'test', timeout: 60_000, maxJobsToActivate: 1 } })
      return jobs[0]
    })
    await rest.callApiEndpoint({ method: 'POST', urlPath: `jobs/${job.jobKey}/failure`, body: { retries: 0, errorMessage: 'Directory unreachable' }, json: false })
    const incident = await eventually('the incident', async () => {
      const found = await rest.callApiEndpoint<Record<string, unknown>, { items: Array<{ incidentKey: string }> }>({ method: 'POST', urlPath: 'incidents/search', body: { filter: { processInstanceKey: created.processInstanceKey } } })
      return found.items[0]
    })
    expect((await call('POST', `/console/api/incidents/${incident.incidentKey}/retry`, TOKENS.B_OPS)).status).toBe(404)
    expect((await call('POST', `/console/api/incidents/${incident.incidentKey}/retry`, TOKENS.A_SACHA)).status).toBe(204)
  })
})
