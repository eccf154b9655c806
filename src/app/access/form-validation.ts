/**
 * A Camunda Form's own rules, applied to a submission: the fields it has, which of them its
 * conditions hide, and each visible field's `validate` rules and fixed options. Pure, so the
 * server and the browser apply the same rules.
 */
import { evaluate } from 'feelin'

/** One rule a submitted field broke. */
export interface FormFieldProblem {
  field: string
  detail: string
}

interface FormComponent {
  type?: string
  key?: string
  path?: string
  components?: FormComponent[]
  conditional?: { hide?: string }
  values?: Array<{ value?: unknown }>
  validate?: {
    required?: boolean
    minLength?: number
    maxLength?: number
    min?: number
    max?: number
    pattern?: string
    validationType?: string
  }
}

/** A field of the form as submitted: its top-level variable, and the rules that apply to it. */
interface FieldRule {
  name: string
  component: FormComponent
  hidden: boolean
}

/** Field types whose value a person enters or picks (text views, spacers and buttons write nothing). */
const INPUT_TYPES = new Set(['textfield', 'textarea', 'number', 'checkbox', 'checklist', 'radio', 'select', 'taglist',
  'datetime', 'expression', 'filepicker', 'dynamiclist'])

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^\+?[0-9 ()./-]{6,}$/

/**
 * Evaluates a component's `conditional.hide` as form-js does: a FEEL expression over the form's
 * data (the task's variables, overlaid by what is submitted). An expression that fails to evaluate
 * hides nothing, as in form-js.
 */
function isHidden(component: FormComponent, data: Record<string, unknown>): boolean {
  const hide = component.conditional?.hide
  if (typeof hide !== 'string' || hide.trim() === '') return false
  const expression = hide.trim().startsWith('=') ? hide.trim().slice(1) : hide
  try {
    return evaluate(expression, data).value === true
  } catch {
    return false
  }
}

/** Every top-level input field of the form, with whether its own or a parent's condition hides it. */
export function formFieldRules(schema: Record<string, unknown>, data: Record<string, unknown>): FieldRule[] {
  const rules: FieldRule[] = []
  const groupNames = new Map<string, boolean>()
  const visit = (components: FormComponent[] | undefined, nested: boolean, parentHidden: boolean) => {
    for (const component of components ?? []) {
      const hidden = parentHidden || isHidden(component, data)
      if (component.components) {
        // A group with a path writes its fields under that path; without one, at the top level.
        const path = component.path?.split('.')[0]
        if (path && !nested) groupNames.set(path, (groupNames.get(path) ?? true) && hidden)
        visit(component.components, nested || Boolean(path), hidden)
        continue
      }
      if (nested || typeof component.key !== 'string' || !INPUT_TYPES.has(component.type ?? '')) continue
      rules.push({ name: component.key.split('.')[0], component, hidden })
    }
  }
  visit(schema.components as FormComponent[] | undefined, false, false)
  for (const [name, hidden] of groupNames) rules.push({ name, component: { type: 'group' }, hidden })
  return rules
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === false || (Array.isArray(value) && value.length === 0)
}

/** The problems of one visible field's value against its component's rules. */
function fieldProblems(rule: FieldRule, value: unknown): string[] {
  const { component } = rule
  const validate = component.validate ?? {}
  if (isEmpty(value)) return validate.required ? ['Required'] : []
  const problems: string[] = []
  if (typeof value === 'string') {
    if (validate.minLength !== undefined && value.length < validate.minLength) problems.push(`At least ${validate.minLength} characters`)
    if (validate.maxLength !== undefined && value.length > validate.maxLength) problems.push(`At most ${validate.maxLength} characters`)
    if (validate.pattern && !new RegExp(validate.pattern).test(value)) problems.push('Not in the expected format')
    if (validate.validationType === 'email' && !EMAIL.test(value)) problems.push('Not an email address')
    if (validate.validationType === 'phone' && !PHONE.test(value)) problems.push('Not a phone number')
  }
  if (component.type === 'number') {
    const number = typeof value === 'number' ? value : Number(value)
    if (!Number.isFinite(number)) problems.push('Not a number')
    else {
      if (validate.min !== undefined && number < validate.min) problems.push(`At least ${validate.min}`)
      if (validate.max !== undefined && number > validate.max) problems.push(`At most ${validate.max}`)
    }
  }
  const options = component.values?.map((v) => v.value)
  if (options && options.length > 0) {
    const picked = Array.isArray(value) ? value : [value]
    if (picked.some((v) => !options.includes(v))) problems.push(`Not one of the options: ${options.map((o) => JSON.stringify(o)).join(', ')}`)
  }
  return problems
}

/**
 * Checks a submission against the form: every key must be a field of the form that is visible
 * (form-js never submits a hidden field), and every visible field must pass its own rules. A field
 * the form hides is never required.
 */
export function validateSubmission(
  schema: Record<string, unknown>,
  submitted: Record<string, unknown>,
  taskVariables: Record<string, unknown> = {},
): FormFieldProblem[] {
  const rules = formFieldRules(schema, { ...taskVariables, ...submitted })
  const byName = new Map<string, FieldRule[]>()
  for (const rule of rules) byName.set(rule.name, [...(byName.get(rule.name) ?? []), rule])
  const problems: FormFieldProblem[] = []
  for (const name of Object.keys(submitted)) {
    const fields = byName.get(name)
    if (!fields) problems.push({ field: name, detail: 'Not a field of this form' })
    else if (fields.every((f) => f.hidden) && !isEmpty(submitted[name])) problems.push({ field: name, detail: 'Hidden by the form for this answer: leave it out' })
  }
  for (const rule of rules) {
    if (rule.hidden || rule.component.type === 'group') continue
    for (const detail of fieldProblems(rule, submitted[rule.name])) problems.push({ field: rule.name, detail })
  }
  return problems
}
