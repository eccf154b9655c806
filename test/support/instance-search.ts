/** POST /v2/process-instances/search to the engine on `restPort`: the answer, which must be a 200. */
export async function searchInstances<T>(restPort: number, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${restPort}/v2/process-instances/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as T
}
