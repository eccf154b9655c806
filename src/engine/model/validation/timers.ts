/** Timer event definitions: one kind of timer, allowed where the event sits, a value that can fire. */
import { timerKinds, type EventPosition, type TimerType } from '../bpmn-reader'
import { CronError, parseCron } from '../cron'
import { isZonedDateTime, nonAdvancingInterval, parseIsoDuration, parseRepeatingInterval } from '../iso8601'
import type { ModdleElement } from '../moddle'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'

export function checkTimer(ctx: ValidationContext, definition: ModdleElement, id: string, position: EventPosition, interrupting: boolean): void {
  const kinds = timerKinds(definition)
  if (kinds.length !== 1) {
    ctx.problem(id, 'Must be exactly one type of timer: timeDuration, timeDate or timeCycle')
    if (kinds.length === 0) return
  }
  const { timerType, expression } = kinds[0]
  if (position === 'processStart' && timerType === 'timeDuration') {
    ctx.problem(id, 'Timer start events must have a time date or a time cycle')
  } else if (position === 'intermediateCatchEvent' && timerType === 'timeCycle') {
    ctx.problem(id, 'Intermediate timer catch events must have a time duration or a time date')
  } else if (interrupting && timerType === 'timeCycle' && (position === 'boundaryEvent' || position === 'eventSubProcessStart')) {
    ctx.problem(id, 'Interrupting timer event with time cycle is not allowed.')
  }
  checkExpression(ctx, id, expression, { mandatory: true })
  const problem = expression.startsWith('=') ? undefined : staticTimerProblem(timerType, expression)
  if (problem !== undefined) ctx.problem(id, problem)
}

/**
 * Why a static timer value is invalid, or undefined when it is valid. Durations follow Zeebe's
 * Interval.parse: a zero or negative duration is legal and due at once (Interval.toEpochMilli adds
 * it to now). A cycle whose interval does not advance has no Zeebe rule but would fire again in the
 * same instant without end, so it is refused here as the runtime refuses it (timer-schedule.ts).
 */
export function staticTimerProblem(timerType: TimerType, value: string): string | undefined {
  const invalid = `Invalid ${timerType} '${value}'`
  if (timerType === 'timeDuration') return parseIsoDuration(value) === undefined ? invalid : undefined
  if (timerType === 'timeDate') return isZonedDateTime(value) ? undefined : invalid
  if (!value.startsWith('R')) return cronProblem(value, invalid)
  const cycle = parseRepeatingInterval(value)
  if (!cycle.ok || (cycle.value.start !== undefined && !isZonedDateTime(cycle.value.start))) return invalid
  const endless = nonAdvancingInterval(cycle.value.interval, cycle.value.duration)
  return endless === undefined ? undefined : `${invalid}: ${endless}`
}

/**
 * Spring cron: six fields, seconds first, or a macro such as @daily. Only the syntax is checked, as
 * Zeebe does with Spring's CronExpression.parse: "0 0 0 30 2 *" parses, and fails when scheduled.
 */
function cronProblem(value: string, invalid: string): string | undefined {
  if (!value.startsWith('@') && value.split(/\s+/).length !== 6) return invalid
  try {
    parseCron(value)
    return undefined
  } catch (error) {
    if (error instanceof CronError) return `${invalid}: ${error.reason}`
    throw error
  }
}
