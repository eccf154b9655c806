/**
 * Lists for people (issue 16): every list of the API searches (`q`, accents and case aside),
 * keeps one state, comes newest first and pages (`limit`, `offset`, with the `total`); a bad
 * parameter is a 400 naming it. The whole application runs on an embedded engine.
 */
import { startAppHarness, type AppHarness } from '../support/app-harness'

const TOKENS = { P_CAMILLE: 'lists-portail-camille' }

let h: AppHarness

beforeAll(async () => {
  h = await startAppHarness({
    dataDirPrefix: 'raccord-lists-',
    tokens: TOKENS,
    apiTokens: [{ tokenEnv: 'P_CAMILLE', roles: ['operator', 'manager'], organisation: 'portail', contact: 'camille.martin@portail.example.org' }],
  })
})

afterAll(() => h?.close())

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${h.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.P_CAMILLE}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const ids = (answer: { body: Record<string, unknown> }) => (answer.body.items as Array<{ id?: string; reference?: string }>).map((item) => item.id ?? item.reference)

describe('incidents', () => {
  const declared: string[] = []

  beforeAll(async () => {
    for (const title of ['Dépôts rejetés', 'Paiements lents', 'Dépôt impossible le soir']) {
      const answer = await call('POST', '/api/incidents', { title, description: 'Constaté par le centre de services', service: 'demarches-alpha', impact: 'low', urgency: 'low' })
      expect(answer.status).toBe(201)
      declared.push(answer.body.id as string)
      // distinct declaration instants, so "newest first" is one order
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })

  test('newest first, with the total', async () => {
    const all = await call('GET', '/api/incidents')
    expect(ids(all)).toEqual([...declared].reverse())
    expect(all.body).toMatchObject({ total: 3, offset: 0, limit: 50 })
  })

  test('q searches the title, whatever the accents and the case', async () => {
    expect(ids(await call('GET', `/api/incidents?q=${encodeURIComponent('DEPOT')}`))).toEqual([declared[2], declared[0]])
    expect(ids(await call('GET', `/api/incidents?q=${declared[1]}`))).toEqual([declared[1]])
  })

  test('limit and offset page through; the total counts every match', async () => {
    const first = await call('GET', '/api/incidents?limit=2')
    const second = await call('GET', '/api/incidents?limit=2&offset=2')
    expect([ids(first), first.body.total]).toEqual([[declared[2], declared[1]], 3])
    expect([ids(second), second.body.total]).toEqual([[declared[0]], 3])
  })

  test('state keeps one state', async () => {
    expect(ids(await call('GET', '/api/incidents?state=open'))).toHaveLength(3)
    expect(ids(await call('GET', '/api/incidents?state=closed'))).toEqual([])
  })

  test('a bad parameter is a 400 naming it', async () => {
    const answer = await call('GET', '/api/incidents?limit=1000')
    expect(answer.status).toBe(400)
    expect((answer.body.errors as Array<{ field: string }>).map((error) => error.field)).toEqual(['limit'])
  })
})

describe('changes: a list of its own, GET /api/changes, searched and paged like the others', () => {
  test('the portal\'s changes, newest first, searched by title', async () => {
    const started: string[] = []
    for (const title of ['Portail 5.0', 'Portail 5.1']) {
      const answer = await call('POST', '/api/changes', { kind: 'portal-change', title, description: 'Refonte', version: title.slice(8), previousVersion: '4.9' })
      expect(answer.status).toBe(201)
      started.push(answer.body.reference as string)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const all = await call('GET', '/api/changes')
    expect(all.status).toBe(200)
    expect(ids(all)).toEqual([...started].reverse())
    expect((all.body.items as Array<Record<string, unknown>>)[0]).toMatchObject({ reference: started[1], process: 'portal-change', state: 'ACTIVE', title: 'Portail 5.1', version: '5.1' })
    expect(ids(await call('GET', '/api/changes?q=5.0'))).toEqual([started[0]])
    expect(ids(await call('GET', '/api/openings'))).toEqual([])
  })
})

describe('the console\'s lists: tasks and instances search and page the same way', () => {
  test('tasks: found by their French or English name or their record; mine or my groups\'; oldest first, paged', async () => {
    type Task = { userTaskKey: string; elementId: string; context: { businessKey?: { value: string } } }
    // the three incidents declared above each wait at their restoration
    let all = await call('GET', '/console/api/tasks')
    for (let attempt = 0; attempt < 200 && (all.body.items as Task[]).filter((task) => task.elementId === 'restore-service').length < 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      all = await call('GET', '/console/api/tasks')
    }
    const tasks = all.body.items as Task[]
    expect(all.body.total).toBe(tasks.length)
    const restore = tasks.filter((task) => task.elementId === 'restore-service')
    expect(restore).toHaveLength(3)
    const one = restore[0].context.businessKey?.value ?? ''
    expect((await call('GET', `/console/api/tasks?q=${one}`)).body.items).toHaveLength(1)
    // "Rétablir le service" is its French name, "Restore service" its model's
    expect((await call('GET', `/console/api/tasks?q=${encodeURIComponent('rétablir')}`)).body.total).toBe(restore.length)
    expect((await call('GET', '/console/api/tasks?q=restore%20service')).body.total).toBe(restore.length)
    expect((await call('GET', '/console/api/tasks?state=mine')).body.total).toBe(0)
    // the second oldest, alone on its page
    const paged = await call('GET', '/console/api/tasks?limit=1&offset=1')
    expect((paged.body.items as Task[]).map((task) => task.userTaskKey)).toEqual([tasks[1].userTaskKey])
    expect(paged.body.total).toBeGreaterThanOrEqual(tasks.length)
  })

  test('instances: searched by key, process or record, paged, with the total', async () => {
    const all = await call('GET', '/console/api/instances')
    const total = all.body.total as number
    expect(total).toBeGreaterThanOrEqual(5)
    const first = await call('GET', '/console/api/instances?limit=2')
    expect([(first.body.items as unknown[]).length, first.body.total]).toEqual([2, total])
    const changes = await call('GET', '/console/api/instances?q=portal-change')
    expect((changes.body.items as Array<{ processDefinitionId: string }>).every((instance) => instance.processDefinitionId === 'portal-change')).toBe(true)
    expect(changes.body.total).toBe(2)
  })
})
