/**
 * Every procedure requested from the console, in Chromium, by the party that must act (issue 16):
 * a cut, a change of each party, an opening with its date picked in the user's zone, a release, a
 * pre-production link, a vulnerability and a trace request, each with the server's field errors
 * shown first where a field is missing; then the record's page (facts, where it waits, its
 * timeline), the list that finds it by search, and the printable trace letter.
 */
import { formKit, type TokenName } from './form-kit'

const kit = formKit()

jest.setTimeout(90_000)

/** Opens the request form of `kind` from its list, as a person would. */
async function openRequest(kind: string, linkName: string): Promise<void> {
  const { page, base } = kit
  await page.goto(`${base}/console/#/records/${kind}`)
  await page.getByRole('link', { name: linkName }).click()
  await page.getByRole('heading', { name: linkName, level: 1 }).waitFor()
}

/** Sends the form, then waits for the new record's page; answers its id. */
async function send(): Promise<string> {
  const { page } = kit
  await page.getByRole('button', { name: 'Send the request' }).click()
  await page.waitForURL(/#\/records\/[a-z-]+\/[A-Z]+-/)
  return decodeURIComponent(page.url().split('/').pop() ?? '')
}

/** The facts of the record's page, as a person reads them. */
async function facts(): Promise<string> {
  return kit.page.getByTestId('record-facts').innerText()
}

/** The error summary's links, once the summary is shown. */
async function summaryLinks(): Promise<string[]> {
  await kit.page.locator('.error-summary').waitFor()
  return kit.page.locator('.error-summary a').allInnerTexts()
}

test('CUT-1, CUT-2: the client\'s operations team requests a cut: the missing reason is named, then the cut\'s page shows it requested, with its trail; the list finds it', async () => {
  const { page } = kit
  // given
  await kit.signIn('RACCORD_TOKEN_OPERATOR')
  await openRequest('cuts', 'Request a cut')
  await page.getByLabel('Interconnection').selectOption('alpha-preprod')
  // when the reason is left out
  await page.getByRole('button', { name: 'Send the request' }).click()
  // then
  expect(await summaryLinks()).toEqual(['Reason: Required'])
  // when
  await page.getByLabel('Reason').fill('Connexions suspectes depuis 3 h du matin')
  const id = await send()
  // then
  expect(id).toMatch(/^CUT-/)
  expect(await facts()).toContain('alpha-preprod')
  await page.getByTestId('record-timeline').getByText('cut requested').first().waitFor()
  // its process, drawn for the operator too, with the step it waits for marked
  await page.locator('#record-diagram .djs-element.is-active').first().waitFor()
  const cut = await kit.api<{ requestedBy: string; state: string }>('GET', `/api/cuts/${id}`, 'RACCORD_TOKEN_OPERATOR')
  expect(cut.body).toMatchObject({ requestedBy: 'Centre de services du portail (portail)', state: 'requested' })
  // and the list finds it by its reason's words
  await page.goto(`${kit.base}/console/#/records/cuts?q=suspectes`)
  await page.getByRole('link', { name: id }).waitFor()
  expect(await page.getByTestId('records-count').innerText()).toBe('1–1 of 1')
})

test('CHG-1, CHG-8: the client\'s manager requests a portal change keeping n-1 for 6 months; the change page says where it waits', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_MANAGER')
  await openRequest('changes', 'Request a change')
  await page.getByLabel('Title').fill('Parcours de dépôt 5.0')
  await page.getByLabel('Description').fill('Refonte du dépôt')
  await page.getByLabel('Version', { exact: true }).fill('5.0')
  await page.getByLabel('Previous version (n-1)').fill('4.9')
  await page.getByLabel('Keep version n-1 online after the release').check()
  // when the retention passes the agreement's 6 months
  await page.getByLabel('Months to keep version n-1').fill('9')
  await page.getByRole('button', { name: 'Send the request' }).click()
  // then
  expect((await summaryLinks())[0]).toContain('Months to keep version n-1: At most 6 months')
  // when
  await page.getByLabel('Months to keep version n-1').fill('6')
  const reference = await send()
  // then
  const change = await kit.api<{ process: string; variables: Record<string, unknown> }>('GET', `/api/changes/${reference}`, 'RACCORD_TOKEN_MANAGER')
  expect(change.body.process).toBe('portal-change')
  expect(change.body.variables).toMatchObject({ retainPreviousVersion: true, retentionMonths: 6, title: 'Parcours de dépôt 5.0' })
  await page.getByTestId('record-waiting').waitFor()
  expect(await page.getByTestId('record-waiting').innerText()).not.toBe('')
})

test('CHG-6: a provider\'s technical lead requests a change of its own service: only its services are offered, and the change is its own', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_ALPHA_TECHNICAL')
  await openRequest('changes', 'Request a change')
  const offered = await page.getByLabel('Service').locator('option').allInnerTexts()
  expect(offered.filter((label) => label !== 'Choose…')).toEqual(['Démarches en ligne Alpha (demarches-alpha)'])
  await page.getByLabel('Title').fill('Nouveau paiement')
  await page.getByLabel('Description').fill('Nouveau prestataire de paiement')
  await page.getByLabel('Service').selectOption('demarches-alpha')
  await page.getByLabel('Version', { exact: true }).fill('2.4')
  const reference = await send()
  const change = await kit.api<{ process: string; variables: Record<string, unknown> }>('GET', `/api/changes/${reference}`, 'RACCORD_TOKEN_ALPHA_TECHNICAL')
  expect(change.body.process).toBe('provider-change')
  expect(change.body.variables).toMatchObject({ providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' })
})

test('PRD-1: the client requests a service opening planned with the date picker, read in its own zone (Europe/Paris)', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_MANAGER')
  await openRequest('openings', 'Request a service opening')
  await page.getByLabel('Provider').selectOption('fournisseur-alpha')
  await page.getByLabel('Service').selectOption('demarches-alpha')
  await page.getByLabel('Planned for').fill('2027-01-15T09:30')
  const reference = await send()
  const opening = await kit.api<{ variables: Record<string, unknown> }>('GET', `/api/openings/${reference}`, 'RACCORD_TOKEN_MANAGER')
  // 09:30 in Paris in January is 08:30 UTC
  expect(Date.parse(String(opening.body.variables.plannedAt))).toBe(Date.parse('2027-01-15T08:30:00Z'))
})

test('PRD-5: the client plans a portal release; a provider\'s release quoting no recorded validation is refused, with the reason shown', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_MANAGER')
  await openRequest('releases', 'Plan a release')
  await page.getByLabel('Title').fill('Portail 5.0')
  await page.getByLabel('Version').fill('5.0')
  await page.getByLabel('Planned for').fill('2027-02-01T06:00')
  expect(await send()).toMatch(/^REL-/)
  // a provider's release without the reference of a validation
  await kit.signIn('RACCORD_TOKEN_ALPHA_TECHNICAL')
  await openRequest('releases', 'Plan a release')
  await page.getByLabel('Service').selectOption('demarches-alpha')
  await page.getByLabel('Version', { exact: true }).fill('2.5')
  await page.getByLabel('Previous version (n-1)').fill('2.4')
  await page.getByRole('button', { name: 'Send the request' }).click()
  await page.getByRole('alert').filter({ hasText: 'The request failed' }).waitFor()
  expect(page.url()).toMatch(/#\/new\/releases$/)
})

test('PRD-3: a provider requests its pre-production link to be reactivated: the choice is required, then the procedure starts', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_BETA_TECHNICAL')
  await openRequest('preproduction-links', 'Request a pre-production link')
  await page.getByLabel('Interconnection').selectOption('beta-preprod')
  await page.getByRole('button', { name: 'Send the request' }).click()
  expect(await summaryLinks()).toEqual(['Action: Required'])
  await page.getByRole('radio', { name: 'Reactivate the link' }).check()
  const reference = await send()
  const link = await kit.api<{ variables: Record<string, unknown> }>('GET', `/api/preproduction-links/${reference}`, 'RACCORD_TOKEN_BETA_TECHNICAL')
  expect(link.body.variables).toMatchObject({ providerId: 'provider-beta' })
})

test('SEC-1, SEC-2: a provider\'s operations team reports a vulnerability: a bad vector is named; the severity comes from the vector', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_ALPHA_OPERATIONS')
  await openRequest('vulnerabilities', 'Report a vulnerability')
  await page.getByLabel('Title').fill('Injection SQL dans la recherche')
  await page.getByLabel('Service').selectOption('demarches-alpha')
  await page.getByLabel('CVSS vector').fill('CVSS:3.1/AV:N')
  await page.getByRole('button', { name: 'Send the request' }).click()
  expect((await summaryLinks())[0]).toContain('CVSS vector: Invalid CVSS vector')
  await page.getByLabel('CVSS vector').fill('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')
  const id = await send()
  expect(id).toMatch(/^VUL-/)
  // the process rates it (SEC-2): the severity of a 9.8
  const deadline = Date.now() + 15_000
  let severity: string | null = null
  while (severity === null && Date.now() < deadline) {
    severity = (await kit.api<{ severity: string | null }>('GET', `/api/vulnerabilities/${id}`, 'RACCORD_TOKEN_ALPHA_OPERATIONS')).body.severity
    if (severity === null) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(severity).toBe('Critical')
})

test('TRC-1, TRC-2: the client registers a trace request between named contacts, then prints its letter from the record\'s page', async () => {
  const { page } = kit
  await kit.signIn('RACCORD_TOKEN_OPERATOR')
  await openRequest('trace-requests', 'Register a trace request')
  await page.getByRole('radio', { name: 'We ask the other party for traces' }).check()
  await page.getByLabel('Requesting organisation').selectOption('portail')
  await page.getByLabel('Requester (a named contact)').fill('Alix Robert')
  await page.getByLabel('Receiving organisation').selectOption('fournisseur-alpha')
  await page.getByLabel('Recipient (a named contact)').fill('Quelqu\'un')
  await page.getByRole('checkbox', { name: 'Démarches en ligne Alpha (demarches-alpha)' }).check()
  await page.getByLabel('From', { exact: true }).fill('2026-11-01T00:00')
  await page.getByLabel('To', { exact: true }).fill('2026-11-08T00:00')
  await page.getByLabel('Purpose').fill('Analyse de connexions suspectes')
  // when the recipient is nobody the agreement names
  await page.getByRole('button', { name: 'Send the request' }).click()
  // then
  expect((await summaryLinks())[0]).toContain('Recipient (a named contact): Unknown contact of fournisseur-alpha')
  // when
  await page.getByLabel('Recipient (a named contact)').fill('Sacha Durand')
  const id = await send()
  // then its letter, once produced, opens for printing
  await waitForLetter(id, 'RACCORD_TOKEN_OPERATOR')
  await page.reload()
  const [letter] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Print the letter' }).click()])
  await letter.waitForLoadState()
  expect(await letter.locator('body').innerText()).toContain('Sacha Durand')
  await letter.close()
})

async function waitForLetter(id: string, token: TokenName): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const view = await kit.api<{ letter: unknown }>('GET', `/api/trace-requests/${id}`, token)
    if (view.body.letter !== null && view.body.letter !== undefined) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`No letter for ${id}`)
}

test('the records pages: an unrelated party does not find the cut, and reads "No record" on its address', async () => {
  const { page } = kit
  const requested = await kit.api<{ id: string }>('POST', '/api/cuts', 'RACCORD_TOKEN_OPERATOR', { interconnectionId: 'alpha-preprod', reason: 'Pour un tiers, invisible' })
  expect(requested.status).toBe(201)
  const { id } = requested.body
  await kit.signIn('RACCORD_TOKEN_BETA_OPERATIONS')
  await page.goto(`${kit.base}/console/#/records/cuts`)
  await page.getByTestId('records-count').waitFor()
  expect(await page.getByRole('link', { name: id }).count()).toBe(0)
  await page.goto(`${kit.base}/console/#/records/cuts/${id}`)
  await page.getByRole('heading', { name: `No record ${id} among yours` }).waitFor()
})

test('CHG-8: on its change\'s page, the party that operates version n-1 retires it early; the other party only proposes it', async () => {
  const { page } = kit
  const started = await kit.api<{ reference: string }>('POST', '/api/changes', 'RACCORD_TOKEN_ALPHA_TECHNICAL', {
    kind: 'provider-change', title: 'Parcours 3', description: 'Refonte', serviceId: 'demarches-alpha', version: '3.0', previousVersion: '2.9', relatedToPortal: false, retainPreviousVersion: true, retentionMonths: 6,
  })
  expect(started.status).toBe(201)
  // the client reads it and may only propose
  await kit.signIn('RACCORD_TOKEN_MANAGER')
  await page.goto(`${kit.base}/console/#/records/changes/${started.body.reference}`)
  await page.getByText('Fournisseur Alpha operates it: you may propose its early retirement; Fournisseur Alpha decides.').waitFor()
  expect(await page.getByRole('button', { name: 'Retire version n-1 now' }).count()).toBe(0)
  // the provider operates it and retires it
  await kit.signIn('RACCORD_TOKEN_ALPHA_TECHNICAL')
  await page.goto(`${kit.base}/console/#/records/changes/${started.body.reference}`)
  await page.getByRole('button', { name: 'Retire version n-1 now' }).click()
  await page.getByRole('status').filter({ hasText: 'The retirement of version 2.9 is requested.' }).waitFor()
})

describe('the other branches of the request forms', () => {
  test('CUT-2: a provider cuts its own link from the console: only its interconnections are offered; the cut is recorded as its team', async () => {
    const { page } = kit
    await kit.signIn('RACCORD_TOKEN_ALPHA_OPERATIONS')
    await page.goto(`${kit.base}/console/#/new/cuts`)
    const offered = (await page.getByLabel('Interconnection').locator('option').allInnerTexts()).filter((label) => label !== 'Choose…')
    expect(offered.every((label) => label.startsWith('alpha-'))).toBe(true)
    const cut = await kit.requestInBrowser('RACCORD_TOKEN_ALPHA_OPERATIONS', 'cuts', async (form) => {
      await form.getByLabel('Interconnection').selectOption('alpha-preprod')
      await form.getByLabel('Reason').fill('Compte de service divulgué')
    })
    const view = await kit.api<{ requestedBy: string }>('GET', `/api/cuts/${cut.id}`, 'RACCORD_TOKEN_ALPHA_OPERATIONS')
    expect(view.body.requestedBy).toBe('Supervision Alpha (fournisseur-alpha)')
  })

  test('PRD-3: the client requests a provider\'s pre-production link, choosing the provider', async () => {
    const link = await kit.requestInBrowser('RACCORD_TOKEN_MANAGER', 'preproduction-links', async (page) => {
      await page.getByLabel('Provider').selectOption('provider-beta')
      await page.getByLabel('Interconnection').selectOption('beta-preprod')
      await page.getByRole('radio', { name: 'Keep the link as it is' }).check()
    })
    const view = await kit.api<{ variables: Record<string, unknown> }>('GET', `/api/preproduction-links/${link.id}`, 'RACCORD_TOKEN_MANAGER')
    expect(view.body.variables).toMatchObject({ providerId: 'provider-beta' })
  })

  test('TRC-1: the client registers an incoming request, from a provider\'s named sender to its own named receiver', async () => {
    const request = await kit.requestInBrowser('RACCORD_TOKEN_OPERATOR', 'trace-requests', async (page) => {
      await page.getByRole('radio', { name: 'The other party asks us for traces' }).check()
      await page.getByLabel('Requesting organisation').selectOption('fournisseur-alpha')
      await page.getByLabel('Requester (a named contact)').fill('Sacha Durand')
      await page.getByLabel('Receiving organisation').selectOption('portail')
      await page.getByLabel('Recipient (a named contact)').fill('Alix Robert')
      await page.getByRole('checkbox', { name: 'Démarches en ligne Alpha (demarches-alpha)' }).check()
      await page.getByLabel('From', { exact: true }).fill('2026-10-01T00:00')
      await page.getByLabel('To', { exact: true }).fill('2026-10-02T00:00')
      await page.getByLabel('Purpose').fill('Enquête sur une fraude')
    })
    const view = await kit.api<{ direction: string; requester: { organisation: string }; period: { from: string } }>('GET', `/api/trace-requests/${request.id}`, 'RACCORD_TOKEN_OPERATOR')
    expect(view.body).toMatchObject({ direction: 'incoming', requester: { organisation: 'fournisseur-alpha' } })
    // midnight in Paris, on 1 October (summer time): 22:00 UTC the day before
    expect(Date.parse(view.body.period.from)).toBe(Date.parse('2026-09-30T22:00:00Z'))
  })
})
