/**
 * /api/changes, /api/openings, /api/releases, /api/preproduction-links against an embedded engine
 * with the real workers: who may start what (CHG-3, CHG-6, PRD-3, PRD-5), validation, views.
 */
import { startAppHarness, type AppHarness } from '../support/app-harness'

const TOKENS = { T_CLIENT: 'client-manager-token', T_ALPHA: 'alpha-manager-token', T_OPERATOR: 'client-operator-token' }

let h: AppHarness
let base: string

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-api-changes-',
    tokens: TOKENS,
    apiTokens: [
      { tokenEnv: 'T_CLIENT', roles: ['manager'], organisation: 'portail', team: 'operations' },
      { tokenEnv: 'T_ALPHA', roles: ['manager'], organisation: 'fournisseur-alpha', team: 'operations' },
      { tokenEnv: 'T_OPERATOR', roles: ['operator'], organisation: 'portail', team: 'operations' },
    ],
  })
  base = h.base
})

afterAll(() => h?.close())

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

function waitingAt(path: string, token: string, elementId: string): Promise<Record<string, unknown>> {
  return until(path, token, (view) => (view.waitingAt as Array<{ elementId: string }>).some((element) => element.elementId === elementId))
}

async function until(path: string, token: string, holds: (view: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const view = await call('GET', path, token)
    if (view.status === 200 && holds(view.body)) return view.body
    if (Date.now() > deadline) throw new Error(`${path} never reached the expected state: ${JSON.stringify(view.body)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const portalChange = { kind: 'portal-change', title: 'Nouveau parcours de dépôt', description: 'Refonte du formulaire', version: '5.0', previousVersion: '4.9', retainPreviousVersion: true, retentionMonths: 3 }

test('CHG-3: the client starts a portal change; GET shows it waiting for delivery on integration', async () => {
  const started = await call('POST', '/api/changes', TOKENS.T_CLIENT, portalChange)
  expect(started.status).toBe(201)
  expect(started.body.reference).toMatch(/^CHG-\d{8}-[0-9a-f]{6}$/)
  const view = await waitingAt(`/api/changes/${String(started.body.reference)}`, TOKENS.T_OPERATOR, 'test-on-integration')
  expect(view).toMatchObject({ process: 'portal-change', state: 'ACTIVE', variables: expect.objectContaining({ retainPreviousVersion: true, retentionMonths: 3 }) })
})

test.each([
  ['CHG-3: a provider may not change the portal', '/api/changes', TOKENS.T_ALPHA, portalChange],
  ['CHG-6: the client may not decide a provider\'s own change', '/api/changes', TOKENS.T_CLIENT, { kind: 'provider-change', title: 'Paiement', description: 'Nouveau prestataire', serviceId: 'demarches-alpha', version: '2.4', relatedToPortal: false }],
  ['CHG-6: a provider may not change another provider\'s service', '/api/changes', TOKENS.T_ALPHA, { kind: 'provider-change', title: 'Paiement', description: 'x', serviceId: 'payments-beta', version: '2.4', relatedToPortal: false }],
  ['PRD-3: only the client decides a portal release', '/api/releases', TOKENS.T_ALPHA, { kind: 'portal-release', version: '6.0', plannedAt: '2026-06-01T08:00:00+02:00' }],
  ['PRD-5: the client may not release a provider\'s version', '/api/releases', TOKENS.T_CLIENT, { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', validationReference: 'R-1' }],
])('%s: 403', async (_name, path, token, body) => {
  const answer = await call('POST', path, token, body)
  expect(answer.status).toBe(403)
  expect(answer.body).toMatchObject({ title: 'Forbidden', status: 403 })
})

test('CHG-6, PRD-4, PRD-5, CHG-1: a provider starts its own change, release, opening and pre-production link', async () => {
  const change = await call('POST', '/api/changes', TOKENS.T_ALPHA, { kind: 'provider-change', title: 'Paiement', description: 'Nouveau prestataire', serviceId: 'demarches-alpha', version: '2.4', relatedToPortal: false })
  expect(change.status).toBe(201)
  await waitingAt(`/api/changes/${String(change.body.reference)}`, TOKENS.T_ALPHA, 'record-non-regression-tests')
  // PRD-5: a release quoting no recorded pre-production validation is refused at once, with the reason; nothing starts.
  const release = await call('POST', '/api/releases', TOKENS.T_ALPHA, { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', validationReference: 'RECETTE-PREPROD-31' })
  expect(release.status).toBe(422)
  expect(release.body).toMatchObject({ status: 422, verdict: 'unknown-reference', detail: expect.stringContaining('RECETTE-PREPROD-31') })
  const missing = await call('POST', '/api/releases', TOKENS.T_ALPHA, { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3' })
  expect(missing.status).toBe(422)
  expect(missing.body).toMatchObject({ verdict: 'missing' })
  const opening = await call('POST', '/api/openings', TOKENS.T_ALPHA, { providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' })
  expect(opening.status).toBe(201)
  const waiting = await waitingAt(`/api/openings/${String(opening.body.reference)}`, TOKENS.T_CLIENT, 'approve-opening-client')
  // The title raccord writes is in the language of the organisation that asked (French here).
  expect(JSON.stringify(waiting)).toMatch(/"title":"Ouverture de [^"]+"/)
  const link = await call('POST', '/api/preproduction-links', TOKENS.T_ALPHA, { providerId: 'fournisseur-alpha', action: 'reactivate' })
  expect(link.status).toBe(201)
  await waitingAt(`/api/preproduction-links/${String(link.body.reference)}`, TOKENS.T_CLIENT, 'prepare-preproduction-link')
})

test('CHG-8: a retention longer than the agreement is a 400 naming the field', async () => {
  const answer = await call('POST', '/api/changes', TOKENS.T_CLIENT, { ...portalChange, retentionMonths: 7 })
  expect(answer.status).toBe(400)
  expect(answer.body.errors).toEqual([{ field: 'retentionMonths', detail: 'At most 6 months: the agreement\'s retention of version n-1 (CHG-8)' }])
})

test('CHG-8: early retirement of an unknown change is a 404; an operator cannot start a change (403)', async () => {
  expect((await call('POST', '/api/changes/CHG-20260101-000000/retirement', TOKENS.T_OPERATOR, {})).status).toBe(404)
  expect((await call('POST', '/api/changes', TOKENS.T_OPERATOR, portalChange)).status).toBe(403)
})

test('CUT-1, CRI-3, CHG-1: a pre-production link whose interconnection is still cut is not kept or reactivated: 409 naming the cut', async () => {
  // given: the client's operations cut provider-beta's pre-production link
  const cut = await call('POST', '/api/cuts', TOKENS.T_OPERATOR, { interconnectionId: 'beta-preprod', reason: 'Comportement suspect en pré-production' })
  expect(cut.status).toBe(201)
  const cutId = String(cut.body.id)
  // when
  for (const action of ['reactivate', 'keep']) {
    const answer = await call('POST', '/api/preproduction-links', TOKENS.T_CLIENT, { providerId: 'provider-beta', action })
    // then
    expect(answer.status).toBe(409)
    expect(answer.body).toMatchObject({ title: 'Conflict', status: 409, cutId, interconnectionId: 'beta-preprod' })
    expect(String(answer.body.detail)).toContain(`Interconnection beta-preprod is still cut (${cutId})`)
  }
  // another provider's link is not concerned
  expect((await call('POST', '/api/preproduction-links', TOKENS.T_CLIENT, { providerId: 'fournisseur-alpha', action: 'reactivate' })).status).toBe(201)
})
