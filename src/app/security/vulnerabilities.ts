/**
 * Vulnerabilities as people see them (SEC-1..4): reporting one opens it in the security trace and
 * starts vulnerability-handling; reading one joins the trace with where its process waits.
 */
import { z } from 'zod'
import type { Config } from '../../config'
import { CvssVectorError, cvssScoreDisagreement, scoreCvssVector, type CvssScore, type CvssVersion } from './cvss'
import { requireOwnOrganisation, requireServiceParty } from '../../config/identities'
import type { Caller } from '../incidents/incidents'
import type { ProcessEngine } from '../../engine-client/process-engine'
import { newRecordId, openWithProcess, processOf, type RecordProcess } from './security-records'
import { UnknownRecordError, type SecurityEvent, type SecurityRecord, type SecurityStore } from './security-store'

/** Id of the process every reported vulnerability runs. */
export const VULNERABILITY_PROCESS_ID = 'vulnerability-handling'

/** What the security trace knows of a vulnerability. */
export interface VulnerabilityData {
  cveId?: string
  title: string
  description?: string
  cvssScore: number
  cvssVector: string
  cvssVersion: CvssVersion
  /** id of a service in the configuration */
  service: string
  knownExploited: boolean
  /** the organisation that found it */
  reportingOrganisation: string
  reportedBy: string
  reportedAt: string
  watchReviewId?: string
  /** from the vulnerability-urgency decision (SEC-2) */
  severity?: string
  remediationDeadline?: string
  remediationDueAt?: string
  proposeCut?: boolean
  changeReference?: string | null
  changeKind?: string | null
  /** SEC-3: the announced delay */
  expectedFixDate?: string
  delayReason?: string
  fixedAt?: string
  fixSummary?: string | null
  /** who recorded the fix (apply-fix form) */
  fixedBy?: string
  fixedLate?: boolean
  cutDecision?: 'cut' | 'keep'
  cutReason?: string | null
}

/** What a report carries; `service` and `reportingOrganisation` must name configured ones. */
export function reportSchema(config: Config) {
  const serviceIds = config.organisations.flatMap((org) => org.services.map((service) => service.id))
  const orgIds = config.organisations.map((org) => org.id)
  return z.strictObject({
    /** CVE id, when the vulnerability has one */
    cveId: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'Invalid CVE id: expected CVE-YYYY-NNNN, e.g. CVE-2024-3094').optional(),
    title: z.string().trim().min(1, 'Required').max(200),
    description: z.string().trim().max(4000).optional(),
    /** Optional: the vector gives the score (SEC-2); a score given must be the vector's. */
    cvssScore: z.number().min(0, { error: 'CVSS scores go from 0.0 to 10.0', abort: true }).max(10, { error: 'CVSS scores go from 0.0 to 10.0', abort: true })
      .refine((score) => Math.abs(score * 10 - Math.round(score * 10)) < 1e-9, { error: 'CVSS scores have one decimal, e.g. 9.8', abort: true })
      .optional(),
    cvssVector: z.string().transform((vector, ctx): { vector: string; scored: CvssScore } => {
      try {
        return { vector, scored: scoreCvssVector(vector) }
      } catch (error) {
        if (!(error instanceof CvssVectorError)) throw error
        ctx.addIssue({ code: 'custom', message: `Invalid CVSS vector: ${error.message}` })
        return z.NEVER
      }
    }),
    service: z.string().refine((id) => serviceIds.includes(id), { error: `Unknown service: expected one of ${serviceIds.join(', ')}` }),
    knownExploited: z.boolean(),
    /** Accepted for compatibility; the reporting organisation is the caller's, and a different one is refused. */
    reportingOrganisation: z.string().refine((id) => orgIds.includes(id), { error: `Unknown organisation: expected one of ${orgIds.join(', ')}` }).optional(),
  }).superRefine((report, ctx) => {
    // SEC-2: a score of 2.0 next to a vector scoring 10.0 once made a critical vulnerability Low.
    const disagreement = report.cvssScore === undefined ? undefined : cvssScoreDisagreement(report.cvssScore, report.cvssVector.scored)
    if (disagreement !== undefined) ctx.addIssue({ code: 'custom', path: ['cvssScore'], message: disagreement })
  })
}

export type Report = z.output<ReturnType<typeof reportSchema>>

export interface VulnerabilitySummary {
  id: string
  cveId: string | null
  title: string
  service: string
  severity: string | null
  state: string
  remediationDueAt: string | null
  reportedAt: string
  updatedAt: string
}

export interface VulnerabilityView extends VulnerabilitySummary {
  data: VulnerabilityData
  processInstanceKey: string | null
  process: RecordProcess | null
  /** the security trace, oldest first (SEC-3) */
  timeline: SecurityEvent[]
}

export interface VulnerabilityServiceOptions {
  config: Config
  store: SecurityStore
  engine: ProcessEngine
  now?: () => Date
}

export class VulnerabilityService {
  private readonly now: () => Date

  constructor(private readonly options: VulnerabilityServiceOptions) {
    this.now = options.now ?? (() => new Date())
  }

  /** Opens the vulnerability and starts its process. Throws EngineUnavailableError (nothing is left behind then). */
  async report(report: Report, caller: Caller): Promise<SecurityRecord<VulnerabilityData>> {
    const { store, engine } = this.options
    requireOwnOrganisation('reportingOrganisation', report.reportingOrganisation, caller)
    requireServiceParty(this.options.config, report.service, caller)
    const reportedAt = this.now().toISOString()
    const data: VulnerabilityData = {
      ...(report.cveId ? { cveId: report.cveId } : {}),
      title: report.title,
      ...(report.description ? { description: report.description } : {}),
      cvssScore: report.cvssVector.scored.score,
      cvssVector: report.cvssVector.vector,
      cvssVersion: report.cvssVector.scored.version,
      service: report.service,
      knownExploited: report.knownExploited,
      reportingOrganisation: caller.organisation,
      reportedBy: caller.actor,
      reportedAt,
    }
    const id = newRecordId(store, 'VUL', this.now())
    return openWithProcess(store, engine, {
      record: { id, kind: 'vulnerability', state: 'reported', data, at: reportedAt },
      processId: VULNERABILITY_PROCESS_ID,
      variables: {
        vulnerabilityId: id,
        ...(data.cveId ? { cveId: data.cveId } : {}),
        title: data.title,
        description: data.description ?? '',
        cvssScore: data.cvssScore,
        cvssVector: data.cvssVector,
        service: data.service,
        knownExploited: data.knownExploited,
        reportingOrganisation: data.reportingOrganisation,
        reportedBy: data.reportedBy,
        reportedAt,
      },
    })
  }

  list(): VulnerabilitySummary[] {
    return this.options.store.list<VulnerabilityData>('vulnerability').map(summary)
  }

  /**
   * Who may read a vulnerability: the reporting organisation, the owner of the service, and each
   * organisation it was disclosed to (SEC-3), once the disclosure mail went. Throws UnknownRecordError.
   */
  parties(id: string): string[] {
    const { store, config } = this.options
    const record = store.get<VulnerabilityData>(id)
    if (record === undefined || record.kind !== 'vulnerability') throw new UnknownRecordError(id)
    const owner = config.organisations.find((org) => org.services.some((service) => service.id === record.data.service))?.id
    const disclosed = store.events(id)
      .filter((event) => event.event === 'notification-sent' && event.detail.template === 'vulnerability-disclosed' && typeof event.detail.organisation === 'string')
      .map((event) => event.detail.organisation as string)
    return [...new Set([record.data.reportingOrganisation, ...(owner === undefined ? [] : [owner]), ...disclosed])]
  }

  /** Throws UnknownRecordError, EngineUnavailableError. */
  async view(id: string): Promise<VulnerabilityView> {
    const { store, engine } = this.options
    const record = store.get<VulnerabilityData>(id)
    if (record === undefined || record.kind !== 'vulnerability') throw new UnknownRecordError(id)
    const process = await processOf(engine, record)
    return { ...summary(record), data: record.data, processInstanceKey: record.processInstanceKey ?? null, process, timeline: store.events(id) }
  }
}

function summary(record: SecurityRecord<VulnerabilityData>): VulnerabilitySummary {
  return {
    id: record.id,
    cveId: record.data.cveId ?? null,
    title: record.data.title,
    service: record.data.service,
    severity: record.data.severity ?? null,
    state: record.state,
    remediationDueAt: record.data.remediationDueAt ?? null,
    reportedAt: record.data.reportedAt,
    updatedAt: record.updatedAt,
  }
}
