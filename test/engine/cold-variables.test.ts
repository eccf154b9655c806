/**
 * After a start that loaded a checkpoint cold, the variables of the scopes it held stay in their
 * rows until used (issue #19). The start lists no scope: a scope up to the greatest one with rows
 * is read on first use, once; one that ended is not read from its rows again before the next
 * checkpoint deletes them.
 */
import { VariableStore, type ColdVariables } from '../../src/engine/runtime/variables'
import type { VariableRecord } from '../../src/engine/state/records'

const INSTANCE = '2251799813685300'
const ELEMENT = '2251799813685305'

/** A store loaded cold over stored rows of `INSTANCE`'s scope; the scopes read from rows are counted. */
function loadedCold(): { vars: VariableStore; reads: string[] } {
  const row = (key: string, name: string, value: unknown) => JSON.stringify({ key, name, value, scopeKey: INSTANCE, processInstanceKey: INSTANCE, processDefinitionKey: '1', bpmnProcessId: 'p', tenantId: '<default>' })
  const rows = [row('2251799813685301', 'orderId', 'A-1'), row('2251799813685302', 'amount', 12)]
  const reads: string[] = []
  const cold: ColdVariables = {
    ofScope: (scope) => { reads.push(scope); return scope === INSTANCE ? rows : [] },
    all: () => rows,
    headsAfter: (afterKey, limit) => rows.map((json) => {
      const { key, name, scopeKey, processInstanceKey, tenantId } = JSON.parse(json) as VariableRecord
      return { key, name, scopeKey, processInstanceKey, tenantId }
    }).filter((head) => afterKey === undefined || head.key > afterKey).slice(0, limit),
    byKey: (key) => rows.find((r) => r.includes(key)),
  }
  let next = 2251799813685400
  const vars = new VariableStore(() => String(next++), (scope) => (scope === ELEMENT ? INSTANCE : undefined),
    () => ({ processInstanceKey: INSTANCE, processDefinitionKey: '1', bpmnProcessId: 'p', tenantId: '<default>' }))
  vars.useColdRows(cold)
  vars.leaveInRows(ELEMENT)
  return { vars, reads }
}

test('a scope of the loaded checkpoint is read from its rows on first use, once; one without rows is asked once too', () => {
  // given a store loaded cold
  const { vars, reads } = loadedCold()
  // when an element's variables are resolved twice, through its instance
  expect(vars.visible(ELEMENT)).toEqual({ orderId: 'A-1', amount: 12 })
  expect(vars.visible(ELEMENT)).toEqual({ orderId: 'A-1', amount: 12 })
  // then each scope was read once, and a scope made since the start is never read
  expect(reads).toEqual([INSTANCE, ELEMENT])
  vars.setLocal('2251799813685500', 'fresh', true)
  expect(vars.local('2251799813685500')).toEqual({ fresh: true })
  expect(reads).toEqual([INSTANCE, ELEMENT])
  // and every variable is listed once, from memory or rows
  expect([...vars.all()].map((v) => v.name).sort()).toEqual(['amount', 'fresh', 'orderId'])
})

test('a scope of the loaded checkpoint that ended is not read from its rows, then or later', () => {
  // given a store loaded cold, and the instance's scope ended (its rows are deleted by the next checkpoint only)
  const { vars, reads } = loadedCold()
  // when it is taken: its variables are left in their rows, unread
  expect(vars.takeScope(INSTANCE)).toEqual({ records: [], inRows: true })
  expect(reads).toEqual([])
  // then nothing of it is read as held any more
  expect([...vars.ofScopes([INSTANCE])]).toEqual([])
  expect([...vars.all()]).toEqual([])
  expect(vars.visible(ELEMENT)).toEqual({})
  expect(vars.find('2251799813685301')).toBeUndefined()
})

test('a scope read from its rows and then ended gives its variables to the history', () => {
  // given a store loaded cold, whose instance scope was read once
  const { vars } = loadedCold()
  expect(vars.local(INSTANCE)).toEqual({ orderId: 'A-1', amount: 12 })
  // when it is taken
  const taken = vars.takeScope(INSTANCE)
  // then its variables come out of memory, and none is left in rows
  expect(taken.inRows).toBe(false)
  expect(taken.records.map((v) => v.name).sort()).toEqual(['amount', 'orderId'])
  expect([...vars.all()]).toEqual([])
})
