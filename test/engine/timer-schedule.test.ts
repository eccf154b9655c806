import { ControllableClock } from '../../src/engine/clock'
import { evaluateFeel } from '../../src/engine/feel'
import {
  addIsoDuration,
  nextTimerSchedule,
  scheduleTimeCycle,
  scheduleTimeDate,
  scheduleTimeDuration,
  TimerDefinitionError,
} from '../../src/engine/runtime/timer-schedule'

const MS_PER_DAY = 86_400_000
const at = (iso: string) => Date.parse(iso)
const iso = (epochMs: number) => new Date(epochMs).toISOString()

function feel(expression: string): unknown {
  return evaluateFeel(expression, {}, new ControllableClock()).value
}

describe('addIsoDuration', () => {
  test('months and years are calendar arithmetic, clamped to the month end', () => {
    // given
    const endOfJanuary = at('2026-01-31T12:00:00Z')
    // when / then
    expect(iso(addIsoDuration(endOfJanuary, 'P1M'))).toBe('2026-02-28T12:00:00.000Z')
    expect(iso(addIsoDuration(at('2028-01-31T00:00:00Z'), 'P1M'))).toBe('2028-02-29T00:00:00.000Z')
    expect(iso(addIsoDuration(at('2028-02-29T00:00:00Z'), 'P1Y'))).toBe('2029-02-28T00:00:00.000Z')
    expect(iso(addIsoDuration(endOfJanuary, 'P1Y2M3DT4H5M6.5S'))).toBe('2027-04-03T16:05:06.500Z')
  })

  test('weeks, days and negative durations', () => {
    // given
    const start = at('2026-03-01T00:00:00Z')
    // when / then
    expect(iso(addIsoDuration(start, 'P2W'))).toBe('2026-03-15T00:00:00.000Z')
    expect(iso(addIsoDuration(start, '-PT1S'))).toBe('2026-02-28T23:59:59.000Z')
    expect(iso(addIsoDuration(start, 'PT-90M'))).toBe('2026-02-28T22:30:00.000Z')
  })

  test('rejects what is not an ISO duration', () => {
    // when / then
    for (const bad of ['5m', 'P', 'PT', 'P1DT', 'P1H', '']) {
      expect(() => addIsoDuration(0, bad)).toThrow(TimerDefinitionError)
    }
  })
})

describe('scheduleTimeDuration', () => {
  test('a 6-month duration is due about 183 days ahead', () => {
    // given
    const now = at('2026-06-01T08:00:00Z')
    // when
    const schedule = scheduleTimeDuration('P6M', now)
    // then
    expect(iso(schedule.dueDate)).toBe('2026-12-01T08:00:00.000Z')
    expect((schedule.dueDate - now) / MS_PER_DAY).toBe(183)
    expect(schedule.repetitions).toBe(1)
  })

  test('an ISO string and a FEEL duration of either kind', () => {
    // given
    const now = at('2026-01-31T12:00:00Z')
    // when / then
    expect(iso(scheduleTimeDuration('PT5M', now).dueDate)).toBe('2026-01-31T12:05:00.000Z')
    expect(iso(scheduleTimeDuration(feel('duration("PT36H")'), now).dueDate)).toBe('2026-02-02T00:00:00.000Z')
    expect(iso(scheduleTimeDuration(feel('duration("P1Y2M")'), now).dueDate)).toBe('2027-03-31T12:00:00.000Z')
  })

  test('zero and negative durations are due now', () => {
    // given
    const now = at('2026-01-31T12:00:00Z')
    // when / then
    expect(scheduleTimeDuration('PT0S', now).dueDate).toBe(now)
    expect(scheduleTimeDuration('-PT1S', now).dueDate).toBe(now)
  })

  test('an invalid value names the value', () => {
    // when / then
    expect(() => scheduleTimeDuration('five minutes', 0)).toThrow(/'five minutes'/)
    expect(() => scheduleTimeDuration(42, 0)).toThrow(TimerDefinitionError)
  })
})

describe('scheduleTimeDate', () => {
  const now = at('2026-01-01T00:00:00Z')

  test('date-times with an offset, a zone id, or neither (UTC)', () => {
    // when / then
    expect(iso(scheduleTimeDate('2026-12-01T10:00:00Z', now).dueDate)).toBe('2026-12-01T10:00:00.000Z')
    expect(iso(scheduleTimeDate('2026-12-01T10:00:00+01:00', now).dueDate)).toBe('2026-12-01T09:00:00.000Z')
    expect(iso(scheduleTimeDate('2026-12-01T10:00:00[Europe/Paris]', now).dueDate)).toBe('2026-12-01T09:00:00.000Z')
    expect(iso(scheduleTimeDate('2026-07-01T10:00:00+02:00[Europe/Paris]', now).dueDate)).toBe('2026-07-01T08:00:00.000Z')
    expect(iso(scheduleTimeDate('2026-12-01T10:00:00', now).dueDate)).toBe('2026-12-01T10:00:00.000Z')
  })

  test('daylight-saving gaps and overlaps resolve as java.time does', () => {
    // when / then: 02:30 does not exist on 29 March in Paris, so it becomes 03:30 CEST
    expect(iso(scheduleTimeDate('2026-03-29T02:30:00[Europe/Paris]', now).dueDate)).toBe('2026-03-29T01:30:00.000Z')
    // 02:30 happens twice on 25 October: the earlier one
    expect(iso(scheduleTimeDate('2026-10-25T02:30:00[Europe/Paris]', now).dueDate)).toBe('2026-10-25T00:30:00.000Z')
  })

  test('a FEEL date and time', () => {
    // when / then
    expect(iso(scheduleTimeDate(feel('date and time("2026-12-01T10:00:00@Europe/Paris")'), now).dueDate))
      .toBe('2026-12-01T09:00:00.000Z')
  })

  test('a date in the past stays as given', () => {
    // when / then
    expect(iso(scheduleTimeDate('2020-01-01T00:00:00Z', now).dueDate)).toBe('2020-01-01T00:00:00.000Z')
  })

  test('an invalid date names the value', () => {
    // when / then
    expect(() => scheduleTimeDate('2026-13-01T10:00:00Z', now)).toThrow(/'2026-13-01T10:00:00Z'/)
    expect(() => scheduleTimeDate('2026-12-01T10:00:00[Mars/Olympus]', now)).toThrow(TimerDefinitionError)
    expect(() => scheduleTimeDate(feel('date("2026-12-01")'), now)).toThrow(TimerDefinitionError)
  })
})

describe('scheduleTimeCycle', () => {
  const now = at('2026-01-31T12:00:00Z')

  test('R<n>/<duration> and R/<duration> start at now + d', () => {
    // when
    const five = scheduleTimeCycle('R5/PT10S', now)
    const infinite = scheduleTimeCycle('R/PT1H', now)
    // then
    expect(five).toEqual({ dueDate: now + 10_000, repetitions: 5, interval: 'PT10S' })
    expect(infinite).toEqual({ dueDate: now + 3_600_000, repetitions: -1, interval: 'PT1H' })
  })

  test('a start in the future is the first due date', () => {
    // when
    const schedule = scheduleTimeCycle('R3/2026-12-01T10:00:00Z/P1D', now)
    // then
    expect(iso(schedule.dueDate)).toBe('2026-12-01T10:00:00.000Z')
    expect(schedule.repetitions).toBe(3)
  })

  test('a start in the past gives now + d (Zeebe 8.8)', () => {
    // when
    const schedule = scheduleTimeCycle('R3/2025-12-01T10:00:00Z/P1D', now)
    // then
    expect(iso(schedule.dueDate)).toBe('2026-02-01T12:00:00.000Z')
  })

  test('R0 fires once', () => {
    // when
    const schedule = scheduleTimeCycle('R0/PT1H', now)
    // then
    expect(schedule.repetitions).toBe(1)
    expect(nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)).toBeUndefined()
  })

  test('a cron expression fires at its next instant, forever', () => {
    // given Saturday 31 January 2026, noon
    // when
    const weekdays = scheduleTimeCycle('0 0 9 * * MON-FRI', now)
    // then Monday 9:00
    expect(iso(weekdays.dueDate)).toBe('2026-02-02T09:00:00.000Z')
    expect(weekdays.repetitions).toBe(-1)
    expect(weekdays.cron).toBe('0 0 9 * * MON-FRI')
  })

  test('cron steps, lists, names, L, # and macros', () => {
    // when / then
    const next = (cron: string) => iso(scheduleTimeCycle(cron, now).dueDate)
    expect(next('*/15 * * * * *')).toBe('2026-01-31T12:00:15.000Z')
    expect(next('0 30 8,17 * * ?')).toBe('2026-01-31T17:30:00.000Z')
    expect(next('0 0 0 1 MAR-MAY *')).toBe('2026-03-01T00:00:00.000Z')
    expect(next('0 0 0 L * *')).toBe('2026-02-28T00:00:00.000Z')
    expect(next('0 0 0 * * FRI#2')).toBe('2026-02-13T00:00:00.000Z')
    expect(next('0 0 0 * * 5L')).toBe('2026-02-27T00:00:00.000Z')
    expect(next('0 0 0 13 * FRI')).toBe('2026-02-13T00:00:00.000Z')
    expect(next('0 0 10 * * 0')).toBe('2026-02-01T10:00:00.000Z')
    expect(next('0 0 10 * * 7')).toBe('2026-02-01T10:00:00.000Z')
    expect(next('@daily')).toBe('2026-02-01T00:00:00.000Z')
  })

  test('invalid cycles name the value', () => {
    // when / then
    expect(() => scheduleTimeCycle('PT1H', now)).toThrow(/'PT1H'/)
    expect(() => scheduleTimeCycle('R5', now)).toThrow(TimerDefinitionError)
    expect(() => scheduleTimeCycle('Rx/PT1H', now)).toThrow(TimerDefinitionError)
    expect(() => scheduleTimeCycle('R5/1H', now)).toThrow(TimerDefinitionError)
    expect(() => scheduleTimeCycle('0 0 25 * * *', now)).toThrow(/'0 0 25 \* \* \*'/)
    expect(() => scheduleTimeCycle('0 0 9 * * FUNDAY', now)).toThrow(TimerDefinitionError)
    expect(() => scheduleTimeCycle('0 0 0 30 2 *', now)).toThrow(/never matches/)
    expect(() => scheduleTimeCycle(feel('duration("PT1H")'), now)).toThrow(TimerDefinitionError)
  })
})

describe('nextTimerSchedule', () => {
  const now = at('2026-01-31T12:00:00Z')

  test('the next fire is lastDue + interval, with one repetition fewer', () => {
    // given
    const schedule = scheduleTimeCycle('R3/PT10S', now)
    // when
    const next = nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate + 5)
    // then
    expect(next).toEqual({ dueDate: schedule.dueDate + 10_000, repetitions: 2, interval: 'PT10S' })
  })

  test('a large clock jump gives one catch-up fire, then now + interval', () => {
    // given a cycle whose first fire happens after the clock jumped an hour
    const schedule = scheduleTimeCycle('R/PT10S', now)
    const jumpedTo = now + 3_600_000
    // when
    const next = nextTimerSchedule(schedule, schedule.dueDate, jumpedTo)
    // then
    expect(next?.dueDate).toBe(jumpedTo + 10_000)
    expect(next?.repetitions).toBe(-1)
  })

  test('repetitions run out', () => {
    // given
    let schedule: ReturnType<typeof nextTimerSchedule> = scheduleTimeCycle('R2/PT1M', now)
    // when
    schedule = nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)
    const afterLast = schedule && nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)
    // then
    expect(schedule?.repetitions).toBe(1)
    expect(afterLast).toBeUndefined()
  })

  test('a duration or date timer does not repeat', () => {
    // given
    const schedule = scheduleTimeDuration('PT1M', now)
    // when / then
    expect(nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)).toBeUndefined()
  })

  test('a monthly cycle keeps calendar arithmetic', () => {
    // given
    const schedule = scheduleTimeCycle('R/2026-03-31T00:00:00Z/P1M', now)
    // when
    const next = nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)
    // then
    expect(iso(schedule.dueDate)).toBe('2026-03-31T00:00:00.000Z')
    expect(iso(next?.dueDate ?? 0)).toBe('2026-04-30T00:00:00.000Z')
  })

  test('cron fires next after the later of lastDue and now', () => {
    // given
    const schedule = scheduleTimeCycle('0 0 9 * * MON-FRI', now)
    // when
    const onTime = nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)
    const late = nextTimerSchedule(schedule, schedule.dueDate, at('2026-02-11T10:00:00Z'))
    // then
    expect(iso(onTime?.dueDate ?? 0)).toBe('2026-02-03T09:00:00.000Z')
    expect(iso(late?.dueDate ?? 0)).toBe('2026-02-12T09:00:00.000Z')
    expect(late?.repetitions).toBe(-1)
  })
})

describe('cycles that do not advance time (issue 14)', () => {
  const now = at('2026-01-31T12:00:00Z')

  test.each(['R/PT0S', 'R5/PT0S', 'R/P0D', 'R/-PT1S', 'R1/PT0.0001S', 'R/P1DT-24H', 'R/2030-01-01T00:00:00Z/PT0S'])(
    'scheduling %s throws, naming the cycle', (cycle) => {
      // when / then
      expect(() => scheduleTimeCycle(cycle, now)).toThrow(TimerDefinitionError)
      expect(() => scheduleTimeCycle(cycle, now)).toThrow(`Invalid timer cycle '${cycle}'`)
      expect(() => scheduleTimeCycle(cycle, now)).toThrow(/is not longer than zero/)
    })

  test('an interval with mixed signs is judged by its shortest possible length', () => {
    // when / then: a month is at least 28 days, so P1MT-671H always advances and P1MT-700H not
    expect(scheduleTimeCycle('R/P1MT-671H', now).repetitions).toBe(-1)
    expect(() => scheduleTimeCycle('R/P1MT-700H', now)).toThrow(TimerDefinitionError)
  })

  test('a stored schedule that would be due again at once is not re-armed', () => {
    // given schedules as a journal written before intervals were checked could hold them
    const zero = { dueDate: now, repetitions: -1, interval: 'PT0S' }
    const negative = { dueDate: now, repetitions: 5, interval: '-PT1M' }
    // when / then
    expect(nextTimerSchedule(zero, now, now)).toBeUndefined()
    expect(nextTimerSchedule(negative, now, now)).toBeUndefined()
    expect(nextTimerSchedule({ dueDate: now, repetitions: -1, interval: 'garbage' }, now, now)).toBeUndefined()
  })

  test('a cron whose next match is beyond the search window ends instead of throwing', () => {
    // given 29 February on a Monday: 2044, then 2072
    const schedule = scheduleTimeCycle('0 0 0 29 2 MON', at('2040-01-01T00:00:00Z'))
    expect(iso(schedule.dueDate)).toBe('2044-02-29T00:00:00.000Z')
    // when / then
    expect(nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)).toBeUndefined()
  })

  test('every repeating schedule moves strictly forward', () => {
    // given
    const cycles = ['R/PT1S', 'R/P1M', '0 * * * * *', '@hourly', 'R/PT0.001S']
    for (const cycle of cycles) {
      let schedule = scheduleTimeCycle(cycle, now)
      for (let fire = 0; fire < 50; fire++) {
        // when the timer fires exactly on time
        const next = nextTimerSchedule(schedule, schedule.dueDate, schedule.dueDate)
        // then
        expect(next?.dueDate).toBeGreaterThan(schedule.dueDate)
        schedule = next ?? schedule
      }
    }
  })
})
