/**
 * Camunda user tasks: search, get, linked form, assignment, unassignment, completion, update,
 * and the variables visible to a task.
 */
import type { RequestHandler, Router } from 'express'
import { z } from 'zod'
import type { EngineApi } from '../api'
import type { Key, VariableRecord } from '../api'
import { invalidArgument, notFound } from './problem'
import { formResult, userTaskResult, variableResult, type UserTaskResult } from './results'
import { instanceScope, matchesProperty, search, searchRequestSchema } from './search'
import { searchLiveAndHistory } from './stored-search'
import { keyParam, parseBody, variablesSchema } from './validation'

/** The states only a task of a running instance has: a search for one of them skips the history. */
const LIVE_TASK_STATES = ['CREATING', 'CREATED', 'ASSIGNING', 'UPDATING', 'COMPLETING', 'CANCELING'] as const

const completionSchema = z.object({
  variables: variablesSchema.nullish(),
  action: z.string().nullish(),
})

const assignmentSchema = z.object({
  assignee: z.string({ error: 'an assignee is required' }).min(1, 'an assignee is required'),
  allowOverride: z.boolean().nullish(),
  action: z.string().nullish(),
})

const changesetSchema = z.object({
  dueDate: z.string().nullish(),
  followUpDate: z.string().nullish(),
  candidateUsers: z.array(z.string()).nullish(),
  candidateGroups: z.array(z.string()).nullish(),
  priority: z.number().int().min(0).max(100).nullish(),
})

const updateSchema = z.object({
  changeset: changesetSchema.nullish(),
  action: z.string().nullish(),
})

const variableFilterSchema = z.array(z.object({ name: z.string(), value: z.unknown() }))

type Changeset = z.output<typeof changesetSchema>

/** `null` and an omitted field both keep the current value (§12.3); only given values go on. */
function givenChanges(changeset: Changeset): Parameters<EngineApi['updateUserTask']>[1] {
  return Object.fromEntries(Object.entries(changeset).filter(([, v]) => v !== undefined && v !== null))
}

export function userTaskRoutes(router: Router, engine: EngineApi): void {
  const { queries } = engine

  /** Variables visible from a scope, innermost first: the scope chain up to the process instance. */
  const visibleVariables = (elementInstanceKey: Key): VariableRecord[] => {
    const scopeOf = new Map<Key, Key | undefined>()
    for (const e of queries.elementInstances()) scopeOf.set(e.key, e.scopeKey)
    const byScope = new Map<Key, VariableRecord[]>()
    for (const v of queries.variables()) {
      const list = byScope.get(v.scopeKey) ?? []
      list.push(v)
      byScope.set(v.scopeKey, list)
    }
    const seen = new Set<string>()
    const visible: VariableRecord[] = []
    for (let scope: Key | undefined = elementInstanceKey; scope !== undefined; scope = scopeOf.get(scope)) {
      for (const v of byScope.get(scope) ?? []) {
        if (seen.has(v.name)) continue
        seen.add(v.name)
        visible.push(v)
      }
    }
    return visible
  }

  const variableConditions = (field: string, condition: unknown) => {
    const parsed = variableFilterSchema.safeParse(condition)
    if (!parsed.success) throw invalidArgument(`Invalid filter '${field}': expected [{name, value}]`)
    return parsed.data
  }

  const taskOf = (key: Key) => {
    const task = queries.userTask(key)
    if (!task) throw notFound('User Task', key)
    return task
  }

  // A task's variables, read by its instance (a finished one's from the history, by index).
  const variablesOfTask = (t: UserTaskResult, scopeKey: Key) =>
    [...queries.variables({ processInstanceKey: t.processInstanceKey })].filter((v) => v.scopeKey === scopeKey)

  router.post('/user-tasks/search', async (req, res) => {
    const request = parseBody(searchRequestSchema, req)
    const scope = instanceScope(request.filter, LIVE_TASK_STATES)
    res.json(await searchLiveAndHistory<'userTask', UserTaskResult>(queries, 'userTask', scope, queries.userTasks({ ...scope, live: true }), userTaskResult, request, {
      key: 'userTaskKey',
      filterable: ['state', 'assignee', 'priority', 'elementId', 'name', 'tenantId', 'processDefinitionId',
        'creationDate', 'completionDate', 'followUpDate', 'dueDate', 'userTaskKey', 'processDefinitionKey',
        'processInstanceKey', 'elementInstanceKey'],
      custom: {
        candidateGroup: (t, condition) => t.candidateGroups.some((g) => matchesProperty('candidateGroup', g, condition)),
        candidateUser: (t, condition) => t.candidateUsers.some((u) => matchesProperty('candidateUser', u, condition)),
        processInstanceVariables: (t, condition) => variableConditions('processInstanceVariables', condition)
          .every(({ name, value }) => variablesOfTask(t, t.processInstanceKey).some((v) => v.name === name && matchesProperty('processInstanceVariables.value', JSON.stringify(v.value), value))),
        localVariables: (t, condition) => variableConditions('localVariables', condition)
          .every(({ name, value }) => variablesOfTask(t, t.elementInstanceKey).some((v) => v.name === name && matchesProperty('localVariables.value', JSON.stringify(v.value), value))),
      },
      sortable: ['creationDate', 'completionDate', 'followUpDate', 'dueDate', 'priority', 'name'],
    }))
  })

  router.get('/user-tasks/:userTaskKey', (req, res) => {
    res.json(userTaskResult(taskOf(keyParam(req, 'userTaskKey'))))
  })

  router.get('/user-tasks/:userTaskKey/form', (req, res) => {
    const task = taskOf(keyParam(req, 'userTaskKey'))
    if (task.formKey === undefined) {
      res.status(204).end()
      return
    }
    const form = [...queries.forms()].find((f) => f.key === task.formKey)
    if (!form) throw notFound('Form', task.formKey)
    res.json(formResult(form))
  })

  // A command held by task listeners is answered once they are done (or one denies it), as Zeebe answers it.
  const answered = async (key: Key): Promise<void> => { await engine.userTaskSettled(key) }

  router.post('/user-tasks/:userTaskKey/assignment', async (req, res) => {
    const key = keyParam(req, 'userTaskKey')
    const body = parseBody(assignmentSchema, req)
    engine.assignUserTask(key, body.assignee, body.allowOverride ?? true, body.action ?? undefined)
    await answered(key)
    res.status(204).end()
  })

  router.delete('/user-tasks/:userTaskKey/assignee', async (req, res) => {
    const key = keyParam(req, 'userTaskKey')
    engine.unassignUserTask(key)
    await answered(key)
    res.status(204).end()
  })

  router.post('/user-tasks/:userTaskKey/completion', async (req, res) => {
    const key = keyParam(req, 'userTaskKey')
    const body = parseBody(completionSchema, req)
    engine.completeUserTask(key, body.variables ?? undefined, body.action ?? undefined)
    await answered(key)
    res.status(204).end()
  })

  const update = async (key: Key, changeset: Changeset, action: string | undefined): Promise<void> => {
    const changes = givenChanges(changeset)
    if (Object.keys(changes).length === 0 && !action) {
      throw invalidArgument('No update data provided. Provide at least an "action" or a non-null value for a '
        + 'supported attribute in the "changeset".')
    }
    engine.updateUserTask(key, changes, action)
    await answered(key)
  }

  router.patch('/user-tasks/:userTaskKey', async (req, res) => {
    const key = keyParam(req, 'userTaskKey')
    const body = parseBody(updateSchema, req)
    await update(key, body.changeset ?? {}, body.action ?? undefined)
    res.status(204).end()
  })

  // The SDK (8.8.13) sends the changeset unwrapped to PATCH .../update (§12.5); a wrapped one is accepted too.
  const updateFromSdk: RequestHandler = async (req, res) => {
    const key = keyParam(req, 'userTaskKey')
    const wrapped = typeof req.body === 'object' && req.body !== null && 'changeset' in req.body
    if (wrapped) {
      const body = parseBody(updateSchema, req)
      await update(key, body.changeset ?? {}, body.action ?? undefined)
    } else {
      await update(key, parseBody(changesetSchema, req), undefined)
    }
    res.status(204).end()
  }
  router.patch('/user-tasks/:userTaskKey/update', updateFromSdk)

  router.post('/user-tasks/:userTaskKey/variables/search', (req, res) => {
    const task = taskOf(keyParam(req, 'userTaskKey'))
    const request = parseBody(searchRequestSchema, req)
    res.json(search(visibleVariables(task.elementInstanceKey).map(variableResult), request, {
      key: 'variableKey',
      filterable: ['name'],
      sortable: ['value', 'name', 'tenantId', 'variableKey', 'scopeKey', 'processInstanceKey'],
    }))
  })
}
