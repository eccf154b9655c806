import { ControllableClock } from '../../src/engine/clock'
import {
  evaluateFeel,
  evaluateUnaryTest,
  feelSyntaxError,
  feelToJson,
  feelTypeOf,
  FeelEvaluationError,
  unaryTestSyntaxError,
} from '../../src/engine/feel'

const pinnedAt = Date.UTC(2020, 0, 15, 10, 30, 0, 500)
const clock = new ControllableClock()
clock.pin(pinnedAt)

function value(expression: string, variables: Record<string, unknown> = {}): unknown {
  return evaluateFeel(expression, variables, clock).value
}

function json(expression: string, variables: Record<string, unknown> = {}): unknown {
  return feelToJson(value(expression, variables))
}

describe('evaluateFeel', () => {
  test('now() and today() read the engine clock, not the system clock', () => {
    // given a clock pinned in 2020
    // when
    const now = value('now()')
    const today = value('today()')
    // then
    expect(feelTypeOf(now)).toBe('DATE_TIME')
    expect(feelToJson(now)).toBe('2020-01-15T10:30:00.5Z')
    expect(feelTypeOf(today)).toBe('DATE')
    expect(feelToJson(today)).toBe('2020-01-15')
    expect(json('now() + duration("P1D") > now()')).toBe(true)
    expect(json('string(today() - duration("P1D"))')).toBe('2020-01-14')
  })

  test('now() follows the clock when it is pinned again', () => {
    // given
    const later = new ControllableClock()
    later.pin(Date.UTC(2021, 5, 1))
    // when
    const result = evaluateFeel('now()', {}, later).value
    // then
    expect(feelToJson(result)).toBe('2021-06-01T00:00:00Z')
  })

  test('a missing variable is null with a warning, not a failure', () => {
    // given no variables
    // when
    const result = evaluateFeel('missing', {}, clock)
    // then
    expect(result.value).toBeNull()
    expect(result.warnings).toEqual(["[NO_VARIABLE_FOUND] No variable found with name 'missing'"])
    expect(value('missing = null')).toBe(true)
    expect(value('missing > 5')).toBeNull()
  })

  test('a missing context entry is null', () => {
    // given
    const variables = { order: { id: 'o-1' } }
    // when
    const result = evaluateFeel('order.total', variables, clock)
    // then
    expect(result.value).toBeNull()
    expect(result.warnings[0]).toContain("'total'")
  })

  test('variables are visible, including names with spaces', () => {
    // given
    const variables = { amount: 120, 'order date': '2020-01-01', today: 'a variable' }
    // when / then
    expect(value('amount > 100', variables)).toBe(true)
    expect(value('order date', variables)).toBe('2020-01-01')
    expect(value('today', variables)).toBe('a variable')
  })

  test('a syntax error throws FeelEvaluationError naming the expression', () => {
    // when / then
    expect(() => evaluateFeel('1 +', {}, clock)).toThrow(FeelEvaluationError)
    expect(() => evaluateFeel('1 +', {}, clock)).toThrow(/'1 \+'/)
    expect(() => evaluateFeel('', {}, clock)).toThrow(FeelEvaluationError)
  })

  test('FEEL-Scala 1.19 built-ins missing from feelin are available', () => {
    // when / then
    expect(value('get or else(missing, "fallback")')).toBe('fallback')
    expect(value('is blank("  ")')).toBe(true)
    expect(value('is empty([])')).toBe(true)
    expect(value('trim("  a ")')).toBe('a')
    expect(value('partition([1, 2, 3], 2)')).toEqual([[1, 2], [3]])
    expect(value('string length(uuid())')).toBe(36)
    expect(value('duplicate values([1, 2, 1])')).toEqual([1])
    expect(value('assert(5, 5 > 1)')).toBe(5)
  })

  test('a failed assert is an evaluation failure', () => {
    // when / then
    expect(() => evaluateFeel('assert(x, x != null, "x is required")', {}, clock)).toThrow(/x is required/)
  })
})

describe('FEEL-Scala semantics feelin differs on (issue #18)', () => {
  test('is defined(x) is false for a missing or null variable and true otherwise (FEEL-Scala built-in, 1.17+)', () => {
    expect(value('is defined(x)')).toBe(false)
    expect(value('is defined(x)', { x: null })).toBe(false)
    expect(value('is defined(x)', { x: 0 })).toBe(true)
    expect(value('is defined(x.y)', { x: {} })).toBe(false)
  })

  test('a variable named like a built-in is read as a variable: missing, it is null with a warning, so `count > 5` is null', () => {
    const missing = evaluateFeel('count > 5', {}, clock)
    expect(missing.value).toBeNull()
    expect(missing.warnings).toContain("[NO_VARIABLE_FOUND] No variable found with name 'count'")
    expect(value('count > 5', { count: 7 })).toBe(true)
    // called, it is still the built-in
    expect(value('count([1, 2]) = 2')).toBe(true)
    expect(value('order.count + 1', { order: { count: 2 } })).toBe(3)
    expect(value('string length("ab")')).toBe(2)
  })

  test('a string literal may hold a real line break', () => {
    expect(value('"first\nsecond"')).toBe('first\nsecond')
    expect(feelSyntaxError('"first\nsecond" + x')).toBeUndefined()
  })
})

describe('variables and paths (looked up without parsing)', () => {
  const variables = { orderId: 'o-1', order: { customer: { id: 42, tags: ['a'] }, total: null }, n: 7 }

  test.each([
    ['orderId', 'o-1'],
    ['order.customer.id', 42],
    ['order.customer.tags', ['a']],
    ['order.total', null],
    [' n ', 7],
  ])('%s gives the same value as FEEL', (expression, expected) => {
    // when
    const result = evaluateFeel(expression, variables, clock)
    // then
    expect(result.value).toEqual(expected)
    expect(result.warnings).toEqual([])
    expect(evaluateFeel(`(${expression})`, variables, clock).value).toEqual(expected)
  })

  test('a missing variable and a missing entry are null with FEEL-Scala warnings', () => {
    expect(evaluateFeel('missing', variables, clock)).toEqual({ value: null, warnings: ["[NO_VARIABLE_FOUND] No variable found with name 'missing'"] })
    expect(evaluateFeel('order.nothing', variables, clock)).toEqual({ value: null, warnings: ["[NO_CONTEXT_ENTRY_FOUND] No context entry found with key 'nothing'"] })
  })

  test('keywords are not variables', () => {
    expect(evaluateFeel('true', variables, clock).value).toBe(true)
    expect(evaluateFeel('null', variables, clock).value).toBeNull()
  })
})

describe('feelSyntaxError', () => {
  test('returns undefined for valid expressions', () => {
    // when / then
    expect(feelSyntaxError('a = 1')).toBeUndefined()
    expect(feelSyntaxError('get or else(x, 1)')).toBeUndefined()
    expect(feelSyntaxError('{a: 1, b: [1, 2]}.b[1]')).toBeUndefined()
  })

  test('names the problem and its position', () => {
    // when
    const problem = feelSyntaxError('a = ')
    // then
    expect(problem).toContain("'a = '")
    expect(problem).toContain('position 4')
    expect(feelSyntaxError('')).toBeDefined()
    expect(feelSyntaxError('(1 + 2')).toBeDefined()
  })

  test('is memoised', () => {
    // when / then
    expect(feelSyntaxError('x ++ y')).toBe(feelSyntaxError('x ++ y'))
  })
})

describe('unary tests', () => {
  const test5 = (expression: string, input: unknown, variables: Record<string, unknown> = {}) =>
    evaluateUnaryTest(expression, input, variables, clock)

  test('ranges, comparisons, lists, "-" and not()', () => {
    // when / then
    expect(test5('[1..5]', 3)).toBe(true)
    expect(test5('[1..5]', 6)).toBe(false)
    expect(test5('(1..5)', 5)).toBe(false)
    expect(test5('< 10', 5)).toBe(true)
    expect(test5('< 10', 12)).toBe(false)
    expect(test5('"a","b"', 'b')).toBe(true)
    expect(test5('"a","b"', 'c')).toBe(false)
    expect(test5('-', 'anything')).toBe(true)
    expect(test5('not("a")', 'a')).toBe(false)
    expect(test5('not("a")', 'b')).toBe(true)
  })

  test('variables and the input value ? are visible', () => {
    // when / then
    expect(test5('< limit', 5, { limit: 10 })).toBe(true)
    expect(test5('? > limit', 5, { limit: 10 })).toBe(false)
  })

  test('today() in an input entry reads the engine clock', () => {
    // when / then
    expect(test5('date("2020-01-15")', value('today()'))).toBe(true)
  })

  test('syntax errors are reported', () => {
    // when / then
    expect(unaryTestSyntaxError('[1..5]')).toBeUndefined()
    expect(unaryTestSyntaxError('"a","b"')).toBeUndefined()
    expect(unaryTestSyntaxError('[1..')).toContain('[1..')
    expect(() => test5('[1..', 1)).toThrow(FeelEvaluationError)
  })
})

describe('feelTypeOf', () => {
  test('names each kind of value', () => {
    // when / then
    expect(feelTypeOf(null)).toBe('NULL')
    expect(feelTypeOf(undefined)).toBe('NULL')
    expect(feelTypeOf(true)).toBe('BOOLEAN')
    expect(feelTypeOf(1.5)).toBe('NUMBER')
    expect(feelTypeOf('s')).toBe('STRING')
    expect(feelTypeOf([1])).toBe('ARRAY')
    expect(feelTypeOf({ a: 1 })).toBe('CONTEXT')
    expect(feelTypeOf(value('date("2020-01-01")'))).toBe('DATE')
    expect(feelTypeOf(value('time("10:00:00")'))).toBe('TIME')
    expect(feelTypeOf(value('date and time("2020-01-01T10:00:00Z")'))).toBe('DATE_TIME')
    expect(feelTypeOf(value('duration("PT1H")'))).toBe('DURATION')
    expect(feelTypeOf(value('duration("P1Y")'))).toBe('PERIOD')
    expect(feelTypeOf(value('function(x) x'))).toBe('FUNCTION')
    expect(feelTypeOf(value('[1..5]'))).toBe('RANGE')
  })
})

describe('feelToJson', () => {
  test('date-times print as ISO_ZONED_DATE_TIME', () => {
    // when / then
    expect(json('date and time("2026-11-29T10:00:00Z")')).toBe('2026-11-29T10:00:00Z')
    expect(json('date and time("2026-11-29T10:00:00+01:00")')).toBe('2026-11-29T10:00:00+01:00')
    expect(json('date and time("2026-11-29T10:00:00@Europe/Paris")')).toBe('2026-11-29T10:00:00+01:00[Europe/Paris]')
    expect(json('date and time("2026-07-29T10:00:00@Europe/Paris")')).toBe('2026-07-29T10:00:00+02:00[Europe/Paris]')
    expect(json('date and time("2026-11-29T10:00:00.120Z")')).toBe('2026-11-29T10:00:00.12Z')
  })

  test('local date-times, dates and times', () => {
    // when / then
    expect(json('date and time("2026-11-29T10:00:00")')).toBe('2026-11-29T10:00:00')
    expect(json('date("2026-11-29")')).toBe('2026-11-29')
    expect(json('time("10:00:00")')).toBe('10:00:00')
    expect(json('time("10:00:00+02:00")')).toBe('10:00:00+02:00')
  })

  test('durations of both kinds', () => {
    // when / then
    expect(json('duration("PT1H")')).toBe('PT1H')
    expect(json('duration("P1DT2H")')).toBe('P1DT2H')
    expect(json('duration("PT26H")')).toBe('P1DT2H')
    expect(json('duration("P14M")')).toBe('P1Y2M')
    expect(json('duration("P1Y2M")')).toBe('P1Y2M')
  })

  test('contexts and lists nest, functions and ranges become null', () => {
    // when
    const result = json('{a: [1, date("2020-01-01")], b: {c: null}, f: function(x) x, r: [1..2]}')
    // then
    expect(result).toEqual({ a: [1, '2020-01-01'], b: { c: null }, f: null, r: null })
  })
})
