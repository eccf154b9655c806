import { processor, terminateJob } from '../processor'

/** A Camunda user task (a user-task record), or a job-based one (a job of type io.camunda.zeebe:userTask). */
export const userTaskProcessor = processor({
  onActivate: (ctx, ei, el) => (el.isCamundaUserTask ? ctx.userTasks.create(ei, el) : ctx.jobs.createJob(ei, el)),
  // A Camunda user task's canceling listeners hold its termination (not a modification's, as in Zeebe).
  onTerminating: (ctx, ei, withListeners) => withListeners && ctx.userTasks.holdForCanceling(ei),
  onTerminate: (ctx, ei) => {
    terminateJob(ctx, ei)
    ctx.userTasks.cancelTaskOf(ei)
  },
  // A task listener's job could not be created (its type or retries failed to evaluate): the transition runs again.
  onIncidentResolved: (ctx, ei) => ctx.userTasks.retryTransition(ei),
})
