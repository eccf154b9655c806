/** provider-change (CHG-6, CHG-7): the provider decides alone when the change does not touch the portal; otherwise the client decides the portal release. */
import type { Variables } from '../support/process-harness'
import { approve, MAIL, mailsMatching, newReference, recipientsOf, refuse, useChangeProcesses } from './change-support'

const t = useChangeProcesses(['provider-change.bpmn', 'portal-change.bpmn', 'version-retention.bpmn'])

function change(reference: string, relatedToPortal: boolean): Variables {
  return {
    reference, title: 'Nouveau moteur de paiement', description: 'Changement de prestataire de paiement', providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha',
    clientId: 'portail', relatedToPortal, version: '2.4', previousVersion: '2.3', providers: ['fournisseur-alpha', 'provider-beta'], providerAnswerDelay: 'P5D', retainPreviousVersion: false, retentionMonths: 6,
  }
}
const tests: Variables = { applicationTests: '312 cas passés', preproductionTests: 'Parcours de dépôt via la pré-production du portail : OK', testReport: 'NR-2.4-17' }

test('CHG-6: unrelated to the portal: the provider records its non-regression tests, decides alone, and the client is informed', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('provider-change', change(reference, false))
  // when
  await t.h.completeUserTask(ref, 'record-non-regression-tests', tests)
  const decision = await t.h.userTask(ref, 'decide-provider-release')
  await t.h.completeUserTask(ref, 'decide-provider-release', approve)
  // then
  expect(decision.candidateGroups).toEqual(['fournisseur-alpha-management'])
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('related-to-portal', 'record-non-regression-tests', 'decide-provider-release', 'inform-client-of-provider-release', 'provider-change-released')
  const informed = await mailsMatching(t.smtp, reference, /fournisseur mise en production|provider change released/, 1)
  expect(recipientsOf(informed)).toEqual([MAIL.portailOperations, MAIL.portailTechnical].sort())
})

test('CHG-6: the provider holds its release: back to its tests, then released', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('provider-change', change(reference, false))
  await t.h.completeUserTask(ref, 'record-non-regression-tests', tests)
  // when
  await t.h.completeUserTask(ref, 'decide-provider-release', refuse('Régression sur le lien de pré-production'))
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('record-non-regression-tests')
  // when resumed
  await t.h.completeUserTask(ref, 'record-non-regression-tests', tests)
  await t.h.completeUserTask(ref, 'decide-provider-release', approve)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
})

test('CHG-7: related to portal features: tests on the connected pre-production, then the client decides the portal release in portal-change', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('provider-change', change(reference, true))
  // when
  await t.h.completeUserTask(ref, 'test-on-connected-preproduction', tests)
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('decide-portal-release')
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('related-to-portal', 'test-on-connected-preproduction')
})
