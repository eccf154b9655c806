import type { FlowElement } from '../../model/types'
import type { JsonValue, Key } from '../../state/records'
import type { ProcessingContext } from '../processing'
import { memo, type ElementInstance } from '../runtime-state'
import { assignPath } from '../variables'

/** Input and output mappings (engine-semantics §2.4-2.6). */
export class VariableMappingBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  applyInputs(ei: ElementInstance, el: FlowElement): void {
    if (el.inputs.length === 0) return
    const { expr, vars } = this.ctx
    for (const m of el.inputs) {
      const value = expr.json(m.source, this.ctx.visible(ei))
      const doc: Record<string, JsonValue> = {}
      assignPath(doc, m.target, value, (name) => vars.getLocal(ei.key, name))
      vars.setLocalDocument(ei.key, doc)
    }
  }

  /** The completion payload and output mappings of an element, written to its scope. */
  applyOutputs(ei: ElementInstance, el: FlowElement): void {
    const { expr, vars } = this.ctx
    const payload = ei.payload
    const isInner = el.multiInstance !== undefined
    if (el.outputs.length === 0) {
      if (payload && Object.keys(payload).length > 0) vars.merge(ei.key, payload)
      return
    }
    if (payload) vars.setLocalDocument(ei.key, payload)
    const result: Record<string, JsonValue> = {}
    // Nothing is written until every mapping is evaluated, so both views hold for the whole loop.
    const own = memo(() => vars.visible(ei.key))
    const outer = memo(() => vars.visible(ei.scopeKey as Key))
    for (const m of el.outputs) {
      const value = expr.json(m.source, () => ({ ...own(), ...result }))
      assignPath(result, m.target, value, (name) => outer()[name])
    }
    if (isInner) vars.merge(ei.key, result)
    else vars.merge(ei.scopeKey as Key, result)
  }
}
