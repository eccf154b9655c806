/** service-opening (PRD-1, PRD-2, PRD-4, CHG-2, USR-1): a joint decision, then two actions in step, in either order, then the announcement, to both parties and on the status page. */
import { statusAtom, statusSummary } from '../../src/status/status-page'
import type { ProcessInstanceRef, Variables } from '../support/process-harness'
import { approve, completeTaskOf, done, MAIL, mailsMatching, newReference, recipientsOf, refuse, useChangeProcesses } from './change-support'

const t = useChangeProcesses(['service-opening.bpmn'])

function opening(reference: string): Variables {
  return { reference, title: 'Ouverture de Démarches en ligne Alpha', providerId: 'fournisseur-alpha', clientId: 'portail', serviceId: 'demarches-alpha' }
}
const activation: Variables = { activationChannel: 'recorded-call', activatedAt: '2026-03-14T09:00:00+01:00', activationReference: 'Appel 14/03 9h02' }

async function jointlyApproved(reference: string): Promise<ProcessInstanceRef> {
  const ref = await t.h.startProcess('service-opening', opening(reference))
  await completeTaskOf(t.h, ref, 'approve-opening-provider', 'fournisseur-alpha-management', approve)
  await completeTaskOf(t.h, ref, 'approve-opening-client', 'portail-management', approve)
  await t.h.expectInstance(ref).toBeWaitingAt('activate-in-production', 'show-service-in-portal')
  return ref
}

test('PRD-1, PRD-4, CHG-2: both approve; the provider activates first, then the client shows the service; both parties get the announcement', async () => {
  // given
  const reference = newReference('OPN')
  const ref = await jointlyApproved(reference)
  // when
  await t.h.completeUserTask(ref, 'activate-in-production', activation)
  await t.h.expectInstance(ref).toBeWaitingAt('show-service-in-portal')
  await t.h.increaseTime('PT1M')
  await t.h.completeUserTask(ref, 'show-service-in-portal', done)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('joint-decision-made', 'activate-in-production', 'show-service-in-portal', 'both-actions-done', 'announce-opening')
  const announced = await mailsMatching(t.smtp, reference, /service ouvert|service opened/, 2)
  expect(recipientsOf(announced)).toEqual([MAIL.alphaOperations, MAIL.alphaFunctional, MAIL.portailOperations, MAIL.portailFunctional].sort())
})

test('PRD-4: the client shows the service first (no catalogue adapter), then the provider activates it; the service opens only when both are done', async () => {
  // given
  const reference = newReference('OPN')
  const ref = await jointlyApproved(reference)
  // when
  await t.h.completeUserTask(ref, 'show-service-in-portal', done)
  // then
  await t.h.expectInstance(ref).toHaveCompletedElements('show-in-portal', 'shown-by-adapter', 'show-service-in-portal')
  await t.h.expectInstance(ref).toBeWaitingAt('activate-in-production')
  // when, at a later engine instant so that the order shows
  await t.h.increaseTime('PT1M')
  await t.h.completeUserTask(ref, 'activate-in-production', activation)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('show-service-in-portal', 'activate-in-production', 'both-actions-done')
})

test('PRD-2, PRD-4: the provider refuses: both parties learn why by mail, the request is revised, then both approve', async () => {
  // given
  const reference = newReference('OPN')
  const ref = await t.h.startProcess('service-opening', opening(reference))
  // when
  await completeTaskOf(t.h, ref, 'approve-opening-client', 'portail-management', approve)
  await completeTaskOf(t.h, ref, 'approve-opening-provider', 'fournisseur-alpha-management', refuse('Astreinte non disponible avant avril'))
  // then
  const refused = await mailsMatching(t.smtp, reference, /refusée|refused/, 2)
  expect(refused[0].text).toContain('Astreinte non disponible avant avril')
  await t.h.expectInstance(ref).toBeWaitingAt('revise-opening')
  // when resumed
  await t.h.completeUserTask(ref, 'revise-opening', done)
  await completeTaskOf(t.h, ref, 'approve-opening-client', 'portail-management', approve)
  await completeTaskOf(t.h, ref, 'approve-opening-provider', 'fournisseur-alpha-management', approve)
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('activate-in-production', 'show-service-in-portal')
})

test('PRD-4, USR-1: the opened service is announced on the status page, on its component, with no outage', async () => {
  // given
  const reference = newReference('OPN')
  const ref = await jointlyApproved(reference)
  // when
  await t.h.completeUserTask(ref, 'activate-in-production', activation)
  await t.h.completeUserTask(ref, 'show-service-in-portal', done)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('announce-opening', 'publish-opening-status', 'service-opened')
  await t.h.expectInstance(ref).toHaveVariable('statusNoticeId', `opening:${reference}`)
  const summary = statusSummary(t.config, t.status, 'http://status.test')
  expect(summary.components.find((component) => component.id === 'demarches-alpha')).toMatchObject({ name: 'Démarches en ligne Alpha', status: 'operational' })
  expect(summary.status.indicator).toBe('none')
  const announcement = summary.history.find((notice) => notice.id === `opening:${reference}`)
  expect(announcement).toMatchObject({ name: 'Nouveau service : Démarches en ligne Alpha', impact: 'none', status: 'resolved', components: ['demarches-alpha'] })
  expect(announcement?.incident_updates[0].body).toBe('Le service Démarches en ligne Alpha est désormais accessible depuis le portail.')
  const titles = new Map(t.status.notices('all').map((notice) => [notice.id, notice.title]))
  expect(statusAtom(summary, t.status.recentUpdates(), titles)).toContain('Nouveau service : Démarches en ligne Alpha')
})
