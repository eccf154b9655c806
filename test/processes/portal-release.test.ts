/** portal-release (PRD-1, PRD-3): every provider is told the planned date before the client decides to open. */
import { durationUntil, mailsAbout, mailsMatching, MAIL, newReference, recipientsOf, useChangeProcesses } from './change-support'

const t = useChangeProcesses(['portal-release.bpmn'])

test('PRD-1, PRD-3: every provider is informed with the planned date; nothing opens before it; then the client releases', async () => {
  // given
  const reference = newReference('REL')
  const plannedAt = new Date(t.h.now() + 14 * 24 * 3_600_000).toISOString()
  // when
  const ref = await t.h.startProcess('portal-release', { reference, title: 'Portail 6.0', version: '6.0', plannedAt, clientId: 'portail', providers: ['fournisseur-alpha', 'provider-beta'] })
  // then
  const informed = await mailsMatching(t.smtp, reference, /prévue|planned/, 2)
  expect(recipientsOf(informed)).toEqual([MAIL.alphaOperations, MAIL.alphaTechnical, MAIL.betaOperations, MAIL.betaTechnical].sort())
  await t.h.expectInstance(ref).toBeWaitingAt('planned-date-reached')
  // when the date comes
  await t.h.expectInstance(ref).toBeWaitingAt('planned-date-reached')
  await t.h.increaseTime(durationUntil(t.h, plannedAt))
  const task = await t.h.userTask(ref, 'decide-portal-release')
  expect(task.candidateGroups).toEqual(['portail-management'])
  await t.h.completeUserTask(ref, 'decide-portal-release', { decision: 'release' })
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await mailsMatching(t.smtp, reference, /en production|released/, 3)
})

test('PRD-3: the client postpones: every provider is told the new date before the release', async () => {
  // given
  const reference = newReference('REL')
  const plannedAt = new Date(t.h.now() + 3_600_000).toISOString()
  const newPlannedAt = new Date(t.h.now() + 8 * 24 * 3_600_000).toISOString()
  const ref = await t.h.startProcess('portal-release', { reference, title: 'Portail 6.0', version: '6.0', plannedAt, clientId: 'portail', providers: ['fournisseur-alpha', 'provider-beta'] })
  await t.h.expectInstance(ref).toBeWaitingAt('planned-date-reached')
  await t.h.increaseTime('PT1H')
  // when
  await t.h.completeUserTask(ref, 'decide-portal-release', { decision: 'postpone', newPlannedAt })
  // then
  await mailsMatching(t.smtp, reference, /prévue|planned/, 4)
  await t.h.expectInstance(ref).toHaveVariable('plannedAt', newPlannedAt)
  await t.h.expectInstance(ref).toBeWaitingAt('planned-date-reached')
  expect(mailsAbout(t.smtp, reference, /en production|released/)).toEqual([])
})
