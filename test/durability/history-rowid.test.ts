/**
 * The history's instance rows are written at rowids of a region of their own, in key order, and
 * every other row after the last (state/history-rowid.ts), so that the instance rows a search reads
 * share pages (issue #19). The rowid is only a place: every record is kept once, whatever its key,
 * whatever order instances finish in, across restarts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { ArchivedInstance, HistoryKind } from '../../src/engine/state/history'
import { INSTANCE_ROWIDS_FROM } from '../../src/engine/state/history-rowid'
import { EngineStore } from '../../src/engine/state/store'

const KEY_BASE = 2n ** 51n
const engineKey = (counter: number) => String(KEY_BASE + BigInt(counter))

let scratch: string

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'raccord-rowid-'))
})

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** A finished root instance `key` with one record of every other kind, keyed as `keys` says. */
function finished(key: string, keys: Record<Exclude<HistoryKind, 'instance'>, string>): ArchivedInstance {
  const of = (own: string, extra: Record<string, unknown> = {}) => ({ key: own, processInstanceKey: key, ...extra }) as never
  return {
    root: key, ended: 1,
    instances: [{ key, bpmnProcessId: 'order', state: 'COMPLETED', tenantId: '<default>' } as never],
    elements: [of(keys.element)], variables: [of(keys.variable, { scopeKey: key, name: 'v', value: '1' })], incidents: [of(keys.incident)],
    userTasks: [of(keys.userTask)], decisionInstances: [of(keys.decisionInstance)],
  }
}

/** Records of every kind for an instance of counter `n`: their keys follow its own. */
const withEngineKeys = (n: number) => finished(engineKey(n), {
  element: engineKey(n + 1), variable: engineKey(n + 2), incident: engineKey(n + 3), userTask: engineKey(n + 4), decisionInstance: engineKey(n + 5),
})

function appendAndClose(dir: string, instances: ArchivedInstance[]): void {
  const store = EngineStore.open(dir)
  try {
    for (const archived of instances) store.appendHistory(archived)
  } finally {
    store.close()
  }
}

/** The history's records in table order (without the row at rowid 0 that keeps SQLite's rowids after it). */
function rowsInTableOrder(dir: string): { rowid: bigint; kind: HistoryKind; key: string }[] {
  const db = new Database(path.join(dir, 'engine.db'), { readonly: true })
  try {
    return db.prepare("SELECT rowid, kind, key FROM history WHERE kind != '' ORDER BY rowid").safeIntegers().all() as { rowid: bigint; kind: HistoryKind; key: string }[]
  } finally {
    db.close()
  }
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
const isEngineKey = (key: string) => /^[0-9]{16}$/.test(key) && BigInt(key) >= KEY_BASE && BigInt(key) < 2n * KEY_BASE

test('finished instances are stored in key order below every other row, whatever order they finish in; the rest after the last (#19)', () => {
  // given instances finishing out of the order of their keys, with records of every kind
  const dir = path.join(scratch, 'order')
  const counters = [600, 0, 300, 900, 60, 1_200, 30]

  // when they are written, in two runs of the engine's store
  appendAndClose(dir, counters.slice(0, 4).map(withEngineKeys))
  appendAndClose(dir, counters.slice(4).map(withEngineKeys))

  // then the table holds every record once: the instances first, in key order, each at its
  // region's start plus its key's counter
  const rows = rowsInTableOrder(dir)
  expect(rows).toHaveLength(counters.length * 6)
  const instances = rows.slice(0, counters.length)
  expect(instances.map(({ kind, key }) => ({ kind, key }))).toEqual(counters.map((n) => ({ kind: 'instance', key: engineKey(n) })).sort(byKey))
  for (const { rowid, key } of instances) expect(rowid).toBe(INSTANCE_ROWIDS_FROM + BigInt(key) - KEY_BASE)
  // and then every other record, one rowid after another from 1, in the order written
  const others = rows.slice(counters.length)
  expect(others.map((r) => r.rowid)).toEqual(others.map((_, i) => BigInt(i + 1)))
  expect(others.map(({ kind, key }) => `${kind} ${key}`)).toEqual(counters.flatMap((n) => (['element', 'variable', 'incident', 'userTask', 'decisionInstance'] as const).map((kind, i) => `${kind} ${engineKey(n + i + 1)}`)))
})

test('records whose keys are not engine keys are each kept, after every instance of the region, across restarts (#19)', () => {
  // given records keyed by a name, a short number, 16 digits below the engine's range and above it
  const dir = path.join(scratch, 'other-keys')
  const others = ['legacy-7', '42', '0000000000000001', '9999999999999999']
  const odd = others.map((key, i) => finished(key, { element: `${key}-e`, variable: engineKey(5_000 + i), incident: `${key}-i`, userTask: `${key}-u`, decisionInstance: `${key}-d` }))

  // when they are written with engine-keyed ones, then more of both after a restart, one of them again
  appendAndClose(dir, [withEngineKeys(10), ...odd.slice(0, 2)])
  appendAndClose(dir, [...odd.slice(2), withEngineKeys(20), odd[0]])

  // then every record is there once (the one written again replaced itself), each at a rowid of its own
  const rows = rowsInTableOrder(dir)
  const expected = [withEngineKeys(10), withEngineKeys(20), ...odd].flatMap((archived) =>
    (['instance', 'element', 'variable', 'incident', 'userTask', 'decisionInstance'] as const).flatMap((kind) => {
      const records = { instance: archived.instances, element: archived.elements, variable: archived.variables, incident: archived.incidents, userTask: archived.userTasks, decisionInstance: archived.decisionInstances }[kind]
      return records.map((r) => `${kind} ${r.key}`)
    }))
  expect(rows.map(({ kind, key }) => `${kind} ${key}`).sort()).toEqual(expected.sort())
  expect(new Set(rows.map((r) => r.rowid)).size).toBe(rows.length)
  // and only the instances of engine keys are in the region, the others after every row of it
  expect(rows.filter((r) => r.rowid < 0n).map(({ kind, key }) => `${kind} ${key}`)).toEqual([`instance ${engineKey(10)}`, `instance ${engineKey(20)}`])
  expect(rows.filter((r) => r.kind === 'instance' && !isEngineKey(r.key)).every((r) => r.rowid > 0n)).toBe(true)
})

test('a history whose first records are instances alone keeps every record of the instances after them (#19)', () => {
  // given instances that finish with no other record, the first ones written to a fresh history
  const dir = path.join(scratch, 'instances-first')
  const alone = (n: number): ArchivedInstance => ({ ...withEngineKeys(n), elements: [], variables: [], incidents: [], userTasks: [], decisionInstances: [] })
  appendAndClose(dir, [alone(0), alone(1)])

  // when the next instances, of the keys right after theirs, finish with records of every kind
  appendAndClose(dir, [withEngineKeys(2), alone(3), alone(4), withEngineKeys(5), alone(6), alone(7), alone(8)])

  // then every record is there, the instances in their region, the rest after them (SQLite gave
  // none of those a rowid of the region, which a later instance would then have needed)
  const rows = rowsInTableOrder(dir)
  expect(rows.filter((r) => r.kind === 'instance').map((r) => r.rowid)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => INSTANCE_ROWIDS_FROM + BigInt(n)))
  expect(rows.filter((r) => r.kind !== 'instance').map((r) => `${r.kind} ${r.key}`)).toEqual([2, 5].flatMap((n) =>
    (['element', 'variable', 'incident', 'userTask', 'decisionInstance'] as const).map((kind, i) => `${kind} ${engineKey(n + i + 1)}`)))
  expect(rows.filter((r) => r.kind !== 'instance').every((r) => r.rowid > 0n)).toBe(true)
})
