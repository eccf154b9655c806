import { processor, terminateJob } from '../processor'

/** A job for a worker; it completes when the job does. */
export const serviceTaskProcessor = processor({
  onActivate: (ctx, ei, el) => ctx.jobs.createJob(ei, el),
  onTerminate: terminateJob,
})
