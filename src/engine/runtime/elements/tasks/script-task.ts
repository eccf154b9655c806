import { feelToJson } from '../../../feel'
import { processor, terminateJob } from '../processor'

/** A FEEL script sets its result variable at once; without one, the script is a job for a worker. */
export const scriptTaskProcessor = processor({
  onActivate: (ctx, ei, el) => {
    if (!el.script) return ctx.jobs.createJob(ei, el)
    const value = ctx.expr.raw(el.script.expression, ctx.visible(ei))
    ei.payload = { [el.script.resultVariable]: feelToJson(value) }
    ctx.flow.complete(ei)
  },
  onTerminate: terminateJob,
})
