import { processor, terminateJob } from '../processor'

/** Zeebe runs a send task as a job worker task. */
export const sendTaskProcessor = processor({
  onActivate: (ctx, ei, el) => ctx.jobs.createJob(ei, el),
  onTerminate: terminateJob,
})
