/** preproduction-link (CHG-1): kept or reactivated within the agreed delay, confirmed by both parties. */
import type { Variables } from '../support/process-harness'
import { approve, completeTaskOf, done, MAIL, mailsAbout, mailsMatching, newReference, recipientsOf, refuse, settle, useChangeProcesses } from './change-support'

const t = useChangeProcesses(['preproduction-link.bpmn'])

function request(reference: string): Variables {
  return { reference, title: 'Réactiver le raccordement de pré-production alpha-preprod', providerId: 'fournisseur-alpha', clientId: 'portail', serviceId: 'demarches-alpha', interconnectionId: 'alpha-preprod', action: 'reactivate', preproductionLinkDelay: 'P5D' }
}

test('CHG-1: the provider reactivates the pre-production link and both parties confirm it', async () => {
  // given
  const reference = newReference('PPL')
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  const asked = await mailsMatching(t.smtp, reference, /demandé|requested/, 2)
  expect(recipientsOf(asked)).toEqual([MAIL.alphaTechnical, MAIL.portailTechnical].sort())
  // when
  await t.h.completeUserTask(ref, 'prepare-preproduction-link', done)
  await completeTaskOf(t.h, ref, 'confirm-link-client', 'portail-technical', approve)
  await completeTaskOf(t.h, ref, 'confirm-link-provider', 'fournisseur-alpha-technical', approve)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await mailsMatching(t.smtp, reference, /prêt|ready/, 2)
})

test('CHG-1: the client finds the link not working: the reasons go to both parties and the provider works on it again', async () => {
  // given
  const reference = newReference('PPL')
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  await t.h.completeUserTask(ref, 'prepare-preproduction-link', done)
  // when
  await t.h.completeUserTask(ref, 'confirm-link-provider', approve)
  await t.h.completeUserTask(ref, 'confirm-link-client', refuse('Certificat client refusé par la passerelle'))
  // then
  const [refused] = await mailsMatching(t.smtp, reference, /non confirmé|not confirmed/, 2)
  expect(refused.text).toContain('Certificat client refusé par la passerelle')
  await t.h.expectInstance(ref).toBeWaitingAt('prepare-preproduction-link')
  // when resumed
  await t.h.completeUserTask(ref, 'prepare-preproduction-link', done)
  await t.h.completeUserTask(ref, 'confirm-link-provider', approve)
  await t.h.completeUserTask(ref, 'confirm-link-client', approve)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
})

test('CHG-1: past the agreed delay both parties\' directors are told, and the work goes on', async () => {
  // given
  const reference = newReference('PPL')
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  await t.h.expectInstance(ref).toBeWaitingAt('prepare-preproduction-link')
  // when
  await t.h.increaseTime('P4DT23H')
  await settle()
  expect(mailsAbout(t.smtp, reference, /dépassé|passed/)).toEqual([])
  await t.h.increaseTime('PT2H')
  // then
  const escalated = await mailsMatching(t.smtp, reference, /dépassé|passed/, 2)
  expect(recipientsOf(escalated)).toEqual([MAIL.alphaDirector, MAIL.portailDirector].sort())
  await t.h.expectInstance(ref).toBeWaitingAt('prepare-preproduction-link')
})

/** Records a cut of alpha-preprod in the trail, as POST /api/cuts does; not restored. */
function cutAlphaPreproduction(): string {
  const id = `CUT-T-${newReference('X').slice(-8)}`
  t.cuts.openCut({ id, interconnectionId: 'alpha-preprod', service: 'demarches-alpha', environment: 'preproduction', otherParty: 'fournisseur-alpha', origin: 'self', reason: 'Comportement suspect en pré-production', requestedBy: 'Alix Robert (portail)', requestedAt: new Date(t.h.now()).toISOString() })
  return id
}

afterEach(() => {
  // The next test starts with alpha-preprod restored.
  for (const cut of t.cuts.cuts()) t.cuts.setState(cut.id, 'restored', new Date().toISOString())
})

test('CUT-1, CRI-3: a link whose interconnection is still cut is not reactivated: nobody is asked to, both parties are told which cut holds it', async () => {
  // given
  const cutId = cutAlphaPreproduction()
  const reference = newReference('PPL')
  // when
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('check-cut-before-work', 'still-cut-before-work', 'link-still-cut', 'notify-link-still-cut', 'link-not-reactivated')
  const told = await mailsMatching(t.smtp, reference, /toujours coupé|still cut/, 2)
  expect(recipientsOf(told)).toEqual([MAIL.alphaTechnical, MAIL.portailTechnical].sort())
  expect(told[0].text).toContain(`${cutId} (alpha-preprod): Comportement suspect en pré-production`)
  expect(mailsAbout(t.smtp, reference, /prêt|ready/)).toEqual([])
})

test('CUT-1, CRI-3: a cut that comes while the parties confirm: the link is not declared ready', async () => {
  // given
  const reference = newReference('PPL')
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  await t.h.completeUserTask(ref, 'prepare-preproduction-link', done)
  await t.h.completeUserTask(ref, 'confirm-link-provider', approve)
  // when
  const cutId = cutAlphaPreproduction()
  await t.h.completeUserTask(ref, 'confirm-link-client', approve)
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('link-confirmed-by-both', 'check-cut-before-ready', 'still-cut-before-ready', 'link-still-cut', 'notify-link-still-cut', 'link-not-reactivated')
  const [told] = await mailsMatching(t.smtp, reference, /toujours coupé|still cut/, 2)
  expect(told.text).toContain(cutId)
  expect(mailsAbout(t.smtp, reference, /prêt|ready/)).toEqual([])
})

test('CUT-1, CRI-3: once the cut is restored, the link is reactivated as usual', async () => {
  // given
  const cutId = cutAlphaPreproduction()
  t.cuts.setState(cutId, 'restored', new Date(t.h.now()).toISOString())
  const reference = newReference('PPL')
  // when
  const ref = await t.h.startProcess('preproduction-link', request(reference))
  // then
  await t.h.expectInstance(ref).toBeWaitingAt('prepare-preproduction-link')
})
