/**
 * PRD-5: a new provider version goes to production only with the reference of its validation
 * through the client's pre-production portal, checked, refused otherwise. The reference must name
 * a validation raccord recorded itself: a provider change related to portal features whose tests
 * on the connected pre-production were recorded as passed (CHG-7), or a portal change in which
 * this provider gave its green light (CHG-4, CHG-5). A reference alone, however well formed, is
 * not a validation.
 */
import type { ChangeEngine } from '../../engine-client/change-engine'

/** The procedures whose records can carry a pre-production validation. */
export const VALIDATING_PROCESSES = ['provider-change', 'portal-change'] as const

/** The variables of those records the check reads. */
const RECORD_VARIABLES = ['providerId', 'relatedToPortal', 'preproductionValidated', 'providerAnswers'] as const

/** One recorded change: the process it ran and the variables the check reads. */
export interface RecordedChange {
  process: string
  variables: Record<string, unknown>
}

/** Where the check finds the changes raccord recorded. */
export interface ValidationRecords {
  /** The root provider-change and portal-change instances with this reference. */
  find(reference: string): Promise<RecordedChange[]>
}

/** Why a release may go on, or why it is refused. */
export type ValidationVerdict = 'validated' | 'missing' | 'unknown-reference' | 'not-validated' | 'other-provider'

/** The outcome of the check: the process routes on the verdict and mails the reason. */
export interface ValidationCheck {
  verdict: ValidationVerdict
  /** why the release is refused, for both parties; null when validated */
  reason: string | null
}

/** The records, read through the engine that runs the changes. */
export function engineValidationRecords(engine: Pick<ChangeEngine, 'findByReference' | 'progress'>): ValidationRecords {
  return {
    async find(reference) {
      const found = await engine.findByReference(reference, VALIDATING_PROCESSES)
      return Promise.all(found.map(async ({ processInstanceKey, processDefinitionId }) => ({
        process: processDefinitionId,
        variables: (await engine.progress(processInstanceKey, RECORD_VARIABLES)).variables,
      })))
    },
  }
}

interface ProviderAnswer {
  providerId?: unknown
  decision?: unknown
}

/** The verdict one record gives for this provider. */
function verdictOf(record: RecordedChange, reference: string, providerId: string): ValidationCheck {
  const { variables } = record
  if (record.process === 'provider-change') {
    if (variables.providerId !== providerId) {
      return { verdict: 'other-provider', reason: `${reference} is a change of ${String(variables.providerId)}, not of ${providerId}: another provider's validation does not validate this release.` }
    }
    if (variables.relatedToPortal !== true) {
      return { verdict: 'not-validated', reason: `${reference} is a change unrelated to portal features (CHG-6): it was never tested on the client's pre-production.` }
    }
    if (variables.preproductionValidated !== true) {
      return { verdict: 'not-validated', reason: `The tests of ${reference} on the connected pre-production are not recorded as passed.` }
    }
    return { verdict: 'validated', reason: null }
  }
  const answers = Array.isArray(variables.providerAnswers) ? (variables.providerAnswers as ProviderAnswer[]) : []
  const own = answers.find((answer) => answer?.providerId === providerId)
  if (own?.decision === 'approve') return { verdict: 'validated', reason: null }
  if (own === undefined && answers.some((answer) => answer?.decision === 'approve')) {
    return { verdict: 'other-provider', reason: `In the portal change ${reference}, other providers validated, not ${providerId}: another provider's validation does not validate this release.` }
  }
  if (own === undefined) return { verdict: 'not-validated', reason: `In the portal change ${reference}, no provider's validation is recorded yet.` }
  return { verdict: 'not-validated', reason: `In the portal change ${reference}, ${providerId} did not give its green light.` }
}

/** PRD-5: checks that `validationReference` names a validation of `providerId` that raccord recorded. */
export async function checkPreproductionValidation(records: ValidationRecords, validationReference: string | null | undefined, providerId: string): Promise<ValidationCheck> {
  const reference = validationReference?.trim() ?? ''
  if (reference === '') return { verdict: 'missing', reason: 'No reference of a validation through the client\'s pre-production portal was given.' }
  const found = await records.find(reference)
  if (found.length === 0) {
    return { verdict: 'unknown-reference', reason: `Unknown reference ${reference}: raccord recorded no provider change or portal change under it.` }
  }
  const verdicts = found.map((record) => verdictOf(record, reference, providerId))
  return verdicts.find((check) => check.verdict === 'validated') ?? verdicts[0]
}
