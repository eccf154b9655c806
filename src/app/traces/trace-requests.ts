/**
 * Trace requests as people see them (TRC-1..3): either party asks the other for traces, by post,
 * through named contacts. Registering one opens it in the security trace and starts
 * trace-exchange; its letter is served as printable HTML.
 */
import { z } from 'zod'
import { organisation, type Config, type Contact } from '../../config'
import { requireOwnOrganisation } from '../../config/identities'
import type { Caller } from '../incidents/incidents'
import type { ProcessEngine } from '../../engine-client/process-engine'
import { newRecordId, openWithProcess, processOf, type RecordProcess } from '../security/security-records'
import { UnknownRecordError, type SecurityEvent, type SecurityRecord, type SecurityStore } from '../security/security-store'

/** Id of the process every trace request runs. */
export const TRACE_EXCHANGE_PROCESS_ID = 'trace-exchange'

/** A person of an organisation, by name as the configuration spells it. */
export interface PartyContact {
  organisation: string
  name: string
}

/** The answer, as an authorised receiver records it (TRC-1, TRC-3). */
export interface TraceAnswer {
  answeredAt: string
  recordedBy: string
  delivered: string
  /** the format as annex 4 names it, and its version */
  format: string
  formatVersion: string
  /** SHA-256 of the delivered archive, lower-case hex */
  archiveSha256: string
}

/** What the security trace knows of a trace request. */
export interface TraceRequestData {
  /** outgoing: this installation asks; incoming: the other party asks this installation */
  direction: 'outgoing' | 'incoming'
  requester: PartyContact
  recipient: PartyContact
  services: string[]
  period: { from: string; to: string }
  purpose: string
  registeredBy: string
  registeredAt: string
  /** TRC-2: why the request was refused */
  refusal?: string[]
  letterReference?: string
  letterSha256?: string
  letterHtml?: string
  dispatchedAt?: string
  postalReference?: string
  answer?: TraceAnswer
}

/** Every named person of an organisation, whatever their role. */
export function namedContacts(config: Config, orgId: string): Contact[] {
  const { contacts } = organisation(config, orgId)
  return [contacts.technicalLead, contacts.functionalLead, ...contacts.directors, ...contacts.traceRequestSenders, ...contacts.traceRequestReceivers]
}

/** The contact of this name in the organisation's list, if any. */
export function contactNamed(list: readonly Contact[], name: string): Contact | undefined {
  return list.find((contact) => sameName(contact.name, name))
}

/** Names compare without regard to case or extra spaces. */
export function sameName(a: string, b: string): boolean {
  return normalise(a) === normalise(b)
}

const normalise = (name: string) => name.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('fr')

/**
 * TRC-2: the requester must be an authorised sender of its organisation and the recipient an
 * authorised receiver of the other. Answers the reasons of a refusal; none means authorised.
 */
export function contactProblems(config: Config, requester: PartyContact, recipient: PartyContact): string[] {
  const problems: string[] = []
  const requesting = organisation(config, requester.organisation)
  const receiving = organisation(config, recipient.organisation)
  if (contactNamed(requesting.contacts.traceRequestSenders, requester.name) === undefined) {
    problems.push(`${requester.name} is not an authorised trace-request sender of ${requesting.name} (authorised: ${requesting.contacts.traceRequestSenders.map((c) => c.name).join(', ')})`)
  }
  if (contactNamed(receiving.contacts.traceRequestReceivers, recipient.name) === undefined) {
    problems.push(`${recipient.name} is not an authorised trace-request receiver of ${receiving.name} (authorised: ${receiving.contacts.traceRequestReceivers.map((c) => c.name).join(', ')})`)
  }
  return problems
}

/** What a registration carries. Names must be named contacts of their organisation; authorisation is the process's to check. */
export function registrationSchema(config: Config) {
  const serviceIds = config.organisations.flatMap((org) => org.services.map((service) => service.id))
  const orgIds = config.organisations.map((org) => org.id)
  const party = z.strictObject({
    organisation: z.string().refine((id) => orgIds.includes(id), { error: `Unknown organisation: expected one of ${orgIds.join(', ')}` }),
    name: z.string().trim().min(1, 'Required').max(200),
  })
  return z
    .strictObject({
      direction: z.enum(['outgoing', 'incoming']),
      requester: party,
      recipient: party,
      services: z.array(z.string().refine((id) => serviceIds.includes(id), { error: `Unknown service: expected one of ${serviceIds.join(', ')}` })).min(1, 'Name at least one service'),
      period: z.strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) }),
      purpose: z.string().trim().min(1, 'Required').max(4000),
    })
    .superRefine((body, ctx) => {
      const own = body.direction === 'outgoing' ? 'requester' : 'recipient'
      if (body[own].organisation !== config.self) {
        ctx.addIssue({ code: 'custom', path: [own, 'organisation'], message: `An ${body.direction} request has this installation (${config.self}) as its ${own}` })
      }
      if (body.requester.organisation === body.recipient.organisation) {
        ctx.addIssue({ code: 'custom', path: ['recipient', 'organisation'], message: 'The recipient belongs to the other party, not to the requester\'s organisation' })
      }
      for (const side of ['requester', 'recipient'] as const) {
        const { organisation: orgId, name } = body[side]
        if (!orgIds.includes(orgId)) continue
        const known = namedContacts(config, orgId)
        if (contactNamed(known, name) === undefined) {
          ctx.addIssue({ code: 'custom', path: [side, 'name'], message: `Unknown contact of ${orgId}: expected one of ${[...new Set(known.map((c) => c.name))].join(', ')}` })
        }
      }
      if (Date.parse(body.period.from) >= Date.parse(body.period.to)) ctx.addIssue({ code: 'custom', path: ['period', 'to'], message: 'The period ends after it starts' })
    })
}

export type Registration = z.output<ReturnType<typeof registrationSchema>>

export interface TraceRequestSummary {
  id: string
  direction: 'outgoing' | 'incoming'
  requester: PartyContact
  recipient: PartyContact
  state: string
  registeredAt: string
  updatedAt: string
}

export interface TraceRequestView extends TraceRequestSummary {
  services: string[]
  period: { from: string; to: string }
  purpose: string
  refusal: string[] | null
  letter: { reference: string; sha256: string; path: string } | null
  dispatch: { dispatchedAt: string; postalReference: string } | null
  answer: TraceAnswer | null
  processInstanceKey: string | null
  process: RecordProcess | null
  /** the exchange's trace, oldest first */
  timeline: SecurityEvent[]
}

export interface TraceRequestServiceOptions {
  config: Config
  store: SecurityStore
  engine: ProcessEngine
  now?: () => Date
}

/** Where the printable letter of a request is served. */
export function letterPath(id: string): string {
  return `/api/trace-requests/${encodeURIComponent(id)}/letter`
}

export class TraceRequestService {
  private readonly now: () => Date

  constructor(private readonly options: TraceRequestServiceOptions) {
    this.now = options.now ?? (() => new Date())
  }

  /** Opens the request and starts its process. Throws EngineUnavailableError (nothing is left behind then). */
  async register(registration: Registration, caller: Caller): Promise<SecurityRecord<TraceRequestData>> {
    const { config, store, engine } = this.options
    // The registering credential is this installation's side of the exchange, never the other's.
    const own = registration.direction === 'outgoing' ? 'requester' : 'recipient'
    requireOwnOrganisation(`${own}.organisation`, registration[own].organisation, caller)
    const registeredAt = this.now().toISOString()
    const data: TraceRequestData = {
      direction: registration.direction,
      requester: registration.requester,
      recipient: registration.recipient,
      services: registration.services,
      period: registration.period,
      purpose: registration.purpose,
      registeredBy: caller.actor,
      registeredAt,
    }
    const id = newRecordId(store, 'TRQ', this.now())
    return openWithProcess(store, engine, {
      record: { id, kind: 'trace-request', state: 'registered', data, at: registeredAt },
      processId: TRACE_EXCHANGE_PROCESS_ID,
      variables: {
        traceRequestId: id,
        direction: data.direction,
        requester: { ...data.requester },
        recipient: { ...data.recipient },
        services: data.services,
        period: { ...data.period },
        purpose: data.purpose,
        registeredBy: data.registeredBy,
        registeredAt,
        selfOrganisation: config.self,
        answerDelay: config.traceExchange.answerDelay,
      },
    })
  }

  list(): TraceRequestSummary[] {
    return this.options.store.list<TraceRequestData>('trace-request').map(summary)
  }

  /** Throws UnknownRecordError, EngineUnavailableError. */
  async view(id: string): Promise<TraceRequestView> {
    const { store, engine } = this.options
    const record = this.require(id)
    const process = await processOf(engine, record)
    const d = record.data
    return {
      ...summary(record),
      services: d.services,
      period: d.period,
      purpose: d.purpose,
      refusal: d.refusal ?? null,
      letter: d.letterReference && d.letterSha256 ? { reference: d.letterReference, sha256: d.letterSha256, path: letterPath(id) } : null,
      dispatch: d.dispatchedAt && d.postalReference ? { dispatchedAt: d.dispatchedAt, postalReference: d.postalReference } : null,
      answer: d.answer ?? null,
      processInstanceKey: record.processInstanceKey ?? null,
      process,
      timeline: store.events(id),
    }
  }

  /** The printable letter, once the process has produced it; undefined before. Throws UnknownRecordError. */
  letter(id: string): string | undefined {
    return this.require(id).data.letterHtml
  }

  private require(id: string): SecurityRecord<TraceRequestData> {
    const record = this.options.store.get<TraceRequestData>(id)
    if (record === undefined || record.kind !== 'trace-request') throw new UnknownRecordError(id)
    return record
  }
}

function summary(record: SecurityRecord<TraceRequestData>): TraceRequestSummary {
  return {
    id: record.id,
    direction: record.data.direction,
    requester: record.data.requester,
    recipient: record.data.recipient,
    state: record.state,
    registeredAt: record.data.registeredAt,
    updatedAt: record.updatedAt,
  }
}
