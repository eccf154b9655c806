/**
 * Signed webhooks (link control, change adapters) never follow a redirect: following a 307 would
 * re-send the signed body and its Idempotency-Key to wherever the Location points. A redirect is a
 * non-retryable failure naming where it pointed: the same URL would redirect again on every retry,
 * and only an operator fixing the configured URL (or the receiver) can settle it.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { AdapterRejectedError, callAdapter } from '../../src/app/changes/change-adapters'
import { linkControl, LinkControlRejectedError } from '../../src/app/cuts/link-control'
import type { Interconnection } from '../../src/config'
import { classifyFailure } from '../../workers'

const SECRET_ENV = 'RACCORD_TEST_REDIRECT_SECRET'
const env = { [SECRET_ENV]: 'a-secret-long-enough-for-hmac' }

interface Server { url: string; requests: Array<{ method: string; path: string; idempotencyKey?: string }>; close(): Promise<void> }

async function serve(answer: (res: http.ServerResponse) => void): Promise<Server> {
  const requests: Server['requests'] = []
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', idempotencyKey: req.headers['idempotency-key'] as string | undefined })
      answer(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

let elsewhere: Server
let redirecting: Server
let status = 307

beforeAll(async () => {
  elsewhere = await serve((res) => res.writeHead(204).end())
  redirecting = await serve((res) => res.writeHead(status, { location: `${elsewhere.url}/stolen` }).end())
})
afterAll(async () => {
  await redirecting.close()
  await elsewhere.close()
})
beforeEach(() => {
  elsewhere.requests.length = 0
  redirecting.requests.length = 0
})

const interconnection = (url: string): Interconnection => ({
  id: 'alpha-prod', service: 'demarches-alpha', environment: 'production', linkControl: { type: 'webhook', url, secretEnv: SECRET_ENV },
})

describe.each([307, 308, 301, 302, 303])('a webhook answering %i', (code) => {
  beforeEach(() => {
    status = code
  })

  test('link control: the cut fails for good, naming the redirect, and the other server receives nothing', async () => {
    const control = linkControl({ env, now: () => new Date('2025-03-04T10:00:00Z') })
    const attempt = control.apply({ interconnection: interconnection(`${redirecting.url}/switch`), action: 'disable', cutId: 'CUT-1', idempotencyKey: 'job-1' })
    await expect(attempt).rejects.toThrow(LinkControlRejectedError)
    await expect(attempt).rejects.toThrow(`redirect (HTTP ${code}) to ${elsewhere.url}/stolen, not followed`)
    expect(redirecting.requests).toHaveLength(1)
    expect(elsewhere.requests).toEqual([])
  })

  test('change adapter: the step fails for good (an incident, no retry), naming the redirect, and the other server receives nothing', async () => {
    const call = callAdapter({ type: 'webhook', url: `${redirecting.url}/adapter`, secretEnv: SECRET_ENV }, { action: 'retire-previous-version', idempotencyKey: 'CHG-1:77', body: {}, env })
    await expect(call).rejects.toThrow(AdapterRejectedError)
    await expect(call).rejects.toThrow(`redirect (HTTP ${code}) to ${elsewhere.url}/stolen, not followed`)
    const error = await call.catch((failure: unknown) => failure)
    expect(classifyFailure(error, 3, 1000)).toMatchObject({ retries: 0 })
    expect(elsewhere.requests).toEqual([])
  })
})
