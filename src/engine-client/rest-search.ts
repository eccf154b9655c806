/**
 * The searches and variable reads every adapter makes over the SDK's REST client (/v2): one page
 * size, one way to read a variable whose value the search truncated.
 */
import type { Camunda8 } from '@camunda8/sdk'

export type RestClient = ReturnType<Camunda8['getCamundaRestClient']>

/** The largest page raccord reads: its lists are for people and single processes, not exports. */
export const PAGE_LIMIT = 1000

/** A variable as /v2/variables/search answers it: the value is JSON text, maybe truncated. */
export interface VariableItem {
  variableKey: string
  name: string
  value: string
  isTruncated?: boolean
  scopeKey: string
}

/** A JSON call to /v2; the console wraps it to turn the engine's refusals into its own problems. */
export type RestCall = <T>(method: 'GET' | 'POST', urlPath: string, body?: Record<string, unknown>) => Promise<T>

export function restCall(rest: RestClient): RestCall {
  return <T>(method: 'GET' | 'POST', urlPath: string, body?: Record<string, unknown>) => rest.callApiEndpoint<Record<string, unknown>, T>({ method, urlPath, body })
}

/** The items of one search; `body.page` defaults to one page of PAGE_LIMIT. */
export async function search<T>(call: RestCall, entity: string, body: Record<string, unknown>): Promise<T[]> {
  const page = await call<{ items: T[] }>('POST', `${entity}/search`, { page: { limit: PAGE_LIMIT }, ...body })
  return page.items
}

/** The parsed value of a variable; a truncated one is read whole first. */
export async function variableValue(call: RestCall, item: Pick<VariableItem, 'variableKey' | 'value' | 'isTruncated'>): Promise<unknown> {
  const serialised = item.isTruncated ? (await call<VariableItem>('GET', `variables/${item.variableKey}`)).value : item.value
  return JSON.parse(serialised) as unknown
}
