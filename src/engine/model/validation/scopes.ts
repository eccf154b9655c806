/** Subprocesses and event subprocesses: their start events, and catch events their scope could not tell apart. */
import type { FlowElement } from '../types'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'
import { checkDuplicateCatchEvents } from './events'

export function checkSubProcess(ctx: ValidationContext, subProcess: FlowElement): void {
  const id = subProcess.id
  if (subProcess.adHoc) return checkAdHocSubProcess(ctx, subProcess, subProcess.adHoc)
  const starts = (subProcess.startEvents ?? []).map((startId) => ctx.element(startId))
  if (starts.length !== 1) ctx.problem(id, 'Must have exactly one start event')
  const start = starts[0]
  if (subProcess.triggeredByEvent === true) {
    if (subProcess.incoming.length > 0 || subProcess.outgoing.length > 0) {
      ctx.problem(id, 'Event subprocesses must not have incoming or outgoing sequence flows')
    }
    const kind = start?.event?.kind
    if (kind !== undefined && !['message', 'timer', 'error', 'escalation', 'signal'].includes(kind)) {
      ctx.problem(id, 'Start events in event subprocesses must be one of: message, timer, error, escalation, signal')
    }
  } else if (start?.event !== undefined && start.event.kind !== 'none') {
    ctx.problem(id, 'Start events in subprocesses must be of type none')
  }
  checkScopeEventSubProcesses(ctx, id, subProcess.eventSubProcesses ?? [])
}

/** The start events of a scope's event subprocesses must be distinguishable. */
export function checkScopeEventSubProcesses(ctx: ValidationContext, scopeId: string, eventSubProcesses: string[]): void {
  const starts = eventSubProcesses.flatMap((subId) => ctx.element(subId)?.startEvents ?? [])
  checkDuplicateCatchEvents(ctx, scopeId, starts)
}

/** An ad-hoc subprocess (Zeebe's AdHocSubProcessValidator): some activity inside, no start or end event. */
function checkAdHocSubProcess(ctx: ValidationContext, subProcess: FlowElement, adHoc: NonNullable<FlowElement['adHoc']>): void {
  const id = subProcess.id
  const children = (subProcess.children ?? []).map((childId) => ctx.element(childId))
  if (children.length === 0) ctx.problem(id, 'Must have at least one activity.')
  if (children.some((child) => child?.type === 'startEvent')) ctx.problem(id, 'Must not contain a start event.')
  if (children.some((child) => child?.type === 'endEvent')) ctx.problem(id, 'Must not contain an end event.')
  checkExpression(ctx, id, adHoc.activeElementsCollection, {})
  checkExpression(ctx, id, adHoc.completionCondition, {})
  checkExpression(ctx, id, adHoc.outputElement, {})
  // The job worker implementation (zeebe:taskDefinition): a job type, as on a service task.
  const definition = adHoc.taskDefinition
  if (definition !== undefined) {
    if (definition.type.trim() === '') ctx.problem(id, "Attribute 'type' must be present and not empty")
    else checkExpression(ctx, id, definition.type, {})
    checkExpression(ctx, id, definition.retries, {})
  }
}
