/**
 * A search of process instances filtered on their start or end date compared with ISO-8601
 * instants (with indexed fields or alone) is counted by the history itself: SQLite compares each
 * finished instance's dates and tells the event loop a key and a flag, instead of the instance's
 * JSON (issue #19: at a million, that count read 10,001 instances). The answers must be those of
 * the filter applied to every item: the same items, the same totals, live instances included.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEngineServer, type EngineServer } from '../../src/engine'
import { searchInstances } from '../support/instance-search'
import { ControllableClock } from '../../src/engine/clock'

jest.setTimeout(90_000)

const STRAIGHT = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-dated-straight">
<bpmn:process id="dated-straight" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /></bpmn:process></bpmn:definitions>`
const WAITING = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-dated-waiting">
<bpmn:process id="dated-waiting" isExecutable="true"><bpmn:startEvent id="start" />
<bpmn:userTask id="wait"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" /></bpmn:process></bpmn:definitions>`

/** More finished instances than a search reads in one chunk (STORED_CHUNK): the count goes on past the page. */
const FINISHED = 700
const T0 = Date.UTC(2026, 2, 1, 8)
const iso = (ms: number) => new Date(ms).toISOString()

interface Instance { key: string; process: string; start: number; end?: number }
interface Page { items: { processInstanceKey: string }[]; page: { totalItems: number; hasMoreTotalItems: boolean } }

describe.each(['in memory', 'durable'] as const)('an engine %s', (kind) => {
  let server: EngineServer
  let dir: string | undefined
  const instances: Instance[] = []

  beforeAll(async () => {
    dir = kind === 'durable' ? await mkdtemp(join(tmpdir(), 'raccord-date-filters-')) : undefined
    const clock = new ControllableClock()
    server = await startEngineServer({ grpcPort: 0, restPort: 0, dataDir: dir, clock })
    await server.engine.deploy([{ name: 'straight.bpmn', content: Buffer.from(STRAIGHT) }, { name: 'waiting.bpmn', content: Buffer.from(WAITING) }])
    // given 700 instances that ran to their end, each started a minute after the last (some of
    // them on the same minute as another), and 20 still waiting, started among them
    for (let i = 0; i < FINISHED + 20; i++) {
      const start = T0 + Math.floor(i / 7) * 7 * 60_000 + (i % 7 === 3 ? 0 : (i % 7) * 60_000)
      clock.pin(start)
      const waits = i % 36 === 5
      const process = waits ? 'dated-waiting' : 'dated-straight'
      const { processInstanceKey } = server.engine.createProcessInstance({ bpmnProcessId: process })
      instances.push({ key: processInstanceKey, process, start, ...(waits ? {} : { end: start }) })
    }
    clock.reset()
  })
  afterAll(async () => {
    await server.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const search = (body: Record<string, unknown>) => searchInstances<Page>(server.restPort, body)

  const byKey = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : 1)
  const middle = T0 + 300 * 60_000

  /** Filters, each with what it asks of an instance. */
  const FILTERS: [name: string, filter: Record<string, unknown>, meets: (i: Instance) => boolean][] = [
    ['started from an instant', { startDate: { $gte: iso(middle) } }, (i) => i.start >= middle],
    ['started after an instant, of one process', { processDefinitionId: 'dated-straight', startDate: { $gt: iso(middle) } }, (i) => i.process === 'dated-straight' && i.start > middle],
    ['started within a range (UTC offset given)', { startDate: { $gte: '2026-03-01T10:00:00+01:00', $lt: iso(middle) } }, (i) => i.start >= T0 + 60 * 60_000 && i.start < middle],
    ['started at an instant, as a plain value', { startDate: iso(T0 + 21 * 60_000) }, (i) => i.start === T0 + 21 * 60_000],
    ['started at an instant, as $eq, finished', { startDate: { $eq: iso(T0 + 21 * 60_000) }, state: 'COMPLETED' }, (i) => i.start === T0 + 21 * 60_000 && i.end !== undefined],
    ['ended up to an instant', { endDate: { $lte: iso(middle) } }, (i) => i.end !== undefined && i.end <= middle],
    ['without an end', { endDate: { $exists: false } }, (i) => i.end === undefined],
    ['with an end, started before an instant', { endDate: { $exists: true }, startDate: { $lt: iso(T0 + 100 * 60_000) } }, (i) => i.end !== undefined && i.start < T0 + 100 * 60_000],
    ['not at an instant ($neq: applied to each item)', { startDate: { $neq: iso(T0) } }, (i) => i.start !== T0],
    ['before a day given without its time (compared as text: applied to each item)', { startDate: { $lt: '2026-03-01T12' } }, (i) => iso(i.start) < '2026-03-01T12'],
  ]

  test.each(FILTERS)('a search of instances %s counts and pages as the filter applied to each would (#19)', async (_name, filter, meets) => {
    // when the instances are searched with the filter, five to a page, a page past the first by offset too
    const expected = instances.filter(meets).map((i) => i.key).sort(byKey)
    const first = await search({ filter, page: { limit: 5 } })
    const later = await search({ filter, page: { from: 40, limit: 5 } })
    const newest = await search({ filter, sort: [{ field: 'startDate', order: 'DESC' }], page: { limit: 5 } })
    // then the total and the pages are those of the filter applied to each instance
    expect(first.page).toMatchObject({ totalItems: expected.length, hasMoreTotalItems: false })
    expect(first.items.map((i) => i.processInstanceKey)).toEqual(expected.slice(0, 5))
    expect(later.items.map((i) => i.processInstanceKey)).toEqual(expected.slice(40, 45))
    const byStartDesc = instances.filter(meets).sort((a, b) => b.start - a.start || byKey(a.key, b.key)).map((i) => i.key)
    expect(newest.page.totalItems).toBe(expected.length)
    expect(newest.items.map((i) => i.processInstanceKey)).toEqual(byStartDesc.slice(0, 5))
  })

  test('such a count tells finished instances by key and flag, without reading them (#19)', async () => {
    if (kind !== 'durable') return
    const reads = server.durable?.store.instanceReads
    if (!reads) throw new Error('the durable engine has no store')
    const [tally, page] = [jest.spyOn(reads, 'tally'), jest.spyOn(reads, 'page')]
    try {
      // when a date filter is counted past the first chunk the page reads
      const { page: counted } = await search({ filter: { startDate: { $gte: iso(T0) } }, page: { limit: 5 } })
      // then the total is every instance, the items of one chunk were read, and the rest told
      expect(counted.totalItems).toBe(instances.length)
      expect(page).toHaveBeenCalledTimes(1)
      expect(tally).toHaveBeenCalled()
      // and a filter the history cannot apply itself reads the instances to count them
      tally.mockClear()
      const { page: read } = await search({ filter: { startDate: { $neq: iso(T0) } }, page: { limit: 5 } })
      expect(read.totalItems).toBe(instances.filter((i) => i.start !== T0).length)
      expect(tally).not.toHaveBeenCalled()
    } finally {
      tally.mockRestore()
      page.mockRestore()
    }
  })
})
