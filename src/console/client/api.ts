/** Calls to the console's JSON API with the signed-in token; problems become ApiError. */
import type { Language } from './i18n'

const TOKEN_KEY = 'raccord.console.token'

/** One bad field of a request, as a 400 problem lists it in `errors`. */
export interface FieldProblem {
  /** path of the field in the body, e.g. `impact`; `(body)` for the whole body */
  field: string
  detail: string
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly errors: FieldProblem[] = []) {
    super(message)
    this.name = 'ApiError'
  }
}

export const base = document.body.dataset.base ?? '/console'

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, token)
}

/** The application's own API (/api), served beside the console: the same credential works there. */
export const apiRoot = `${base.replace(/\/console$/, '')}/api`

/** A call to the console's API (/console/api). */
export function call<T>(method: string, path: string, body?: unknown, token = storedToken()): Promise<T> {
  return request<T>(`${base}/api${path}`, method, body, token)
}

/** A call to the application's API (/api/cuts, /api/changes...), as the console's signed-in person. */
export function callApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(`${apiRoot}${path}`, method, body, storedToken())
}

async function request<T>(url: string, method: string, body: unknown, token: string | null): Promise<T> {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!response.ok) {
    let detail = response.statusText
    let errors: FieldProblem[] = []
    try {
      const problem = (await response.json()) as { detail?: string; title?: string; errors?: FieldProblem[] }
      detail = problem.detail ?? problem.title ?? detail
      if (Array.isArray(problem.errors)) errors = problem.errors
    } catch {
      // not problem JSON: the status text says enough
    }
    throw new ApiError(response.status, detail, errors)
  }
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  return (type.includes('json') ? await response.json() : await response.text()) as T
}

export interface Me {
  name: string
  assignee: string
  roles: string[]
  organisation: { id: string; name: string; role: 'client' | 'provider'; timeZone: string; language: Language }
  may: { viewProcesses: boolean; viewDashboard: boolean; retryIncident: boolean; cancelInstance: boolean; declareIncident: boolean }
  links: { outbox?: string; status?: string }
}

export interface UserTask {
  userTaskKey: string
  name?: string
  state: string
  assignee?: string
  elementId: string
  candidateGroups: string[]
  processDefinitionId: string
  processName?: string
  processInstanceKey: string
  creationDate: string
  dueDate?: string
  followUpDate?: string
}

export interface TaskContext {
  businessKey?: { name: string; value: string }
  title?: string
  service?: string
  priority?: { priority?: string; resolutionTarget?: string }
}
