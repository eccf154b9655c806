/**
 * Every route, proven for scope (issue 15): each route the application answers has a row here,
 * called with a credential of a party unrelated to the record (404, or the record left out of a
 * list) and with a credential whose role or function may not do it (403). A route whose answer is
 * nobody's record (the status page, health, the caller's own identity) or whose credential is a
 * signed link says why. A route added without its row fails the first test.
 *
 * The records are Fournisseur Alpha's (its incident, change, opening, release, pre-production link,
 * vulnerability, mails) and the portal's about Alpha (a cut, a trace request); Provider Beta is the
 * unrelated party. The whole application runs: embedded engine, real workers, SMTP to a sink.
 */
import { join } from 'node:path'
import { startAppHarness, type AppHarness } from '../support/app-harness'
import { callApi, type ApiAnswer } from '../support/api-call'
import { PARTY_API_TOKENS, PARTY_TOKENS } from '../support/party-credentials'

const TOKENS = PARTY_TOKENS

let h: AppHarness

/** Alpha's records, and the portal's about Alpha, made in beforeAll. */
const r = {
  incident: '', incidentInstance: '', change: '', opening: '', openingInstance: '', release: '', preproductionLink: '',
  vulnerability: '', traceRequest: '', cut: '', task: '', engineIncident: '', mail: '', batch: '',
}

type Answer = ApiAnswer

const call = (method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> => callApi(h.base, method, path, token, body)

async function created(answer: Promise<Answer>, key: 'id' | 'reference'): Promise<Answer & { id: string }> {
  const done = await answer
  if (done.status !== 201) throw new Error(`expected 201, got ${done.status}: ${done.text}`)
  return { ...done, id: String(done.body[key]) }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

type Rest = ReturnType<AppHarness['client']['camunda']['getCamundaRestClient']>
const rest = (): Rest => h.client.camunda.getCamundaRestClient()

async function openTask(processInstanceKey: string): Promise<{ userTaskKey: string; elementId: string }> {
  return eventually(`a user task of ${processInstanceKey}`, async () => {
    const found = await rest().callApiEndpoint<Record<string, unknown>, { items: Array<{ userTaskKey: string; elementId: string }> }>({ method: 'POST', urlPath: 'user-tasks/search', body: { filter: { processInstanceKey, state: 'CREATED' } } })
    return found.items[0]
  })
}

const declaration = { title: 'Démarches Alpha indisponibles', description: 'Erreur 502', service: 'demarches-alpha', impact: 'high', urgency: 'medium' }
const providerChange = { kind: 'provider-change', title: 'Parcours', description: 'Refonte', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', relatedToPortal: true }
const opening = { providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' }
const preproductionLink = { providerId: 'fournisseur-alpha', interconnectionId: 'alpha-preprod', action: 'reactivate' }
const vulnerability = { title: 'Injection SQL', cvssScore: 9.8, cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', service: 'demarches-alpha', knownExploited: false }
const traceRequest = {
  direction: 'outgoing',
  requester: { organisation: 'portail', name: 'Alix Robert' },
  recipient: { organisation: 'fournisseur-alpha', name: 'Sacha Durand' },
  services: ['demarches-alpha'],
  period: { from: '2025-03-01T00:00:00+01:00', to: '2025-03-08T00:00:00+01:00' },
  purpose: 'Analyse de connexions suspectes',
}
const cut = { interconnectionId: 'alpha-preprod', reason: 'Suspected intrusion' }
const confirmation = { kind: 'acknowledged', by: 'Alex Roux', channel: 'phone' }
const crisisDecision = { heldAt: '2026-01-01T10:00:00+01:00', attendees: 'Camille Martin, Sacha Durand', causes: 'Clé compromise', decision: 'restore' }

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-route-scope-',
    tokens: TOKENS,
    apiTokens: PARTY_API_TOKENS,
    outbox: true,
  })
  const incident = await created(call('POST', '/api/incidents', TOKENS.A_OPS, declaration), 'id')
  r.incident = incident.id
  r.incidentInstance = String(incident.body.processInstanceKey)
  const change = await created(call('POST', '/api/changes', TOKENS.A_SACHA, providerChange), 'reference')
  r.change = change.id
  const started = await created(call('POST', '/api/openings', TOKENS.A_SACHA, opening), 'reference')
  r.opening = started.id
  r.openingInstance = String(started.body.processInstanceKey)
  r.task = (await openTask(r.openingInstance)).userTaskKey
  r.preproductionLink = (await created(call('POST', '/api/preproduction-links', TOKENS.A_SACHA, preproductionLink), 'reference')).id
  r.vulnerability = (await created(call('POST', '/api/vulnerabilities', TOKENS.A_OPS, vulnerability), 'id')).id
  r.traceRequest = (await created(call('POST', '/api/trace-requests', TOKENS.P_OPS, traceRequest), 'id')).id
  r.cut = (await created(call('POST', '/api/cuts', TOKENS.P_OPS, cut), 'id')).id
  // PRD-5: Alpha's release quotes its change, validated on the connected pre-production.
  const test = await eventually('the pre-production test task', async () => {
    const task = await openTask(String(change.body.processInstanceKey))
    return task.elementId === 'test-on-connected-preproduction' ? task : undefined
  })
  await rest().callApiEndpoint({ method: 'POST', urlPath: `user-tasks/${test.userTaskKey}/completion`, body: { variables: { applicationTests: 'ok', preproductionTests: 'ok', preproductionValidated: true } }, json: false })
  r.release = await eventually('the release, once its validation is recorded', async () => {
    const answer = await call('POST', '/api/releases', TOKENS.A_SACHA, { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', validationReference: r.change })
    return answer.status === 201 ? String(answer.body.reference) : undefined
  })
  // An incident of the engine (a failed job) on an instance of Alpha's.
  await h.client.zeebe.deployResource({ processFilename: join(__dirname, '../console/fixtures/console-retry.bpmn') })
  const failing = await h.client.zeebe.createProcessInstance({ bpmnProcessId: 'console-retry', variables: { incidentId: 'INC-SCOPE', reportingOrganisation: 'fournisseur-alpha', service: 'demarches-alpha' } })
  const job = await eventually('the fixture job', async () => {
    const { jobs } = await rest().callApiEndpoint<Record<string, unknown>, { jobs: Array<{ jobKey: string }> }>({ method: 'POST', urlPath: 'jobs/activation', body: { type: 'console-fixture-sync', worker: 'scope-test', timeout: 60_000, maxJobsToActivate: 1 } })
    return jobs[0]
  })
  await rest().callApiEndpoint({ method: 'POST', urlPath: `jobs/${job.jobKey}/failure`, body: { retries: 0, errorMessage: 'Directory unreachable' }, json: false })
  r.engineIncident = await eventually('the engine incident', async () => {
    const found = await rest().callApiEndpoint<Record<string, unknown>, { items: Array<{ incidentKey: string }> }>({ method: 'POST', urlPath: 'incidents/search', body: { filter: { processInstanceKey: failing.processInstanceKey } } })
    return found.items[0]?.incidentKey
  })
  // A batch operation the installation's admin started on Alpha's opening (an incident retry: it has none, so it changes nothing).
  const batch = await call('POST', '/console/api/batch-operations', TOKENS.P_ADMIN, { type: 'RESOLVE_INCIDENT', processInstanceKeys: [r.openingInstance] })
  if (batch.status !== 202) throw new Error(`expected 202, got ${batch.status}: ${batch.text}`)
  r.batch = String(batch.body.batchOperationKey)
  // A mail to Alpha only.
  r.mail = await eventually('a mail to Alpha alone', async () => {
    const mail = h.smtp.list().find((candidate) => candidate.envelopeTo.length > 0 && candidate.envelopeTo.every((address) => address.endsWith('@fournisseur-alpha.example.org')))
    return mail?.id
  })
}, 120_000)

afterAll(() => h?.close())

/** A call made with a route's credential: path and body read the records once they exist. */
interface Call {
  path: () => string
  body?: () => unknown
  /** the unrelated party's credential, when its operations team's role would be refused first */
  token?: string
}

/**
 * What an unrelated party gets: 404 for a record (or a task or instance) of others, 403 when it
 * tries to create something on an interconnection or service it is not party to (shared
 * configuration, not a record), or a list that leaves the record out.
 */
type Unrelated = Call & ({ status: 404 | 403 | 400; field?: string } | { leavesOut: () => string; listedFor: string })

interface RouteProof {
  route: string
  unrelated?: Unrelated
  /** a credential of a related party whose role (or function) may not do it: 403 */
  wrongRole?: Call & { token: string }
  /** why no credential of a party is refused here */
  noParty?: string
  /** why no role of a related party is refused here */
  everyRole?: string
}

const EVERY_ROLE_READS = 'every role of a party (operator, manager, admin) reads the records it is party to'
const SIGNED_LINK = 'a signed, single-use link is the credential: its addressee only (test/api/decision-links.test.ts, test/api/api.test.ts)'
const call0 = (path: string, body?: unknown): Call => ({ path: () => path, body: body === undefined ? undefined : () => body })

const PROOFS: RouteProof[] = [
  // the API
  { route: 'GET /api/incidents', unrelated: { ...call0('/api/incidents'), leavesOut: () => r.incident, listedFor: TOKENS.A_OPS }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/incidents/:id', unrelated: { path: () => `/api/incidents/${r.incident}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/incidents', unrelated: { ...call0('/api/incidents', { ...declaration, service: 'demarches-alpha' }), status: 403 }, wrongRole: { ...call0('/api/incidents', declaration), token: TOKENS.A_MORGAN } },
  { route: 'GET /api/cuts', unrelated: { ...call0('/api/cuts'), leavesOut: () => r.cut, listedFor: TOKENS.A_OPS }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/cuts/:id', unrelated: { path: () => `/api/cuts/${r.cut}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/cuts', unrelated: { ...call0('/api/cuts', cut), status: 403 }, wrongRole: { ...call0('/api/cuts', cut), token: TOKENS.A_MORGAN } },
  { route: 'POST /api/cuts/:id/confirmations', unrelated: { path: () => `/api/cuts/${r.cut}/confirmations`, body: () => confirmation, status: 404 }, wrongRole: { path: () => `/api/cuts/${r.cut}/confirmations`, body: () => confirmation, token: TOKENS.A_MORGAN } },
  { route: 'POST /api/cuts/:id/tasks/:elementId', unrelated: { path: () => `/api/cuts/${r.cut}/tasks/cut-by-hand`, body: () => ({ cutAt: '2026-01-01T10:00:00+01:00' }), status: 404 }, wrongRole: { path: () => `/api/cuts/${r.cut}/tasks/cut-by-hand`, body: () => ({ cutAt: '2026-01-01T10:00:00+01:00' }), token: TOKENS.A_MORGAN } },
  // CRI-3: no role records the cell's decision for its members, the admin's included
  { route: 'POST /api/cuts/:id/crisis-decision', unrelated: { path: () => `/api/cuts/${r.cut}/crisis-decision`, body: () => crisisDecision, status: 404 }, wrongRole: { path: () => `/api/cuts/${r.cut}/crisis-decision`, body: () => crisisDecision, token: TOKENS.P_ADMIN } },
  { route: 'POST /api/changes', unrelated: { ...call0('/api/changes', providerChange), status: 403 }, wrongRole: { ...call0('/api/changes', providerChange), token: TOKENS.A_OPS } },
  { route: 'GET /api/changes', unrelated: { ...call0('/api/changes'), leavesOut: () => r.change, listedFor: TOKENS.A_SACHA }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/openings', unrelated: { ...call0('/api/openings'), leavesOut: () => r.opening, listedFor: TOKENS.A_SACHA }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/releases', unrelated: { ...call0('/api/releases'), leavesOut: () => r.release, listedFor: TOKENS.A_SACHA }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/preproduction-links', unrelated: { ...call0('/api/preproduction-links'), leavesOut: () => r.preproductionLink, listedFor: TOKENS.A_SACHA }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/changes/:reference', unrelated: { path: () => `/api/changes/${r.change}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  // CHG-8: the party that does not operate version n-1 requests, it does not retire
  { route: 'POST /api/changes/:reference/retirement', unrelated: { path: () => `/api/changes/${r.change}/retirement`, body: () => ({}), status: 404 }, wrongRole: { path: () => `/api/changes/${r.change}/retirement`, body: () => ({}), token: TOKENS.P_CAMILLE } },
  { route: 'POST /api/changes/:reference/retirement-requests', unrelated: { path: () => `/api/changes/${r.change}/retirement-requests`, body: () => ({}), status: 404 }, wrongRole: { path: () => `/api/changes/${r.change}/retirement-requests`, body: () => ({}), token: TOKENS.A_SACHA } },
  { route: 'POST /api/openings', unrelated: { ...call0('/api/openings', { providerId: 'provider-beta', serviceId: 'demarches-alpha' }), status: 403 }, wrongRole: { ...call0('/api/openings', opening), token: TOKENS.A_OPS } },
  { route: 'GET /api/openings/:reference', unrelated: { path: () => `/api/openings/${r.opening}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/preproduction-links', unrelated: { ...call0('/api/preproduction-links', { providerId: 'provider-beta', interconnectionId: 'alpha-preprod', action: 'reactivate' }), status: 403 }, wrongRole: { ...call0('/api/preproduction-links', preproductionLink), token: TOKENS.A_OPS } },
  { route: 'GET /api/preproduction-links/:reference', unrelated: { path: () => `/api/preproduction-links/${r.preproductionLink}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/releases', unrelated: { ...call0('/api/releases', { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.5', previousVersion: '2.4' }), status: 403 }, wrongRole: { ...call0('/api/releases', { kind: 'provider-release', serviceId: 'demarches-alpha', version: '2.5', previousVersion: '2.4' }), token: TOKENS.A_OPS } },
  { route: 'GET /api/releases/:reference', unrelated: { path: () => `/api/releases/${r.release}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/vulnerabilities', unrelated: { ...call0('/api/vulnerabilities'), leavesOut: () => r.vulnerability, listedFor: TOKENS.A_OPS }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/vulnerabilities/:id', unrelated: { path: () => `/api/vulnerabilities/${r.vulnerability}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/vulnerabilities', unrelated: { ...call0('/api/vulnerabilities', vulnerability), status: 403 }, wrongRole: { ...call0('/api/vulnerabilities', vulnerability), token: TOKENS.A_MORGAN } },
  { route: 'GET /api/trace-requests', unrelated: { ...call0('/api/trace-requests'), leavesOut: () => r.traceRequest, listedFor: TOKENS.A_OPS }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/trace-requests/:id', unrelated: { path: () => `/api/trace-requests/${r.traceRequest}`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'GET /api/trace-requests/:id/letter', unrelated: { path: () => `/api/trace-requests/${r.traceRequest}/letter`, status: 404 }, everyRole: EVERY_ROLE_READS },
  { route: 'POST /api/trace-requests', unrelated: { ...call0('/api/trace-requests', traceRequest), status: 400, field: 'requester.organisation' }, wrongRole: { ...call0('/api/trace-requests', traceRequest), token: TOKENS.A_MORGAN } },
  // the console's API
  { route: 'GET /console/api/me', noParty: 'answers the caller\'s own identity, organisation and permissions', everyRole: 'every credential has an identity' },
  { route: 'GET /console/api/services', noParty: 'the configured services are the agreement\'s, shared by its parties (the declaration form lists them)', everyRole: 'every role declares or reads incidents on them' },
  { route: 'GET /console/api/tasks', unrelated: { ...call0('/console/api/tasks'), leavesOut: () => r.task, listedFor: TOKENS.P_OPS }, everyRole: 'a task is its candidate group\'s, whatever the role' },
  { route: 'GET /console/api/tasks/:key', unrelated: { path: () => `/console/api/tasks/${r.task}`, status: 404 }, everyRole: 'a task is its candidate group\'s, whatever the role' },
  { route: 'POST /console/api/tasks/:key/claim', unrelated: { path: () => `/console/api/tasks/${r.task}/claim`, status: 404 }, everyRole: 'a task is its candidate group\'s, whatever the role' },
  { route: 'POST /console/api/tasks/:key/unclaim', unrelated: { path: () => `/console/api/tasks/${r.task}/unclaim`, status: 404 }, everyRole: 'a task is its candidate group\'s, whatever the role' },
  { route: 'POST /console/api/tasks/:key/completion', unrelated: { path: () => `/console/api/tasks/${r.task}/completion`, body: () => ({ variables: {} }), status: 404 }, everyRole: 'a task is its candidate group\'s, whatever the role' },
  { route: 'POST /console/api/incidents', unrelated: { ...call0('/console/api/incidents', declaration), status: 403 }, wrongRole: { ...call0('/console/api/incidents', declaration), token: TOKENS.A_MORGAN } },
  { route: 'GET /console/api/dashboard', unrelated: { ...call0('/console/api/dashboard'), leavesOut: () => r.cut, listedFor: TOKENS.A_SACHA }, wrongRole: { ...call0('/console/api/dashboard'), token: TOKENS.A_OPS } },
  { route: 'GET /console/api/processes', noParty: 'the deployed models are the agreement\'s procedures, the same for every party; no instance or variable', wrongRole: { ...call0('/console/api/processes'), token: TOKENS.A_OPS } },
  { route: 'GET /console/api/instances', unrelated: { ...call0('/console/api/instances'), leavesOut: () => r.incidentInstance, listedFor: TOKENS.A_SACHA }, wrongRole: { ...call0('/console/api/instances'), token: TOKENS.A_OPS } },
  { route: 'GET /console/api/instances/:key', unrelated: { path: () => `/console/api/instances/${r.incidentInstance}`, status: 404 }, wrongRole: { path: () => `/console/api/instances/${r.incidentInstance}`, token: TOKENS.A_OPS } },
  { route: 'GET /console/api/instances/:key/diagram', unrelated: { path: () => `/console/api/instances/${r.incidentInstance}/diagram`, status: 404 }, everyRole: 'the model alone, no variable: every role of a party to the record sees it on the record\'s page' },
  // only this installation's admin cancels an instance
  { route: 'POST /console/api/instances/:key/cancellation', unrelated: { path: () => `/console/api/instances/${r.openingInstance}/cancellation`, token: TOKENS.B_ADMIN, status: 404 }, wrongRole: { path: () => `/console/api/instances/${r.openingInstance}/cancellation`, token: TOKENS.A_SACHA } },
  // Operate's operations: the installation's admin only, on instances it is party to
  { route: 'POST /console/api/instances/:key/modification', unrelated: { path: () => `/console/api/instances/${r.openingInstance}/modification`, token: TOKENS.B_ADMIN, status: 404, body: () => ({ elementInstanceKey: '1', targetElementId: 'x' }) }, wrongRole: { path: () => `/console/api/instances/${r.openingInstance}/modification`, token: TOKENS.A_SACHA, body: () => ({ elementInstanceKey: '1', targetElementId: 'x' }) } },
  { route: 'GET /console/api/instances/:key/migration-targets', unrelated: { path: () => `/console/api/instances/${r.openingInstance}/migration-targets`, token: TOKENS.B_ADMIN, status: 404 }, wrongRole: { path: () => `/console/api/instances/${r.openingInstance}/migration-targets`, token: TOKENS.A_SACHA } },
  { route: 'GET /console/api/instances/:key/migration-targets/:definitionKey/diagram', unrelated: { path: () => `/console/api/instances/${r.openingInstance}/migration-targets/1/diagram`, token: TOKENS.B_ADMIN, status: 404 }, wrongRole: { path: () => `/console/api/instances/${r.openingInstance}/migration-targets/1/diagram`, token: TOKENS.A_SACHA } },
  { route: 'POST /console/api/instances/:key/migration', unrelated: { path: () => `/console/api/instances/${r.openingInstance}/migration`, token: TOKENS.B_ADMIN, status: 404, body: () => ({ targetProcessDefinitionKey: '1', mappingInstructions: [] }) }, wrongRole: { path: () => `/console/api/instances/${r.openingInstance}/migration`, token: TOKENS.A_SACHA, body: () => ({ targetProcessDefinitionKey: '1', mappingInstructions: [] }) } },
  { route: 'POST /console/api/batch-operations', unrelated: { path: () => '/console/api/batch-operations', token: TOKENS.B_ADMIN, status: 404, body: () => ({ type: 'CANCEL_PROCESS_INSTANCE', processInstanceKeys: [r.openingInstance] }) }, wrongRole: { path: () => '/console/api/batch-operations', token: TOKENS.A_SACHA, body: () => ({ type: 'CANCEL_PROCESS_INSTANCE', processInstanceKeys: [r.openingInstance] }) } },
  { route: 'GET /console/api/batch-operations/:key', unrelated: { path: () => `/console/api/batch-operations/${r.batch}`, token: TOKENS.B_ADMIN, status: 404 }, wrongRole: { path: () => `/console/api/batch-operations/${r.batch}`, token: TOKENS.A_SACHA } },
  { route: 'POST /console/api/incidents/:key/retry', unrelated: { path: () => `/console/api/incidents/${r.engineIncident}/retry`, status: 404 }, wrongRole: { path: () => `/console/api/incidents/${r.engineIncident}/retry`, token: TOKENS.A_OPS } },
  // mails
  { route: 'GET /outbox', unrelated: { ...call0('/outbox'), leavesOut: () => r.mail, listedFor: TOKENS.A_OPS }, everyRole: 'every person reads the mails to its organisation\'s people' },
  { route: 'GET /outbox.json', unrelated: { ...call0('/outbox.json'), leavesOut: () => r.mail, listedFor: TOKENS.A_OPS }, everyRole: 'every person reads the mails to its organisation\'s people' },
  { route: 'GET /outbox/:id/attachments/:index', unrelated: { path: () => `/outbox/${r.mail}/attachments/0`, status: 404 }, everyRole: 'every person reads the mails to its organisation\'s people' },
  { route: 'GET /outbox/:id', unrelated: { path: () => `/outbox/${r.mail}`, status: 404 }, everyRole: 'every person reads the mails to its organisation\'s people' },
  // public pages and signed links
  { route: 'GET /console', noParty: 'the console\'s page shell: no record until its API answers with a credential', everyRole: 'no credential' },
  { route: 'GET /status', noParty: 'USR-1: the public status page, for end users', everyRole: 'no credential' },
  { route: 'GET /status.json', noParty: 'USR-1: the public status page, for end users', everyRole: 'no credential' },
  { route: 'GET /status.atom', noParty: 'USR-1: the public status page, for end users', everyRole: 'no credential' },
  { route: 'GET /healthz', noParty: 'whether the engine answers, for a load balancer: no record', everyRole: 'no credential' },
  { route: 'GET /metrics', noParty: 'counts for Prometheus, with no record, id or name of a party\'s record', everyRole: 'no credential' },
  { route: 'GET /links/:token', noParty: SIGNED_LINK, everyRole: SIGNED_LINK },
  { route: 'POST /links/:token', noParty: SIGNED_LINK, everyRole: SIGNED_LINK },
  { route: 'GET /decisions/:token', noParty: SIGNED_LINK, everyRole: SIGNED_LINK },
  { route: 'POST /decisions/:token', noParty: SIGNED_LINK, everyRole: SIGNED_LINK },
]

test('every route the application answers has its row here, with an unrelated party\'s proof or a reason, and a wrong role\'s or a reason', () => {
  expect(PROOFS.map((proof) => proof.route).sort()).toEqual([...h.app.routes].sort())
  for (const proof of PROOFS) {
    expect([proof.route, proof.unrelated !== undefined || proof.noParty !== undefined]).toEqual([proof.route, true])
    expect([proof.route, proof.wrongRole !== undefined || proof.everyRole !== undefined]).toEqual([proof.route, true])
  }
})

const method = (route: string) => route.split(' ')[0]

test.each(PROOFS.filter((proof) => proof.unrelated !== undefined && 'status' in proof.unrelated).map((proof) => ({ route: proof.route, unrelated: proof.unrelated as Call & { status: number; field?: string } })))(
  '$route: an unrelated party\'s credential gets $unrelated.status',
  async ({ route, unrelated }) => {
    const answer = await call(method(route), unrelated.path(), unrelated.token ?? TOKENS.B_OPS, unrelated.body?.())
    expect([route, answer.status]).toEqual([route, unrelated.status])
    // a body naming another party than the credential's is refused as such, naming the field
    if (unrelated.field !== undefined) expect(((answer.body.errors ?? []) as Array<{ field: string }>).map((error) => error.field)).toContain(unrelated.field)
  },
)

test.each(PROOFS.filter((proof) => proof.unrelated !== undefined && 'leavesOut' in proof.unrelated).map((proof) => ({ route: proof.route, unrelated: proof.unrelated as Call & { leavesOut: () => string; listedFor: string } })))(
  '$route: an unrelated party\'s credential gets a list without the record, which its party sees',
  async ({ route, unrelated }) => {
    const own = await call(method(route), unrelated.path(), unrelated.listedFor)
    const other = await call(method(route), unrelated.path(), TOKENS.B_OPS)
    expect([route, own.status, own.text.includes(unrelated.leavesOut())]).toEqual([route, 200, true])
    expect([route, other.status, other.text.includes(unrelated.leavesOut())]).toEqual([route, 200, false])
  },
)

test.each(PROOFS.filter((proof) => proof.wrongRole !== undefined).map((proof) => ({ route: proof.route, wrongRole: proof.wrongRole as Call & { token: string } })))(
  '$route: a related party\'s credential with the wrong role gets 403',
  async ({ route, wrongRole }) => {
    const answer = await call(method(route), wrongRole.path(), wrongRole.token, wrongRole.body?.())
    expect([route, answer.status]).toEqual([route, 403])
  },
)

test('the routes that need no credential answer without one; the API and the console\'s API refuse a call without one (401)', async () => {
  for (const path of ['/status', '/status.json', '/status.atom', '/healthz', '/metrics', '/console']) {
    expect([path, (await call('GET', path, undefined)).status]).toEqual([path, 200])
  }
  for (const proof of PROOFS.filter((candidate) => candidate.unrelated !== undefined && candidate.route.includes('/api/'))) {
    const answer = await call(method(proof.route), proof.unrelated?.path() ?? '', undefined, proof.unrelated?.body?.())
    expect([proof.route, answer.status]).toEqual([proof.route, 401])
  }
})
