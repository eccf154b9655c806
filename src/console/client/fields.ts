/**
 * Form fields for the console's own forms (not Camunda Forms): a label or legend, a hint, an
 * error message tied to the control by aria-describedby, and an error summary whose links move
 * focus to the bad field. The server validates; its 400 problem's errors[] are shown here.
 */
import type { FieldProblem } from './api'
import { fill, h } from './dom'
import { t } from './i18n'

/** A field of a console form: `name` is the key of the request body it fills. */
export interface Field {
  name: string
  label: string
  /** the wrapper that gets the error mark */
  element: HTMLElement
  /** what a link of the error summary focuses */
  focusTarget: HTMLElement
  /** the value to send; undefined leaves the key out, so the server answers "Required" */
  value(): string | undefined
  showError(message: string | undefined): void
}

interface FieldOptions {
  name: string
  label: string
  hint?: string
}

function parts(options: FieldOptions) {
  const id = `field-${options.name}`
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const hint = options.hint ? h('p', { class: 'hint', id: hintId }, options.hint) : null
  const error = h('p', { class: 'field-error', id: errorId })
  const describedBy = [options.hint ? hintId : null, errorId].filter(Boolean).join(' ')
  return { id, hint, error, describedBy, labelText: options.label }
}

function errorShower(wrapper: HTMLElement, error: HTMLElement, controls: HTMLElement[]) {
  return (message: string | undefined) => {
    wrapper.classList.toggle('has-error', message !== undefined)
    for (const control of controls) control.setAttribute('aria-invalid', String(message !== undefined))
    if (message === undefined) fill(error)
    else fill(error, h('span', { class: 'visually-hidden' }, t('fields.errorPrefix')), message)
  }
}

const nonEmpty = (value: string) => (value === '' ? undefined : value)

export function textField(options: FieldOptions & { maxLength?: number; multiline?: boolean; type?: string }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const control = options.multiline
    ? h('textarea', { id, name: options.name, rows: 5, maxlength: options.maxLength, 'aria-describedby': describedBy })
    : h('input', { id, name: options.name, type: options.type ?? 'text', maxlength: options.maxLength, 'aria-describedby': describedBy })
  const element = h('div', { class: 'field' }, h('label', { for: id }, labelText), hint, error, control)
  return { name: options.name, label: options.label, element, focusTarget: control, value: () => nonEmpty(control.value), showError: errorShower(element, error, [control]) }
}

export interface Choice {
  value: string
  label: string
  /** options of a select grouped under this heading */
  group?: string
}

export function selectField(options: FieldOptions & { choices: Choice[]; placeholder: string }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const groups = new Map<string, Choice[]>()
  for (const choice of options.choices) groups.set(choice.group ?? '', [...(groups.get(choice.group ?? '') ?? []), choice])
  const optionsOf = (choices: Choice[]) => choices.map((choice) => h('option', { value: choice.value }, choice.label))
  const control = h('select', { id, name: options.name, 'aria-describedby': describedBy },
    h('option', { value: '' }, options.placeholder),
    [...groups].map(([group, choices]) => (group === '' ? optionsOf(choices) : h('optgroup', { label: group }, optionsOf(choices)))))
  const element = h('div', { class: 'field' }, h('label', { for: id }, labelText), hint, error, control)
  return { name: options.name, label: options.label, element, focusTarget: control, value: () => nonEmpty(control.value), showError: errorShower(element, error, [control]) }
}

/** Radio buttons in a fieldset, its legend the question. */
export function radioField(options: FieldOptions & { choices: Choice[] }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const radios = options.choices.map((choice) => h('input', { type: 'radio', id: `${id}-${choice.value}`, name: options.name, value: choice.value }))
  const element = h('fieldset', { class: 'field', id, 'aria-describedby': describedBy },
    h('legend', {}, labelText), hint, error,
    h('div', { class: 'radios' }, options.choices.map((choice, i) => h('div', { class: 'radio' }, radios[i], h('label', { for: radios[i].id }, choice.label)))))
  return {
    name: options.name,
    label: options.label,
    element,
    focusTarget: radios[0],
    value: () => radios.find((radio) => radio.checked)?.value,
    showError: errorShower(element, error, radios),
  }
}

/** The request body: the fields' values, empty ones left out. */
export function bodyOf(fields: readonly Field[]): Record<string, string> {
  const body: Record<string, string> = {}
  for (const field of fields) {
    const value = field.value()
    if (value !== undefined) body[field.name] = value
  }
  return body
}

/**
 * Marks each field named by `problems`, and fills `summary` with the list, each item a link to
 * its field; problems of no field (the whole body) are listed as they are. Focus goes to the summary.
 */
export function showProblems(summary: HTMLElement, fields: readonly Field[], problems: readonly FieldProblem[]): void {
  const byName = new Map(fields.map((field) => [field.name, field]))
  // A nested path (announcement.by) belongs to its top-level field.
  const fieldOf = (problem: FieldProblem) => byName.get(problem.field) ?? byName.get(problem.field.split(/[.[]/)[0])
  // The server's commonest detail, said in the user's language; the others come as the server words them.
  const detailOf = (problem: FieldProblem) => (problem.detail === 'Required' ? t('fields.required') : problem.detail)
  for (const field of fields) {
    const own = problems.filter((problem) => fieldOf(problem) === field)
    field.showError(own.length > 0 ? own.map(detailOf).join('; ') : undefined)
  }
  fill(summary, h('div', { class: 'error-summary', role: 'alert', tabindex: -1, 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, t('fields.problem')),
    h('ul', {}, problems.map((problem) => {
      const field = fieldOf(problem)
      if (!field) return h('li', {}, detailOf(problem))
      // Not a hash link: the console routes by the hash, so a click moves focus itself.
      return h('li', {}, h('a', { href: `#${field.focusTarget.id}`, onclick: (event: Event) => {
        event.preventDefault()
        field.focusTarget.focus()
      } }, t('fields.summaryItem', { label: field.label, detail: detailOf(problem) })))
    }))))
  summary.querySelector<HTMLElement>('.error-summary')?.focus()
}

export function clearProblems(summary: HTMLElement, fields: readonly Field[]): void {
  fill(summary)
  for (const field of fields) field.showError(undefined)
}
