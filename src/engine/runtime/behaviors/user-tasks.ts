import { EngineError, type JobResult } from '../../api'
import { feelToJson } from '../../feel'
import type { FlowElement, TaskListener } from '../../model/types'
import type { JobRecord, Key, UserTaskAttributes, UserTaskRecord, UserTaskTransition, VariableDocument } from '../../state/records'
import type { TaskChangeset } from '../commands'
import type { ProcessingContext } from '../processing'
import { IncidentError } from '../expressions'
import { memo, type ElementInstance } from '../runtime-state'

/** The task's state while the listeners of an event hold its transition. */
const HELD_STATE = { creating: 'CREATING', assigning: 'ASSIGNING', updating: 'UPDATING', completing: 'COMPLETING', canceling: 'CANCELING' } as const
/** Zeebe's rejections of a denied transition (UserTaskProcessor), by event. */
const DENIED = { assigning: ['ASSIGN', 'Assignment'], updating: ['UPDATE', 'Update'], completing: ['COMPLETE', 'Completion'] } as const
const CORRECTABLE = ['assignee', 'candidateGroups', 'candidateUsers', 'dueDate', 'followUpDate', 'priority'] as const
type Correctable = typeof CORRECTABLE[number]

/**
 * Camunda user tasks: created by a user task element, assigned, updated, completed or canceled.
 * Task listeners (Zeebe 8.8, docs: components/concepts/user-task-listeners) hold a transition
 * (creating, assigning, updating, completing, canceling): their jobs run one after the other in
 * model order, each may correct the task's attributes, and an assigning, updating or completing
 * listener may deny the transition, which leaves the task as it was. The command's caller is
 * answered when the transition ends. Canceling listeners hold the termination of the task's
 * element (and what follows it) until the last is done; the task is then canceled.
 */
export class UserTaskBehavior {
  /** callers waiting for a held transition to end, by user task key (not state: lost on restart, as Zeebe's pending responses) */
  private readonly waiting = new Map<Key, { resolve(): void; reject(error: EngineError): void }[]>()

  constructor(private readonly ctx: ProcessingContext) {}

  create(ei: ElementInstance, el: FlowElement): void {
    const { task, assignee } = this.newTask(ei, el)
    ei.lifecycle = 'ACTIVATED'
    this.ctx.subscriptions.openBoundarySubscriptions(ei, el)
    // The model's assignee is assigned once the task is created, through the assigning listeners.
    if (this.begin(task, 'creating', {}, [], '', { assignAfter: assignee })) return
    if (assignee !== undefined) this.assign(task, assignee, '')
  }

  /** The task record the user task `el` creates (stored, and linked to its element), and the model's assignee. */
  private newTask(ei: ElementInstance, el: FlowElement): { task: UserTaskRecord; assignee: string | undefined } {
    const ctx = this.ctx
    const ut = el.userTask ?? {}
    const vars = memo(ctx.visible(ei))
    let formKey: Key | undefined
    if (ut.formId) {
      const own = ctx.repo.processes.get(ei.definitionKey)
      const form = ut.formBindingType === 'deployment' && own
        ? ctx.repo.formInDeployment(ut.formId, own.record.deploymentKey)
        : ctx.repo.latestFormOf(ut.formId, ei.tenantId)
      if (!form) throw new IncidentError('FORM_NOT_FOUND', `Expected to find a form with id '${ut.formId}', but no form with this id is found, at least a form with this id should be available. To resolve the Incident please deploy a form with the same id`)
      formKey = form.key
    }
    const priority = ut.priority !== undefined && ut.priority !== '' ? ctx.expr.number(ut.priority, vars) : 50
    const task: UserTaskRecord = {
      key: ctx.nextKey(), state: 'CREATED', name: el.name, elementId: el.id, elementInstanceKey: ei.key,
      processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey, bpmnProcessId: ei.bpmnProcessId,
      processDefinitionVersion: ctx.state.instances.get(ei.processInstanceKey)?.version ?? 1, processName: ctx.model(ei).name,
      candidateGroups: ctx.expr.stringList(ut.candidateGroups, vars),
      candidateUsers: ctx.expr.stringList(ut.candidateUsers, vars), dueDate: this.dateOption(ut.dueDate, vars),
      followUpDate: this.dateOption(ut.followUpDate, vars), priority, formKey,
      externalFormReference: ctx.expr.optionalString(ut.externalReference, vars), customHeaders: { ...el.headers },
      creationDate: ctx.now(), tenantId: ei.tenantId,
    }
    const assignee = ctx.expr.optionalString(ut.assignee, vars)
    ctx.state.userTasks.set(task.key, task)
    ei.userTaskKey = task.key
    return { task, assignee }
  }

  private listenersOf(task: UserTaskRecord, event: UserTaskTransition['event']): TaskListener[] {
    const el = this.ctx.state.elements.get(task.elementInstanceKey)?.element
    return (el?.taskListeners ?? []).filter((listener) => listener.eventType === event)
  }

  /** Holds the transition for its listeners when it has some (true), or leaves it to the caller to apply now. */
  private begin(task: UserTaskRecord, event: UserTaskTransition['event'], changes: UserTaskAttributes, changed: string[], action: string, extra: Partial<UserTaskTransition> = {}): boolean {
    if (this.listenersOf(task, event).length === 0) return false
    task.state = HELD_STATE[event]
    task.transition = { event, index: 0, changes, requested: { ...changes }, changed, action, ...extra }
    this.nextListenerJob(task)
    return true
  }

  /**
   * After an incident on creating a listener's job (its type or retries did not evaluate), the
   * whole transition runs again from its first listener, as Zeebe retries it; true when it did.
   */
  retryTransition(ei: ElementInstance): boolean {
    const task = ei.userTaskKey === undefined ? undefined : this.ctx.state.userTasks.get(ei.userTaskKey)
    const transition = task?.transition
    if (!task || !transition || ei.jobKey !== undefined) return false
    transition.index = 0
    transition.changes = { ...transition.requested }
    this.nextListenerJob(task)
    return true
  }

  private nextListenerJob(task: UserTaskRecord): void {
    const transition = task.transition as UserTaskTransition
    const ei = this.ctx.state.elements.get(task.elementInstanceKey) as ElementInstance
    const listener = this.listenersOf(task, transition.event)[transition.index]
    this.ctx.incidents.guard(ei, () => this.ctx.jobs.createTaskListenerJob(ei, listener, this.listenerHeaders(task, transition)))
  }

  /** The task's headers, with its attributes as the transition would leave them (Zeebe's reserved header names). */
  private listenerHeaders(task: UserTaskRecord, transition: UserTaskTransition): Record<string, string> {
    const now = { ...this.attributesOf(task), ...transition.changes }
    if (transition.assignAfter !== undefined && transition.changes.assignee === undefined) now.assignee = transition.assignAfter
    const headers: Record<string, string> = { ...task.customHeaders }
    const put = (name: string, value: string | undefined) => { if (value !== undefined && value !== '') headers[`io.camunda.zeebe:${name}`] = value }
    put('action', transition.action)
    put('assignee', now.assignee)
    if (now.candidateGroups?.length) put('candidateGroups', JSON.stringify(now.candidateGroups))
    if (now.candidateUsers?.length) put('candidateUsers', JSON.stringify(now.candidateUsers))
    put('dueDate', now.dueDate)
    put('followUpDate', now.followUpDate)
    put('formKey', task.formKey)
    put('priority', String(now.priority ?? task.priority))
    put('userTaskKey', task.key)
    headers['io.camunda.zeebe:changedAttributes'] = JSON.stringify(this.changedAttributes(task, transition))
    return headers
  }

  private attributesOf(task: UserTaskRecord): UserTaskAttributes {
    return {
      assignee: task.assignee, candidateGroups: task.candidateGroups, candidateUsers: task.candidateUsers,
      dueDate: task.dueDate, followUpDate: task.followUpDate, priority: task.priority,
    }
  }

  /** What the command changes, and what the corrections so far change (a correction back to the task's value is no change). */
  private changedAttributes(task: UserTaskRecord, transition: UserTaskTransition): string[] {
    const current = this.attributesOf(task)
    const differs = (name: Correctable) => JSON.stringify(transition.changes[name] ?? null) !== JSON.stringify(current[name] ?? null)
    const changed: string[] = CORRECTABLE.filter((name) => transition.changed.includes(name) || (name in transition.changes && differs(name)))
    return transition.changed.includes('variables') ? [...changed, 'variables'] : changed
  }

  /**
   * Variables set on the element of a user task with updating listeners: an update of the task,
   * held for them; true when held (the variables are set once they are done), false to set them now.
   */
  updateVariables(ei: ElementInstance, variables: VariableDocument, local: boolean): boolean {
    const task = ei.userTaskKey === undefined ? undefined : this.ctx.state.userTasks.get(ei.userTaskKey)
    if (!task || task.state !== 'CREATED') return false
    return this.begin(task, 'updating', {}, ['variables'], '', { variables, local })
  }

  private setVariablesOf(task: UserTaskRecord, transition: UserTaskTransition): void {
    if (!transition.variables) return
    const key = task.elementInstanceKey
    if (transition.local) this.ctx.vars.setLocalDocument(key, transition.variables)
    else this.ctx.vars.merge(key, transition.variables)
  }

  /** Assigns (or, with no assignee, unassigns) now, or once the assigning listeners are done. */
  assign(task: UserTaskRecord, assignee: string | undefined, action: string): void {
    if (this.begin(task, 'assigning', { assignee: assignee ?? '' }, ['assignee'], action)) return
    task.assignee = assignee
  }

  update(task: UserTaskRecord, changeset: TaskChangeset, action: string): void {
    const changes: UserTaskAttributes = {}
    if (changeset.priority !== undefined && changeset.priority !== null) changes.priority = changeset.priority
    if (changeset.dueDate !== undefined && changeset.dueDate !== null) changes.dueDate = changeset.dueDate
    if (changeset.followUpDate !== undefined && changeset.followUpDate !== null) changes.followUpDate = changeset.followUpDate
    if (changeset.candidateUsers) changes.candidateUsers = [...changeset.candidateUsers]
    if (changeset.candidateGroups) changes.candidateGroups = [...changeset.candidateGroups]
    if (this.begin(task, 'updating', changes, Object.keys(changes), action)) return
    this.applyChangeset(task, changeset)
  }

  complete(task: UserTaskRecord, variables: VariableDocument | undefined, action: string): void {
    if (this.begin(task, 'completing', {}, [], action, variables ? { variables } : {})) return
    this.finishCompletion(task, variables)
  }

  private finishCompletion(task: UserTaskRecord, variables: VariableDocument | undefined): void {
    const ei = this.ctx.state.elements.get(task.elementInstanceKey) as ElementInstance
    task.state = 'COMPLETED'
    task.completionDate = this.ctx.now()
    ei.userTaskKey = undefined
    ei.payload = variables ?? {}
    this.ctx.flow.complete(ei)
  }

  /** Why Zeebe (JobCompleteProcessor) refuses this completion of a task listener's job, or undefined. */
  listenerResultRejection(job: JobRecord, variables: VariableDocument | undefined, result: JobResult | undefined): EngineError | undefined {
    const ids = `(job key '${job.key}', type '${job.type}', processInstanceKey '${job.processInstanceKey}')`
    const refuse = (message: string) => new EngineError('INVALID_ARGUMENT', message, 'COMPLETE')
    if (variables && Object.keys(variables).length > 0) {
      return refuse(`Task Listener job completion with variables payload provided is not yet supported ${ids}. Support will be enabled with the resolution of issue #23702.`)
    }
    const corrections = Object.entries(result?.corrections ?? {}).filter(([, value]) => value !== null && value !== undefined)
    const event = job.listenerEventType ?? ''
    if (result?.denied && !['ASSIGNING', 'UPDATING', 'COMPLETING'].includes(event)) {
      return refuse(`Denying result is not supported for '${event}' task listener jobs ${ids}. Only the following listener event types support denying: [ASSIGNING, COMPLETING, UPDATING].`)
    }
    if (result?.denied && corrections.length > 0) {
      return refuse(`Expected to complete task listener job with corrections, but the job result is denied ${ids}. The corrections would be reverted by the denial. Either complete the job with corrections without setting denied, or complete the job with a denied result but no corrections.`)
    }
    for (const [name, value] of corrections) {
      if (!(CORRECTABLE as readonly string[]).includes(name)) {
        return refuse(`Expected to complete task listener job with a corrections result, but property '${name}' cannot be corrected ${ids}. Only the following properties can be corrected: [${CORRECTABLE.join(', ')}].`)
      }
      const list = name === 'candidateGroups' || name === 'candidateUsers'
      const valid = name === 'priority' ? Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 100
        : list ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === 'string'
      if (!valid) return refuse(`Expected the correction of '${name}' to be ${name === 'priority' ? 'an integer between 0 and 100' : list ? 'a list of strings' : 'a string'}, but it was '${JSON.stringify(value)}' ${ids}`)
    }
    const task = this.taskOfJob(job)
    if (event === 'CREATING' && task?.transition?.assignAfter !== undefined && corrections.some(([name]) => name === 'assignee')) {
      return refuse(`Expected to complete task listener job, but correcting the assignee on 'CREATING' event is not supported when the user task has an assignee defined in the model ${ids}. Use the 'CREATING' event to set an assignee only if it was not defined. Use the 'ASSIGNING' event to correct an assignee that is already defined.`)
    }
    return undefined
  }

  private taskOfJob(job: JobRecord): UserTaskRecord | undefined {
    const key = this.ctx.state.elements.get(job.elementInstanceKey)?.userTaskKey
    return key === undefined ? undefined : this.ctx.state.userTasks.get(key)
  }

  /** A task listener's job completed: its corrections are kept and the next listener runs, or the transition ends. */
  onListenerJobCompleted(job: JobRecord, result: JobResult | undefined): void {
    const ei = this.ctx.state.elements.get(job.elementInstanceKey) as ElementInstance
    this.ctx.jobs.remove(job)
    ei.jobKey = undefined
    const task = this.taskOfJob(job)
    const transition = task?.transition
    if (!task || !transition) return
    if (result?.denied) return this.deny(task, transition, result.deniedReason ?? '')
    for (const [name, value] of Object.entries(result?.corrections ?? {})) {
      if (value !== null && value !== undefined) (transition.changes as Record<string, unknown>)[name] = value
    }
    transition.index += 1
    if (transition.index < this.listenersOf(task, transition.event).length) return this.nextListenerJob(task)
    this.finish(task, transition)
  }

  /** The last listener is done: the changes and corrections apply, and what the transition leads to follows. */
  private finish(task: UserTaskRecord, transition: UserTaskTransition): void {
    const { changes } = transition
    if (changes.assignee !== undefined) task.assignee = changes.assignee === '' ? undefined : changes.assignee
    if (changes.dueDate !== undefined) task.dueDate = changes.dueDate === '' ? undefined : changes.dueDate
    if (changes.followUpDate !== undefined) task.followUpDate = changes.followUpDate === '' ? undefined : changes.followUpDate
    if (changes.candidateGroups !== undefined) task.candidateGroups = [...changes.candidateGroups]
    if (changes.candidateUsers !== undefined) task.candidateUsers = [...changes.candidateUsers]
    if (changes.priority !== undefined) task.priority = changes.priority
    if (transition.event === 'canceling') return this.finishCanceling(task)
    task.state = 'CREATED'
    task.transition = undefined
    if (transition.event === 'completing') this.finishCompletion(task, transition.variables)
    if (transition.event === 'updating') this.setVariablesOf(task, transition)
    this.settle(task.key)
    if (transition.event === 'creating') {
      const assignee = transition.assignAfter ?? task.assignee
      if (assignee === undefined) return
      task.assignee = undefined
      this.assign(task, assignee, '')
    }
  }

  private deny(task: UserTaskRecord, transition: UserTaskTransition, reason: string): void {
    task.state = 'CREATED'
    task.transition = undefined
    const [intent, what] = DENIED[transition.event as keyof typeof DENIED]
    this.settle(task.key, new EngineError('INVALID_STATE', `${what} of the User Task with key '${task.key}' was denied by Task Listener. Reason to deny: '${reason}'`, intent))
  }

  private settle(userTaskKey: Key, error?: EngineError): void {
    const waiting = this.waiting.get(userTaskKey)
    if (!waiting) return
    this.waiting.delete(userTaskKey)
    for (const waiter of waiting) {
      if (error) waiter.reject(error)
      else waiter.resolve()
    }
  }

  /** Settles when the task's held transition ends (rejected when it is denied); undefined when none is held. */
  settled(userTaskKey: Key): Promise<void> | undefined {
    if (!this.ctx.state.userTasks.get(userTaskKey)?.transition) return undefined
    return new Promise((resolve, reject) => {
      this.waiting.set(userTaskKey, [...(this.waiting.get(userTaskKey) ?? []), { resolve, reject }])
    })
  }

  /**
   * A job worker user task migrated to the Camunda user task `el` (docs: process instance
   * migration, "Migrate job worker user tasks to Camunda user tasks"): its job gives way to a user
   * task keeping the job's candidates, dates and custom headers; the form, priority and assignee
   * are the target definition's.
   */
  adoptJobWorkerTask(ei: ElementInstance, el: FlowElement): void {
    const job = ei.jobKey === undefined ? undefined : this.ctx.state.jobs.get(ei.jobKey)
    const headers = job?.customHeaders ?? {}
    if (job) this.ctx.jobs.remove(job)
    ei.jobKey = undefined
    const reserved = 'io.camunda.zeebe:'
    const list = (name: string): string[] => {
      try {
        const value: unknown = JSON.parse(headers[reserved + name] ?? '[]')
        return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
      } catch {
        return []
      }
    }
    const { task, assignee } = this.newTask(ei, el)
    task.assignee = assignee
    task.candidateGroups = list('candidateGroups')
    task.candidateUsers = list('candidateUsers')
    task.dueDate = headers[`${reserved}dueDate`] || undefined
    task.followUpDate = headers[`${reserved}followUpDate`] || undefined
    task.customHeaders = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(reserved)))
  }

  /** A date attribute (due, follow-up): absent or empty is none; anything else must be a date-time string. */
  dateOption(expr: string | undefined, vars: () => Record<string, unknown>): string | undefined {
    if (expr === undefined || expr === '') return undefined
    const v = this.ctx.expr.raw(expr, vars)
    if (v === null || v === '') return undefined
    const json = feelToJson(v)
    if (typeof json !== 'string') throw new IncidentError('EXTRACT_VALUE_ERROR', `Expected result of the expression '${expr.replace(/^=/, '')}' to be 'DATE_TIME', but was '${typeof json}'.`)
    return json
  }

  /** The user task element is terminated: its task is canceled. */
  cancelTaskOf(ei: ElementInstance): void {
    if (!ei.userTaskKey) return
    const task = this.ctx.state.userTasks.get(ei.userTaskKey)
    if (task && task.state !== 'COMPLETED' && task.state !== 'CANCELED') {
      this.dropHeldTransition(task)
      task.state = 'CANCELED'
      task.completionDate = this.ctx.now()
    }
  }

  /** A transition its listeners held is dropped (the task is canceled): its caller is answered. */
  private dropHeldTransition(task: UserTaskRecord): void {
    const held = task.transition
    task.transition = undefined
    if (held && held.event !== 'canceling') this.settle(task.key, new EngineError('NOT_FOUND', `Expected to ${DENIED[held.event as keyof typeof DENIED]?.[0].toLowerCase() ?? 'complete'} user task with key '${task.key}', but it was canceled while its task listeners ran`, 'COMPLETE'))
  }

  /**
   * The user task element is being terminated: with canceling listeners, its task is CANCELING
   * and they hold the termination (true). As Zeebe's UserTaskProcessor, the element's job (a
   * listener's of another transition) and subscriptions go and its incidents are resolved first.
   */
  holdForCanceling(ei: ElementInstance): boolean {
    const task = ei.userTaskKey === undefined ? undefined : this.ctx.state.userTasks.get(ei.userTaskKey)
    if (!task || task.state === 'COMPLETED' || task.state === 'CANCELED') return false
    if (task.state === 'CANCELING') return true
    if (this.listenersOf(task, 'canceling').length === 0) return false
    if (ei.jobKey !== undefined) this.ctx.jobs.cancelJobOf(ei)
    ei.jobKey = undefined
    ei.listener = undefined
    this.ctx.subscriptions.closeSubscriptions(ei)
    this.ctx.incidents.resolveOf(ei)
    this.dropHeldTransition(task)
    return this.begin(task, 'canceling', {}, [], '')
  }

  /** The last canceling listener is done: the task is canceled, and its element's termination goes on. */
  private finishCanceling(task: UserTaskRecord): void {
    task.state = 'CANCELED'
    task.completionDate = this.ctx.now()
    task.transition = undefined
    const ei = this.ctx.state.elements.get(task.elementInstanceKey)
    if (ei) this.ctx.flow.resumeTermination(ei)
  }

  openTask(userTaskKey: Key, intent: string): UserTaskRecord {
    const task = this.ctx.state.userTasks.get(userTaskKey)
    if (!task) throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
    // Zeebe removes a completed or canceled task from its state: a command on it finds nothing.
    if (task.state === 'COMPLETED' || task.state === 'CANCELED') throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
    if (task.state !== 'CREATED') throw new EngineError('INVALID_STATE', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but it is in state '${task.state}'`, intent)
    return task
  }

  applyChangeset(task: UserTaskRecord, changeset: TaskChangeset): void {
    if (changeset.priority !== undefined && changeset.priority !== null) task.priority = changeset.priority
    if (changeset.dueDate !== undefined && changeset.dueDate !== null) task.dueDate = changeset.dueDate === '' ? undefined : changeset.dueDate
    if (changeset.followUpDate !== undefined && changeset.followUpDate !== null) task.followUpDate = changeset.followUpDate === '' ? undefined : changeset.followUpDate
    if (changeset.candidateUsers) task.candidateUsers = [...changeset.candidateUsers]
    if (changeset.candidateGroups) task.candidateGroups = [...changeset.candidateGroups]
  }
}
