import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateSubmission } from '../../src/app/access/form-validation'

const form = (id: string) => JSON.parse(readFileSync(join(__dirname, '../../processes/forms', `${id}.form`), 'utf8')) as Record<string, unknown>

describe('a submission is checked by the form\'s own rules, its conditions included', () => {
  test('CHG-5: approving a change needs no reasons, since the form hides them unless one refuses', () => {
    // given the decision form of a change gate
    const schema = form('decide-change')
    // when one approves without reasons
    const problems = validateSubmission(schema, { decision: 'approve' })
    // then nothing is missing
    expect(problems).toEqual([])
  })

  test('CHG-5: refusing a change without reasons is refused, naming the field', () => {
    expect(validateSubmission(form('decide-change'), { decision: 'refuse' })).toEqual([{ field: 'reasons', detail: 'Required' }])
  })

  test('a field the form hides for this answer cannot be sent along', () => {
    expect(validateSubmission(form('decide-change'), { decision: 'approve', reasons: 'sneaked in' }))
      .toEqual([{ field: 'reasons', detail: 'Hidden by the form for this answer: leave it out' }])
  })

  test('a value outside a radio\'s options and a field the form lacks are both named', () => {
    const problems = validateSubmission(form('decide-change'), { decision: 'maybe', crisisCell: ['mallory'] })
    expect(problems).toEqual(expect.arrayContaining([
      { field: 'crisisCell', detail: 'Not a field of this form' },
      { field: 'decision', detail: 'Not one of the options: "approve", "refuse"' },
    ]))
  })

  test('PRD-3: releasing now needs no new date; postponing needs one in the expected format', () => {
    const schema = form('decide-portal-release')
    expect(validateSubmission(schema, { decision: 'release' })).toEqual([])
    expect(validateSubmission(schema, { decision: 'postpone' })).toEqual([{ field: 'newPlannedAt', detail: 'Required' }])
    expect(validateSubmission(schema, { decision: 'postpone', newPlannedAt: 'next week' })).toEqual([{ field: 'newPlannedAt', detail: 'Not in the expected format' }])
    expect(validateSubmission(schema, { decision: 'postpone', newPlannedAt: '2026-12-07T14:00+01:00' })).toEqual([])
  })

  test('a condition reads the task\'s variables when the submission does not carry the field', () => {
    const schema = {
      components: [
        { type: 'textfield', key: 'detail', conditional: { hide: '=severity = "low"' }, validate: { required: true, maxLength: 5 } },
      ],
    }
    expect(validateSubmission(schema, {}, { severity: 'low' })).toEqual([])
    expect(validateSubmission(schema, {}, { severity: 'high' })).toEqual([{ field: 'detail', detail: 'Required' }])
    expect(validateSubmission(schema, { detail: 'too long' }, { severity: 'high' })).toEqual([{ field: 'detail', detail: 'At most 5 characters' }])
  })
})
