/** provider-release (PRD-5, PRD-6): only with a pre-production validation; watched; rolled back and the client warned as an incident. */
import type { Variables } from '../support/process-harness'
import { done, MAIL, mailsMatching, newReference, recipientsOf, useChangeProcesses, waitFor } from './change-support'

const t = useChangeProcesses(['provider-release.bpmn', 'incident-management.bpmn', 'incident-priority.dmn'])

function release(reference: string, validationReference?: string): Variables {
  return { ...(validationReference === undefined ? {} : { validationReference }), reference, title: 'demarches-alpha version 2.4', providerId: 'fournisseur-alpha', clientId: 'portail', serviceId: 'demarches-alpha', version: '2.4', previousVersion: '2.3', releaseWatchWindow: 'P2D', declaredBy: 'RACCORD_TOKEN_ALPHA (fournisseur-alpha)' }
}

test('PRD-5: a release without a pre-production validation reference is refused and nothing goes to production', async () => {
  // given
  const reference = newReference('REL')
  // when
  const ref = await t.h.startProcess('provider-release', release(reference))
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('validated-on-preproduction', 'refuse-release', 'release-refused')
  const refused = await mailsMatching(t.smtp, reference, /refusée|refused/, 2)
  expect(recipientsOf(refused)).toEqual([MAIL.alphaOperations, MAIL.alphaTechnical, MAIL.portailOperations].sort())
})

test('PRD-5: a validated version is delivered, the client informed, and it stands when the watch window passes', async () => {
  // given
  const reference = newReference('REL')
  const ref = await t.h.startProcess('provider-release', release(reference, 'RECETTE-PREPROD-2026-031'))
  // when
  await t.h.completeUserTask(ref, 'deploy-provider-version', done)
  await mailsMatching(t.smtp, reference, /fournisseur en production|provider version released/, 1)
  await t.h.expectInstance(ref).toBeWaitingAt('watch-release')
  await t.h.increaseTime('P2DT1M')
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('deploy-provider-version', 'announce-provider-release', 'watch-window-over', 'release-stable')
})

test('PRD-6, INC-4: a malfunction rolls back to the earlier version and warns the client by starting incident-management', async () => {
  // given
  const reference = newReference('REL')
  const ref = await t.h.startProcess('provider-release', release(reference, 'RECETTE-PREPROD-2026-031'))
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
