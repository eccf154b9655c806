/**
 * notify-trace-request: TRC-3, no answer within the agreed delay. Mails this installation's trace
 * contact of the request (the requester when we asked, the recipient when we were asked) and
 * appends the mail with its Message-ID to the security trace.
 *
 * Task header: `template` (trace-answer-reminder).
 */
import { z } from 'zod'
import { organisation } from '../src/config'
import { contactNamed, namedContacts, type TraceRequestData } from '../src/app/traces/trace-requests'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import { securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'notify-trace-request' as const

/** The process variables this worker reads, and nothing more: the rest is in the security trace. */
export const inputSchema = z.object({
  traceRequestId: z.string().min(1),
  answerDelay: z.string().min(1),
})

export type Input = z.output<typeof inputSchema>

export interface Output {
  messageIds: string[]
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const template = requiredHeader(ctx.job, 'template')
  if (template !== 'trace-answer-reminder') throw new JobInputError([`task header template: '${template}' is not trace-answer-reminder`])
  const store = securityStoreOf(ctx)
  const record = store.get<TraceRequestData>(input.traceRequestId)
  if (record === undefined || record.kind !== 'trace-request') throw new JobInputError([`variable traceRequestId: trace request '${input.traceRequestId}' is not in the security trace`])
  const d = record.data
  if (d.dispatchedAt === undefined || d.postalReference === undefined) throw new JobInputError([`trace request '${record.id}' has no recorded dispatch`])
  const [own, other] = d.direction === 'outgoing' ? [d.requester, d.recipient] : [d.recipient, d.requester]
  const self = organisation(ctx.config, own.organisation)
  const contact = contactNamed(namedContacts(ctx.config, self.id), own.name)
  if (contact === undefined) throw new JobInputError([`${own.name} is not a contact of ${self.id}`])

  const key = `${record.id}:${ctx.job.key}:${self.id}`
  const sent = await ctx.mailer.send<'trace-answer-reminder'>({
    idempotencyKey: key,
    to: [contact.email],
    template: 'trace-answer-reminder',
    lang: self.language,
    data: {
      reference: record.id,
      direction: d.direction,
      otherParty: organisation(ctx.config, other.organisation).name,
      dispatchedAt: d.dispatchedAt,
      postalReference: d.postalReference,
      answerDelay: input.answerDelay,
    },
    timeZone: self.timeZone,
  })
  store.append({
    idempotencyKey: `mail:${key}`,
    recordId: record.id,
    at: ctx.now().toISOString(),
    actor: 'raccord',
    event: 'answer-reminder-sent',
    detail: { template, to: [contact.email], elementId: ctx.job.elementId },
    messageId: sent.messageId,
  })
  return { messageIds: [sent.messageId] }
}
