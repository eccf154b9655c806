import { EngineError } from '../../api'
import { feelToJson } from '../../feel'
import type { FlowElement } from '../../model/types'
import type { Key, UserTaskRecord } from '../../state/records'
import type { TaskChangeset } from '../commands'
import type { ProcessingContext } from '../processing'
import { IncidentError } from '../expressions'
import { memo, type ElementInstance } from '../runtime-state'

/** Camunda user tasks: created by a user task element, assigned, updated, completed or canceled. */
export class UserTaskBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  create(ei: ElementInstance, el: FlowElement): void {
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
      assignee: ctx.expr.optionalString(ut.assignee, vars), candidateGroups: ctx.expr.stringList(ut.candidateGroups, vars),
      candidateUsers: ctx.expr.stringList(ut.candidateUsers, vars), dueDate: this.dateOption(ut.dueDate, vars),
      followUpDate: this.dateOption(ut.followUpDate, vars), priority, formKey,
      externalFormReference: ctx.expr.optionalString(ut.externalReference, vars), customHeaders: { ...el.headers },
      creationDate: ctx.now(), tenantId: ei.tenantId,
    }
    ctx.state.userTasks.set(task.key, task)
    ei.userTaskKey = task.key
    ei.lifecycle = 'ACTIVATED'
    ctx.subscriptions.openBoundarySubscriptions(ei, el)
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
    if (task && task.state === 'CREATED') {
      task.state = 'CANCELED'
      task.completionDate = this.ctx.now()
    }
  }

  openTask(userTaskKey: Key, intent: string): UserTaskRecord {
    const task = this.ctx.state.userTasks.get(userTaskKey)
    if (!task) throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
    // Zeebe removes a completed or canceled task from its state: a command on it finds nothing.
    if (task.state !== 'CREATED') throw new EngineError('NOT_FOUND', `Expected to ${intent.toLowerCase()} user task with key '${userTaskKey}', but no such user task was found`, intent)
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
