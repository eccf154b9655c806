/**
 * The incident forms on their other branch (service restored by a workaround, then the incident
 * closed: INC-1, INC-2), and version n-1 kept after a portal change, whose early retirement a
 * provider proposes and the client's technical team accepts or declines, then carries out (CHG-8).
 */
import { formKit } from './form-kit'

const kit = formKit()

test('INC-1, INC-2: restore-service by a workaround, then close-incident: the incident runs to its end', async () => {
  // given
  const declared = await kit.api<{ id: string; processInstanceKey: string }>('POST', '/api/incidents', 'RACCORD_TOKEN_OPERATOR', {
    title: 'Paiements refusés', description: 'Toutes les transactions échouent', service: 'portail-web', impact: 'medium', urgency: 'medium',
  })
  expect(declared.status).toBe(201)
  const { processInstanceKey } = declared.body
  // when
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'restore-service' }, 'restore-service',
    { resolutionKind: 'workaround', resolutionSummary: 'Bascule sur le prestataire de secours', restoredAt: '2026-12-04T09:00:00+01:00' })
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'close-incident' }, 'close-incident',
    { rootCause: 'Certificat expiré chez le prestataire', closureConfirmed: true })
  // then
  expect(await kit.variable(processInstanceKey, 'resolutionKind')).toBe('workaround')
  let state = ''
  for (let attempt = 0; attempt < 200 && state !== 'COMPLETED'; attempt++) {
    state = (await kit.rest<{ state: string }>('GET', `process-instances/${processInstanceKey}`)).state
    if (state !== 'COMPLETED') await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(state).toBe('COMPLETED')
})

test('INC-1: the date a form asks is picked in the organisation\'s zone: the picker writes it with its offset, and the process gets it', async () => {
  // given an incident waiting for its restoration
  const declared = await kit.api<{ processInstanceKey: string }>('POST', '/api/incidents', 'RACCORD_TOKEN_OPERATOR', {
    title: 'Téléservice lent', description: 'Temps de réponse de 30 s', service: 'portail-web', impact: 'low', urgency: 'medium',
  })
  const { processInstanceKey } = declared.body
  // when the operator picks the restoration time instead of typing it (Europe/Paris, in winter: +01:00)
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'restore-service' }, 'restore-service',
    { resolutionKind: 'workaround', resolutionSummary: 'Cache vidé' }, {
      before: async (page) => {
        await page.getByLabel('Or pick “Service restored at” (Europe/Paris time)').fill('2026-12-04T09:30')
        await page.getByLabel('Or pick “Service restored at” (Europe/Paris time)').dispatchEvent('change')
        expect(await page.getByLabel(/^\s*Service restored at\s*\*?\s*$/).inputValue()).toBe('2026-12-04T09:30:00+01:00')
      },
    })
  // then
  expect(await kit.variable(processInstanceKey, 'restoredAt')).toBe('2026-12-04T09:30:00+01:00')
})

describe('version n-1 kept after a portal change (CHG-8)', () => {
  /** A portal change keeping n-1 for 3 months, taken to production (its gates are proven elsewhere). */
  async function released(): Promise<{ reference: string; processInstanceKey: string }> {
    const started = await kit.api<{ reference: string; processInstanceKey: string }>('POST', '/api/changes', 'RACCORD_TOKEN_MANAGER', {
      kind: 'portal-change', title: 'Nouveau parcours de dépôt', description: 'Refonte', version: '5.0', previousVersion: '4.9', retainPreviousVersion: true, retentionMonths: 3,
    })
    expect(started.status).toBe(201)
    const { processInstanceKey } = started.body
    await kit.completeByRest(processInstanceKey, 'test-on-integration', { stepDone: true })
    await kit.completeByRest(processInstanceKey, 'install-on-qualification', { stepDone: true })
    await kit.completeByRest(processInstanceKey, 'validate-functionally', { decision: 'approve' })
    await kit.completeByRest(processInstanceKey, 'validate-on-qualification', { decision: 'approve' }, 'fournisseur-alpha-technical')
    await kit.completeByRest(processInstanceKey, 'validate-on-qualification', { decision: 'approve' }, 'provider-beta-technical')
    await kit.completeByRest(processInstanceKey, 'give-green-light', { decision: 'approve' })
    await kit.completeByRest(processInstanceKey, 'release-to-production', { stepDone: true })
    await kit.reached(processInstanceKey, 'retain-previous-version')
    return started.body
  }

  /** The retention instance the change started, once it waits for its deadline. */
  async function retention(reference: string): Promise<string> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const found = await kit.rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'process-instances/search', { filter: { processDefinitionId: 'version-retention', state: 'ACTIVE' } })
      for (const item of found.items) {
        const variables = await kit.rest<{ items: Array<{ value: string }> }>('POST', 'variables/search', { filter: { processInstanceKey: item.processInstanceKey, name: 'reference' } })
        if (variables.items.some((variable) => JSON.parse(variable.value) === reference)) {
          await kit.reached(item.processInstanceKey, 'retention-period')
          return item.processInstanceKey
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`No version-retention instance for ${reference}`)
  }

  test('CHG-8: a provider proposes early retirement; consider-early-retirement, retire now; confirm-step, retired by hand', async () => {
    // given
    const change = await released()
    const kept = await retention(change.reference)
    // when Fournisseur Alpha proposes to retire n-1 early (it does not operate the portal: it may only propose)
    expect((await kit.api('POST', `/api/changes/${change.reference}/retirement`, 'RACCORD_TOKEN_ALPHA_TECHNICAL', {})).status).toBe(403)
    const proposed = await kit.api('POST', `/api/changes/${change.reference}/retirement-requests`, 'RACCORD_TOKEN_ALPHA_TECHNICAL', { reason: 'Tous nos usagers sont passés en 5.0' })
    expect(proposed.status).toBe(202)
    // and the client's technical team accepts, then retires n-1 by hand (no version adapter is configured)
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: kept, elementId: 'consider-early-retirement' }, 'consider-early-retirement', { earlyRetirementDecision: 'retire-now' })
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: kept, elementId: 'retire-previous-version-manually' }, 'confirm-step', { stepDone: true, stepEvidence: 'Ticket EXP-1234' })
    // then
    await kit.reached(kept, 'announce-retirement')
  })

  test('CHG-8: consider-early-retirement, kept until the deadline with reasons: the retention goes on', async () => {
    // given
    const change = await released()
    const kept = await retention(change.reference)
    expect((await kit.api('POST', `/api/changes/${change.reference}/retirement-requests`, 'RACCORD_TOKEN_ALPHA_TECHNICAL', {})).status).toBe(202)
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: kept, elementId: 'consider-early-retirement' }, 'consider-early-retirement',
      { earlyRetirementDecision: 'keep', earlyRetirementReasons: 'Deux départements utilisent encore la version 4.9' })
    // then
    await kit.reached(kept, 'early-retirement-declined')
    const retired = await kit.rest<{ items: unknown[] }>('POST', 'element-instances/search', { filter: { processInstanceKey: kept, elementId: 'retire-previous-version' } })
    expect(retired.items).toEqual([])
  })
})

test('CHG-3, CHG-4, CHG-5, CHG-8: a portal change keeping n-1, from request to retirement, every task in the browser by its own party, a provider approving with its own credential', async () => {
  // given the client's manager asks for the change in the console
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_MANAGER')
  await page.goto(`${kit.base}/console/#/new/changes`)
  await page.getByLabel('Title').fill('Parcours de dépôt 5.0')
  await page.getByLabel('Description').fill('Dépôt en plusieurs étapes')
  await page.getByLabel('Version', { exact: true }).fill('5.0')
  await page.getByLabel('Previous version (n-1)').fill('4.9')
  await page.getByLabel('Keep version n-1 online after the release').check()
  await page.getByLabel('Months to keep version n-1').fill('2')
  await page.getByRole('button', { name: 'Send the request' }).click()
  await page.waitForURL(/#\/records\/changes\/CHG-/)
  const reference = decodeURIComponent(page.url().split('/').pop() ?? '')
  const started = await kit.api<{ processInstanceKey: string; variables: Record<string, unknown> }>('GET', `/api/changes/${reference}`, 'RACCORD_TOKEN_MANAGER')
  expect(started.body.variables).toMatchObject({ retainPreviousVersion: true, retentionMonths: 2, previousVersion: '4.9' })
  const change = { processInstanceKey: started.body.processInstanceKey }
  // when each party works its own tasks in its own console session
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { ...change, elementId: 'test-on-integration' }, 'confirm-step', { stepDone: true, stepEvidence: 'Build 5.0.0-rc1' })
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { ...change, elementId: 'install-on-qualification' }, 'confirm-step', { stepDone: true })
  await kit.completeInBrowser('RACCORD_TOKEN_PORTAIL_FUNCTIONAL', { ...change, elementId: 'validate-functionally' }, 'decide-change', { decision: 'approve' })
  await kit.completeInBrowser('RACCORD_TOKEN_ALPHA_TECHNICAL', { ...change, elementId: 'validate-on-qualification', group: 'fournisseur-alpha-technical' }, 'decide-change', { decision: 'approve' })
  await kit.completeInBrowser('RACCORD_TOKEN_BETA_TECHNICAL', { ...change, elementId: 'validate-on-qualification', group: 'provider-beta-technical' }, 'decide-change', { decision: 'approve' })
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { ...change, elementId: 'give-green-light' }, 'decide-change', { decision: 'approve' })
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { ...change, elementId: 'release-to-production' }, 'confirm-step', { stepDone: true, stepEvidence: 'MEP 5.0 #312' })
  // then n-1 is kept, with its deadline
  await kit.reached(change.processInstanceKey, 'retain-previous-version')
  // when Fournisseur Alpha proposes the early retirement from the change's page, and the client's technical team accepts and retires n-1
  await kit.signIn('RACCORD_TOKEN_ALPHA_TECHNICAL')
  await page.goto(`${kit.base}/console/#/records/changes/${reference}`)
  await page.getByLabel('Reason (optional)').fill('Plus aucun appel en 4.9')
  await page.getByRole('button', { name: 'Propose its early retirement' }).click()
  await page.getByRole('status').filter({ hasText: 'Your proposal to retire version 4.9 early is sent to Portail citoyen.' }).waitFor()
  let kept: string | undefined
  for (let attempt = 0; attempt < 200 && kept === undefined; attempt++) {
    const tasks = await kit.rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'user-tasks/search', { filter: { elementId: 'consider-early-retirement', state: 'CREATED' } })
    for (const task of tasks.items) {
      const references = await kit.rest<{ items: Array<{ value: string }> }>('POST', 'variables/search', { filter: { processInstanceKey: task.processInstanceKey, name: 'reference' } })
      if (references.items.some((item) => JSON.parse(item.value) === reference)) kept = task.processInstanceKey
    }
    if (kept === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (kept === undefined) throw new Error(`No early-retirement decision for ${reference}`)
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: kept, elementId: 'consider-early-retirement' }, 'consider-early-retirement', { earlyRetirementDecision: 'retire-now' })
  await kit.completeInBrowser('RACCORD_TOKEN_MANAGER', { processInstanceKey: kept, elementId: 'retire-previous-version-manually' }, 'confirm-step', { stepDone: true, stepEvidence: 'Ticket EXP-2211' })
  // then n-1 is gone and everyone is told
  await kit.reached(kept, 'announce-retirement')
})
