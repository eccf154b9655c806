/**
 * check-release-validation without an engine: the change records are a fake, so each verdict of
 * PRD-5 shows plainly, the portal-change validations (CHG-4) included.
 */
import type { RecordedChange, ValidationRecords } from '../../src/app/changes/release-validation'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import * as checkReleaseValidation from '../../workers/check-release-validation'
import { workerFixture, type WorkerFixture } from './fixtures'

/** The changes raccord recorded, by reference. */
class FakeRecords implements ValidationRecords {
  constructor(private readonly records: Record<string, RecordedChange[]>) {}

  async find(reference: string): Promise<RecordedChange[]> {
    return this.records[reference] ?? []
  }
}

const records = new FakeRecords({
  'CHG-20260301-aaaaaa': [{ process: 'portal-change', variables: { providerAnswers: [{ providerId: 'fournisseur-alpha', decision: 'approve', reasons: null }, { providerId: 'provider-beta', decision: 'approve', reasons: null }] } }],
  'CHG-20260302-bbbbbb': [{ process: 'portal-change', variables: { providerAnswers: [{ providerId: 'fournisseur-alpha', decision: 'refuse', reasons: 'Dépôt rejeté' }, { providerId: 'provider-beta', decision: 'approve', reasons: null }] } }],
  'CHG-20260303-cccccc': [{ process: 'portal-change', variables: { providerAnswers: [{ providerId: 'provider-beta', decision: 'approve', reasons: null }] } }],
  'CHG-20260304-dddddd': [{ process: 'portal-change', variables: {} }],
  'CHG-20260305-eeeeee': [{ process: 'provider-change', variables: { providerId: 'fournisseur-alpha', relatedToPortal: false, preproductionValidated: true } }],
})

let f: WorkerFixture
beforeEach(() => {
  f = workerFixture()
})
afterEach(() => f.close())

const check = (validationReference: string | null) =>
  checkReleaseValidation.handle({ providerId: 'fournisseur-alpha', validationReference }, { ...f.context({ headers: {} }), validations: records })

test('PRD-5, CHG-4: a portal change in which the provider gave its green light validates its release', async () => {
  await expect(check('CHG-20260301-aaaaaa')).resolves.toEqual({ validationCheck: { verdict: 'validated', reason: null } })
})

test('PRD-5, CHG-4: a portal change the provider refused does not validate its release', async () => {
  await expect(check('CHG-20260302-bbbbbb')).resolves.toEqual({ validationCheck: { verdict: 'not-validated', reason: 'In the portal change CHG-20260302-bbbbbb, fournisseur-alpha did not give its green light.' } })
})

test('PRD-5, CHG-4: a portal change validated by other providers only is another provider\'s validation', async () => {
  await expect(check('CHG-20260303-cccccc')).resolves.toMatchObject({ validationCheck: { verdict: 'other-provider' } })
})

test('PRD-5, CHG-4: a portal change whose providers have not answered yet validates nothing', async () => {
  await expect(check('CHG-20260304-dddddd')).resolves.toMatchObject({ validationCheck: { verdict: 'not-validated' } })
})

test('PRD-5, CHG-6: a change unrelated to portal features was never tested on the client\'s pre-production', async () => {
  await expect(check('CHG-20260305-eeeeee')).resolves.toMatchObject({ validationCheck: { verdict: 'not-validated' } })
})

test('PRD-5: a blank reference is missing, without asking the records', async () => {
  await expect(check('  ')).resolves.toMatchObject({ validationCheck: { verdict: 'missing' } })
})

test('PRD-5: without the change records the job cannot be checked and raises an incident', async () => {
  await expect(checkReleaseValidation.handle({ providerId: 'fournisseur-alpha', validationReference: 'CHG-20260301-aaaaaa' }, f.context({ headers: {} }))).rejects.toBeInstanceOf(JobInputError)
})
