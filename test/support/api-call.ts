/** One JSON call to the application's HTTP API with a bearer credential, answered for assertions. */
export interface ApiAnswer {
  status: number
  headers: Headers
  text: string
  /** the JSON body; {} when the answer is not JSON */
  body: Record<string, unknown>
}

/** Calls `base + path`; without `token`, no Authorization header. */
export async function callApi(base: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  const json = (response.headers.get('content-type') ?? '').includes('json') && text !== ''
  return { status: response.status, headers: response.headers, text, body: json ? (JSON.parse(text) as Record<string, unknown>) : {} }
}
