/**
 * portal-change, every path, with the harness and the real workers (mails over SMTP to a sink):
 * integration, qualification, the business owner's validation, every provider's tests, the joint
 * green light, each gate refused and resumed, a provider that never answers, n-1 retention.
 */
import type { ProcessInstanceRef, Variables } from '../support/process-harness'
import { approve, completeTaskOf, done, MAIL, mailsAbout, mailsMatching, newReference, recipientsOf, refuse, settle, useChangeProcesses } from './change-support'

const t = useChangeProcesses(['portal-change.bpmn', 'version-retention.bpmn'])

function change(reference: string, overrides: Variables = {}): Variables {
  return {
    reference,
    title: 'Nouveau parcours de dépôt',
    description: 'Refonte du formulaire de dépôt',
    version: '5.0',
    previousVersion: '4.9',
    clientId: 'portail',
    providers: ['fournisseur-alpha', 'provider-beta'],
    providerAnswerDelay: 'P5D',
    retainPreviousVersion: false,
    retentionMonths: 6,
    ...overrides,
  }
}

/** Integration, qualification and the business owner's approval: the change reaches the providers. */
async function toProviders(ref: ProcessInstanceRef): Promise<void> {
  await t.h.completeUserTask(ref, 'test-on-integration', done)
  await t.h.completeUserTask(ref, 'install-on-qualification', done)
  await t.h.completeUserTask(ref, 'validate-functionally', approve)
  await t.h.expectInstance(ref).toBeWaitingAt('validate-on-qualification')
}

async function bothProvidersApprove(ref: ProcessInstanceRef): Promise<void> {
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'fournisseur-alpha-technical', approve)
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'provider-beta-technical', approve)
}

test('CHG-3, CHG-4, CHG-5: integration, qualification, business owner, every provider and the client give the joint green light; the release is announced to everyone', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference))
  await toProviders(ref)
  // then every provider was invited, in its own language
  const invitations = await mailsMatching(t.smtp, reference, /qualification/, 2)
  expect(recipientsOf(invitations)).toEqual([MAIL.alphaTechnical, MAIL.alphaFunctional, MAIL.betaTechnical, 'sam.wilson@provider-beta.example.org'].sort())
  // when
  await bothProvidersApprove(ref)
  await t.h.completeUserTask(ref, 'give-green-light', approve)
  await t.h.completeUserTask(ref, 'release-to-production', done)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('test-on-integration', 'install-on-qualification', 'validate-functionally', 'invite-providers',
    'provider-validation', 'give-green-light', 'release-to-production', 'announce-release', 'change-released')
  const released = await mailsMatching(t.smtp, reference, /mise en production|released/, 3)
  expect(recipientsOf(released)).toEqual(expect.arrayContaining([MAIL.portailOperations, MAIL.alphaOperations, MAIL.betaOperations]))
})

test('CHG-3: the business owner refuses: the change goes back to integration with the reasons, then passes', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference))
  await t.h.completeUserTask(ref, 'test-on-integration', done)
  await t.h.completeUserTask(ref, 'install-on-qualification', done)
  // when
  await t.h.completeUserTask(ref, 'validate-functionally', refuse('Le récapitulatif ne reprend pas les pièces jointes'))
  // then
  const [sentBack] = await mailsMatching(t.smtp, reference, /renvoyée|sent back/, 1)
  expect(sentBack.text).toContain('Le récapitulatif ne reprend pas les pièces jointes')
  await t.h.expectInstance(ref).toBeWaitingAt('test-on-integration')
  // when resumed
  await toProviders(ref)
  await bothProvidersApprove(ref)
  await t.h.completeUserTask(ref, 'give-green-light', approve)
  await t.h.completeUserTask(ref, 'release-to-production', done)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
})

test('CHG-4, CHG-5: one provider refuses: its reasons go back with the change to integration, then every provider agrees', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference))
  await toProviders(ref)
  // when
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'fournisseur-alpha-technical', approve)
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'provider-beta-technical', refuse('Payment callback returns 500 on qualification'))
  // then
  await t.h.expectInstance(ref).toHaveVariable('refusalReasons', 'provider-beta: Payment callback returns 500 on qualification')
  const sentBack = await mailsMatching(t.smtp, reference, /renvoyée|sent back/, 3)
  expect(sentBack[0].text).toContain('provider-beta: Payment callback returns 500 on qualification')
  await t.h.expectInstance(ref).toBeWaitingAt('test-on-integration')
  // when resumed
  await toProviders(ref)
  await bothProvidersApprove(ref)
  await t.h.completeUserTask(ref, 'give-green-light', approve)
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('release-to-production')
})

test('CHG-5: the client refuses its green light: the change goes back to integration', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference))
  await toProviders(ref)
  await bothProvidersApprove(ref)
  // when
  await t.h.completeUserTask(ref, 'give-green-light', refuse('Pic de charge attendu la semaine de la mise en production'))
  // then
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('give-green-light', 'green-light-given', 'change-sent-back', 'notify-change-sent-back')
  await t.h.expectInstance(ref).toBeWaitingAt('test-on-integration')
  await mailsMatching(t.smtp, reference, /renvoyée|sent back/, 3)
})

test('CHG-4: a provider that never answers: after the agreed delay its directors and the client business owner are told, and its task stays open', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference))
  await toProviders(ref)
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'fournisseur-alpha-technical', approve)
  // when just before the delay
  await t.h.increaseTime('P4DT23H')
  await settle()
  expect(mailsAbout(t.smtp, reference, /attendue|overdue/)).toEqual([])
  // when past it
  await t.h.increaseTime('PT2H')
  // then only the silent provider is escalated
  const escalations = await mailsMatching(t.smtp, reference, /attendue|overdue/, 2)
  expect(recipientsOf(escalations)).toEqual(['alex.brown@provider-beta.example.org', MAIL.portailFunctional].sort())
  await t.h.expectInstance(ref).toHaveCompletedElements('provider-answer-overdue', 'escalate-silent-provider', 'provider-escalated')
  await t.h.expectInstance(ref).toBeWaitingAt('validate-on-qualification')
  // when it finally answers
  await completeTaskOf(t.h, ref, 'validate-on-qualification', 'provider-beta-technical', approve)
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('give-green-light')
})

test('CHG-8: with n-1 retention agreed, the release starts version-retention with the release date', async () => {
  // given
  const reference = newReference('CHG')
  const ref = await t.h.startProcess('portal-change', change(reference, { retainPreviousVersion: true, retentionMonths: 3 }))
  await toProviders(ref)
  await bothProvidersApprove(ref)
  await t.h.completeUserTask(ref, 'give-green-light', approve)
  // when
  await t.h.completeUserTask(ref, 'release-to-production', done)
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('retain-previous-version')
  const [announced] = await mailsMatching(t.smtp, reference, /n-1/, 1)
  expect(announced.text).toContain('Sunset')
  expect(announced.text).toContain('Deprecation')
})
