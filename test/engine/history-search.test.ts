/**
 * A search of process instances whose filter holds only plain values of indexed fields (the
 * process, its definition, the parent, the state, the tenant, the key) reads the history by index,
 * a page's worth, instead of every finished instance (issue #19): pages in key order over live and
 * finished instances, by offset or by cursor, and a total counted exactly up to 10,000, past which
 * it is a lower bound flagged by hasMoreTotalItems, as Camunda's searches flag it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEngineServer, type EngineServer } from '../../src/engine'
import { searchInstances } from '../support/instance-search'

jest.setTimeout(60_000)

const STRAIGHT = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-paged-straight">
<bpmn:process id="paged-straight" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /></bpmn:process></bpmn:definitions>`
const WAITING = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-paged-waiting">
<bpmn:process id="paged-waiting" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="paged-work" /></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" /></bpmn:process></bpmn:definitions>`

interface Page {
  items: { processInstanceKey: string; state: string }[]
  page: { totalItems: number; hasMoreTotalItems: boolean; startCursor?: string; endCursor?: string }
}

describe.each(['in memory', 'durable'] as const)('an engine %s', (kind) => {
  let server: EngineServer
  let dir: string | undefined
  const finished: string[] = []
  const running: string[] = []

  beforeAll(async () => {
    dir = kind === 'durable' ? await mkdtemp(join(tmpdir(), 'raccord-history-search-')) : undefined
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir })
    await server.engine.deploy([{ name: 'straight.bpmn', content: Buffer.from(STRAIGHT) }, { name: 'waiting.bpmn', content: Buffer.from(WAITING) }])
    // given 40 finished instances and 8 running ones, their keys interleaved
    for (let i = 0; i < 48; i++) {
      const waits = i % 6 === 0
      const { processInstanceKey } = server.engine.createProcessInstance({ bpmnProcessId: waits ? 'paged-waiting' : 'paged-straight', variables: { i } })
      ;(waits ? running : finished).push(processInstanceKey)
    }
  })
  afterAll(async () => {
    await server.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const searchPage = (body: Record<string, unknown>) => searchInstances<Page>(server.restPort, body)

  const byKey = (keys: string[]) => [...keys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))

  /** The sorts the history has a (field, key) index for, besides the dates, either way. */
  const TEXT_SORTS = (['processDefinitionId', 'processDefinitionKey', 'state'] as const).flatMap((field) => (['ASC', 'DESC'] as const).map((order) => ({ field, order })))
  type Sorted = { processInstanceKey: string } & Record<(typeof TEXT_SORTS)[number]['field'], string>

  /** The keys of `items` sorted by `field` (its text, as given) in `order`, then by key ascending. */
  const inOrder = (items: Sorted[], { field, order }: (typeof TEXT_SORTS)[number]) => [...items].sort((a, b) => {
    const byValue = a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0
    return (order === 'DESC' ? -byValue : byValue) || (BigInt(a.processInstanceKey) < BigInt(b.processInstanceKey) ? -1 : 1)
  }).map((i) => i.processInstanceKey)

  /** The keys of `pages` pages of `limit` instances sorted as given, each page from the previous one's end cursor. */
  async function pagedBy(sort: (typeof TEXT_SORTS)[number], limit: number, pages: number): Promise<string[]> {
    const keys: string[] = []
    let after: string | undefined
    for (let n = 0; n < pages; n++) {
      const { items, page } = await searchPage({ sort: [sort], page: { limit, ...(after ? { after } : {}) } })
      keys.push(...items.map((i) => i.processInstanceKey))
      if (items.length < limit) break
      after = page.endCursor
    }
    return keys
  }

  test('pages by cursor through live and finished instances together, in key order, each once', async () => {
    // when the whole default tenant is paged through, 7 at a time
    const seen: string[] = []
    let after: string | undefined
    let total = -1
    for (let i = 0; i < 20; i++) {
      const { items, page } = await searchPage({ filter: { tenantId: '<default>' }, page: { limit: 7, ...(after ? { after } : {}) } })
      total = page.totalItems
      expect(page.hasMoreTotalItems).toBe(false)
      seen.push(...items.map((item) => item.processInstanceKey))
      if (items.length < 7) break
      after = page.endCursor
    }
    // then every instance came once, in key order, and the total counted them all
    expect(seen).toEqual(byKey([...finished, ...running]))
    expect(total).toBe(48)
  })

  test('pages by offset, filters by process and state on the history too', async () => {
    // when pages are asked by offset for the finished process
    const first = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { from: 0, limit: 15 } })
    const third = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { from: 30, limit: 15 } })
    // then they are the slices of the finished instances in key order
    expect(first.items.map((i) => i.processInstanceKey)).toEqual(byKey(finished).slice(0, 15))
    expect(third.items.map((i) => i.processInstanceKey)).toEqual(byKey(finished).slice(30))
    expect(first.page.totalItems).toBe(40)
    // and a state narrows to the live or the finished ones
    const active = await searchPage({ filter: { state: 'ACTIVE', tenantId: '<default>' }, page: { limit: 100 } })
    expect(active.items.map((i) => i.processInstanceKey)).toEqual(byKey(running))
    const completed = await searchPage({ filter: { state: 'COMPLETED' }, page: { limit: 100 } })
    expect(completed.items.map((i) => i.processInstanceKey)).toEqual(byKey(finished))
    expect(completed.page.totalItems).toBe(40)
    const one = await searchPage({ filter: { processInstanceKey: finished[7], processDefinitionId: 'paged-straight' } })
    expect(one.items.map((i) => i.processInstanceKey)).toEqual([finished[7]])
  })

  test('a filter the history has no index for still answers, from every instance', async () => {
    // when a filter needs every instance (an operator on a date), and a sort other than by key
    const { items, page } = await searchPage({ filter: { processDefinitionId: 'paged-straight', startDate: { $exists: true } }, sort: [{ field: 'processInstanceKey', order: 'DESC' }], page: { limit: 5 } })
    // then the answer is the same set, sorted as asked
    expect(items.map((i) => i.processInstanceKey)).toEqual(byKey(finished).reverse().slice(0, 5))
    expect(page.totalItems).toBe(40)
  })

  test('sorted by start date, oldest first, live and finished instances come in the order they started, page after page', async () => {
    // when every instance is paged by start date, 5 at a time (unfiltered: read in that order, not narrowed by an index)
    const keys: string[] = []
    let after: string | undefined
    for (let n = 0; n < 10; n++) {
      const { items, page } = await searchPage({ sort: [{ field: 'startDate', order: 'ASC' }], page: { limit: 5, ...(after ? { after } : {}) } })
      keys.push(...items.map((i) => i.processInstanceKey))
      after = page.endCursor
    }
    // then they come in the order they were created (their keys' order, ties of one millisecond included), each once
    expect(keys).toEqual(byKey([...finished, ...running]))
  })

  test('sorted by process, definition or state, either way, live and finished instances come in that order, then by key, page after page', async () => {
    // given every instance with the fields it is sorted by
    const every = (await searchPage({ page: { limit: 100 } })).items as unknown as Sorted[]
    expect(every).toHaveLength(48)
    for (const sort of TEXT_SORTS) {
      // when every instance is paged in that order, 5 at a time by cursor
      const keys = await pagedBy(sort, 5, 20)
      // then each comes once, in that order, ties by key
      expect({ sort, keys }).toEqual({ sort, keys: inOrder(every, sort) })
    }
  })

  test('a cursor whose value does not fit the sort field is refused with 400, naming it', async () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify([value, finished[0]]), 'utf8').toString('base64')
    for (const [field, value] of [['startDate', 'yesterday'], ['state', 12]] as const) {
      // when a page sorted by the field is asked after a cursor holding a value of another kind
      const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/process-instances/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sort: [{ field, order: 'ASC' }], page: { after: cursor(value) } }),
      })
      // then it is refused, and the answer says which value of the cursor is wrong
      expect({ field, status: response.status }).toEqual({ field, status: 400 })
      expect(await response.text()).toContain(`Invalid page cursor: '${value}'`)
    }
  })

  if (kind === 'durable') {
    test('past 10,000 finished instances the total is a lower bound, flagged by hasMoreTotalItems', async () => {
      // given 10,001 more finished instances
      for (let i = 0; i < 10_001; i++) server.engine.createProcessInstance({ bpmnProcessId: 'paged-straight', variables: {} })
      // when the finished process is searched
      const { items, page } = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { limit: 3 } })
      // then the first page is there, and the total is capped and flagged
      expect(items.map((i) => i.processInstanceKey)).toEqual(byKey(finished).slice(0, 3))
      expect(page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
      // and with the running ones, the live ones are added to the capped count
      const all = await searchPage({ filter: { tenantId: '<default>' }, page: { limit: 1 } })
      expect(all.page).toEqual(expect.objectContaining({ totalItems: 10_000 + running.length, hasMoreTotalItems: true }))
    })

    // The 10,041 finished instances of the test above are read a chunk at a time below.
    async function everyFinishedKey(): Promise<string[]> {
      const keys: string[] = []
      let after: string | undefined
      for (;;) {
        const { items, page } = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { limit: 10_000, ...(after ? { after } : {}) } })
        keys.push(...items.map((i) => i.processInstanceKey))
        if (items.length < 10_000) return keys
        after = page.endCursor
      }
    }

    test('$eq and $in on indexed fields page the history by index, as plain values do', async () => {
      const all = await everyFinishedKey()
      expect(all).toHaveLength(finished.length + 10_001)
      // when the same search is put with operators
      const { items, page } = await searchPage({ filter: { processDefinitionId: { $eq: 'paged-straight' }, state: { $in: ['COMPLETED', 'TERMINATED'] } }, page: { from: 5_000, limit: 4 } })
      // then the page is the same slice of the history, and the total the same capped count
      expect(items.map((i) => i.processInstanceKey)).toEqual(all.slice(5_000, 5_004))
      expect(page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
      // and an $in over both processes pages live and finished instances together
      const both = await searchPage({ filter: { processDefinitionId: { $in: ['paged-straight', 'paged-waiting'] } }, page: { limit: 10 } })
      expect(both.items.map((i) => i.processInstanceKey)).toEqual(byKey([...finished, ...running]).slice(0, 10))
    })

    test('a filter the index cannot apply reads the history in key order, chunk by chunk, as far as the page and the capped total need', async () => {
      const all = await everyFinishedKey()
      // when the filter holds a condition no index has (the version), paged deep by offset and then by cursor
      const deep = await searchPage({ filter: { processDefinitionId: 'paged-straight', processDefinitionVersion: 1 }, page: { from: 1_234, limit: 3 } })
      const next = await searchPage({ filter: { processDefinitionId: 'paged-straight', processDefinitionVersion: 1 }, page: { after: deep.page.endCursor, limit: 2 } })
      // then the pages are the slices of the whole history, and the total is capped and flagged
      expect(deep.items.map((i) => i.processInstanceKey)).toEqual(all.slice(1_234, 1_237))
      expect(next.items.map((i) => i.processInstanceKey)).toEqual(all.slice(1_237, 1_239))
      expect(deep.page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
      // and a condition only the last instance meets (an operator on the key) is found past every chunk, and counted exactly
      const last = all[all.length - 1]
      const one = await searchPage({ filter: { processDefinitionId: 'paged-straight', processInstanceKey: { $gte: last } } })
      expect(one.items.map((i) => i.processInstanceKey)).toEqual([last])
      expect(one.page).toEqual(expect.objectContaining({ totalItems: 1, hasMoreTotalItems: false }))
    })

    test('no finished instance has an open incident: hasIncident false is met by every one, true by none, and the running ones are filtered as they are', async () => {
      const all = await everyFinishedKey()
      // when the finished process is searched for instances without and with an incident, by value and by $eq
      const without = await searchPage({ filter: { processDefinitionId: 'paged-straight', hasIncident: false }, page: { from: 9_998, limit: 3 } })
      const withOne = await searchPage({ filter: { processDefinitionId: 'paged-straight', hasIncident: { $eq: true } } })
      const waiting = await searchPage({ filter: { processDefinitionId: 'paged-waiting', hasIncident: false } })
      // then without, every finished instance is met (the total capped as by index); with, none
      expect(without.items.map((i) => i.processInstanceKey)).toEqual(all.slice(9_998, 10_001))
      expect(without.page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
      expect(withOne.items).toHaveLength(0)
      expect(withOne.page.totalItems).toBe(0)
      // and the running ones, none with an incident, are all met without
      expect(waiting.items.map((i) => i.processInstanceKey)).toEqual(byKey(running))
    })

    test('element instances, variables and incidents are read from the history the same way, a chunk at a time', async () => {
      const all = await everyFinishedKey()
      // when the end events of the finished process are paged deep, and the process rows asked for
      const post = async (entity: string, body: Record<string, unknown>) => {
        const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/${entity}/search`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
        })
        expect(response.status).toBe(200)
        return (await response.json()) as { items: Record<string, string>[]; page: Page['page'] }
      }
      const ends = await post('element-instances', { filter: { processDefinitionId: 'paged-straight', elementId: 'end' }, page: { from: 700, limit: 2 } })
      const processes = await post('element-instances', { filter: { type: 'PROCESS' } })
      const variables = await post('variables', { filter: { name: 'i' }, page: { limit: 100 } })
      const incidents = await post('incidents', { filter: { errorType: 'JOB_NO_RETRIES' } })
      // then the page is the end events of the 701st and 702nd finished instances, the total capped
      expect(ends.items.map((e) => e.processInstanceKey)).toEqual(all.slice(700, 702))
      expect(ends.page).toEqual(expect.objectContaining({ totalItems: 10_000, hasMoreTotalItems: true }))
      // and the process rows, never shown, are not counted; each variable i is found once; no incident was raised
      expect(processes.page).toEqual(expect.objectContaining({ totalItems: 0, hasMoreTotalItems: false }))
      expect(variables.items).toHaveLength(48)
      expect(incidents.items).toHaveLength(0)
    })

    /** Every instance, finished and running, read in key order. */
    async function everyInstance<T>(): Promise<T[]> {
      const every: T[] = []
      for (let after: string | undefined; ;) {
        const { items, page } = await searchPage({ page: { limit: 10_000, ...(after ? { after } : {}) } }) as unknown as { items: T[]; page: Page['page'] }
        every.push(...items)
        if (items.length < 10_000) break
        after = page.endCursor
      }
      expect(every).toHaveLength(finished.length + 10_001 + running.length)
      return every
    }

    test('sorted by start or end date, newest first, pages by cursor and by offset give every instance in that order, the running ones in their place', async () => {
      // given every instance with its dates, read in key order
      const every = await everyInstance<{ processInstanceKey: string; startDate: string; endDate?: string }>()
      const newestBy = (field: 'startDate' | 'endDate') => [...every].sort((a, b) => {
        // no date sorts first, newest first, then by key
        const x = a[field] === undefined ? Infinity : Date.parse(a[field] as string)
        const y = b[field] === undefined ? Infinity : Date.parse(b[field] as string)
        return y - x || (BigInt(a.processInstanceKey) < BigInt(b.processInstanceKey) ? -1 : 1)
      }).map((i) => i.processInstanceKey)
      for (const field of ['startDate', 'endDate'] as const) {
        // when the newest are paged by cursor, 700 at a time, and then by offset further on
        const keys: string[] = []
        let after: string | undefined
        for (let n = 0; n < 3; n++) {
          const { items, page } = await searchPage({ sort: [{ field, order: 'DESC' }], page: { limit: 700, ...(after ? { after } : {}) } })
          keys.push(...items.map((i) => i.processInstanceKey))
          after = page.endCursor
        }
        const deep = await searchPage({ sort: [{ field, order: 'DESC' }], page: { from: 6_000, limit: 5 } })
        // then each page is the next slice of every instance in that order, the running ones in their place
        expect(keys).toEqual(newestBy(field).slice(0, 2_100))
        expect(deep.items.map((i) => i.processInstanceKey)).toEqual(newestBy(field).slice(6_000, 6_005))
        expect(deep.page).toEqual(expect.objectContaining({ totalItems: 10_000 + running.length, hasMoreTotalItems: true }))
      }
      // and by end date, the running ones (no end date yet) come first
      expect(newestBy('endDate').slice(0, running.length).sort()).toEqual([...running].sort())
    })

    test('sorted by a date then by key descending (instances made in one millisecond share their dates), pages by cursor and by offset give every instance in that order', async () => {
      // given every instance with its dates, read in key order
      const every = await everyInstance<{ processInstanceKey: string; startDate: string; endDate?: string }>()
      for (const [field, order] of [['startDate', 'DESC'], ['endDate', 'ASC']] as const) {
        const sort = [{ field, order }, { field: 'processInstanceKey', order: 'DESC' }]
        const expected = [...every].sort((a, b) => {
          // no end date sorts last ascending; equal dates by key, greatest first
          const x = a[field] === undefined ? Infinity : Date.parse(a[field] as string)
          const y = b[field] === undefined ? Infinity : Date.parse(b[field] as string)
          return (order === 'DESC' ? y - x : x - y) || (BigInt(a.processInstanceKey) < BigInt(b.processInstanceKey) ? 1 : -1)
        }).map((i) => i.processInstanceKey)
        // when the first are paged by cursor, 700 at a time, and then by offset further on
        const keys: string[] = []
        let after: string | undefined
        for (let n = 0; n < 3; n++) {
          const { items, page } = await searchPage({ sort, page: { limit: 700, ...(after ? { after } : {}) } })
          keys.push(...items.map((i) => i.processInstanceKey))
          after = page.endCursor
        }
        const deep = await searchPage({ sort, page: { from: 6_000, limit: 5 } })
        // then each page is the next slice of every instance in that order
        expect({ field, keys }).toEqual({ field, keys: expected.slice(0, 2_100) })
        expect({ field, deep: deep.items.map((i) => i.processInstanceKey) }).toEqual({ field, deep: expected.slice(6_000, 6_005) })
      }
      // and many instances did share a date
      expect(new Set(every.map((i) => i.startDate)).size).toBeLessThan(every.length / 10)
    })

    test('sorted by process, definition or state, pages by cursor and by offset read the history in that order, ties by key across its chunks', async () => {
      // given every instance, 10,041 of them finished with the same process, definition and state
      const every = await everyInstance<Sorted>()
      for (const sort of TEXT_SORTS) {
        // when the first 2,100 in that order are paged by cursor, 700 at a time, and then by offset further on
        const keys = await pagedBy(sort, 700, 3)
        const deep = await searchPage({ sort: [sort], page: { from: 6_000, limit: 5 } })
        // then each page is the next slice of every instance in that order, the running ones in their place
        const expected = inOrder(every, sort)
        expect({ sort, keys }).toEqual({ sort, keys: expected.slice(0, 2_100) })
        expect({ sort, deep: deep.items.map((i) => i.processInstanceKey) }).toEqual({ sort, deep: expected.slice(6_000, 6_005) })
        expect(deep.page).toEqual(expect.objectContaining({ totalItems: 10_000 + running.length, hasMoreTotalItems: true }))
      }
    })

    test('sorted by the state then the key descending, every finished instance (all COMPLETED) is read in key order, keeping a page, and counted exactly; by start date and before a cursor, the pages are right too', async () => {
      const all = await everyFinishedKey()
      // when sorted by two fields (the state, then the key descending), then by the start date, then paged back before a cursor
      const newest = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, sort: [{ field: 'state', order: 'ASC' }, { field: 'processInstanceKey', order: 'DESC' }], page: { limit: 3 } })
      const byStart = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, sort: [{ field: 'startDate', order: 'ASC' }], page: { from: 2, limit: 2 } })
      const cursorAt = (key: string) => Buffer.from(JSON.stringify([key]), 'utf8').toString('base64')
      const beforeFirst = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { before: cursorAt(all[0]), limit: 2 } })
      const beforeMiddle = await searchPage({ filter: { processDefinitionId: 'paged-straight' }, page: { before: cursorAt(all[5_000]), limit: 2 } })
      // then each is the page of the whole history, and the total of the one read in key order is exact
      expect(newest.items.map((i) => i.processInstanceKey)).toEqual([...all].reverse().slice(0, 3))
      expect(newest.page).toEqual(expect.objectContaining({ totalItems: all.length, hasMoreTotalItems: false }))
      expect(byStart.items.map((i) => i.processInstanceKey)).toEqual(all.slice(2, 4))
      expect(beforeFirst.items).toHaveLength(0)
      expect(beforeMiddle.items.map((i) => i.processInstanceKey)).toEqual(all.slice(4_998, 5_000))
    })
  }
})
