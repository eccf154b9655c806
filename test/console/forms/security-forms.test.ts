/**
 * The forms of vulnerability handling and of trace requests, in Chromium, each branch, signed in as
 * the party that must act: a fix another party's change carries (SEC-2), the cut a critical
 * vulnerability proposes, taken or not (SEC-4), a late fix announced (SEC-3); a trace letter posted
 * and its answer recorded by an authorised contact or refused (TRC-2, TRC-3).
 */
import { createHash } from 'node:crypto'
import { formKit } from './form-kit'

const kit = formKit()

interface Reported { id: string; processInstanceKey: string }

const CRITICAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'
const MEDIUM = 'CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N'

/** The client's operations team reports a vulnerability in the console. */
function vulnerability(title: string, service: string, cvssVector: string, knownExploited: boolean): Promise<Reported> {
  return kit.requestInBrowser('RACCORD_TOKEN_OPERATOR', 'vulnerabilities', async (page) => {
    await page.getByLabel('Title').fill(title)
    await page.getByLabel('Service').selectOption(service)
    await page.getByLabel('CVSS vector').fill(cvssVector)
    await page.getByLabel('Known to be exploited').setChecked(knownExploited)
  })
}

describe('a vulnerability (SEC-2, SEC-3, SEC-4)', () => {
  test('SEC-2: request-fix-change names the other party\'s change, then apply-fix records the fix: it is disclosed', async () => {
    // given a vulnerability on Fournisseur Alpha's service: its change runs on Alpha's side
    const { processInstanceKey } = await vulnerability('Injection dans le formulaire de dépôt', 'demarches-alpha', MEDIUM, false)
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'request-change' }, 'request-fix-change',
      { changeReference: 'ALPHA-CHG-77', changeKind: 'provider', changeRequestedBy: 'Sacha Durand' })
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'apply-fix' }, 'apply-fix',
      { fixSummary: 'Échappement des champs du formulaire, version 2.4.1', fixedAt: '2026-12-05T10:00:00+01:00', fixedBy: 'Alix Robert' })
    // then
    await kit.reached(processInstanceKey, 'disclose-fix')
    expect(await kit.variable(processInstanceKey, 'changeReference')).toBe('ALPHA-CHG-77')
  })

  test('SEC-4: review-cut-proposal, the operations team cuts: the cut is requested', async () => {
    // given a critical vulnerability known to be exploited
    const { processInstanceKey } = await vulnerability('Porte dérobée dans la passerelle', 'demarches-alpha', CRITICAL, true)
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'review-cut-proposal' }, 'review-cut-proposal',
      { cutDecision: 'cut', cutReason: 'Exploitation active signalée par le CERT-FR', cutDecidedBy: 'Centre de services du portail' })
    // then
    await kit.reached(processInstanceKey, 'request-cut')
  })

  test('SEC-4: review-cut-proposal, the link is kept: the decision is recorded and nothing is cut', async () => {
    // given
    const { processInstanceKey } = await vulnerability('Porte dérobée (gardée)', 'demarches-alpha', CRITICAL, true)
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'review-cut-proposal' }, 'review-cut-proposal',
      { cutDecision: 'keep', cutReason: 'Le flux vulnérable est déjà filtré en amont', cutDecidedBy: 'Centre de services du portail' })
    // then
    await kit.reached(processInstanceKey, 'cut-decision-recorded')
    const cutRequested = await kit.rest<{ items: unknown[] }>('POST', 'element-instances/search', { filter: { processInstanceKey, elementId: 'request-cut' } })
    expect(cutRequested.items).toEqual([])
  })
})

describe('a trace request (TRC-2, TRC-3)', () => {
  const ARCHIVE = `sha256:${createHash('sha256').update('traces-2026-12.tar.gz').digest('hex')}`

  async function posted(): Promise<Reported> {
    // registered in the console by the client's operations team
    const registered = await kit.requestInBrowser('RACCORD_TOKEN_OPERATOR', 'trace-requests', async (page) => {
      await page.getByRole('radio', { name: 'We ask the other party for traces' }).check()
      await page.getByLabel('Requesting organisation').selectOption('portail')
      await page.getByLabel('Requester (a named contact)').fill('Alix Robert')
      await page.getByLabel('Receiving organisation').selectOption('fournisseur-alpha')
      await page.getByLabel('Recipient (a named contact)').fill('Sacha Durand')
      await page.getByRole('checkbox', { name: 'Démarches en ligne Alpha (demarches-alpha)' }).check()
      await page.getByLabel('From', { exact: true }).fill('2026-11-01T00:00')
      await page.getByLabel('To', { exact: true }).fill('2026-11-08T00:00')
      await page.getByLabel('Purpose').fill('Connexions suspectes')
    })
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey: registered.processInstanceKey, elementId: 'dispatch-letter' }, 'dispatch-trace-letter',
      { dispatchedAt: '2026-12-04T09:30:00+01:00', postalReference: '1A 234 567 8901 2' })
    return registered
  }

  const answer = (answerRecordedBy: string) => ({
    answeredAt: '2026-12-10T10:00:00+01:00', answerRecordedBy, delivered: 'Journaux de la passerelle, du 1er au 8 novembre',
    traceFormat: 'syslog-rfc5424', traceFormatVersion: 'RFC 5424', archiveChecksum: ARCHIVE,
  })

  test('TRC-3: dispatch-trace-letter, then record-trace-answer by an authorised contact: the answer is recorded', async () => {
    // given
    const { processInstanceKey } = await posted()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'record-answer' }, 'record-trace-answer', answer('Alix Robert'))
    // then
    await kit.reached(processInstanceKey, 'answer-recorded')
  })

  test('TRC-2: record-trace-answer by someone not authorised: refused, and the answer is awaited again', async () => {
    // given
    const { processInstanceKey } = await posted()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'record-answer' }, 'record-trace-answer', answer('Camille Martin'))
    // then
    await kit.reached(processInstanceKey, 'record-answer-refusal')
    await kit.userTask(processInstanceKey, 'record-answer')
  })
})

describe('when time passes (these move the engine clock: they come last)', () => {
  const DAY = 24 * 3_600_000

  /** The security-watch instances waiting at their review, oldest first. */
  async function reviews(): Promise<string[]> {
    const found = await kit.rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'user-tasks/search', { filter: { elementId: 'review-security-watch', state: 'CREATED' } })
    return found.items.map((item) => item.processInstanceKey)
  }

  async function waitForReview(): Promise<string> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [watch] = await reviews()
      if (watch !== undefined) return watch
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('No security-watch review came due')
  }

  test('SEC-3: announce-delay past the deadline: the other party is told the new date; SEC-1: the weekly reviews came due', async () => {
    // given a critical vulnerability on the portal, due in 15 days
    const { processInstanceKey } = await vulnerability('Déni de service sur le portail', 'portail-web', CRITICAL, false)
    await kit.userTask(processInstanceKey, 'apply-fix')
    // when the deadline passes
    await kit.increaseTime(16 * DAY)
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'announce-delay' }, 'announce-delay',
      { expectedFixDate: '2026-12-31T18:00:00+01:00', delayReason: 'Le correctif de l\'éditeur est attendu' })
    // then
    await kit.reached(processInstanceKey, 'delay-notified')
    expect(await reviews()).toHaveLength(1)
  })

  test('SEC-1: review-security-watch with nothing found, by this party\'s security team: the review ends', async () => {
    // given
    const watch = await waitForReview()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey: watch, elementId: 'review-security-watch' }, 'review-security-watch',
      { reviewedBy: 'Alix Robert', sourcesChecked: 'CERT-FR, CISA KEV' })
    // then
    await kit.reached(watch, 'nothing-found')
  })

  test('SEC-1, SEC-2: review-security-watch with a finding picked from the services of the agreement: its handling starts', async () => {
    // given the next week's review
    await kit.increaseTime(8 * DAY)
    const watch = await waitForReview()
    // when
    await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey: watch, elementId: 'review-security-watch' }, 'review-security-watch',
      { reviewedBy: 'Alix Robert', sourcesChecked: 'Rapport du scanner', title: 'Bibliothèque XML vulnérable', cvssVector: MEDIUM, service: { pick: 'Portail citoyen (site web) – Portail citoyen' } },
      { before: (page) => page.getByRole('button', { name: 'Add new' }).click() })
    // then
    await kit.reached(watch, 'handle-findings')
    const findings = await kit.variable(watch, 'findings') as Array<{ service: string; title: string }>
    expect(findings).toEqual([expect.objectContaining({ service: 'portail-web', title: 'Bibliothèque XML vulnérable' })])
    // The fields left empty (score, CVE id) count as not given: the vector scores the finding.
    const handling = await kit.rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'process-instances/search', { filter: { parentProcessInstanceKey: watch, processDefinitionId: 'vulnerability-handling' } })
    expect(handling.items).toHaveLength(1)
    await kit.reached(handling.items[0].processInstanceKey, 'disclose-vulnerability')
    for (const processInstanceKey of [watch, handling.items[0].processInstanceKey]) {
      const incidents = await kit.rest<{ items: unknown[] }>('POST', 'incidents/search', { filter: { processInstanceKey } })
      expect(incidents.items).toEqual([])
    }
  })
})
