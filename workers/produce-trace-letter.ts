/**
 * produce-trace-letter: TRC-3, requests and answers travel by post. Renders the printable letter
 * (both postal addresses, the reference) into the security trace, with its SHA-256, and tells the
 * process where the API serves it.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { renderTraceLetter } from '../src/app/traces/trace-letter'
import { letterPath, type TraceRequestData } from '../src/app/traces/trace-requests'
import { JobInputError } from '../src/app/worker-kit/job-input'
import { securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'produce-trace-letter' as const

/** The process variables this worker reads, and nothing more: the rest is in the security trace. */
export const inputSchema = z.object({
  traceRequestId: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  /** where the API serves the letter, for the dispatch form */
  letterPath: string
  letterReference: string
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const store = securityStoreOf(ctx)
  const record = store.get<TraceRequestData>(input.traceRequestId)
  if (record === undefined || record.kind !== 'trace-request') throw new JobInputError([`variable traceRequestId: trace request '${input.traceRequestId}' is not in the security trace`])
  const at = ctx.now().toISOString()
  // A redelivered job keeps the letter produced first: it may be printed already.
  const letterHtml = record.data.letterHtml ?? renderTraceLetter(ctx.config, record.id, record.data, at)
  const letterSha256 = createHash('sha256').update(letterHtml).digest('hex')
  store.update(record.id, { state: 'letter-produced', data: { letterReference: record.id, letterHtml, letterSha256 }, at })
  store.append({
    idempotencyKey: `trace-exchange:${record.id}:${ctx.job.key}`,
    recordId: record.id,
    at,
    actor: 'raccord',
    event: 'letter-produced',
    detail: { reference: record.id, sha256: letterSha256, path: letterPath(record.id), elementId: ctx.job.elementId },
  })
  return { letterPath: letterPath(record.id), letterReference: record.id }
}
