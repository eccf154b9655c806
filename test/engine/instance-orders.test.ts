/**
 * A search of process instances sorted by one field reads the history of finished instances in
 * that order, a page's worth at a time, for every sort field but a parent's key (issue #19):
 * the fields of an instance's definition (name, version, version tag, tenant) by definition,
 * those sharing a value merged by key; hasIncident as one group (no finished instance has an open
 * incident); the key descending by the primary key; a parent's key by its index, the roots (which
 * have none) last ascending and first descending. Pages by cursor and by offset, either way,
 * give what sorting every instance would give, the running ones in their place.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEngineServer, type EngineServer } from '../../src/engine'

jest.setTimeout(120_000)

/**
 * A straight-through process, one waiting on a service task, or one calling another process, with
 * a name and a version tag if given.
 */
function processXml(id: string, { name, tag, waits, calls, variant }: { name?: string; tag?: string; waits?: boolean; calls?: string; variant?: string }): string {
  const extension = tag === undefined ? '' : `<bpmn:extensionElements><zeebe:versionTag value="${tag}" /></bpmn:extensionElements>`
  const work = waits
    ? `<bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="${id}-work" /></bpmn:extensionElements></bpmn:serviceTask>`
    : calls
      ? `<bpmn:callActivity id="work"><bpmn:extensionElements><zeebe:calledElement processId="${calls}" /></bpmn:extensionElements></bpmn:callActivity>`
      : `<bpmn:endEvent id="work" name="${variant ?? 'end'}" />`
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true"${name === undefined ? '' : ` name="${name}"`}>${extension}<bpmn:startEvent id="start" />${work}
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" /></bpmn:process></bpmn:definitions>`
}

/** Instances created (each calling one more, for those of a calling process). */
const CREATED = 5_000

type Instance = { processInstanceKey: string; state: string } & Record<string, unknown>

/** The fields sorted by here, and how the search compares their values: a missing one after every other. */
const SORTS = ['processDefinitionName', 'processDefinitionVersion', 'processDefinitionVersionTag', 'tenantId', 'hasIncident', 'processInstanceKey',
  'parentProcessInstanceKey', 'parentElementInstanceKey']
  .flatMap((field) => (['ASC', 'DESC'] as const).map((order) => ({ field, order })))

function compare(x: unknown, y: unknown): number {
  const xMissing = x === undefined || x === null
  const yMissing = y === undefined || y === null
  if (xMissing || yMissing) return xMissing === yMissing ? 0 : xMissing ? 1 : -1
  if (typeof x === 'number' && typeof y === 'number') return x - y
  if (x === y) return 0
  if (/^\d+$/.test(String(x)) && /^\d+$/.test(String(y))) return BigInt(String(x)) < BigInt(String(y)) ? -1 : 1
  return String(x) < String(y) ? -1 : 1
}

/** The keys of `every` sorted as asked, then by key ascending. */
function sortedKeys(every: Instance[], { field, order }: (typeof SORTS)[number]): string[] {
  return [...every].sort((a, b) => (order === 'DESC' ? -1 : 1) * compare(a[field], b[field]) || compare(a.processInstanceKey, b.processInstanceKey))
    .map((i) => i.processInstanceKey)
}

describe.each(['in memory', 'durable'] as const)('an engine %s', (kind) => {
  let server: EngineServer
  let dir: string | undefined
  const definitions: Record<string, string> = {}
  /** every instance, those called included */
  let N = CREATED

  beforeAll(async () => {
    dir = kind === 'durable' ? await mkdtemp(join(tmpdir(), 'raccord-instance-orders-')) : undefined
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
    // given five definitions: two versions of one process, both named, one tagged; a named and
    // tagged process; an unnamed one; and a process whose instances wait on a job
    const deployed: [string, string][] = [
      ['a1', processXml('orders-a', { name: 'Alpha', tag: '1.0' })],
      ['a2', processXml('orders-a', { name: 'Alpha', variant: 'second' })],
      ['b1', processXml('orders-b', { name: 'Beta', tag: '1.0' })],
      ['c1', processXml('orders-c', { tag: '2.0' })],
      ['w1', processXml('orders-w', { name: 'Beta', waits: true })],
      // and two calling processes: one calls the unnamed process, the other the waiting one
      ['p1', processXml('orders-p', { name: 'Parent', calls: 'orders-c' })],
      ['q1', processXml('orders-q', { calls: 'orders-w' })],
    ]
    for (const [name, xml] of deployed) {
      const result = await server.engine.deploy([{ name: `${name}.bpmn`, content: Buffer.from(xml) }])
      const [item] = result.deployments
      if (item.kind !== 'process') throw new Error(`${name} deployed no process`)
      definitions[name] = item.processDefinitionKey
    }
    // and 5,000 instances, all but 33 finished, their keys interleaved (more than a search reads by
    // filter and sorts: past 2,000, it reads the history in the order asked): 28 waiting on a job,
    // 5 calling one that waits, 994 calling one that ends, and the others of the first four
    const finishing = ['a1', 'a2', 'b1', 'c1']
    for (let i = 0; i < CREATED; i++) {
      const name = i % 179 === 0 ? 'w1' : i % 1_103 === 1 ? 'q1' : i % 5 === 2 ? 'p1' : finishing[(i * 7 + (i >> 4)) % 4]
      server.engine.createProcessInstance({ processDefinitionKey: definitions[name], variables: { i } })
      if (name === 'p1' || name === 'q1') N++
    }
    // one running instance has an open incident
    const [job] = server.engine.activateJobs({ type: 'orders-w-work', worker: 'test', timeout: 60_000, maxJobsToActivate: 1 })
    server.engine.failJob(job.key, 0, 'no retries left', 0)
  })
  afterAll(async () => {
    await server.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function searchPage(body: Record<string, unknown>): Promise<{ items: Instance[]; page: { totalItems: number; endCursor?: string } }> {
    const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    })
    expect(response.status).toBe(200)
    return (await response.json()) as { items: Instance[]; page: { totalItems: number; endCursor?: string } }
  }

  /** Every instance, finished and running, in key order. */
  async function everyInstance(): Promise<Instance[]> {
    const { items } = await searchPage({ page: { limit: 10_000 } })
    expect(items).toHaveLength(N)
    return items
  }

  /** Every instance in the order asked, read by cursor `limit` at a time. */
  async function pagedBy(sort: (typeof SORTS)[number], limit: number, filter: Record<string, unknown> = {}): Promise<string[]> {
    const keys: string[] = []
    for (let after: string | undefined; ;) {
      const { items, page } = await searchPage({ filter, sort: [sort], page: { limit, ...(after ? { after } : {}) } })
      keys.push(...items.map((i) => i.processInstanceKey))
      if (items.length < limit) return keys
      after = page.endCursor
    }
  }

  test("sorted by a definition field, hasIncident, the key or a parent's key, either way, pages by cursor and by offset give every instance in that order, each once", async () => {
    const every = await everyInstance()
    expect(every.filter((i) => i.hasIncident)).toHaveLength(1)
    expect(every.filter((i) => i.parentProcessInstanceKey !== undefined && i.state === 'ACTIVE')).toHaveLength(5)
    for (const sort of SORTS) {
      // when every instance is paged in that order by cursor, 250 at a time, and a page is asked deep by offset
      const keys = await pagedBy(sort, 400)
      const deep = await searchPage({ sort: [sort], page: { from: 4_203, limit: 7 } })
      // then each comes once, in that order, ties by key, the running ones in their place
      const expected = sortedKeys(every, sort)
      expect({ sort, keys }).toEqual({ sort, keys: expected })
      expect({ sort, deep: deep.items.map((i) => i.processInstanceKey) }).toEqual({ sort, deep: expected.slice(4_203, 4_210) })
      expect(deep.page.totalItems).toBe(N)
    }
  })

  test('sorted by a definition field with a filter, only the instances meeting it come, in that order', async () => {
    const every = await everyInstance()
    for (const [filter, meets] of [
      [{ processDefinitionId: 'orders-a' }, (i: Instance) => i.processDefinitionId === 'orders-a'],
      [{ processDefinitionKey: definitions.b1, state: 'COMPLETED' }, (i: Instance) => i.processDefinitionKey === definitions.b1],
      [{ processDefinitionVersionTag: '1.0' }, (i: Instance) => i.processDefinitionVersionTag === '1.0'],
    ] as const) {
      for (const sort of SORTS.filter((s) => s.field.startsWith('processDefinition'))) {
        // when the instances meeting the filter are paged in that order
        const keys = await pagedBy(sort, 300, filter)
        // then they are those of every instance in that order that meet it
        expect({ filter, sort, keys }).toEqual({ filter, sort, keys: sortedKeys(every.filter(meets), sort) })
      }
    }
  })

  test('a definition deleted after its instances finished: they sort by what they show (the process id as name, no version tag)', async () => {
    // given the tagged process's definition deleted
    server.engine.deleteResource(definitions.b1)
    const every = await everyInstance()
    const ofB = every.filter((i) => i.processDefinitionKey === definitions.b1)
    expect(ofB.length).toBeGreaterThan(300)
    expect(new Set(ofB.map((i) => `${String(i.processDefinitionName)} ${String(i.processDefinitionVersionTag)}`))).toEqual(new Set(['orders-b undefined']))
    for (const sort of SORTS.filter((s) => s.field === 'processDefinitionName' || s.field === 'processDefinitionVersionTag')) {
      // when every instance is paged in that order
      const keys = await pagedBy(sort, 700)
      // then the deleted definition's instances are among them, where their values put them
      expect({ sort, keys }).toEqual({ sort, keys: sortedKeys(every, sort) })
    }
  })

  test('a cursor whose value does not fit a definition field is refused with 400, naming it', async () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify([value, '2251799813685249']), 'utf8').toString('base64')
    for (const [field, value] of [['processDefinitionVersion', 'two'], ['processDefinitionName', 3], ['hasIncident', 'no']] as const) {
      // when a page sorted by the field is asked after a cursor holding a value of another kind
      const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sort: [{ field, order: 'ASC' }], page: { after: cursor(value) } }),
      })
      // then it is refused, and the answer names the value
      expect({ field, status: response.status }).toEqual({ field, status: 400 })
      expect(await response.text()).toContain(`Invalid page cursor: '${value}' is not a value of ${field}`)
    }
  })
})
