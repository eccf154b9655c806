import { EngineError, type ActivatedJob, type JobStream } from '../../api'
import type { ExecutionListener, FlowElement, TaskListener } from '../../model/types'
import type { JobRecord, Key, VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import { IncidentError } from '../expressions'
import { memo, type ElementInstance, type InstanceRuntime } from '../runtime-state'
import { unhandledErrorMessage } from './propagation'

const USER_TASK_JOB_TYPE = 'io.camunda.zeebe:userTask'
/** While the store cannot make a pushed activation durable, it is tried again this often. */
const PUSH_RETRY_MS = 500

/**
 * Jobs: created by job worker elements, handed out by polls (ActivateJobs, with long-poll
 * listeners) or pushed to job streams, timed out, failed with back-off, completed.
 */
export class JobBehavior {
  private readonly listeners = new Map<string, Set<() => void>>()
  private readonly streams = new Map<string, JobStream[]>()
  private readonly pendingTypes = new Set<string>()
  private notifyScheduled = false
  private pendingPushes: { stream: JobStream; job: ActivatedJob }[] = []
  private pushScheduled = false
  /** pushes to streams that hold them until committed, handed over once the command has run */
  private heldPushes: { stream: JobStream; job: ActivatedJob }[] = []

  constructor(private readonly ctx: ProcessingContext) {}

  createJob(ei: ElementInstance, el: FlowElement): void {
    const ctx = this.ctx
    const vars = memo(ctx.visible(ei))
    let type: string
    let retries = 3
    const headers = { ...el.headers }
    if (el.taskDefinition) {
      type = ctx.expr.string(el.taskDefinition.type, vars)
      retries = ctx.expr.number(el.taskDefinition.retries, vars)
    } else if (el.type === 'userTask') {
      type = USER_TASK_JOB_TYPE
      const ut = el.userTask ?? {}
      const put = (name: string, value: string | undefined) => { if (value !== undefined && value !== '') headers[`io.camunda.zeebe:${name}`] = value }
      put('assignee', ctx.expr.optionalString(ut.assignee, vars))
      const groups = ctx.expr.stringList(ut.candidateGroups, vars)
      if (groups.length) put('candidateGroups', JSON.stringify(groups))
      const users = ctx.expr.stringList(ut.candidateUsers, vars)
      if (users.length) put('candidateUsers', JSON.stringify(users))
      put('dueDate', ctx.userTasks.dateOption(ut.dueDate, vars))
      put('followUpDate', ctx.userTasks.dateOption(ut.followUpDate, vars))
      if (ut.formId) put('formKey', ut.formId)
    } else {
      throw new IncidentError('EXTRACT_VALUE_ERROR', `Element '${el.id}' has no job type`)
    }
    this.addJob(ei, { type, retries, customHeaders: headers, elementId: el.id })
    ei.lifecycle = 'ACTIVATED'
    ctx.subscriptions.openBoundarySubscriptions(ei, el)
  }

  /**
   * The job of an ad-hoc subprocess with a job worker implementation: created on entering it and
   * again each time one of its inner flows completes, one at a time (a job still open is replaced).
   */
  createAdHocJob(ei: ElementInstance, el: FlowElement): void {
    const definition = el.adHoc?.taskDefinition
    if (!definition) return
    this.cancelJobOf(ei)
    const vars = memo(this.ctx.visible(ei))
    const type = this.ctx.expr.string(definition.type, vars)
    const retries = this.ctx.expr.number(definition.retries, vars)
    this.addJob(ei, { type, retries, customHeaders: { ...el.headers }, elementId: el.id, kind: 'AD_HOC_SUB_PROCESS' })
  }

  private addJob(ei: ElementInstance, fields: Pick<JobRecord, 'type' | 'retries' | 'customHeaders' | 'elementId' | 'kind' | 'listenerEventType'>): void {
    const ctx = this.ctx
    const inst = ctx.state.instances.get(ei.processInstanceKey) as InstanceRuntime
    const job: JobRecord = {
      key: ctx.nextKey(), state: 'ACTIVATABLE', ...fields,
      elementInstanceKey: ei.key, processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey,
      bpmnProcessId: ei.bpmnProcessId, processDefinitionVersion: inst.version, tenantId: ei.tenantId, createdAt: ctx.now(),
    }
    ctx.state.jobs.set(job.key, job)
    ei.jobKey = job.key
    this.makeActivatable(job)
  }

  /** The job of an execution listener of `ei` (the process instance for a process's own listeners). */
  createListenerJob(ei: ElementInstance, listener: ExecutionListener, elementId: string): void {
    const ctx = this.ctx
    const vars = memo(ctx.visible(ei))
    const type = ctx.expr.string(listener.type, vars)
    const retries = ctx.expr.number(listener.retries, vars)
    this.addJob(ei, {
      type, retries, customHeaders: { ...(ei.element?.headers ?? {}) }, elementId,
      kind: 'EXECUTION_LISTENER', listenerEventType: listener.eventType === 'start' ? 'START' : 'END',
    })
  }

  /** The job of a user task listener: the task's headers and attributes, as Zeebe gives them. */
  createTaskListenerJob(ei: ElementInstance, listener: TaskListener, headers: Record<string, string>): void {
    const vars = memo(this.ctx.visible(ei))
    const type = this.ctx.expr.string(listener.type, vars)
    const retries = this.ctx.expr.number(listener.retries, vars)
    this.addJob(ei, {
      type, retries, customHeaders: headers, elementId: ei.elementId,
      kind: 'TASK_LISTENER', listenerEventType: listener.eventType.toUpperCase() as JobRecord['listenerEventType'],
    })
  }

  /** The element holding the job is terminated: the job goes with it. */
  cancelJobOf(ei: ElementInstance): void {
    if (!ei.jobKey) return
    const job = this.ctx.state.jobs.get(ei.jobKey)
    if (job) this.remove(job)
  }

  makeActivatable(job: JobRecord): void {
    const ctx = this.ctx
    job.state = 'ACTIVATABLE'
    job.deadline = undefined
    job.worker = undefined
    if (job.recurAt !== undefined && job.recurAt > ctx.now()) {
      ctx.state.due.push(job.recurAt, 'job-backoff', job.key)
      ctx.timers.armWake()
      return
    }
    job.recurAt = undefined
    const streams = this.streams.get(job.type)
    if (streams && streams.length > 0) {
      for (let i = 0; i < streams.length; i++) {
        const stream = streams[0]
        streams.push(streams.shift() as JobStream)
        if (stream.tenantIds && stream.tenantIds.length > 0 && !stream.tenantIds.includes(job.tenantId)) continue
        this.pushToStream(stream, job)
        return
      }
    }
    ctx.state.activatable.add(job.type, job.key)
    this.pendingTypes.add(job.type)
    this.scheduleNotify()
  }

  remove(job: JobRecord): void {
    this.ctx.state.jobs.delete(job.key)
    this.ctx.state.activatable.remove(job.type, job.key)
  }

  /** Activate a job for a worker: its deadline is due-queued, the activation journaled. */
  activate(job: JobRecord, worker: string, timeout: number, fetch?: string[]): ActivatedJob {
    const activated = this.activateQuietly(job, worker, timeout, fetch)
    this.ctx.runner.append({ c: 'act', k: job.key, w: worker, t: timeout })
    return activated
  }

  /** The activation itself, as replay re-applies it. */
  activateQuietly(job: JobRecord, worker: string, timeout: number, fetch?: string[]): ActivatedJob {
    const ctx = this.ctx
    job.state = 'ACTIVATED'
    job.worker = worker
    job.deadline = ctx.now() + timeout
    ctx.state.activatable.remove(job.type, job.key)
    ctx.state.due.push(job.deadline, 'job-deadline', job.key)
    ctx.timers.armWake()
    const variables = fetch && fetch.length > 0
      ? ctx.vars.visibleNamed(job.elementInstanceKey, fetch)
      : ctx.vars.visible(job.elementInstanceKey)
    return {
      key: job.key, type: job.type, processInstanceKey: job.processInstanceKey, bpmnProcessId: job.bpmnProcessId,
      processDefinitionVersion: job.processDefinitionVersion, processDefinitionKey: job.processDefinitionKey,
      elementId: job.elementId, elementInstanceKey: job.elementInstanceKey, customHeaders: job.customHeaders,
      worker, retries: job.retries, deadline: job.deadline, variables, tenantId: job.tenantId,
      ...(job.kind ? { kind: job.kind, listenerEventType: job.listenerEventType } : {}),
    }
  }

  /** A failure: retries left make it activatable again (after its back-off), none raise an incident. */
  fail(job: JobRecord, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void {
    const ctx = this.ctx
    if (variables && Object.keys(variables).length > 0) ctx.vars.setLocalDocument(job.elementInstanceKey, variables)
    job.retries = retries
    job.errorMessage = errorMessage
    ctx.state.activatable.remove(job.type, job.key)
    if (retries > 0) {
      job.recurAt = retryBackOff > 0 ? ctx.now() + retryBackOff : undefined
      this.makeActivatable(job)
      return
    }
    job.state = 'FAILED'
    job.deadline = undefined
    const ei = ctx.state.elements.get(job.elementInstanceKey) as ElementInstance
    ctx.incidents.raise(ei, 'JOB_NO_RETRIES', errorMessage || 'No more retries left.', job.key)
  }

  /** A BPMN error thrown by the worker: caught, the job is gone; uncaught, an incident. */
  throwError(job: JobRecord, errorCode: string, errorMessage: string, variables?: VariableDocument): void {
    const ctx = this.ctx
    const ei = ctx.state.elements.get(job.elementInstanceKey) as ElementInstance
    ctx.state.activatable.remove(job.type, job.key)
    job.state = 'ERROR_THROWN'
    job.errorMessage = errorMessage
    if (ctx.propagation.throwError(ei, errorCode, variables ?? {})) {
      ctx.state.jobs.delete(job.key)
      return
    }
    ctx.incidents.raise(ei, 'UNHANDLED_ERROR_EVENT', unhandledErrorMessage(errorCode, errorMessage, ctx.propagation.availableErrorCodes(ei)), job.key)
  }

  onJobsAvailable(type: string, listener: () => void): () => void {
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, (set = new Set()))
    set.add(listener)
    return () => { set?.delete(listener) }
  }

  addStream(stream: JobStream): () => void {
    const ctx = this.ctx
    const list = this.streams.get(stream.type) ?? []
    list.push(stream)
    this.streams.set(stream.type, list)
    // Jobs already waiting go to the new stream at once.
    const waiting = ctx.state.activatable.keys(stream.type)
    if (waiting.length > 0) {
      ctx.runner.run(null, () => {
        for (const key of waiting) {
          const job = ctx.state.jobs.get(key)
          if (!job) continue
          if (stream.tenantIds && stream.tenantIds.length > 0 && !stream.tenantIds.includes(job.tenantId)) continue
          this.pushToStream(stream, job)
        }
      })
    }
    return () => {
      const l = this.streams.get(stream.type)
      if (!l) return
      const i = l.indexOf(stream)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) this.streams.delete(stream.type)
    }
  }

  /**
   * Activate a job for a stream, and hand it over once the activation (and the command that made
   * the job) is durable: a worker never acts on a job that a crash could take back. A stream that
   * holds its jobs until then itself (a gRPC thread's) gets it once the command has run.
   */
  private pushToStream(stream: JobStream, job: JobRecord): void {
    const activated = this.activate(job, stream.worker, stream.timeout, stream.fetchVariables)
    if (stream.holdsUntilCommitted) {
      this.heldPushes.push({ stream, job: activated })
      if (this.heldPushes.length === 1) queueMicrotask(() => this.handOver(this.heldPushes.splice(0)))
      return
    }
    this.pendingPushes.push({ stream, job: activated })
    if (this.pushScheduled) return
    this.pushScheduled = true
    const deliver = () => {
      this.ctx.runner.whenDurable().then(() => {
        this.pushScheduled = false
        this.handOver(this.pendingPushes.splice(0))
      }, () => setTimeout(deliver, PUSH_RETRY_MS).unref())
    }
    deliver()
  }

  /** Jobs a stream could no longer take are activatable again. */
  private handOver(batch: { stream: JobStream; job: ActivatedJob }[]): void {
    for (const { stream, job } of batch) {
      if (!stream.push(job)) this.yieldJob(job.key)
    }
  }

  /**
   * A stream closed, or a long poll was given up, before it could take its job: the job is
   * activatable again at once, with its retries untouched (Zeebe's job yield).
   */
  yieldJob(jobKey: Key): void {
    const job = this.ctx.state.jobs.get(jobKey)
    if (!job || job.state !== 'ACTIVATED' || this.ctx.closed) return
    try {
      this.ctx.runner.run({ c: 'yield', k: jobKey }, () => this.makeActivatable(job))
    } catch (error) {
      // A store that cannot write refuses the yield: the job stays activated until its timeout.
      if (!(error instanceof EngineError && error.type === 'RESOURCE_EXHAUSTED')) throw error
    }
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      const types = [...this.pendingTypes]
      this.pendingTypes.clear()
      for (const t of types) for (const l of [...(this.listeners.get(t) ?? [])]) l()
    })
  }
}
