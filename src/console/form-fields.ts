/**
 * The server's check of a submitted Camunda Form: the browser validates with form-js, but a
 * completion only carries the form's own fields, and its required ones, whoever sends it.
 */
import { HttpProblem, type FieldProblem } from '../api/problem'

interface FormComponent {
  type?: string
  key?: string
  path?: string
  components?: FormComponent[]
  validate?: { required?: boolean }
}

/** The top-level variable names a form writes, and which of them are required. */
export function formFields(schema: Record<string, unknown>): { names: Set<string>; required: Set<string> } {
  const names = new Set<string>()
  const required = new Set<string>()
  const visit = (components: FormComponent[] | undefined, nested: boolean) => {
    for (const component of components ?? []) {
      // A group with a path writes its fields under that path; without one, at the top level.
      if (component.components) {
        const path = component.path?.split('.')[0]
        if (path && !nested) names.add(path)
        visit(component.components, nested || Boolean(path))
        continue
      }
      if (nested || typeof component.key !== 'string') continue
      const name = component.key.split('.')[0]
      names.add(name)
      if (component.validate?.required) required.add(name)
    }
  }
  visit(schema.components as FormComponent[] | undefined, false)
  return { names, required }
}

/** Throws a 400 listing every field the form does not have, and every required one left empty. */
export function checkSubmission(schema: Record<string, unknown>, variables: Record<string, unknown>): void {
  const { names, required } = formFields(schema)
  const errors: FieldProblem[] = []
  for (const name of Object.keys(variables)) {
    if (!names.has(name)) errors.push({ field: name, detail: 'Not a field of this form' })
  }
  for (const name of required) {
    const value = variables[name]
    if (value === undefined || value === null || value === '' || value === false) errors.push({ field: name, detail: 'Required' })
  }
  if (errors.length > 0) {
    throw new HttpProblem(400, 'Bad Request', `Invalid form submission: ${errors.map((e) => `${e.field}: ${e.detail}`).join('; ')}`, { errors })
  }
}
