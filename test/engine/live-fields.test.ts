/**
 * A start builds the engine's indexes from each live row's key and index fields alone (issue #19):
 * every kind of record row has its list of fields, stored in columns in that order.
 */
import { ROW_KINDS } from '../../src/engine/runtime/checkpoint'
import { FIELD_COLUMNS, fieldValues, INDEX_FIELDS } from '../../src/engine/state/live-fields'

test('every kind of record row has its index fields, as many as there are columns at most', () => {
  expect(Object.keys(INDEX_FIELDS).sort()).toEqual(ROW_KINDS.filter((kind) => kind !== 'meta').sort())
  for (const names of Object.values(INDEX_FIELDS)) expect(names.length).toBeLessThanOrEqual(FIELD_COLUMNS.length)
})

test('a record\'s index fields are stored in the order of its list, an absent one as null, other values left out', () => {
  const job = { key: '2251799813685300', processInstanceKey: '2251799813685290', state: 'ACTIVATABLE', type: 'work', retries: 3, variables: { big: true } }
  expect(fieldValues('job', job)).toEqual(['2251799813685290', 'ACTIVATABLE', null, null, 'work'])
  expect(fieldValues('batch', { key: '2251799813685301' })).toEqual([])
})
