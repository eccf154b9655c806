/** provider-release (PRD-5, PRD-6): only with a pre-production validation raccord recorded; watched; rolled back and the client warned as an incident. */
import type { ProcessInstanceRef, Variables } from '../support/process-harness'
import { done, MAIL, mailsMatching, newReference, recipientsOf, useChangeProcesses, waitFor } from './change-support'

const t = useChangeProcesses(['provider-release.bpmn', 'provider-change.bpmn', 'portal-change.bpmn', 'version-retention.bpmn', 'incident-management.bpmn', 'incident-priority.dmn'])

function release(reference: string, validationReference?: string): Variables {
  return { ...(validationReference === undefined ? {} : { validationReference }), reference, title: 'demarches-alpha version 2.4', providerId: 'fournisseur-alpha', clientId: 'portail', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', releaseWatchWindow: 'P2D', declaredBy: 'RACCORD_TOKEN_ALPHA (fournisseur-alpha)' }
}

/**
 * CHG-7: a provider change related to portal features, tested on the connected pre-production with
 * this outcome; it then waits for the client's portal release. Answers its reference.
 */
async function providerChangeTested(providerId: string, serviceId: string, passed: boolean): Promise<string> {
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('provider-change', {
    reference, title: 'Nouveau parcours de dépôt', description: 'Parcours de dépôt en plusieurs étapes', providerId, serviceId, clientId: 'portail', relatedToPortal: true,
    version: '2.4', previousVersion: '2.3', providers: ['fournisseur-alpha', 'provider-beta'], providerAnswerDelay: 'P5D', retainPreviousVersion: false, retentionMonths: 6,
  })
  await t.h.completeUserTask(ref, 'test-on-connected-preproduction', {
    applicationTests: '312 cas passés', preproductionTests: passed ? 'Parcours de dépôt via la pré-production du portail : OK' : 'Dépôt rejeté par la pré-production du portail', preproductionValidated: passed,
  })
  await t.h.expectInstance(ref).toBeWaitingAt('decide-portal-release')
  return reference
}

/** The refusal: nothing went to production, and both parties got the reason by mail. */
async function expectRefused(ref: ProcessInstanceRef, reference: string, verdict: string, reason: string): Promise<void> {
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('check-preproduction-validation', 'validated-on-preproduction', 'refuse-release', 'release-refused')
  await t.h.expectInstance(ref).toHaveVariable('validationCheck', { verdict, reason })
  const refused = await mailsMatching(t.smtp, reference, /refusée|refused/, 2)
  expect(recipientsOf(refused)).toEqual([MAIL.alphaOperations, MAIL.alphaTechnical, MAIL.portailOperations].sort())
  for (const mail of refused) expect(mail.text.replace(/\s+/g, ' ')).toContain(reason)
}

test('PRD-5: a release without a pre-production validation reference is refused and nothing goes to production', async () => {
  // given
  const reference = newReference('REL')
  // when
  const ref = await t.h.startProcess('provider-release', release(reference))
  // then
  await expectRefused(ref, reference, 'missing', 'No reference of a validation through the client\'s pre-production portal was given.')
})

test('PRD-5: a release quoting an unknown reference is refused, the reason mailed to both parties', async () => {
  // given
  const reference = newReference('REL')
  // when
  const ref = await t.h.startProcess('provider-release', release(reference, 'RECETTE-PREPROD-2026-031'))
  // then
  await expectRefused(ref, reference, 'unknown-reference', 'Unknown reference RECETTE-PREPROD-2026-031: raccord recorded no provider change or portal change under it.')
})

test('PRD-5, CHG-7: a release quoting a change whose pre-production tests failed is refused', async () => {
  // given
  const validation = await providerChangeTested('fournisseur-alpha', 'demarches-alpha', false)
  const reference = newReference('REL')
  // when
  const ref = await t.h.startProcess('provider-release', release(reference, validation))
  // then
  await expectRefused(ref, reference, 'not-validated', `The tests of ${validation} on the connected pre-production are not recorded as passed.`)
})

test('PRD-5: a release quoting another provider\'s validation is refused', async () => {
  // given
  const validation = await providerChangeTested('provider-beta', 'payments-beta', true)
  const reference = newReference('REL')
  // when
  const ref = await t.h.startProcess('provider-release', release(reference, validation))
  // then
  await expectRefused(ref, reference, 'other-provider', `${validation} is a change of provider-beta, not of fournisseur-alpha: another provider's validation does not validate this release.`)
})

test('PRD-5, CHG-7: a version whose pre-production tests raccord recorded as passed is delivered, the client informed, and it stands when the watch window passes', async () => {
  // given
  const validation = await providerChangeTested('fournisseur-alpha', 'demarches-alpha', true)
  const reference = newReference('REL')
  const ref = await t.h.startProcess('provider-release', release(reference, validation))
  // when
  await t.h.completeUserTask(ref, 'deploy-provider-version', done)
  await mailsMatching(t.smtp, reference, /fournisseur en production|provider version released/, 1)
  await t.h.expectInstance(ref).toBeWaitingAt('watch-release')
  await t.h.increaseTime('P2DT1M')
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('check-preproduction-validation', 'validated-on-preproduction', 'deploy-provider-version', 'announce-provider-release', 'watch-window-over', 'release-stable')
  await t.h.expectInstance(ref).toHaveVariable('validationCheck', { verdict: 'validated', reason: null })
})

test('PRD-6, INC-4: a malfunction rolls back to the earlier version and warns the client by starting incident-management', async () => {
  // given
  const validation = await providerChangeTested('fournisseur-alpha', 'demarches-alpha', true)
  const reference = newReference('REL')
  const ref = await t.h.startProcess('provider-release', release(reference, validation))
  await t.h.completeUserTask(ref, 'deploy-provider-version', done)
  // when
  await t.h.completeUserTask(ref, 'watch-release', { malfunctionDescription: 'Les dossiers déposés depuis le portail sont rejetés', impact: 'high', urgency: 'high', reportedBy: 'Supervision Alpha' })
  // then the incident is declared by the provider and the client's operations team gets its mail
  const incidentId = `INC-${reference}`
  const incident = await waitFor('the incident in the trace', () => t.trace.incident(incidentId))
  expect(incident).toMatchObject({ reportingOrganisation: 'fournisseur-alpha', service: 'demarches-alpha', impact: 'high', urgency: 'high' })
  const declared = await waitFor('the incident mail', () => t.smtp.list().find((mail) => mail.subject.includes(incidentId)))
  expect(declared.envelopeTo).toEqual([MAIL.portailOperations])
  // when nobody configured a rollback adapter, the provider puts 2.3 back by hand
  await t.h.completeUserTask(ref, 'roll-back-to-previous-version', done)
  // then
  const rolledBack = await mailsMatching(t.smtp, reference, /remise en production|back in production/, 2)
  expect(recipientsOf(rolledBack)).toEqual([MAIL.alphaOperations, MAIL.portailOperations].sort())
  await t.h.expectInstance(ref).toHaveCompletedElements('malfunction-reported', 'roll-back', 'rolled-back-by-adapter', 'roll-back-to-previous-version', 'announce-rollback', 'release-rolled-back')
  await t.h.expectInstance(ref).toBeWaitingAt('warn-client-as-incident')
})
