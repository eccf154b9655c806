import type { IncidentErrorType, IncidentRecord, Key } from '../../state/records'
import type { ProcessingContext } from '../context'
import { IncidentError } from '../expressions'
import type { ElementInstance } from '../runtime-state'

/** Incidents: raised where an element cannot go on, resolved when it is retried or leaves. */
export class IncidentBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  raise(ei: ElementInstance, errorType: IncidentErrorType, errorMessage: string, jobKey?: Key): void {
    const ctx = this.ctx
    const inc: IncidentRecord = {
      key: ctx.nextKey(), errorType, errorMessage, state: 'ACTIVE', creationTime: ctx.now(), elementId: ei.elementId,
      elementInstanceKey: ei.key, processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey,
      bpmnProcessId: ei.bpmnProcessId, jobKey, tenantId: ei.tenantId,
    }
    ctx.state.incidents.set(inc.key, inc)
    ei.incidentKey = inc.key
  }

  /** Run a step of `ei`; an IncidentError parks it with an incident. False when it did. */
  guard(ei: ElementInstance, step: () => void): boolean {
    try {
      step()
      return true
    } catch (e) {
      if (!(e instanceof IncidentError)) throw e
      this.raise(ei, e.errorType, e.message)
      return false
    }
  }

  /** The element leaves: its incident is resolved (resolved incidents stay, as in Camunda's search). */
  resolveOf(ei: ElementInstance): void {
    if (!ei.incidentKey) return
    const inc = this.ctx.state.incidents.get(ei.incidentKey)
    if (inc) inc.state = 'RESOLVED'
    ei.incidentKey = undefined
  }

  /** Continue an element whose (non-job) incident was resolved, where it stopped. */
  retry(ei: ElementInstance): void {
    const ctx = this.ctx
    if (ei.element && ctx.processorOf(ei).onIncidentResolved?.(ctx, ei)) return
    if (ei.lifecycle === 'ACTIVATING') return ctx.flow.runActivation(ei)
    if (ei.lifecycle === 'COMPLETING') return ctx.flow.complete(ei)
  }
}
