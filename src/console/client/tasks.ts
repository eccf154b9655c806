/** Tasks: mine and my groups', one task with its Camunda Form (form-js) and its process context. */
import { Form } from '@bpmn-io/form-js-viewer'
import { ApiError, call, type Me, type TaskContext, type UserTask } from './api'
import { alertBox, announce, fill, h } from './dom'
import { displayData, elementName, formJsTranslation, processName, translateForm } from './model-texts'
import { t } from './i18n'
import { pageCount, pager } from './pager'
import { addDatePickers } from './date-pickers'
import { dueOf, formatDuration, timeOf, timeZone } from './time'

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
      h('thead', {}, h('tr', {}, ...['task', 'about', 'process', 'groups', 'assignee', 'created', 'due'].map((column) => t(`tasks.columns.${column}`)).map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, ...items.map((task) => h('tr', { class: task.dueDate && Date.parse(task.dueDate) < Date.now() ? 'is-overdue' : null },
        h('th', { scope: 'row' }, h('a', { href: `#/tasks/${task.userTaskKey}` }, elementName(task.processDefinitionId, task.elementId, task.name))),
        h('td', {}, contextLabel(task.context)),
        h('td', {}, processName(task.processDefinitionId, task.processName)),
        h('td', {}, task.candidateGroups.join(', ') || '—'),
        h('td', {}, task.assignee ?? t('tasks.unassigned')),
        h('td', {}, timeOf(task.creationDate)),
        h('td', {}, dueOf(task.dueDate)))))))
}

/** Tasks a page shows: the oldest first, as work waits. */
const TASKS_PER_PAGE = 50

export async function tasksPage(main: HTMLElement, me: Me, query = new URLSearchParams()): Promise<void> {
  document.title = `${t('tasks.title')} · ${t('shell.brand')}`
  const q = query.get('q') ?? ''
  const whose = query.get('whose') ?? ''
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0)
  const params = new URLSearchParams({ limit: String(TASKS_PER_PAGE), offset: String(offset) })
  if (q !== '') params.set('q', q)
  if (whose !== '') params.set('state', whose)
  const page = await call<{ items: TaskItem[]; total: number; offset: number; limit: number }>('GET', `/tasks?${params.toString()}`)
  const mine = page.items.filter((task) => task.mine)
  const groups = page.items.filter((task) => !task.mine)
  const search = h('input', { id: 'tasks-q', name: 'q', type: 'search', value: q })
  const whoseSelect = h('select', { id: 'tasks-whose', name: 'whose' },
    ['', 'mine', 'group'].map((value) => h('option', { value, selected: value === whose }, t(`tasks.whose.${value || 'all'}`))))
  const go = (nextOffset: number) => {
    const next = new URLSearchParams()
    if (search.value.trim() !== '') next.set('q', search.value.trim())
    if (whoseSelect.value !== '') next.set('whose', whoseSelect.value)
    if (nextOffset > 0) next.set('offset', String(nextOffset))
    location.hash = `#/tasks${next.size > 0 ? `?${next.toString()}` : ''}`
  }
  fill(main,
    h('h1', {}, t('tasks.title')),
    h('p', {}, t('tasks.intro', { organisation: me.organisation.name, assignee: me.assignee })),
    h('form', { class: 'filters', role: 'search', onsubmit: (event: Event) => {
      event.preventDefault()
      go(0)
    } },
    h('div', {}, h('label', { for: 'tasks-q' }, t('tasks.search')), search),
    h('div', {}, h('label', { for: 'tasks-whose' }, t('tasks.whose.label')), whoseSelect),
    h('div', {}, h('button', { type: 'submit' }, t('records.apply'))),
    h('div', {}, h('button', { type: 'button', class: 'secondary', onclick: () => void tasksPage(main, me, query) }, t('tasks.refresh')))),
    pageCount(page, 'tasks-count'),
    whose === 'group' ? null : taskTable(t('tasks.mine'), mine, t('tasks.noneMine')),
    whose === 'mine' ? null : taskTable(t('tasks.groups'), groups, t('tasks.noneGroups')),
    pager(page, go))
}

export async function taskPage(main: HTMLElement, me: Me, key: string): Promise<() => void> {
  const detail = await call<TaskDetail>('GET', `/tasks/${key}`)
  const { task, context, can } = detail
  const title = elementName(task.processDefinitionId, task.elementId, task.name)
  document.title = `${title} · ${t('tasks.title')} · ${t('shell.brand')}`
  const status = h('div', { id: 'task-status' })
  const formContainer = h('div', { class: 'task-form', id: 'task-form' })
  const datePickers = h('div', { id: 'date-pickers' })
  let form: Form | undefined

  const act = async (what: string, path: string, body?: unknown): Promise<boolean> => {
    try {
      await call('POST', path, body)
      return true
    } catch (failure) {
      fill(status, alertBox(t('tasks.failed', { what, message: (failure as ApiError).message })))
      return false
    }
  }
  const reload = () => taskPage(main, me, key)

  const claim = h('button', { type: 'button', onclick: async () => {
    if (await act(t('tasks.claim'), `/tasks/${key}/claim`)) {
      announce(t('tasks.claimed'))
      await reload()
    }
  } }, t('tasks.claim'))
  const unclaim = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    if (await act(t('tasks.unclaim'), `/tasks/${key}/unclaim`)) {
      announce(t('tasks.unclaimed'))
      await reload()
    }
  } }, t('tasks.unclaim'))
  const complete = h('button', { type: 'submit', form: 'task-form-element' }, t('tasks.complete'))

  const submit = async (event: Event) => {
    event.preventDefault()
    const { data, errors } = form ? form.submit() : { data: {}, errors: {} }
    const invalid = Object.keys(errors)
    if (invalid.length > 0) {
      fill(status, alertBox(t('tasks.toCorrect', { count: invalid.length })))
      formContainer.querySelector<HTMLElement>('[aria-invalid="true"], .fjs-has-errors input, .fjs-has-errors textarea')?.focus()
      return
    }
    if (await act(t('tasks.completion'), `/tasks/${key}/completion`, { variables: data })) {
      announce(t('tasks.completed'))
      location.hash = can.viewInstance ? `#/instances/${task.processInstanceKey}` : '#/tasks'
    }
  }

  const aside = h('aside', { class: 'context', 'aria-labelledby': 'context-title' },
    h('h2', { id: 'context-title' }, t('tasks.context')),
    h('dl', {},
      context.businessKey ? [h('dt', {}, t(`tasks.businessKeys.${context.businessKey.name}`, { defaultValue: context.businessKey.name })), h('dd', { 'data-testid': 'business-key' }, context.businessKey.value)] : null,
      context.title ? [h('dt', {}, t('tasks.fields.title')), h('dd', {}, context.title)] : null,
      context.service ? [h('dt', {}, t('tasks.fields.service')), h('dd', {}, context.service)] : null,
      context.priority?.priority ? [h('dt', {}, t('tasks.fields.priority')), h('dd', {}, context.priority.priority)] : null,
      context.priority?.resolutionTarget ? [h('dt', {}, t('tasks.fields.resolutionTarget')), h('dd', {}, formatDuration(context.priority.resolutionTarget))] : null,
      h('dt', {}, t('tasks.fields.process')), h('dd', {}, processName(task.processDefinitionId, task.processName)),
      h('dt', {}, t('tasks.fields.instance')), h('dd', {}, can.viewInstance ? h('a', { href: `#/instances/${task.processInstanceKey}` }, task.processInstanceKey) : task.processInstanceKey),
      h('dt', {}, t('tasks.fields.created')), h('dd', {}, timeOf(task.creationDate)),
      h('dt', {}, t('tasks.fields.due')), h('dd', {}, dueOf(task.dueDate)),
      h('dt', {}, t('tasks.fields.assignee')), h('dd', { 'data-testid': 'assignee' }, task.assignee ?? t('tasks.unassigned')),
      h('dt', {}, t('tasks.fields.groups')), h('dd', {}, task.candidateGroups.join(', ') || '—')))

  const actions = h('div', { class: 'actions' },
    can.claim ? claim : null,
    can.unclaim ? unclaim : null,
    can.complete ? complete : null)
  const hint = can.complete ? null : h('p', { class: 'hint' }, task.assignee && !can.unclaim
    ? t('tasks.claimedBy', { assignee: task.assignee })
    : t('tasks.claimFirst'))

  fill(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/tasks' }, t('tasks.title')), ' / ', title),
    h('h1', {}, title),
    h('div', { class: 'task-layout' },
      h('section', { 'aria-label': t('tasks.form') },
        h('form', { id: 'task-form-element', novalidate: true, onsubmit: (event: Event) => void submit(event) }, formContainer, datePickers),
        hint, status, actions),
      aside))

  if (detail.form) {
    form = new Form({ container: formContainer, additionalModules: [formJsTranslation()] })
    const schema = translateForm(detail.form)
    await form.importSchema(schema, displayData(detail.form, detail.data))
    if (!can.complete) form.setProperty('readOnly', true)
    else addDatePickers(formContainer, datePickers, schema, timeZone())
  } else {
    fill(formContainer, h('p', {}, t('tasks.noForm')))
  }
  return () => form?.destroy()
}
