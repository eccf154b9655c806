/**
 * Finished instances read from the history in the order of a date or text field, by that field's
 * (field, key) index (state/ordered-history.ts): page after page, in that order with ties by key
 * ascending, descending too, where one group of equal values may be every finished instance. No
 * statement sorts: each walks its index, so that a page costs what it reads (issue #19).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { InstanceOrder, InstancePosition, InstanceWhere } from '../../src/engine/state/history'
import { countStatement, InstanceReads, orderStatements, pageStatement, readInOrder } from '../../src/engine/state/ordered-history'
import { EngineStore } from '../../src/engine/state/store'

const FIELDS: InstanceOrder['field'][] = ['startDate', 'endDate', 'bpmnProcessId', 'processDefinitionKey', 'state', 'key', 'parentProcessInstanceKey', 'parentElementInstanceKey']

let dir: string
let db: Database.Database

beforeAll(() => {
  // a store's file, with its schema
  dir = mkdtempSync(path.join(os.tmpdir(), 'raccord-ordered-'))
  const store = EngineStore.open(dir)
  const file = store.file
  store.close()
  db = new Database(file)
})

afterAll(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

test('no statement of an order sorts: each walks the index of its field', () => {
  for (const field of FIELDS) {
    for (const [name, sql] of Object.entries(orderStatements(field))) {
      // when SQLite plans the statement
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...new Array<number>(sql.split('?').length - 1).fill(0)) as { detail: string }[]).map((row) => row.detail)
      // then it reads the field's index and sorts nothing
      expect({ field, name, plan }).toEqual({ field, name, plan: [expect.stringMatching(/USING (COVERING )?INDEX (history_instance_|sqlite_autoindex_history_1 )/)] })
    }
  }
})

describe('a history of instances with few values and with many', () => {
  interface Row {
    key: string; startDate: number; endDate: number; bpmnProcessId: string; processDefinitionKey: string; state: string
    parentProcessInstanceKey?: string; parentElementInstanceKey?: string
  }
  const rows: Row[] = []

  beforeAll(() => {
    // given 3,000 finished instances: a state nearly all share, three processes, dates many share,
    // and a third of them called by another (a parent, which a few share), the rest roots
    const insert = db.prepare('INSERT INTO history (kind, key, root, scope, instance, json) VALUES (?, ?, ?, NULL, ?, ?)')
    db.transaction(() => {
      for (let i = 0; i < 3_000; i++) {
        const key = String(2251799813685248 + ((i * 7_919) % 3_000))
        const row: Row = {
          key, startDate: 1_000 + Math.floor(i / 3), endDate: 5_000 - (i % 400), bpmnProcessId: ['alpha', 'beta', 'gamma'][i % 7 === 0 ? 0 : i % 2 + 1],
          processDefinitionKey: String(2251799813690000 + (i % 5)), state: i % 1_000 === 0 ? 'TERMINATED' : 'COMPLETED',
          ...(i % 3 === 0 ? { parentProcessInstanceKey: String(2251799813695000 + (i % 37)), parentElementInstanceKey: String(2251799813699000 + (i % 991)) } : {}),
        }
        rows.push(row)
        insert.run('instance', key, key, key, JSON.stringify(row))
      }
    })()
  })

  const expected = (order: InstanceOrder) => [...rows].sort((a, b) => {
    const x = a[order.field]
    const y = b[order.field]
    // one lacking the field comes after the others ascending
    const byValue = x === y ? 0 : x === undefined ? 1 : y === undefined ? -1 : x < y ? -1 : 1
    return (order.descending ? -byValue : byValue) || (a.key < b.key ? -1 : 1)
  }).map((r) => r.key)

  test('lists of values on two fields: pages in key order and counts are those of the instances meeting them, each value read by index', () => {
    const reads = new InstanceReads(db)
    const where: InstanceWhere = { processDefinitionKey: ['2251799813690001', '2251799813690003'], state: ['TERMINATED', 'COMPLETED'], bpmnProcessId: ['beta', 'gamma'] }
    const meets = (r: Row) => ['2251799813690001', '2251799813690003'].includes(r.processDefinitionKey) && r.bpmnProcessId !== 'alpha'
    const expectedKeys = rows.filter(meets).map((r) => r.key).sort()
    for (const limit of [1, 13, 500]) {
      // when the instances meeting them are read a page at a time
      const keys: string[] = []
      for (let after: string | undefined; ;) {
        const page = reads.page(where, after, limit).map((json) => (JSON.parse(json) as Row).key)
        keys.push(...page)
        if (page.length < limit) break
        after = page[page.length - 1]
      }
      // then they come in key order, each once
      expect({ limit, keys }).toEqual({ limit, keys: expectedKeys })
    }
    // and they are counted, up to a cap
    expect(reads.count(where, 10_000)).toBe(expectedKeys.length)
    expect(reads.count(where, 100)).toBe(100)
    // and each combination of single values is read by an index holding its fields, with no sort
    const combination: InstanceWhere = { processDefinitionKey: '2251799813690001', state: 'COMPLETED', bpmnProcessId: 'beta' }
    for (const { sql, values } of [pageStatement(combination, true), countStatement(combination)]) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values, ...new Array<number>(sql.split('?').length - 1 - values.length).fill(0)) as { detail: string }[]).map((row) => row.detail).join(' | ')
      expect(plan).toMatch(/USING (COVERING )?INDEX history_instance_\w+ \(<expr>=\?/)
      expect(plan).not.toMatch(/TEMP B-TREE/)
    }
  })

  test('the definitions of the instances come each once, in key order', () => {
    // when the definitions are listed (a seek of the definition index each)
    const definitions = new InstanceReads(db).definitions()
    // then they are those of the instances, each once, in key order
    expect(definitions).toEqual([...new Set(rows.map((r) => r.processDefinitionKey))].sort())
    expect(definitions).toHaveLength(5)
  })

  test.each(FIELDS.flatMap((field) => [false, true].map((descending) => ({ field, descending }))))('by %o, pages of any size from each cursor give every instance once, ties by key, those lacking the field last ascending and first descending', (order) => {
    for (const limit of [1, 7, 500, 4_000]) {
      // when every instance is read a page at a time, each after the last one read
      const keys: string[] = []
      let after: InstancePosition | undefined
      for (;;) {
        const page = readInOrder(db, order, after, limit).map((json) => JSON.parse(json) as Row)
        keys.push(...page.map((r) => r.key))
        if (page.length < limit) break
        const last = page[page.length - 1]
        after = { value: last[order.field] ?? null, key: last.key }
      }
      // then they come in the order asked, each once
      expect({ limit, keys }).toEqual({ limit, keys: expected(order) })
    }
  })
})
