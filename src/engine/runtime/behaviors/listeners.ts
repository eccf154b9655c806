import type { ExecutionListener } from '../../model/types'
import type { JobRecord, VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { ElementInstance } from '../runtime-state'

/**
 * Execution listeners (Zeebe 8.8, docs: components/concepts/execution-listeners): jobs the
 * element's lifecycle waits for, one after the other in model order. Start listeners run after
 * the input mappings and before the element's own work (their variables become the element's
 * local variables); end listeners run after the output mappings and before the element leaves
 * (their variables go to its flow scope, as output mappings' do). A process's own listeners run
 * before its start element and after its end. A multi-instance activity's listeners run for each
 * inner instance.
 */
export class ExecutionListenerBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  private listenersOf(ei: ElementInstance, eventType: 'start' | 'end'): ExecutionListener[] {
    if (ei.isMiBody) return []
    const all = ei.type === 'PROCESS' ? this.ctx.model(ei).executionListeners : ei.element?.executionListeners
    return (all ?? []).filter((listener) => listener.eventType === eventType)
  }

  /** Starts the listeners of `eventType` from the first: true when one now waits for its job. */
  begin(ei: ElementInstance, eventType: 'start' | 'end', flows?: string[]): boolean {
    const listeners = this.listenersOf(ei, eventType)
    if (listeners.length === 0) return false
    ei.listener = { eventType, index: 0, ...(flows ? { flows } : {}) }
    this.ctx.jobs.createListenerJob(ei, listeners[0], ei.elementId)
    return true
  }

  /** A listener's job completed: its variables are kept, then the next listener, or the lifecycle goes on. */
  onJobCompleted(ei: ElementInstance, job: JobRecord, variables: VariableDocument | undefined): void {
    const ctx = this.ctx
    const state = ei.listener
    ctx.jobs.remove(job)
    ei.jobKey = undefined
    if (!state) return
    if (variables && Object.keys(variables).length > 0) {
      if (state.eventType === 'start' || ei.type === 'PROCESS') ctx.vars.setLocalDocument(ei.key, variables)
      else ctx.vars.merge(ei.scopeKey ?? ei.key, variables)
    }
    const listeners = this.listenersOf(ei, state.eventType)
    state.index++
    if (state.index < listeners.length) {
      ctx.incidents.guard(ei, () => ctx.jobs.createListenerJob(ei, listeners[state.index], ei.elementId))
      return
    }
    ei.listener = undefined
    if (ei.type === 'PROCESS') {
      if (state.eventType === 'start') ctx.instances.continueStart(ei)
      else ctx.instances.finishCompletion(ei)
      return
    }
    if (state.eventType === 'start') ctx.flow.continueActivation(ei)
    else ctx.flow.finishCompletion(ei, state.flows ?? [])
  }

  /** An incident of a process's own listener was resolved: its listeners of that event type run again from the first. */
  retryProcess(root: ElementInstance): void {
    const eventType = root.lifecycle === 'COMPLETING' ? 'end' : 'start'
    this.ctx.incidents.guard(root, () => {
      if (this.begin(root, eventType)) return
      if (eventType === 'start') this.ctx.instances.continueStart(root)
      else this.ctx.instances.finishCompletion(root)
    })
  }
}
