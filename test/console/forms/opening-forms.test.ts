/**
 * The forms of production openings, releases and the pre-production link, in Chromium, each
 * branch, signed in as the party that must act: the joint decision and the two synchronised actions
 * of an opening (PRD-4), the client's portal release (PRD-3), the pre-production link both parties
 * confirm (CHG-1), and a provider release watched and rolled back (PRD-5, PRD-6). Each procedure
 * is requested in the console too, by the party that starts it.
 */
import { formKit } from './form-kit'

const kit = formKit()


describe('a service opening (PRD-4)', () => {
  // requested in the console by Fournisseur Alpha's technical lead
  const opening = () => kit.requestInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', 'openings', async (page) => {
    await page.getByLabel('Service').selectOption('demarches-alpha')
  })

  test('PRD-4: decide-change approved by both parties, each with its own credential; confirm-activation and confirm-step are the two synchronised actions', async () => {
    // given
    const { processInstanceKey } = await opening()
    // when both parties approve, each in its own console session
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey, elementId: 'approve-opening-client' }, 'decide-change', { decision: 'approve' })
    const providerTask = await kit.userTask(processInstanceKey, 'approve-opening-provider')
    expect(await kit.listsTask('RACCORD_TOKEN_MANAGER', providerTask.userTaskKey)).toBe(false)
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_FUNCTIONAL', { processInstanceKey, elementId: 'approve-opening-provider' }, 'decide-change', { decision: 'approve' })
    // then the provider activates its service, as it confirms in the console
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_OPERATIONS', { processInstanceKey, elementId: 'activate-in-production' }, 'confirm-activation',
      { activationChannel: 'console', activatedAt: '2026-12-07T14:00:00+01:00', activationReference: 'TICKET-4411' })
    // and the client shows it in the portal (no adapter is configured: by hand)
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'show-service-in-portal' }, 'confirm-step', { stepDone: true })
    await kit.reached(processInstanceKey, 'both-actions-done')
    expect(await kit.variable(processInstanceKey, 'activationChannel')).toBe('console')
  })

  test('PRD-4: decide-change refused by the client: the provider revises the opening (confirm-step) and both decide again', async () => {
    // given
    const { processInstanceKey } = await opening()
    await kit.completeByRest(processInstanceKey, 'approve-opening-provider', { decision: 'approve' })
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_PORTAIL_FUNCTIONAL', { processInstanceKey, elementId: 'approve-opening-client' }, 'decide-change',
      { decision: 'refuse', reasons: 'Les mentions légales du service manquent' })
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_FUNCTIONAL', { processInstanceKey, elementId: 'revise-opening' }, 'confirm-step',
      { stepDone: true, stepComment: 'Mentions légales ajoutées' })
    // then
    await kit.userTask(processInstanceKey, 'approve-opening-client')
  })
})

describe('a portal release (PRD-3)', () => {
  // planned in the console by the client's manager, the date picked in Paris time
  const release = () => kit.requestInBrowser('RACCORD_TOKEN_MANAGER', 'releases', async (page) => {
    await page.getByLabel('Version').fill('6.0')
    await page.getByLabel('Planned for').fill('2025-01-06T08:00')
  })

  test('PRD-3: decide-portal-release, release now: no new date is asked and the release is announced', async () => {
    // given
    const { processInstanceKey } = await release()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey, elementId: 'decide-portal-release' }, 'decide-portal-release', { decision: 'release' })
    // then
    await kit.reached(processInstanceKey, 'announce-portal-release')
  })

  test('PRD-3: decide-portal-release, postponed to a new date: the providers are told the new date', async () => {
    // given
    const { processInstanceKey } = await release()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey, elementId: 'decide-portal-release' }, 'decide-portal-release',
      { decision: 'postpone', newPlannedAt: '2030-01-07T08:00:00+01:00' })
    // then the providers are informed a second time, of the new date, and the decision waits for it
    await kit.reached(processInstanceKey, 'inform-providers', 2)
    expect(await kit.variable(processInstanceKey, 'plannedAt')).toBe('2030-01-07T08:00:00+01:00')
  })
})

describe('the pre-production link (CHG-1)', () => {
  // requested in the console by Fournisseur Alpha's technical lead
  const link = () => kit.requestInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', 'preproduction-links', async (page) => {
    await page.getByLabel('Interconnection').selectOption('alpha-preprod')
    await page.getByRole('radio', { name: 'Reactivate the link' }).check()
  })

  test('CHG-1: confirm-step by the provider, then decide-change confirmed by both parties: the link is announced ready', async () => {
    // given
    const { processInstanceKey } = await link()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey, elementId: 'prepare-preproduction-link' }, 'confirm-step', { stepDone: true, stepEvidence: 'Certificat renouvelé' })
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey, elementId: 'confirm-link-provider' }, 'decide-change', { decision: 'approve' })
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey, elementId: 'confirm-link-client' }, 'decide-change', { decision: 'approve' })
    // then
    await kit.reached(processInstanceKey, 'announce-link-ready')
  })

  test('CHG-1: decide-change, the client finds the link not working: the provider works on it again', async () => {
    // given
    const { processInstanceKey } = await link()
    await kit.completeByRest(processInstanceKey, 'prepare-preproduction-link', { stepDone: true })
    await kit.completeByRest(processInstanceKey, 'confirm-link-provider', { decision: 'approve' })
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey, elementId: 'confirm-link-client' }, 'decide-change',
      { decision: 'refuse', reasons: 'Le portail de pré-production ne joint pas le service' })
    // then
    await kit.reached(processInstanceKey, 'notify-link-not-working')
    await kit.userTask(processInstanceKey, 'prepare-preproduction-link')
  })
})

describe('a provider release (PRD-5, PRD-6)', () => {
  /** A provider change related to the portal, its tests on the connected pre-production recorded as passed in the browser (CHG-7). */
  async function validated(): Promise<string> {
    const change = await kit.requestInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', 'changes', async (page) => {
      await page.getByLabel('Title').fill('Parcours de dépôt')
      await page.getByLabel('Description').fill('Dépôt en plusieurs étapes')
      await page.getByLabel('Service').selectOption('demarches-alpha')
      await page.getByLabel('Version', { exact: true }).fill('2.4')
      await page.getByLabel('Tied to a change of the portal').check()
    })
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { processInstanceKey: change.processInstanceKey, elementId: 'test-on-connected-preproduction' }, 'record-tests',
      { applicationTests: '312 cas passés', preproductionTests: 'Dépôt via la pré-production du portail : OK', preproductionValidated: true, testReport: 'RECETTE-48' })
    await kit.reached(change.processInstanceKey, 'decide-portal-release')
    return change.reference
  }

  test('CHG-7, PRD-5, PRD-6: record-tests validated, the version deployed (confirm-step), then report-malfunction: it is rolled back (confirm-step)', async () => {
    // given
    const validation = await validated()
    const { processInstanceKey } = await kit.requestInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', 'releases', async (page) => {
      await page.getByLabel('Service').selectOption('demarches-alpha')
      await page.getByLabel('Version', { exact: true }).fill('2.4')
      await page.getByLabel('Previous version (n-1)').fill('2.3')
      await page.getByLabel('Reference of the change validated on pre-production (CHG-...)').fill(validation)
    })
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_OPERATIONS', { processInstanceKey, elementId: 'deploy-provider-version' }, 'confirm-step', { stepDone: true, stepEvidence: 'Déploiement 2.4 #88' })
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'watch-release' }, 'report-malfunction',
      { malfunctionDescription: 'Les dossiers déposés depuis le portail sont rejetés', impact: 'high', urgency: 'medium', reportedBy: 'Centre de services du portail' })
    await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_OPERATIONS', { processInstanceKey, elementId: 'roll-back-to-previous-version' }, 'confirm-step', { stepDone: true, stepComment: 'Retour en 2.3' })
    // then the rollback is announced, and the client was warned of the malfunction as an incident
    await kit.reached(processInstanceKey, 'announce-rollback')
    await kit.reached(processInstanceKey, 'warn-client-as-incident')
    expect(await kit.variable(processInstanceKey, 'impact')).toBe('high')
  })
})
