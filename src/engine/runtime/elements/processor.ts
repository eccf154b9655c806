import type { ElementProcessor, ProcessingContext } from '../processing'
import type { ElementInstance } from '../runtime-state'

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
