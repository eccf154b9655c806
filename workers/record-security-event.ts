/**
 * record-security-event: appends a step of the security watch or of a vulnerability's handling to
 * the security trace (SEC-1..4). The task header `event` names the step:
 *
 * - `watch-reviewed`: opens the review (SEC-1) with its sources and findings;
 * - `vulnerability-reported`: opens the vulnerability, from the API or from a watch finding, after
 *   checking its CVSS score, vector and service;
 * - `urgency-evaluated`: the severity and remediation due date of the vulnerability-urgency decision (SEC-2);
 * - `change-requested`, `vulnerability-fixed`: the change carrying the fix (started by start-fix-change,
 *   or recorded by hand), then the fix (SEC-2);
 * - `cut-decided`: operations' decision on a proposed cut (SEC-4).
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { CvssVectorError, cvssScoreDisagreement, scoreCvssVector, type CvssScore } from '../src/app/security/cvss'
import { addDuration } from '../src/app/iso-duration'
import type { SecurityStore } from '../src/app/security/security-store'
import type { VulnerabilityData } from '../src/app/security/vulnerabilities'
import { JobInputError, requiredHeader } from '../src/app/worker-kit/job-input'
import { securityStoreOf, type WorkerContext } from '../src/app/worker-kit/worker-context'

export const TASK_TYPE = 'record-security-event' as const

const dateTime = z.iso.datetime({ offset: true })

/** A finding of the watch review form. */
// A form leaves an optional field it shows empty as null or "": it counts as not given.
const finding = z.looseObject({ title: z.string().optional(), service: z.string().optional(), cvssScore: z.number().nullish() })

/** The process variables this worker reads, and nothing more. */
export const inputSchema = z.object({
  /** set by the API; absent for a watch finding, which gets its id here */
  vulnerabilityId: z.string().min(1).optional(),
  cveId: z.string().nullish(),
  title: z.string().min(1).optional(),
  description: z.string().nullish(),
  cvssScore: z.number().min(0).max(10).nullish(),
  cvssVector: z.string().optional(),
  service: z.string().min(1).optional(),
  knownExploited: z.boolean().optional(),
  reportingOrganisation: z.string().min(1).optional(),
  reportedBy: z.string().nullish(),
  reportedAt: dateTime.optional(),
  watchReviewId: z.string().nullish(),
  /** the vulnerability-urgency decision's result */
  urgency: z.object({ severity: z.string(), remediationDeadline: z.string(), reminderAt: z.string(), proposeCut: z.boolean() }).optional(),
  /** review-security-watch form */
  reviewedBy: z.string().optional(),
  sourcesChecked: z.string().optional(),
  findings: z.array(finding).nullish(),
  /** request-fix-change form */
  changeReference: z.string().nullish(),
  changeKind: z.string().nullish(),
  changeRequestedBy: z.string().nullish(),
  /** apply-fix form */
  fixSummary: z.string().optional(),
  fixedAt: dateTime.optional(),
  fixedBy: z.string().optional(),
  /** review-cut-proposal form */
  cutDecision: z.enum(['cut', 'keep']).optional(),
  cutReason: z.string().optional(),
  cutDecidedBy: z.string().optional(),
})

export type Input = z.output<typeof inputSchema>

/** What each event gives back to the process. */
export interface Output {
  /** watch-reviewed */
  watchReviewId?: string
  /** watch-reviewed: the findings are this installation's */
  reportingOrganisation?: string
  /** vulnerability-reported */
  vulnerabilityId?: string
  /** vulnerability-reported: the vector's score, which the urgency decision reads (SEC-2) */
  cvssScore?: number
  reportedAt?: string
  /** urgency-evaluated: report time + remediation deadline */
  remediationDueAt?: string
  severity?: string
  /** vulnerability-fixed: after the due date */
  fixedLate?: boolean
}

/** The trace entry of this job: a redelivered job appends once. */
export function idempotencyKey(recordId: string, jobKey: string): string {
  return `security:${recordId}:${jobKey}`
}

/** An id that a redelivered job computes again: the day, and a digest of the instance and the job. */
function derivedId(prefix: string, day: string, processInstanceKey: string, jobKey: string): string {
  return `${prefix}-${day.replaceAll('-', '')}-${createHash('sha256').update(`${processInstanceKey}:${jobKey}`).digest('hex').slice(0, 6)}`
}

export async function handle(input: Input, ctx: WorkerContext): Promise<Output> {
  const event = requiredHeader(ctx.job, 'event')
  const store = securityStoreOf(ctx)
  const at = ctx.now().toISOString()

  switch (event) {
    case 'watch-reviewed': {
      const id = input.watchReviewId ?? derivedId('WATCH', at.slice(0, 10), ctx.job.processInstanceKey, ctx.job.key)
      const findings = input.findings ?? []
      const data = { reviewedBy: input.reviewedBy ?? null, sourcesChecked: input.sourcesChecked ?? null, findings, organisation: ctx.config.self }
      store.create({ id, kind: 'watch-review', state: findings.length > 0 ? 'findings' : 'nothing-found', data, processInstanceKey: ctx.job.processInstanceKey, at })
      store.append({ idempotencyKey: idempotencyKey(id, ctx.job.key), recordId: id, at, actor: input.reviewedBy ?? 'security', event, detail: { sourcesChecked: data.sourcesChecked, findings: findings.length } })
      return { watchReviewId: id, reportingOrganisation: ctx.config.self }
    }
    case 'vulnerability-reported':
      return report(input, ctx, store, at)
    case 'urgency-evaluated': {
      const vulnerability = requireVulnerability(input, store)
      if (input.urgency === undefined) throw new JobInputError(['variable urgency: Required (the result of the vulnerability-urgency decision)'])
      const remediationDueAt = addDuration(vulnerability.data.reportedAt, input.urgency.remediationDeadline)
      const { severity, remediationDeadline, proposeCut } = input.urgency
      store.update(vulnerability.id, { state: 'open', data: { severity, remediationDeadline, remediationDueAt, proposeCut }, at })
      append(store, vulnerability.id, ctx, at, 'raccord', event, { severity, remediationDeadline, remediationDueAt, proposeCut })
      return { remediationDueAt, severity }
    }
    case 'change-requested': {
      const vulnerability = requireVulnerability(input, store)
      const change = { changeReference: input.changeReference ?? null, changeKind: input.changeKind ?? null }
      store.update(vulnerability.id, { state: 'change-requested', data: change, at })
      append(store, vulnerability.id, ctx, at, input.changeRequestedBy ?? 'security', event, change)
      return {}
    }
    case 'vulnerability-fixed': {
      const vulnerability = requireVulnerability(input, store)
      const fixedAt = input.fixedAt ?? at
      const due = vulnerability.data.remediationDueAt
      const fixedLate = due !== undefined && Date.parse(fixedAt) > Date.parse(due)
      store.update(vulnerability.id, { state: 'fixed', data: { fixedAt, fixSummary: input.fixSummary ?? null, fixedLate, ...(input.fixedBy ? { fixedBy: input.fixedBy } : {}) }, at })
      append(store, vulnerability.id, ctx, at, input.fixedBy ?? 'security', event, { fixedAt, fixSummary: input.fixSummary ?? null, fixedLate })
      return { fixedLate }
    }
    case 'cut-decided': {
      const vulnerability = requireVulnerability(input, store)
      if (input.cutDecision === undefined) throw new JobInputError(['variable cutDecision: Required (cut or keep)'])
      const decision = { cutDecision: input.cutDecision, cutReason: input.cutReason ?? null }
      store.update(vulnerability.id, { data: decision, at })
      append(store, vulnerability.id, ctx, at, input.cutDecidedBy ?? 'operations', event, decision)
      return {}
    }
    default:
      throw new JobInputError([`task header event: '${event}' is not one of watch-reviewed, vulnerability-reported, urgency-evaluated, change-requested, vulnerability-fixed, cut-decided`])
  }
}

function append(store: SecurityStore, recordId: string, ctx: WorkerContext, at: string, actor: string, event: string, detail: Record<string, unknown>): void {
  store.append({ idempotencyKey: idempotencyKey(recordId, ctx.job.key), recordId, at, actor, event, detail: { ...detail, elementId: ctx.job.elementId } })
}

function requireVulnerability(input: Input, store: SecurityStore) {
  const id = input.vulnerabilityId
  const found = id === undefined ? undefined : store.get<VulnerabilityData>(id)
  if (found === undefined || found.kind !== 'vulnerability') throw new JobInputError([`variable vulnerabilityId: vulnerability '${id ?? '(none)'}' is not in the security trace`])
  return found
}

/** Opens the vulnerability, or finds the one the API opened; checks what a report must carry. */
function report(input: Input, ctx: WorkerContext, store: SecurityStore, at: string): Output {
  const problems: string[] = []
  const need = <T>(name: string, value: T | undefined): T | undefined => {
    if (value === undefined) problems.push(`variable ${name}: Required`)
    return value
  }
  const title = need('title', input.title)
  const cvssVector = need('cvssVector', input.cvssVector)
  const service = need('service', input.service)
  const reportingOrganisation = input.reportingOrganisation ?? ctx.config.self
  let scored: CvssScore | undefined
  if (cvssVector !== undefined) {
    try {
      scored = scoreCvssVector(cvssVector)
    } catch (error) {
      if (!(error instanceof CvssVectorError)) throw error
      problems.push(`variable cvssVector: ${error.message}`)
    }
  }
  // SEC-2: the vector gives the score; a score that disagrees with it is a typo to fix, not a severity.
  const disagreement = scored === undefined || input.cvssScore == null ? undefined : cvssScoreDisagreement(input.cvssScore, scored)
  if (disagreement !== undefined) problems.push(`variable ${disagreement}`)
  if (service !== undefined && !ctx.config.organisations.some((org) => org.services.some((candidate) => candidate.id === service))) {
    problems.push(`variable service: unknown service '${service}'`)
  }
  if (!ctx.config.organisations.some((org) => org.id === reportingOrganisation)) problems.push(`variable reportingOrganisation: unknown organisation '${reportingOrganisation}'`)
  if (input.cveId != null && input.cveId !== '' && !/^CVE-\d{4}-\d{4,}$/.test(input.cveId)) problems.push(`variable cveId: '${input.cveId}' is not a CVE id such as CVE-2024-3094`)
  if (problems.length > 0 || title === undefined || scored === undefined || cvssVector === undefined || service === undefined) throw new JobInputError(problems)
  const cvssScore = scored.score

  const reportedAt = input.reportedAt ?? at
  const id = input.vulnerabilityId ?? derivedId('VUL', reportedAt.slice(0, 10), ctx.job.processInstanceKey, ctx.job.key)
  const data: VulnerabilityData = {
    ...(input.cveId ? { cveId: input.cveId } : {}),
    title,
    ...(input.description ? { description: input.description } : {}),
    cvssScore,
    cvssVector,
    cvssVersion: scored.version,
    service,
    knownExploited: input.knownExploited ?? false,
    reportingOrganisation,
    reportedBy: input.reportedBy ?? `${reportingOrganisation}-security`,
    reportedAt,
    ...(input.watchReviewId ? { watchReviewId: input.watchReviewId } : {}),
  }
  const vulnerability = store.create({ id, kind: 'vulnerability', state: 'reported', data, processInstanceKey: ctx.job.processInstanceKey, at: reportedAt })
  if (vulnerability.processInstanceKey === undefined) store.update(id, { processInstanceKey: ctx.job.processInstanceKey, at })
  append(store, id, ctx, at, vulnerability.data.reportedBy, 'vulnerability-reported', {
    cveId: vulnerability.data.cveId ?? null,
    title,
    service,
    cvssScore,
    cvssVector,
    knownExploited: vulnerability.data.knownExploited,
    watchReviewId: input.watchReviewId ?? null,
  })
  return { vulnerabilityId: id, reportedAt: vulnerability.data.reportedAt, cvssScore }
}
