import type { IncidentErrorType, IncidentRecord, Key } from '../../state/records'
import type { Command } from '../commands'
import type { ProcessingContext } from '../processing'
import { IncidentError } from '../expressions'
import { KEY_BASE, type ElementInstance } from '../runtime-state'

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

  /**
   * Replaying a journaled command failed (not a rejection: an error inside the engine). The
   * recovery goes on; the element instance the command worked on, or the one it names, gets an
   * incident of type UNKNOWN: Zeebe's type for a failure that fits no other, and the one
   * operators see for an instance its stream processor could not process. Steps the command
   * left on the work stack for that instance are dropped: they would meet the same state.
   */
  pinFailedCommand(entry: Command, error: unknown, keyCounterBefore: number): { processInstanceKey?: Key; incidentKey?: Key } {
    const ctx = this.ctx
    const target = this.affectedBy(entry, keyCounterBefore)
    if (!target) return {}
    const work = ctx.state.work
    let kept = 0
    for (const item of work) {
      if (item.k !== 'due' && ctx.state.elements.get(item.scope)?.processInstanceKey === target.processInstanceKey) continue
      work[kept++] = item
    }
    work.length = kept
    const message = error instanceof Error ? error.message : String(error)
    this.raise(target, 'UNKNOWN', `Expected to replay the journaled command '${entry.c}' on recovery, but it failed: ${message}`)
    return { processInstanceKey: target.processInstanceKey, incidentKey: target.incidentKey }
  }

  /** The element instance a failed command worked on last, else the one it names, else an instance it created. */
  private affectedBy(entry: Command, keyCounterBefore: number): ElementInstance | undefined {
    const { elements, instances, jobs, userTasks, incidents } = this.ctx.state
    let found = this.ctx.current
    if (!found && 'k' in entry) {
      const k = entry.k
      const named = jobs.get(k)?.elementInstanceKey ?? userTasks.get(k)?.elementInstanceKey ?? incidents.get(k)?.elementInstanceKey ?? k
      found = elements.get(named)
    }
    if (!found) {
      for (const inst of instances.values()) {
        if (Number(inst.key) - KEY_BASE > keyCounterBefore) { found = elements.get(inst.key); break }
      }
    }
    if (!found) return undefined
    if (found.lifecycle !== 'COMPLETED' && found.lifecycle !== 'TERMINATED') return found
    // The element is gone: the incident goes on its process instance, if that still runs.
    const inst = instances.get(found.processInstanceKey)
    return inst?.state === 'ACTIVE' ? elements.get(inst.key) : undefined
  }

  /** Continue an element whose (non-job) incident was resolved, where it stopped. */
  retry(ei: ElementInstance): void {
    const ctx = this.ctx
    if (ei.type === 'PROCESS') return ctx.listeners.retryProcess(ei)
    if (ei.element && ctx.processorOf(ei).onIncidentResolved?.(ctx, ei)) return
    if (ei.lifecycle === 'ACTIVATING') return ctx.flow.runActivation(ei)
    if (ei.lifecycle === 'COMPLETING') return ctx.flow.complete(ei)
  }
}
