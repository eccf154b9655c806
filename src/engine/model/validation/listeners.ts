/**
 * Execution listeners (Zeebe 8.8's rules, worded as its model validation words them): a job type
 * each, no two with the same event type and job type, and not where the element cannot run them
 * (a start listener on a start or boundary event, an end listener on a gateway, an error end event
 * or an escalation throw event).
 */
import type { ExecutionListener, FlowElement, TaskListenerEvent } from '../types'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'

export function checkExecutionListeners(ctx: ValidationContext, id: string, listeners: ExecutionListener[], element?: FlowElement): void {
  if (listeners.length === 0) return
  const groups = new Map<string, ExecutionListener[]>()
  for (const listener of listeners) {
    if (listener.eventType !== 'start' && listener.eventType !== 'end') {
      ctx.problem(id, `Execution listener event type '${String(listener.eventType)}' is not supported: expected 'start' or 'end'`)
      continue
    }
    if (listener.type === '') ctx.problem(id, "Attribute 'type' must be present and not empty")
    else checkExpression(ctx, id, listener.type, {})
    checkExpression(ctx, id, listener.retries, {})
    const key = `${listener.eventType}|${listener.type}`
    groups.set(key, [...(groups.get(key) ?? []), listener])
  }
  for (const group of groups.values()) {
    if (group.length > 1) ctx.problem(id, `Found '${group.length}' duplicates based on eventType[${group[0].eventType}] and type[${group[0].type}], these combinations should be unique.`)
  }
  if (element === undefined) return
  const has = (eventType: 'start' | 'end') => listeners.some((l) => l.eventType === eventType)
  if (has('start') && element.type === 'startEvent') ctx.problem(id, "Execution listeners of type 'start' are not supported by start events")
  if (has('start') && element.type === 'boundaryEvent') ctx.problem(id, "Execution listeners of type 'start' are not supported by boundary events")
  if (has('end') && element.type.endsWith('Gateway')) ctx.problem(id, "Execution listeners of type 'end' are not supported by gateway element")
  if (has('end') && element.type === 'endEvent' && element.event?.kind === 'error') ctx.problem(id, "Execution listeners of type 'end' are not supported by [error] end events")
  if (has('end') && element.type === 'intermediateThrowEvent' && element.event?.kind === 'escalation') {
    ctx.problem(id, "Execution listeners of type 'end' are not supported by [escalation] intermediate throw events")
  }
}

const TASK_EVENTS: TaskListenerEvent[] = ['creating', 'assigning', 'updating', 'completing', 'canceling']

/**
 * User task listeners (Zeebe 8.8's TaskListenersValidator and TaskListenerValidator): only on a
 * Camunda user task, each with a known event type and a job type.
 */
export function checkTaskListeners(ctx: ValidationContext, element: FlowElement): void {
  const listeners = element.taskListeners ?? []
  if (listeners.length === 0) return
  if (!element.isCamundaUserTask) {
    ctx.problem(element.id, 'Task listeners are only allowed on Camunda user tasks.')
    return
  }
  for (const listener of listeners) {
    if (String(listener.eventType) === '') ctx.problem(element.id, "Attribute 'eventType' must be present and not empty")
    else if (!TASK_EVENTS.includes(listener.eventType)) {
      ctx.problem(element.id, `Task listener event type '${String(listener.eventType)}' is not supported. Currently, only '${TASK_EVENTS.join("', '")}' event types and 'create', 'assignment', 'update', 'complete', 'cancel' deprecated event types are supported.`)
    }
    if (listener.type === '') ctx.problem(element.id, "Attribute 'type' must be present and not empty")
    else checkExpression(ctx, element.id, listener.type, {})
    checkExpression(ctx, element.id, listener.retries, {})
  }
}
