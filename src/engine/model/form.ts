/** Reads a Camunda Form (form-js JSON schema) for deployment: its id, version tag and raw schema. */
import type { Problem } from './types'

/** A deployable form: `schema` is the file's JSON text, returned unchanged by the form endpoints. */
export interface FormResource {
  id: string
  versionTag?: string
  schema: string
}

/** Parses one `.form` resource; problems are resource-level, as a form has no elements. */
export function parseForm(json: string): { form?: FormResource; problems: Problem[] } {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (err) {
    return { problems: [{ message: `Failed to parse form JSON: ${err instanceof Error ? err.message : String(err)}` }] }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { problems: [{ message: 'Expected the form to be a JSON object' }] }
  }
  const document = parsed as Record<string, unknown>
  const problems: Problem[] = []
  const id = document.id
  if (typeof id !== 'string' || id.trim() === '') {
    problems.push({ message: "Expected the form to have a non-empty string 'id'" })
  }
  if (!Array.isArray(document.components)) {
    problems.push({ message: "Expected the form to have a 'components' array" })
  }
  const versionTag = document.versionTag
  if (versionTag !== undefined && typeof versionTag !== 'string') {
    problems.push({ message: "Expected the form's 'versionTag' to be a string" })
  }
  if (problems.length > 0 || typeof id !== 'string') return { problems }
  const form: FormResource = { id, schema: json }
  if (typeof versionTag === 'string' && versionTag !== '') form.versionTag = versionTag
  return { form, problems }
}
