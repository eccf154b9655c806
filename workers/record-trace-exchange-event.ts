/**
 * record-trace-exchange-event: appends a step of a trace exchange to the security trace (TRC-1..3).
 * The task header `event` names the step:
 *
 * - `trace-request-registered`: opens the request (the API has usually opened it already);
 * - `trace-request-refused`: the contacts were not authorised (TRC-2), with the reasons;
 * - `letter-dispatched`: the letter was posted, with its date and postal reference (TRC-3);
 * - `answer-recorded`: the answer, its format and version (annex 4) and the checksum of the
 *   delivered archive, once the person recording it is shown to be an authorised receiver
 *   (otherwise the BPMN error UNAUTHORISED_ANSWER_RECORDER);
 * - `answer-refused`: an answer recorded by someone not authorised.
 */
import { z } from 'zod'
import { organisation } from '../src/config'
import { BpmnErrorOutcome } from '../src/app/worker-kit/bpmn-error'
import type { SecurityStore } from '../src/app/security/security-store'
import { contactNamed, sameName, type TraceAnswer, type TraceRequestData } from '../src/app/traces/trace-requests'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import { securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'record-trace-exchange-event' as const

export const ERROR_CODES = { UNAUTHORISED_ANSWER_RECORDER: 'UNAUTHORISED_ANSWER_RECORDER' } as const

const dateTime = z.iso.datetime({ offset: true })
const party = z.object({ organisation: z.string().min(1), name: z.string().min(1) })

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  traceRequestId: z.string().min(1),
  direction: z.enum(['outgoing', 'incoming']),
  requester: party,
  recipient: party,
  services: z.array(z.string()).min(1),
  period: z.object({ from: dateTime, to: dateTime }),
  purpose: z.string().min(1),
  registeredBy: z.string().min(1).optional(),
  registeredAt: dateTime.optional(),
  /** check-trace-request-contacts */
  contactCheck: z.object({ authorised: z.boolean(), problems: z.array(z.string()) }).optional(),
  /** dispatch-trace-letter form */
  dispatchedAt: dateTime.optional(),
  postalReference: z.string().optional(),
  /** record-trace-answer form */
  answeredAt: dateTime.optional(),
  answerRecordedBy: z.string().optional(),
  delivered: z.string().optional(),
  traceFormat: z.string().optional(),
  traceFormatVersion: z.string().optional(),
  archiveChecksum: z.string().optional(),
})

export type Input = z.output<typeof inputSchema>

/** Nothing: the security trace is the result. */
export type Output = Record<string, never>

/** The trace entry of this job: a redelivered job appends once. */
export function idempotencyKey(traceRequestId: string, jobKey: string): string {
  return `trace-exchange:${traceRequestId}:${jobKey}`
}

/** A SHA-256 digest as 64 lower-case hex digits; `sha256:` may prefix it. */
export function normaliseSha256(checksum: string): string | undefined {
  const hex = checksum.trim().replace(/^sha256:/i, '').toLowerCase()
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined
}

/**
 * TRC-2: who may record the answer. The answer comes back to this installation's side: its
 * authorised receivers, and for an outgoing request the requester too.
 */
export function mayRecordAnswer(ctx: WorkerContext, data: Pick<TraceRequestData, 'direction' | 'requester'>, name: string): boolean {
  const self = organisation(ctx.config, ctx.config.self)
  if (contactNamed(self.contacts.traceRequestReceivers, name) !== undefined) return true
  return data.direction === 'outgoing' && sameName(data.requester.name, name)
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  const store = securityStoreOf(ctx)
  const at = ctx.now().toISOString()
  const record = open(input, ctx, store, at)
  const append = (actor: string, detail: Record<string, unknown>, name = event) =>
    store.append({ idempotencyKey: idempotencyKey(record.id, ctx.job.key), recordId: record.id, at, actor, event: name, detail: { ...detail, elementId: ctx.job.elementId } })

  switch (event) {
    case 'trace-request-registered':
      append(record.data.registeredBy, {
        direction: record.data.direction,
        requester: record.data.requester,
        recipient: record.data.recipient,
        services: record.data.services,
        period: record.data.period,
        purpose: record.data.purpose,
      })
      return {}
    case 'trace-request-refused': {
      const refusal = input.contactCheck?.problems ?? ['the contacts were not checked']
      store.update(record.id, { state: 'refused', data: { refusal }, at })
      append('raccord', { refusal })
      return {}
    }
    case 'letter-dispatched': {
      if (input.dispatchedAt === undefined || (input.postalReference ?? '').trim() === '') {
        throw new JobInputError(['variables dispatchedAt and postalReference: Required (from the dispatch-trace-letter form)'])
      }
      const dispatch = { dispatchedAt: input.dispatchedAt, postalReference: (input.postalReference ?? '').trim() }
      store.update(record.id, { state: 'dispatched', data: dispatch, at })
      append(`${ctx.config.self}-security`, dispatch)
      return {}
    }
    case 'answer-recorded': {
      const recordedBy = (input.answerRecordedBy ?? '').trim()
      if (!mayRecordAnswer(ctx, record.data, recordedBy)) {
        throw new BpmnErrorOutcome(ERROR_CODES.UNAUTHORISED_ANSWER_RECORDER, `${recordedBy || '(nobody)'} is not an authorised trace receiver of ${ctx.config.self}`, {
          refusedAnswerRecorder: recordedBy,
        })
      }
      const answer = parseAnswer(input, recordedBy)
      store.update(record.id, { state: 'answered', data: { answer }, at })
      append(recordedBy, { ...answer })
      return {}
    }
    case 'answer-refused': {
      const recordedBy = (input.answerRecordedBy ?? '').trim() || '(nobody)'
      append(recordedBy, { reason: `${recordedBy} is not an authorised trace receiver of ${ctx.config.self}` })
      return {}
    }
    default:
      throw new JobInputError([`task header event: '${event}' is not one of trace-request-registered, trace-request-refused, letter-dispatched, answer-recorded, answer-refused`])
  }
}

function parseAnswer(input: Input, recordedBy: string): TraceAnswer {
  const problems: string[] = []
  const required = (name: string, value: string | undefined) => {
    if ((value ?? '').trim() === '') problems.push(`variable ${name}: Required`)
    return (value ?? '').trim()
  }
  const delivered = required('delivered', input.delivered)
  const format = required('traceFormat', input.traceFormat)
  const formatVersion = required('traceFormatVersion', input.traceFormatVersion)
  const archiveSha256 = normaliseSha256(input.archiveChecksum ?? '')
  if (archiveSha256 === undefined) problems.push('variable archiveChecksum: expected a SHA-256 digest, 64 hexadecimal digits')
  if (input.answeredAt === undefined) problems.push('variable answeredAt: Required')
  if (problems.length > 0 || archiveSha256 === undefined || input.answeredAt === undefined) throw new JobInputError(problems)
  return { answeredAt: input.answeredAt, recordedBy, delivered, format, formatVersion, archiveSha256 }
}

/** The request in the security trace, opened from the process variables when the API did not. */
function open(input: Input, ctx: WorkerContext, store: SecurityStore, at: string) {
  const existing = store.get<TraceRequestData>(input.traceRequestId)
  if (existing !== undefined) {
    if (existing.kind !== 'trace-request') throw new JobInputError([`variable traceRequestId: '${input.traceRequestId}' is not a trace request`])
    return existing
  }
  for (const side of [input.requester, input.recipient]) organisation(ctx.config, side.organisation)
  const registeredAt = input.registeredAt ?? at
  const data: TraceRequestData = {
    direction: input.direction,
    requester: input.requester,
    recipient: input.recipient,
    services: input.services,
    period: input.period,
    purpose: input.purpose,
    registeredBy: input.registeredBy ?? `${ctx.config.self}-security`,
    registeredAt,
  }
  return store.create({ id: input.traceRequestId, kind: 'trace-request', state: 'registered', data, processInstanceKey: ctx.job.processInstanceKey, at: registeredAt })
}
