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
  /** the value to send (text, number, boolean, list); undefined leaves the key out, so the server answers "Required" */
  value(): unknown
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

/** The request body: the fields' values, empty ones left out; a dotted name (`period.from`) fills a nested object. */
export function bodyOf(fields: readonly Field[]): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const field of fields) {
    const value = field.value()
    if (value === undefined) continue
    const path = field.name.split('.')
    let holder = body
    for (const key of path.slice(0, -1)) {
      if (typeof holder[key] !== 'object' || holder[key] === null) holder[key] = {}
      holder = holder[key] as Record<string, unknown>
    }
    holder[path[path.length - 1]] = value
  }
  return body
}

/** A yes/no question: a checkbox, sent as true or false. */
export function checkboxField(options: FieldOptions & { checked?: boolean }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const control = h('input', { id, name: options.name, type: 'checkbox', checked: options.checked === true, 'aria-describedby': describedBy })
  const element = h('div', { class: 'field checkbox' }, error, h('div', { class: 'radio' }, control, h('label', { for: id }, labelText)), hint)
  return { name: options.name, label: options.label, element, focusTarget: control, value: () => control.checked, showError: errorShower(element, error, [control]) }
}

/** A number; what is not one is sent as typed, so that the server names the problem. */
export function numberField(options: FieldOptions & { min?: number; max?: number; step?: number }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const control = h('input', { id, name: options.name, type: 'number', inputmode: 'decimal', min: options.min, max: options.max, step: options.step ?? 'any', 'aria-describedby': describedBy })
  const element = h('div', { class: 'field' }, h('label', { for: id }, labelText), hint, error, control)
  const value = () => {
    const text = control.value.trim()
    if (text === '') return undefined
    const number = Number(text)
    return Number.isFinite(number) ? number : text
  }
  return { name: options.name, label: options.label, element, focusTarget: control, value, showError: errorShower(element, error, [control]) }
}

/**
 * A date and time picked in the user's organisation's time zone (the browser's own picker), sent
 * as ISO 8601 with that zone's offset at that date: 2026-12-07T14:00:00+01:00.
 */
export function dateTimeField(options: FieldOptions & { zone: () => string }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const control = h('input', { id, name: options.name, type: 'datetime-local', 'aria-describedby': describedBy })
  const element = h('div', { class: 'field' }, h('label', { for: id }, labelText), hint, error, control)
  return { name: options.name, label: options.label, element, focusTarget: control, value: () => (control.value === '' ? undefined : zonedIso(control.value, options.zone())), showError: errorShower(element, error, [control]) }
}

/** A value fixed by who is signed in (their organisation): shown, not editable, always sent. */
export function fixedField(options: FieldOptions & { value: string; shown: string }): Field {
  const { id, hint, error, labelText } = parts(options)
  const output = h('output', { id }, options.shown)
  const element = h('div', { class: 'field' }, h('span', { class: 'label' }, labelText), hint, error, h('p', {}, output))
  return { name: options.name, label: options.label, element, focusTarget: output, value: () => options.value, showError: errorShower(element, error, []) }
}

/** Several choices (a service list): checkboxes in a fieldset, sent as the list of the checked ones. */
export function multiChoiceField(options: FieldOptions & { choices: Choice[] }): Field {
  const { id, hint, error, describedBy, labelText } = parts(options)
  const boxes = options.choices.map((choice) => h('input', { type: 'checkbox', id: `${id}-${choice.value}`, name: options.name, value: choice.value }))
  const element = h('fieldset', { class: 'field', id, 'aria-describedby': describedBy },
    h('legend', {}, labelText), hint, error,
    h('div', { class: 'radios' }, options.choices.map((choice, i) => h('div', { class: 'radio' }, boxes[i], h('label', { for: boxes[i].id }, choice.label)))))
  const value = () => {
    const checked = boxes.filter((box) => box.checked).map((box) => box.value)
    return checked.length === 0 ? undefined : checked
  }
  return { name: options.name, label: options.label, element, focusTarget: boxes[0] ?? element, value, showError: errorShower(element, error, boxes) }
}

/** `2026-12-07T14:00` read in `zone`, as ISO 8601 with the zone's offset at that instant. */
export function zonedIso(local: string, zone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local)
  if (!match) return local
  const [year, month, day, hour, minute] = match.slice(1).map(Number)
  const wall = Date.UTC(year, month - 1, day, hour, minute)
  // The offset at the wall time, then at the instant it gives: right on both sides of a DST change.
  let offset = offsetMinutes(wall, zone)
  offset = offsetMinutes(wall - offset * 60_000, zone)
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

/** The zone's offset from UTC at this instant, in minutes (Paris in winter: 60). */
function offsetMinutes(epochMs: number, zone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date(epochMs)).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT'
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name)
  if (!match) return 0
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0))
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
