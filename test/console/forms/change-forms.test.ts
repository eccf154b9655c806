/**
 * The forms of change management, in Chromium, each branch, signed in as the party that must act
 * (CHG-3..6): the client's steps and decisions on a portal change, a provider's validation of it
 * with its own credential, and a provider's own change.
 */
import { formKit } from './form-kit'

const kit = formKit()

interface Started { reference: string; processInstanceKey: string }

/** The client's manager requests a portal change in the console. */
function portalChange(title: string): Promise<Started> {
  return kit.requestInBrowser('RACCORD_TOKEN_MANAGER', 'changes', async (page) => {
    await page.getByLabel('Title').fill(title)
    await page.getByLabel('Description').fill('Refonte du formulaire de dépôt')
    await page.getByLabel('Version', { exact: true }).fill('5.0')
    await page.getByLabel('Previous version (n-1)').fill('4.9')
  })
}

/** The steps before the functional validation, as other tests prove them. */
async function readyForFunctionalValidation(change: Started): Promise<void> {
  await kit.completeByRest(change.processInstanceKey, 'test-on-integration', { stepDone: true })
  await kit.completeByRest(change.processInstanceKey, 'install-on-qualification', { stepDone: true })
}

test('CHG-3: confirm-step, done with its evidence: the client\'s technical team moves the change from integration to qualification', async () => {
  // given
  const change = await portalChange('Parcours de dépôt (intégration)')
  // when
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: change.processInstanceKey, elementId: 'test-on-integration' }, 'confirm-step',
    { stepDone: true, stepEvidence: 'Build 4812', stepComment: 'Tests de bout en bout verts' })
  // then
  await kit.userTask(change.processInstanceKey, 'install-on-qualification')
})

test('CHG-3: decide-change, refused with reasons: the change goes back to the integration step', async () => {
  // given
  const change = await portalChange('Parcours de dépôt (refusé)')
  await readyForFunctionalValidation(change)
  // when
  await kit.completeInBrowser('RACCORD_TOKEN_PORTAIL_FUNCTIONAL', { processInstanceKey: change.processInstanceKey, elementId: 'validate-functionally' }, 'decide-change',
    { decision: 'refuse', reasons: 'Le récapitulatif ne reprend pas les pièces jointes' })
  // then
  await kit.reached(change.processInstanceKey, 'change-sent-back')
  await kit.userTask(change.processInstanceKey, 'test-on-integration')
})

test('CHG-3, CHG-4, CHG-5: decide-change approved by the client, then by a provider with its own credential, then the joint green light', async () => {
  // given
  const change = await portalChange('Parcours de dépôt (approuvé)')
  await readyForFunctionalValidation(change)
  // when the client's functional lead approves, without reasons (the form hides them)
  await kit.completeInBrowser('RACCORD_TOKEN_PORTAIL_FUNCTIONAL', { processInstanceKey: change.processInstanceKey, elementId: 'validate-functionally' }, 'decide-change', { decision: 'approve' })
  // then each provider is asked; another provider does not see Fournisseur Alpha's task
  const alphaTask = await kit.userTask(change.processInstanceKey, 'validate-on-qualification', 'fournisseur-alpha-technical')
  expect(await kit.listsTask('RACCORD_TOKEN_BETA_TECHNICAL', alphaTask.userTaskKey)).toBe(false)
  expect(await kit.listsTask('RACCORD_TOKEN_ALPHA_TECHNICAL', alphaTask.userTaskKey)).toBe(true)
  // when Fournisseur Alpha approves in the console, signed in as itself; Beta answers too
  await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey: change.processInstanceKey, elementId: 'validate-on-qualification', group: 'fournisseur-alpha-technical' }, 'decide-change', { decision: 'approve' })
  await kit.completeInBrowser('RACCORD_TOKEN_BETA_TECHNICAL', { processInstanceKey: change.processInstanceKey, elementId: 'validate-on-qualification', group: 'provider-beta-technical' }, 'decide-change', { decision: 'approve' })
  // then the client's management gives the joint green light
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: change.processInstanceKey, elementId: 'give-green-light' }, 'decide-change', { decision: 'approve' })
  await kit.userTask(change.processInstanceKey, 'release-to-production')
})

test('CHG-4, CHG-5: decide-change refused by a provider: its reasons are collected and the change goes back', async () => {
  // given
  const change = await portalChange('Parcours de dépôt (refusé par un fournisseur)')
  await readyForFunctionalValidation(change)
  await kit.completeByRest(change.processInstanceKey, 'validate-functionally', { decision: 'approve' })
  await kit.completeByRest(change.processInstanceKey, 'validate-on-qualification', { decision: 'approve' }, 'provider-beta-technical')
  // when
  await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey: change.processInstanceKey, elementId: 'validate-on-qualification', group: 'fournisseur-alpha-technical' }, 'decide-change',
    { decision: 'refuse', reasons: 'Notre service ne reçoit plus le numéro de dossier' })
  // then
  await kit.reached(change.processInstanceKey, 'collect-provider-refusals')
  await kit.userTask(change.processInstanceKey, 'test-on-integration')
})

describe('a provider\'s own change (CHG-6)', () => {
  /** Fournisseur Alpha's technical lead requests a change of its service in the console. */
  function providerChange(title: string): Promise<Started> {
    return kit.requestInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', 'changes', async (page) => {
      await page.getByLabel('Title').fill(title)
      await page.getByLabel('Description').fill('Nouveau prestataire de paiement')
      await page.getByLabel('Service').selectOption('demarches-alpha')
      await page.getByLabel('Version', { exact: true }).fill('2.4')
    })
  }

  test('CHG-6: record-tests, then decide-change approved: the client is told of the release', async () => {
    // given
    const change = await providerChange('Paiement (approuvé)')
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey: change.processInstanceKey, elementId: 'record-non-regression-tests' }, 'record-tests',
      { applicationTests: 'Campagne de non-régression 2.4 : 312 cas verts', preproductionTests: 'Sans objet : pas de lien avec le portail', testReport: 'NR-2026-48' })
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_FUNCTIONAL', { processInstanceKey: change.processInstanceKey, elementId: 'decide-provider-release' }, 'decide-change', { decision: 'approve' })
    // then
    await kit.reached(change.processInstanceKey, 'inform-client-of-provider-release')
  })

  test('CHG-6: decide-change refused: the tests are due again', async () => {
    // given
    const change = await providerChange('Paiement (refusé)')
    await kit.completeByRest(change.processInstanceKey, 'record-non-regression-tests', { applicationTests: 'ok', preproductionTests: 'ok' })
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_FUNCTIONAL', { processInstanceKey: change.processInstanceKey, elementId: 'decide-provider-release' }, 'decide-change',
      { decision: 'refuse', reasons: 'Deux cas de remboursement en échec' })
    // then
    await kit.userTask(change.processInstanceKey, 'record-non-regression-tests')
  })
})

test('CHG-4: a provider approves from the link of its mail, in the browser: the page asks nothing more, records the answer as its addressee, and the link is spent', async () => {
  // given a portal change waiting for the providers on qualification
  const change = await portalChange('Parcours de dépôt (lien)')
  await readyForFunctionalValidation(change)
  await kit.completeByRest(change.processInstanceKey, 'validate-functionally', { decision: 'approve' })
  let mail
  for (let attempt = 0; attempt < 300 && mail === undefined; attempt++) {
    mail = kit.smtp.list().find((candidate) => candidate.to.includes('sacha.durand@fournisseur-alpha.example.org') && candidate.subject.includes(change.reference) && candidate.text.includes('/decisions/'))
    if (mail === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const approve = /^Approuver ?: (https?:\/\/\S+)$/m.exec(mail?.text ?? '')?.[1]
  expect(approve).toBeDefined()
  // when Sacha Durand opens it and confirms
  const { page } = kit
  await page.goto(approve ?? '')
  // the task named as the mail named it, in the reader's language
  expect(await page.locator('h1').innerText()).toBe('Approuver — Tester ou valider en qualification')
  await page.locator('form[method="post"] button[type="submit"]').click()
  // then
  await page.locator('.done').waitFor()
  expect(await page.locator('.done').innerText()).toContain('Sacha Durand')
  const answers = await kit.variable(change.processInstanceKey, 'providerAnswers')
  expect(answers).toEqual(expect.arrayContaining([expect.objectContaining({ providerId: 'fournisseur-alpha', decision: 'approve' })]))
  // and the same link again is spent
  await page.goto(approve ?? '')
  expect(await page.locator('form[method="post"]').count()).toBe(0)
})
