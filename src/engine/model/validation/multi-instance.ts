/** Loop characteristics: Zeebe runs multi-instance only, driven by zeebe:loopCharacteristics. */
import { body, extensions, localName, ref, str, trimmed, type ModdleElement } from '../moddle'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'

export function checkMultiInstance(ctx: ValidationContext, item: ModdleElement, id: string): void {
  const loop = ref(item, 'loopCharacteristics')
  if (loop === undefined) return
  if (loop.$type !== 'bpmn:MultiInstanceLoopCharacteristics') {
    ctx.problem(id, `Elements of type '${localName(loop.$type)}' are currently not supported`)
    return
  }
  const zeebeLoop = extensions(loop, 'zeebe:LoopCharacteristics')
  if (zeebeLoop.length !== 1) ctx.problem(id, "Must have exactly one 'zeebe:loopCharacteristics' extension element")
  if (zeebeLoop.length === 1) checkExpression(ctx, id, trimmed(str(zeebeLoop[0], 'inputCollection')), { mandatory: true, nonStatic: true })
  checkExpression(ctx, id, trimmed(str(zeebeLoop[0], 'outputElement')), { nonStatic: true })
  checkExpression(ctx, id, body(ref(loop, 'completionCondition')), {})
}
