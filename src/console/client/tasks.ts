/** Tasks: mine and my groups', one task with its Camunda Form (form-js) and its process context. */
import { Form } from '@bpmn-io/form-js-viewer'
import { ApiError, call, type Me, type TaskContext, type UserTask } from './api'
import { alertBox, announce, fill, h } from './dom'
import { dueOf, timeOf } from './time'

interface TaskItem extends UserTask {
  mine: boolean
  context: TaskContext
}

interface TaskDetail {
  task: UserTask
  form: Record<string, unknown> | null
  data: Record<string, unknown>
  context: TaskContext
  can: { claim: boolean; unclaim: boolean; complete: boolean; viewInstance: boolean }
}

function contextLabel(context: TaskContext): string {
  const parts = [context.businessKey?.value, context.title].filter(Boolean)
  return parts.length > 0 ? parts.join(': ') : '—'
}

function taskTable(caption: string, items: TaskItem[], empty: string): HTMLElement {
  if (items.length === 0) return h('section', { 'aria-label': caption }, h('h2', {}, caption), h('p', {}, empty))
  return h('section', { 'aria-label': caption },
    h('h2', {}, caption),
    h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, ...['Task', 'About', 'Process', 'Groups', 'Assignee', 'Created', 'Due'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, ...items.map((task) => h('tr', { class: task.dueDate && Date.parse(task.dueDate) < Date.now() ? 'is-overdue' : null },
        h('th', { scope: 'row' }, h('a', { href: `#/tasks/${task.userTaskKey}` }, task.name ?? task.elementId)),
        h('td', {}, contextLabel(task.context)),
        h('td', {}, task.processName ?? task.processDefinitionId),
        h('td', {}, task.candidateGroups.join(', ') || '—'),
        h('td', {}, task.assignee ?? 'unassigned'),
        h('td', {}, timeOf(task.creationDate)),
        h('td', {}, dueOf(task.dueDate)))))))
}

export async function tasksPage(main: HTMLElement, me: Me): Promise<void> {
  document.title = 'Tasks · raccord console'
  const { items } = await call<{ items: TaskItem[] }>('GET', '/tasks')
  const mine = items.filter((task) => task.mine)
  const groups = items.filter((task) => !task.mine)
  fill(main,
    h('h1', {}, 'Tasks'),
    h('p', {}, `Open tasks for ${me.organisation.name}: those assigned to you (${me.assignee}) and those of your organisation's groups.`),
    h('p', {}, h('button', { type: 'button', onclick: () => void tasksPage(main, me) }, 'Refresh')),
    taskTable('Assigned to me', mine, 'Nothing is assigned to you.'),
    taskTable("My groups' tasks", groups, 'Your groups have no open task.'))
}

export async function taskPage(main: HTMLElement, me: Me, key: string): Promise<() => void> {
  const detail = await call<TaskDetail>('GET', `/tasks/${key}`)
  const { task, context, can } = detail
  const title = task.name ?? task.elementId
  document.title = `${title} · Tasks · raccord console`
  const status = h('div', { id: 'task-status' })
  const formContainer = h('div', { class: 'task-form', id: 'task-form' })
  let form: Form | undefined

  const act = async (what: string, path: string, body?: unknown): Promise<boolean> => {
    try {
      await call('POST', path, body)
      return true
    } catch (failure) {
      fill(status, alertBox(`${what} failed: ${(failure as ApiError).message}`))
      return false
    }
  }
  const reload = () => taskPage(main, me, key)

  const claim = h('button', { type: 'button', onclick: async () => {
    if (await act('Claim', `/tasks/${key}/claim`)) {
      announce('Task claimed')
      await reload()
    }
  } }, 'Claim')
  const unclaim = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    if (await act('Unclaim', `/tasks/${key}/unclaim`)) {
      announce('Task unclaimed')
      await reload()
    }
  } }, 'Unclaim')
  const complete = h('button', { type: 'submit', form: 'task-form-element' }, 'Complete task')

  const submit = async (event: Event) => {
    event.preventDefault()
    const { data, errors } = form ? form.submit() : { data: {}, errors: {} }
    const invalid = Object.keys(errors)
    if (invalid.length > 0) {
      fill(status, alertBox(`The form has ${invalid.length} field${invalid.length > 1 ? 's' : ''} to correct.`))
      formContainer.querySelector<HTMLElement>('[aria-invalid="true"], .fjs-has-errors input, .fjs-has-errors textarea')?.focus()
      return
    }
    if (await act('Completion', `/tasks/${key}/completion`, { variables: data })) {
      announce('Task completed')
      location.hash = can.viewInstance ? `#/instances/${task.processInstanceKey}` : '#/tasks'
    }
  }

  const aside = h('aside', { class: 'context', 'aria-labelledby': 'context-title' },
    h('h2', { id: 'context-title' }, 'Process context'),
    h('dl', {},
      context.businessKey ? [h('dt', {}, context.businessKey.name), h('dd', { 'data-testid': 'business-key' }, context.businessKey.value)] : null,
      context.title ? [h('dt', {}, 'Title'), h('dd', {}, context.title)] : null,
      context.service ? [h('dt', {}, 'Service'), h('dd', {}, context.service)] : null,
      context.priority?.priority ? [h('dt', {}, 'Priority'), h('dd', {}, context.priority.priority)] : null,
      h('dt', {}, 'Process'), h('dd', {}, task.processName ?? task.processDefinitionId),
      h('dt', {}, 'Instance'), h('dd', {}, can.viewInstance ? h('a', { href: `#/instances/${task.processInstanceKey}` }, task.processInstanceKey) : task.processInstanceKey),
      h('dt', {}, 'Created'), h('dd', {}, timeOf(task.creationDate)),
      h('dt', {}, 'Due'), h('dd', {}, dueOf(task.dueDate)),
      h('dt', {}, 'Assignee'), h('dd', { 'data-testid': 'assignee' }, task.assignee ?? 'unassigned'),
      h('dt', {}, 'Groups'), h('dd', {}, task.candidateGroups.join(', ') || '—')))

  const actions = h('div', { class: 'actions' },
    can.claim ? claim : null,
    can.unclaim ? unclaim : null,
    can.complete ? complete : null)
  const hint = can.complete ? null : h('p', { class: 'hint' }, task.assignee && !can.unclaim
    ? `${task.assignee} has claimed this task.`
    : 'Claim the task to fill in and submit its form.')

  fill(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/tasks' }, 'Tasks'), ' / ', title),
    h('h1', {}, title),
    h('div', { class: 'task-layout' },
      h('section', { 'aria-label': 'Form' },
        h('form', { id: 'task-form-element', novalidate: true, onsubmit: (event: Event) => void submit(event) }, formContainer),
        hint, status, actions),
      aside))

  if (detail.form) {
    form = new Form({ container: formContainer })
    await form.importSchema(detail.form, detail.data)
    if (!can.complete) form.setProperty('readOnly', true)
  } else {
    fill(formContainer, h('p', {}, 'This task has no form: completing it sends no data.'))
  }
  return () => form?.destroy()
}
