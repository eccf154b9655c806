import type { FlowElement } from '../../../model/types'
import type { JsonValue } from '../../../state/records'
import type { MultiInstanceBodyProcessor, ProcessingContext } from '../../processing'
import { IncidentError } from '../../expressions'
import type { ElementInstance } from '../../runtime-state'
import { processor } from '../processor'

type MultiInstance = NonNullable<FlowElement['multiInstance']>
type BodyState = NonNullable<ElementInstance['mi']>

/** An output element that only names a variable (`=result`). */
const OUTPUT_VARIABLE = /^=?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/

function activateInner(ctx: ProcessingContext, body: ElementInstance): void {
  const el = body.element as FlowElement
  const mi = el.multiInstance as MultiInstance
  const state = body.mi as BodyState
  const index = state.next++
  state.active++
  const inner = ctx.flow.newElementInstance(body, el)
  inner.loopIndex = index
  // Zeebe makes a variable named by the output element a local variable of each inner instance
  // (null at first): a job or task that sets it writes it there, never to the enclosing scope.
  const outputVariable = mi.outputCollection ? OUTPUT_VARIABLE.exec(mi.outputElement ?? '')?.[1] : undefined
  if (outputVariable !== undefined) ctx.vars.setLocal(inner.key, outputVariable, null)
  if (mi.inputElement) ctx.vars.setLocal(inner.key, mi.inputElement, state.items[index])
  ctx.vars.setLocal(inner.key, 'loopCounter', index + 1)
  ctx.flow.runActivation(inner)
}

/** Evaluate the input collection, then start the inner instances (all at once, or the first of a sequence). */
function activateBody(ctx: ProcessingContext, body: ElementInstance, el: FlowElement): void {
  const mi = el.multiInstance as MultiInstance
  let items: JsonValue[]
  try {
    items = ctx.expr.array(mi.inputCollection, ctx.visible(body))
  } catch (e) {
    if (e instanceof IncidentError) return ctx.incidents.raise(body, e.errorType, e.message)
    throw e
  }
  body.mi = { total: items.length, active: 0, completed: 0, terminated: 0, next: 0, items }
  if (mi.outputCollection) ctx.vars.setLocal(body.key, mi.outputCollection, items.map(() => null))
  body.lifecycle = 'ACTIVATED'
  ctx.subscriptions.openBoundarySubscriptions(body, el)
  if (items.length === 0) return ctx.flow.complete(body)
  if (mi.isSequential) activateInner(ctx, body)
  else for (let i = 0; i < items.length; i++) activateInner(ctx, body)
}

/** The body of a multi-instance activity: it owns the inner instances and the activity's boundary events. */
export const multiInstanceBodyProcessor: MultiInstanceBodyProcessor = {
  ...processor({ onActivate: activateBody }),
  onComplete: (ctx, ei, el) => {
    const mi = el.multiInstance as MultiInstance
    if (!mi.outputCollection) return
    const scope = ctx.scopeOf(ei) as ElementInstance
    ctx.vars.merge(scope.key, { [mi.outputCollection]: ctx.vars.getLocal(ei.key, mi.outputCollection) ?? [] })
  },
  onIncidentResolved: (ctx, ei) => {
    if (!ei.mi) {
      activateBody(ctx, ei, ei.element as FlowElement)
      return true
    }
    // A failed completion condition: re-check by completing the body if nothing is left.
    if (ei.lifecycle === 'ACTIVATED' && ei.mi.active === 0) ctx.flow.complete(ei)
    return true
  },
  onInnerCompleted: (ctx, body, inner) => {
    const el = body.element as FlowElement
    const mi = el.multiInstance as MultiInstance
    const state = body.mi as BodyState
    state.active--
    state.completed++
    if (mi.outputCollection && mi.outputElement) {
      const value = ctx.expr.json(mi.outputElement, () => ctx.vars.visible(inner.key))
      const coll = [...((ctx.vars.getLocal(body.key, mi.outputCollection) as JsonValue[]) ?? [])]
      coll[inner.loopIndex ?? 0] = value
      ctx.vars.setLocal(body.key, mi.outputCollection, coll)
    }
    ctx.vars.dropScope(inner.key)
    if (mi.completionCondition) {
      const counters = { numberOfInstances: state.total, numberOfActiveInstances: state.active, numberOfCompletedInstances: state.completed, numberOfTerminatedInstances: state.terminated }
      let done: boolean
      try {
        done = ctx.expr.boolean(mi.completionCondition, () => ({ ...ctx.vars.visible(body.key), ...counters }))
      } catch (e) {
        if (e instanceof IncidentError) return ctx.incidents.raise(body, e.errorType, e.message)
        throw e
      }
      if (done) {
        for (const k of ctx.state.activeChildren.keys(body.key)) {
          ctx.flow.terminate(ctx.state.elements.get(k) as ElementInstance)
          state.terminated++
          state.active--
        }
        // The body completes once they are all gone (canceling listeners of their user tasks may hold that).
        return ctx.flow.whenChildrenTerminated(body, { k: 'complete' })
      }
    }
    if (mi.isSequential && state.next < state.total) return activateInner(ctx, body)
    if (state.active === 0 && state.next >= state.total) ctx.flow.complete(body)
  },
}
