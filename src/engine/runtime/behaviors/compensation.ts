import type { FlowElement } from '../../model/types'
import type { Key } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { ElementInstance } from '../runtime-state'

/**
 * Compensation (Zeebe 8.8, docs: components/modeler/bpmn/compensation-handler and
 * compensation events): an activity with a compensation boundary event that completes leaves a
 * subscription; a compensation throw event (intermediate or end) activates the handler of every
 * completed activity of its scope (its own, or the one an event subprocess sits in), of the
 * subprocesses completed in it too, or only of its activityRef, and waits until they all
 * complete. A handler runs once per completed activity instance.
 */
export class CompensationBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  /** An activity with a compensation handler completed: it can be compensated from now on. */
  subscribe(ei: ElementInstance, el: FlowElement): void {
    if (el.compensationHandler === undefined || ei.isMiBody) return
    const scope = this.ctx.scopeOf(ei) as ElementInstance
    const flowScope = scope.isMiBody ? (this.ctx.scopeOf(scope) as ElementInstance) : scope
    const key = this.ctx.nextKey()
    this.ctx.state.compensations.set(key, {
      key, processInstanceKey: ei.processInstanceKey, flowScopeKey: flowScope.key, activityId: el.id, handlerId: el.compensationHandler,
    })
  }

  /** A compensation throw event: true when handlers were started and the event waits for them. */
  throw(ei: ElementInstance, activityRef: string | undefined): boolean {
    const ctx = this.ctx
    let scope = ctx.scopeOf(ei) as ElementInstance
    if (scope.element?.triggeredByEvent) scope = ctx.scopeOf(scope) as ElementInstance
    const chosen = [...ctx.state.compensations.values()]
      .filter((s) => s.processInstanceKey === ei.processInstanceKey && this.within(s.flowScopeKey, scope.key))
      .filter((s) => activityRef === undefined || s.activityId === activityRef || this.insideInstanceOf(s.flowScopeKey, activityRef, scope.key))
      .reverse()
    if (chosen.length === 0) return false
    const model = ctx.model(ei)
    ei.lifecycle = 'ACTIVATED'
    ei.compensating = chosen.length
    for (const subscription of chosen) {
      ctx.state.compensations.delete(subscription.key)
      const handler = model.elements.get(subscription.handlerId) as FlowElement
      const own = ctx.state.elements.get(subscription.flowScopeKey)
      const target = own && own.lifecycle === 'ACTIVATED' ? own : scope
      const handlerInstance = ctx.flow.newElementInstance(target, handler)
      handlerInstance.compensationOf = ei.key
      ctx.flow.runActivation(handlerInstance)
    }
    return true
  }

  /** A handler completed: the throw event that started it goes on once its last handler is done. */
  handlerCompleted(handler: ElementInstance): void {
    const thrower = handler.compensationOf !== undefined ? this.ctx.state.elements.get(handler.compensationOf) : undefined
    if (!thrower || thrower.lifecycle !== 'ACTIVATED' || thrower.compensating === undefined) return
    thrower.compensating--
    if (thrower.compensating > 0) return
    thrower.compensating = undefined
    this.ctx.flow.complete(thrower)
  }

  /** The process instance ended: what it could have compensated goes with it. */
  dropOf(processInstanceKey: Key): void {
    for (const [key, s] of this.ctx.state.compensations) if (s.processInstanceKey === processInstanceKey) this.ctx.state.compensations.delete(key)
  }

  /** Is `key` the scope instance `ancestor`, or an instance below it? */
  private within(key: Key, ancestor: Key): boolean {
    for (let cur = this.ctx.state.elements.get(key); cur; cur = cur.scopeKey ? this.ctx.state.elements.get(cur.scopeKey) : undefined) {
      if (cur.key === ancestor) return true
    }
    return false
  }

  /** Does the subscription's scope lie in an instance of `activityId` (a subprocess), below `ancestor`? */
  private insideInstanceOf(key: Key, activityId: string, ancestor: Key): boolean {
    for (let cur = this.ctx.state.elements.get(key); cur && cur.key !== ancestor; cur = cur.scopeKey ? this.ctx.state.elements.get(cur.scopeKey) : undefined) {
      if (cur.elementId === activityId) return true
    }
    return false
  }
}
