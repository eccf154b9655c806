/** How the console answers an engine call that failed (src/engine-client/console-engine.ts makes the calls). */
import { HttpProblem } from '../api/problem'

/** The engine's answer as the console's own problem: its 4xx pass through, anything else is a 502. */
export function engineProblem(error: unknown, what: string): HttpProblem {
  const { statusCode, detail, title } = (error ?? {}) as { statusCode?: unknown; detail?: unknown; title?: unknown }
  const message = typeof detail === 'string' && detail !== '' ? detail : (error as Error)?.message ?? String(error)
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new HttpProblem(statusCode, typeof title === 'string' && title !== '' ? title : 'Engine refused', `${what}: ${message}`)
  }
  return new HttpProblem(502, 'Bad Gateway', `The engine did not answer ${what}: ${message}`)
}
