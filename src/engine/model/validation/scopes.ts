/** Subprocesses and event subprocesses: their start events, and catch events their scope could not tell apart. */
import type { FlowElement } from '../types'
import type { ValidationContext } from './context'
import { checkDuplicateCatchEvents } from './events'

export function checkSubProcess(ctx: ValidationContext, subProcess: FlowElement): void {
  const id = subProcess.id
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
