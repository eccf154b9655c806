import type { ElementType, FlowElement } from '../../model/types'
import type { VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../context'
import type { ElementInstance } from '../runtime-state'

/**
 * What one kind of element does at each step of its lifecycle (Zeebe's BpmnElementProcessor).
 * The generic steps (input and output mappings, taking flows, closing subscriptions) are the
 * flow behaviour's; a processor adds only what its kind does differently.
 */
export interface ElementProcessor {
  /** After the input mappings: complete at once, or open what the element waits for. */
  onActivate(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void
  /** When completing, before leaving: the element's output (output mappings for most kinds). */
  onComplete(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement): void
  /** Kind-specific clean-up when the instance is terminated (its job, user task, child instance). */
  onTerminate(ctx: ProcessingContext, ei: ElementInstance): void
  /** An event the element itself waits on occurred; by default the element completes with its payload. */
  onEventOccurred?(ctx: ProcessingContext, ei: ElementInstance, catchEl: FlowElement, payload: VariableDocument): void
  /** Its incident was resolved: true when the processor continued the element itself. */
  onIncidentResolved?(ctx: ProcessingContext, ei: ElementInstance): boolean
}

export type ElementProcessors = Record<ElementType, ElementProcessor>

/** A processor with the common defaults: output mappings on completion, nothing extra to terminate. */
export function processor(spec: Pick<ElementProcessor, 'onActivate'> & Partial<ElementProcessor>): ElementProcessor {
  return {
    onComplete: (ctx, ei, el) => ctx.mappings.applyOutputs(ei, el),
    onTerminate: () => undefined,
    ...spec,
  }
}

/** Elements that may hold a job (job workers, message throw events) drop it when terminated. */
export function terminateJob(ctx: ProcessingContext, ei: ElementInstance): void {
  ctx.jobs.cancelJobOf(ei)
}
