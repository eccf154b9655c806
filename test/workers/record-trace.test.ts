import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { TRACE_STORE_FILE, TraceStore, TraceStoreError } from '../../src/app/incidents/trace-store'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import { handle, idempotencyKey, type Input } from '../../workers/record-trace'
import { NOW, workerFixture, type WorkerFixture } from './fixtures'

const declaration: Input = {
  incidentId: 'INC-20250314-0002',
  title: 'Portail lent',
  description: 'Temps de réponse > 10 s',
  service: 'portail-web',
  impact: 'medium',
  urgency: 'low',
  declaredBy: 'Camille Martin',
  reportingOrganisation: 'portail',
  declaredAt: '2025-03-14T08:00:00.000Z',
}

let f: WorkerFixture
beforeEach(() => {
  f = workerFixture()
})
afterEach(() => f.close())

const declaredEvent = { event: 'incident-declared' }

describe('record-trace (INC-2: every incident is traced)', () => {
  test('incident-declared opens the incident (declared by message: not yet in the trace) and traces who declared what', async () => {
    await handle(declaration, f.context({ key: '11', processInstanceKey: '99', headers: declaredEvent }))
    expect(f.trace.incident(declaration.incidentId)).toMatchObject({
      state: 'open', service: 'portail-web', processInstanceKey: '99', declaredAt: '2025-03-14T08:00:00.000Z', declaredBy: 'Camille Martin',
    })
    expect(f.trace.entries(declaration.incidentId)).toEqual([{
      incidentId: declaration.incidentId,
      at: NOW.toISOString(),
      actor: 'Camille Martin',
      event: 'incident-declared',
      detail: { title: 'Portail lent', service: 'portail-web', impact: 'medium', urgency: 'low', reportingOrganisation: 'portail' },
    }])
  })

  test('incident-declared keeps an incident the API opened, and fills in its process instance', async () => {
    f.trace.openIncident({ ...declaration, id: declaration.incidentId, title: 'From the API', declaredBy: 'api', impact: 'medium', urgency: 'low', service: 'portail-web', reportingOrganisation: 'portail', declaredAt: '2025-03-14T07:59:00.000Z' })
    await handle(declaration, f.context({ processInstanceKey: '77', headers: declaredEvent }))
    expect(f.trace.incident(declaration.incidentId)).toMatchObject({ title: 'From the API', processInstanceKey: '77' })
  })

  test('a declaration without description (by message from another process) is traced too', async () => {
    await handle({ ...declaration, description: undefined, declaredAt: undefined }, f.context({ headers: declaredEvent }))
    expect(f.trace.incident(declaration.incidentId)).toMatchObject({ declaredAt: NOW.toISOString() })
    expect(f.trace.incident(declaration.incidentId)?.description).toBeUndefined()
  })

  test('a job delivered twice appends once', async () => {
    await handle(declaration, f.context({ key: '12', headers: declaredEvent }))
    await handle(declaration, f.context({ key: '12', headers: declaredEvent }))
    expect(f.trace.entries(declaration.incidentId)).toHaveLength(1)
  })

  test('incident-declared without its variables, or with unknown ones, is a JobInputError naming each', async () => {
    await expect(handle({ incidentId: 'INC-1' }, f.context({ headers: declaredEvent }))).rejects.toThrow(/title.*service|service.*title/s)
    await expect(handle({ ...declaration, service: 'nope', reportingOrganisation: 'acme' }, f.context({ headers: declaredEvent })))
      .rejects.toThrow(/unknown organisation 'acme'.*unknown service 'nope'/)
  })

  test('incident-closed traces the root cause and closes the incident', async () => {
    await handle(declaration, f.context({ key: '1', headers: declaredEvent }))
    await handle({ incidentId: declaration.incidentId, rootCause: 'Index manquant' }, f.context({ key: '2', headers: { event: 'incident-closed' } }))
    expect(f.trace.incident(declaration.incidentId)).toMatchObject({ state: 'closed', closedAt: NOW.toISOString() })
    expect(f.trace.entries(declaration.incidentId)[1]).toMatchObject({ event: 'incident-closed', actor: 'portail-operations', detail: { rootCause: 'Index manquant' } })
  })

  test('any other event is traced as is; an unknown incident or a missing header is a JobInputError', async () => {
    await handle(declaration, f.context({ key: '1', headers: declaredEvent }))
    await handle({ incidentId: declaration.incidentId }, f.context({ key: '3', elementId: 'x', headers: { event: 'workaround-applied' } }))
    expect(f.trace.entries(declaration.incidentId)[1]).toMatchObject({ event: 'workaround-applied', actor: 'raccord', detail: { elementId: 'x' } })
    await expect(handle({ incidentId: 'INC-0' }, f.context({ headers: { event: 'x' } }))).rejects.toThrow(JobInputError)
    await expect(handle({ incidentId: declaration.incidentId }, f.context({ headers: {} }))).rejects.toThrow(/task header 'event'/)
  })

  test('the idempotency key is derived from the incident and the job key', () => {
    expect(idempotencyKey('INC-1', '123')).toBe('trace:INC-1:123')
  })
})

describe('the trace store', () => {
  test('is versioned and survives a reopen', () => {
    f.trace.openIncident({ id: 'INC-A', title: 't', service: 's', impact: 'low', urgency: 'low', reportingOrganisation: 'portail', declaredBy: 'x', declaredAt: NOW.toISOString() })
    const again = TraceStore.open(dirname(f.trace.file))
    expect(again.incidents().map((incident) => incident.id)).toEqual(['INC-A'])
    again.close()
    const db = new Database(f.trace.file, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    db.close()
  })

  test('refuses an SQLite file that raccord did not create', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raccord-foreign-'))
    const foreign = new Database(join(dir, TRACE_STORE_FILE))
    foreign.exec('CREATE TABLE other (x)')
    foreign.close()
    expect(() => TraceStore.open(dir)).toThrow(TraceStoreError)
    rmSync(dir, { recursive: true, force: true })
  })

  test('a closed incident is not reopened as restored', () => {
    f.trace.openIncident({ id: 'INC-B', title: 't', service: 's', impact: 'low', urgency: 'low', reportingOrganisation: 'portail', declaredBy: 'x', declaredAt: NOW.toISOString() })
    f.trace.setState('INC-B', 'closed', '2025-03-14T10:00:00.000Z')
    f.trace.setState('INC-B', 'restored', '2025-03-14T11:00:00.000Z')
    expect(f.trace.incident('INC-B')).toMatchObject({ state: 'closed', closedAt: '2025-03-14T10:00:00.000Z' })
  })
})
