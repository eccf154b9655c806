/**
 * The console in a real Chromium (Debian's, driven by playwright-core), against the application
 * on an embedded engine with its workers and an SMTP sink: sign in, declare an incident, work its
 * tasks through their Camunda Forms to its closure, watch the instance move on the diagram, retry
 * an incident, and stay out of another organisation's tasks; switch between French and English;
 * read the manager's dashboard against its JSON; and check every page with axe-core in both
 * languages. RACCORD_SCREENSHOTS=1 also writes docs/screenshots/*.png, in French and English.
 */
import AxeBuilder from '@axe-core/playwright'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { CHROMIUM, launchChromium } from '../support/browser'
import { credentialsFrom } from '../../src/api/auth'
import { startApplication, type Application } from '../../src/wiring/application'
import type { Config } from '../../src/config'
import type { SmtpSink } from '../../src/notify'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../support/engine-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

const ROOT = resolve(__dirname, '../..')
const SCREENSHOTS = process.env.RACCORD_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : undefined
const TOKENS = { T_MANAGER: 'manager-token', T_BETA: 'beta-operator-token', T_ADMIN: 'admin-token' }
const WAIT_MS = 10_000

let engine: TestEngine
let client: TestClient
let smtp: SmtpSink
let app: Application
let dataDir: string
let base: string
let browser: Browser
let context: BrowserContext
let page: Page
const pageErrors: string[] = []

jest.setTimeout(60_000)

beforeAll(async () => {
  // The bundles the console serves, built as `npm run build:console` does.
  await promisify(execFile)(process.execPath, ['-r', 'tsx/cjs', 'src/console/build.ts'], { cwd: ROOT })
  engine = await startTestEngine()
  client = createTestClient(engine)
  smtp = await startTestSmtp()
  dataDir = await mkdtemp(join(tmpdir(), 'raccord-console-'))
  const config: Config = {
    ...exampleConfig(),
    api: {
      port: 0,
      tokens: [
        { tokenEnv: 'T_MANAGER', roles: ['operator', 'manager'], organisation: 'portail', team: 'operations' },
        { tokenEnv: 'T_BETA', roles: ['operator'], organisation: 'provider-beta', team: 'operations' },
        { tokenEnv: 'T_ADMIN', roles: ['admin'], organisation: 'portail', team: 'operations' },
      ],
    },
  }
  app = await startApplication({
    config,
    credentials: credentialsFrom(config, TOKENS),
    camunda: client.camunda,
    smtpUrl: smtp.url,
    dataDir,
    logger: pino({ level: 'silent' }),
    apiPort: 0,
    outbox: smtp,
    workers: { pollIntervalMs: 50, backoffBaseMs: 10_000 },
  })
  base = `http://127.0.0.1:${app.apiPort}`
  await client.zeebe.deployResource({ processFilename: join(__dirname, 'fixtures/console-retry.bpmn') })
  await client.zeebe.deployResources([{ name: 'console-ops.bpmn', process: opsModel(1) }])
  browser = await launchChromium()
  // The outbox asks the browser for a credential (HTTP Basic, the token as password): the admin's sees every mail.
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', acceptDownloads: true, httpCredentials: { username: 'raccord', password: TOKENS.T_ADMIN } })
  // Offline but for the console itself: no CDN, nothing fetched from elsewhere.
  await context.route((url) => url.origin !== base, (route) => route.abort())
  page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  page.on('pageerror', (error) => pageErrors.push(error.message))
  // What the content security policy blocks (a script, a style, a font) Chromium reports here.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) pageErrors.push(message.text())
  })
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await client?.close()
  await smtp?.close()
  await engine?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

afterEach(() => {
  expect(pageErrors).toEqual([])
})

async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T }
}

function rest<T>(method: 'GET' | 'POST' | 'PATCH', urlPath: string, body?: Record<string, unknown>): Promise<T> {
  return client.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, T>({ method, urlPath, body })
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, waitMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
}

function userTask(processInstanceKey: string, elementId: string) {
  return waitFor(`user task ${elementId}`, async () => {
    const page = await rest<{ items: Array<{ userTaskKey: string }> }>('POST', 'user-tasks/search', { filter: { processInstanceKey, elementId, state: 'CREATED' } })
    return page.items[0]
  })
}

type Language = 'fr' | 'en'
const LANGUAGE_KEY = 'raccord.console.language'

/** Signs in having chosen `language` in this browser; null leaves the choice to the organisation's language. */
async function signIn(token: string, language: Language | null = 'en'): Promise<void> {
  await page.goto(`${base}/console/`)
  // A test that failed half-way leaves its session behind: start from the sign-in form.
  await page.evaluate(`sessionStorage.clear(); ${language === null ? `localStorage.removeItem('${LANGUAGE_KEY}')` : `localStorage.setItem('${LANGUAGE_KEY}', '${language}')`}`)
  await page.reload()
  const label = language === 'fr' ? "Jeton d'accès" : 'Access token'
  if (language !== null) await page.getByLabel(label).fill(token)
  else await page.locator('#token').fill(token)
  await page.locator('form.sign-in button[type="submit"]').click()
}

/** The same as the user sees it: the serious and critical axe-core violations of the page, WCAG 2.1 A and AA. */
async function accessibilityProblems(): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)
}

/** Signs in and waits for the tasks page the console opens on. */
async function signInAs(token: keyof typeof TOKENS, language: Language = 'en'): Promise<void> {
  await signIn(TOKENS[token], language)
  await page.locator('#who', { hasText: token }).waitFor()
  await page.getByRole('heading', { name: language === 'fr' ? 'Tâches' : 'Tasks', level: 1 }).waitFor()
}

/** In either language: the last button of the main navigation signs out. */
async function signOut(): Promise<void> {
  await page.locator('#nav li:last-child button').click()
  await page.locator('#token').waitFor()
}

function hasFocus(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => element === element.ownerDocument.activeElement)
}

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false })
}

let incident: { id: string; processInstanceKey: string }
let restoreTaskKey: string

test('the browser is Debian chromium, launched, never downloaded', () => {
  expect(existsSync(CHROMIUM)).toBe(true)
  expect(browser.version()).toMatch(/^\d+\./)
})

test('a bad token is refused at sign-in, and the API answers 401', async () => {
  await signIn('not-a-token')
  await page.getByRole('alert').filter({ hasText: 'This token is not accepted' }).waitFor()
  expect(await page.evaluate('sessionStorage.length')).toBe(0)
  expect(await page.getByRole('navigation', { name: 'Main' }).isHidden()).toBe(true)
  expect((await api('GET', '/console/api/tasks', 'not-a-token')).status).toBe(401)
})

test('declare an incident in the browser: each bad field says why beside it, then the incident starts', async () => {
  await signInAs('T_MANAGER')
  await page.getByRole('link', { name: 'Declare an incident' }).click()
  await page.getByRole('heading', { name: 'Declare an incident', level: 1 }).waitFor()
  const serviceChoices = await page.getByLabel('Service').locator('option').allTextContents()
  expect(serviceChoices).toEqual(expect.arrayContaining(['Choose a service', 'Démarches en ligne Alpha (demarches-alpha)']))

  // Nothing filled: the server's 400 names every field, listed in a summary that takes focus.
  await page.getByRole('button', { name: 'Declare incident' }).click()
  const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' })
  await summary.waitFor()
  expect(await hasFocus(summary)).toBe(true)
  await expect(summary.getByRole('link').allTextContents()).resolves.toEqual(
    ['Title: Required', 'Description: Required', 'Service: Required', 'Impact: Required', 'Urgency: Required'])
  await expect(page.getByLabel('Title').getAttribute('aria-invalid')).resolves.toBe('true')
  await expect(page.getByRole('group', { name: 'Impact' }).locator('.field-error').textContent()).resolves.toBe('Error: Required')
  await summary.getByRole('link', { name: 'Description: Required' }).click()
  expect(await hasFocus(page.getByLabel('Description'))).toBe(true)

  // Everything but a description of blanks, which the server trims: only that field is left marked.
  await page.getByLabel('Title').fill('Démarches Alpha indisponibles')
  await page.getByLabel('Description').fill('   ')
  await page.getByLabel('Service').selectOption('demarches-alpha')
  await page.getByRole('group', { name: 'Impact' }).getByLabel('High').check()
  // Radios by keyboard: focus the first, arrow to the next.
  await page.getByRole('group', { name: 'Urgency' }).getByLabel('High').focus()
  await page.keyboard.press('ArrowDown')
  await page.getByRole('button', { name: 'Declare incident' }).click()
  await summary.getByRole('link', { name: 'Description: Required' }).waitFor()
  expect(await summary.getByRole('link').count()).toBe(1)
  await expect(page.getByLabel('Title').getAttribute('aria-invalid')).resolves.toBe('false')
  await expect(page.getByRole('group', { name: 'Urgency' }).getByLabel('Medium').isChecked()).resolves.toBe(true)

  await page.getByLabel('Description').fill('Erreur 502 à la soumission des formulaires')
  await page.getByRole('button', { name: 'Declare incident' }).click()
  const heading = page.getByRole('heading', { name: /^Incident INC-\S+ declared$/, level: 1 })
  await heading.waitFor()
  const id = (await heading.textContent())?.match(/INC-\S+/)?.[0] ?? ''
  const instanceLink = page.getByRole('link', { name: `Open the instance of ${id}` })
  const processInstanceKey = (await instanceLink.getAttribute('href'))?.replace('#/instances/', '') ?? ''
  incident = { id, processInstanceKey }

  // The same incident the API shows, declared by the signed-in token, prioritised by the DMN table.
  const viewed = await api<{ title: string; declaredBy: string; processInstanceKey: string }>('GET', `/api/incidents/${id}`, TOKENS.T_MANAGER)
  expect(viewed.body).toMatchObject({ title: 'Démarches Alpha indisponibles', declaredBy: 'Centre de services du portail (portail)', processInstanceKey })
  await instanceLink.click()
  await page.getByTestId('instance-state').getByText('Active').waitFor()
  await signOut()
})

test("an operator of another organisation sees none of portail's tasks, nor its processes", async () => {
  restoreTaskKey = (await userTask(incident.processInstanceKey, 'restore-service')).userTaskKey

  await signInAs('T_BETA')
  await page.locator('#who', { hasText: 'times in Europe/London' }).waitFor()
  await page.getByText('Your groups have no open task.').waitFor()
  expect(await page.getByRole('link', { name: 'Restore service' }).count()).toBe(0)
  expect(await page.getByRole('link', { name: 'Processes' }).count()).toBe(0)

  await page.goto(`${base}/console/#/tasks/${restoreTaskKey}`)
  await page.getByRole('alert').filter({ hasText: `No user task ${restoreTaskKey} among yours` }).waitFor()
  expect((await api('POST', `/console/api/tasks/${restoreTaskKey}/claim`, TOKENS.T_BETA)).status).toBe(404)
  expect((await api('GET', '/console/api/instances', TOKENS.T_BETA)).status).toBe(403)
  await signOut()
})

test("work the declared incident's tasks through their forms to its closure, watching the diagram; its mails are in the Outbox", async () => {
  await signInAs('T_MANAGER')
  await page.locator('#who', { hasText: 'times in Europe/Paris' }).waitFor()
  const taskLink = page.getByRole('link', { name: 'Restore service' })
  await taskLink.waitFor()
  const row = page.getByRole('row').filter({ has: taskLink })
  await expect(row.textContent()).resolves.toContain(incident.id)
  await taskLink.click()

  // The form and the process context beside it: which incident, its priority, the due date.
  const aside = page.getByRole('complementary', { name: 'Process context' })
  await expect(aside.getByTestId('business-key').textContent()).resolves.toBe(incident.id)
  await expect(aside.textContent()).resolves.toMatch(/PriorityP2/)
  expect(await aside.locator('time').count()).toBeGreaterThanOrEqual(2)
  await page.getByText(`Incident ${incident.id} on service demarches-alpha`).waitFor()
  await page.getByRole('button', { name: 'Claim' }).click()
  await page.getByTestId('assignee').getByText('T_MANAGER', { exact: true }).waitFor()

  // form-js draws its own select: focusing it opens the list of options.
  await page.getByLabel('How was service restored?').focus()
  await page.getByText('Definitive fix', { exact: true }).click()
  await page.getByLabel('What was done').fill('Rolled back the gateway to 4.2.1')
  await page.getByRole('textbox', { name: 'Service restored at', exact: true }).fill('yesterday')
  await page.getByRole('button', { name: 'Complete task' }).click()
  await page.getByRole('alert').filter({ hasText: '1 field to correct' }).waitFor()
  // The pattern's message points to the example under the field, not to a regular expression.
  await page.getByText('This value does not have the expected format: see the example under the field.').waitFor()
  await page.getByRole('textbox', { name: 'Service restored at', exact: true }).fill('2025-03-14T16:45:00+01:00')
  await page.keyboard.press('Tab')
  await page.getByRole('button', { name: 'Complete task' }).click()

  // The console goes to the instance: the token has moved past the mail to the closing task.
  await page.waitForURL(`**/#/instances/${incident.processInstanceKey}`)
  await page.locator('[data-element-id="close-incident"].is-active').waitFor({ timeout: WAIT_MS })
  expect(await page.locator('[data-element-id="restore-service"].is-completed').count()).toBe(1)
  expect(await page.locator('[data-element-id="flow-to-close-incident"].is-taken').count()).toBe(1)
  await page.locator('#diagram-text', { hasText: 'Active now: Close incident' }).waitFor()
  await page.getByRole('heading', { name: 'Timeline' }).waitFor()
  await page.locator('#trace').getByText('incident-declared', { exact: true }).waitFor()
  expect(await page.getByRole('button', { name: 'Cancel instance' }).count()).toBe(0)
  const completed = await rest<{ items: Array<{ state: string }> }>('POST', 'user-tasks/search', { filter: { userTaskKey: restoreTaskKey } })
  expect(completed.items[0].state).toBe('COMPLETED')

  // Closing the incident, by keyboard this time: the instance runs to its end.
  await page.getByRole('link', { name: 'Tasks', exact: true }).click()
  await page.getByRole('link', { name: 'Close incident' }).click()
  await page.getByRole('button', { name: 'Claim' }).click()
  await page.getByLabel('Root cause').fill('Expired certificate on the provider gateway')
  await page.getByLabel('I confirm that normal service is restored').focus()
  await page.keyboard.press('Space')
  await page.getByRole('button', { name: 'Complete task' }).focus()
  await page.keyboard.press('Enter')
  await page.getByTestId('instance-state').getByText('Completed').waitFor()
  await page.locator('#trace').getByText('incident-closed', { exact: true }).waitFor()

  // Every mail of the incident, from its declaration to its closure, is in the Outbox.
  const mails = smtp.list().filter((mail) => mail.subject.includes(incident.id))
  expect(mails.map((mail) => mail.subject)).toEqual(expect.arrayContaining([
    expect.stringMatching(new RegExp(`Incident ${incident.id} (declared|déclaré)`)),
    expect.stringMatching(new RegExp(`Incident ${incident.id} (resolved|résolu)`)),
  ]))
  await page.getByRole('link', { name: 'Outbox' }).click()
  await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor()
  for (const mail of mails) await page.getByRole('link', { name: mail.subject, exact: true }).first().waitFor()
  await page.goBack()
  // Back in the console: wait until it has drawn itself again before signing out.
  await page.waitForURL('**/console/**')
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  await signOut()
})

test('retry an incident: the job gets its retries back and the instance completes', async () => {
  const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'console-retry', variables: {} })
  const instanceKey = created.processInstanceKey
  const job = await waitFor('the sync job', async () => {
    const { jobs } = await rest<{ jobs: Array<{ jobKey: string }> }>('POST', 'jobs/activation', { type: 'console-fixture-sync', worker: 'test', timeout: 60_000, maxJobsToActivate: 1 })
    return jobs[0]
  })
  await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: `jobs/${job.jobKey}/failure`, body: { retries: 0, errorMessage: 'Directory unreachable: connect ECONNREFUSED 10.0.0.7:389' }, json: false })

  await signInAs('T_MANAGER')
  await page.getByRole('link', { name: 'Processes' }).click()
  await page.getByLabel('Incidents').selectOption('true')
  await page.getByRole('button', { name: 'Apply filters' }).click()
  await page.getByRole('link', { name: instanceKey }).click()
  await page.getByText('Directory unreachable: connect ECONNREFUSED').waitFor()
  expect(await page.locator('[data-element-id="sync-directory"].has-incident').count()).toBe(1)
  await page.getByRole('button', { name: 'Retry sync-directory' }).click()
  await page.getByText('No open incident.').waitFor()

  const incidents = await rest<{ items: Array<{ state: string }> }>('POST', 'incidents/search', { filter: { processInstanceKey: instanceKey } })
  expect(incidents.items.map((item) => item.state)).toEqual(['RESOLVED'])
  const retried = await waitFor('the job again', async () => {
    const { jobs } = await rest<{ jobs: Array<{ jobKey: string; retries: number }> }>('POST', 'jobs/activation', { type: 'console-fixture-sync', worker: 'test', timeout: 60_000, maxJobsToActivate: 1 })
    return jobs[0]
  })
  expect(retried.retries).toBe(1)
  await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: `jobs/${retried.jobKey}/completion`, body: {}, json: false })
  await page.getByTestId('instance-state').getByText('Completed').waitFor({ timeout: WAIT_MS })
  await signOut()
})

test('an admin may cancel an instance; the page shows it cancelled', async () => {
  const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'console-retry', variables: {} })
  await signInAs('T_ADMIN')
  await page.goto(`${base}/console/#/instances/${created.processInstanceKey}`)
  page.once('dialog', (dialog) => void dialog.accept())
  await page.getByRole('button', { name: 'Cancel instance' }).click()
  await page.getByTestId('instance-state').getByText('Cancelled').waitFor()
  await signOut()
})

/** console-retry under another id, in two versions: the second ends at another end event. */
function opsModel(version: 1 | 2): Buffer {
  const xml = readFileSync(join(__dirname, 'fixtures/console-retry.bpmn'), 'utf8').replace(/console-retry/g, 'console-ops').replace('name="Console retry fixture"', 'name="Console operations fixture"')
  return Buffer.from(version === 1 ? xml : xml.replace(/"synced"/g, '"synced-v2"').replace('name="Synced"', 'name="Synced in version 2"'))
}

test('an admin moves a token past a broken step: the task is left, the end is reached; a manager is not offered it', async () => {
  const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'console-ops', version: 1, variables: {} })
  await signInAs('T_MANAGER')
  await page.goto(`${base}/console/#/instances/${created.processInstanceKey}`)
  await page.getByTestId('instance-state').getByText('Active').waitFor()
  expect(await page.getByRole('heading', { name: 'Operations on this instance' }).count()).toBe(0)
  await signOut()
  await signInAs('T_ADMIN')
  await page.goto(`${base}/console/#/instances/${created.processInstanceKey}`)
  await page.getByLabel('Move the token at Sync directory to').selectOption('synced')
  await page.getByRole('button', { name: 'Move' }).click()
  await page.locator('#instance-status').getByText('The token at Sync directory moved to Synced.').waitFor()
  await page.getByTestId('instance-state').getByText('Completed').waitFor()
  const elements = await rest<{ items: Array<{ elementId: string; state: string }> }>('POST', 'element-instances/search', { filter: { processInstanceKey: created.processInstanceKey } })
  expect(elements.items.map((e) => `${e.elementId}:${e.state}`).sort()).toEqual(['started:COMPLETED', 'sync-directory:TERMINATED', 'synced:COMPLETED'])
  await signOut()
})

test('an admin migrates an instance to the next version, its active task mapped to the same task; it then ends where version 2 ends', async () => {
  const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'console-ops', version: 1, variables: {} })
  await client.zeebe.deployResources([{ name: 'console-ops.bpmn', process: opsModel(2) }])
  await signInAs('T_ADMIN')
  await page.goto(`${base}/console/#/instances/${created.processInstanceKey}`)
  await page.getByLabel('Target version').selectOption({ label: 'version 2' })
  await page.getByRole('button', { name: 'Map the active elements' }).click()
  await expect(page.getByLabel('Sync directory becomes').inputValue()).resolves.toBe('sync-directory')
  await page.getByRole('button', { name: 'Migrate' }).click()
  await page.locator('#instance-status').getByText('The instance now runs on version 2.').waitFor()
  await page.locator('[data-element-id="synced-v2"]').waitFor()
  const job = await waitFor('the sync job', async () => {
    const { jobs } = await rest<{ jobs: Array<{ jobKey: string; processInstanceKey: string }> }>('POST', 'jobs/activation', { type: 'console-fixture-sync', worker: 'test', timeout: 60_000, maxJobsToActivate: 10 })
    return jobs.find((candidate) => candidate.processInstanceKey === created.processInstanceKey)
  })
  await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: `jobs/${job.jobKey}/completion`, body: {}, json: false })
  await page.getByTestId('instance-state').getByText('Completed').waitFor()
  const elements = await rest<{ items: Array<{ elementId: string }> }>('POST', 'element-instances/search', { filter: { processInstanceKey: created.processInstanceKey } })
  expect(elements.items.map((e) => e.elementId)).toContain('synced-v2')
  await signOut()
})

test('an admin retries the incidents of the listed instances, then cancels them, as batch operations it follows to the end', async () => {
  const keys: string[] = []
  for (let i = 0; i < 2; i++) keys.push((await client.zeebe.createProcessInstance({ bpmnProcessId: 'console-ops', variables: {} })).processInstanceKey)
  const jobs = new Map<string, string>()
  await waitFor('the two sync jobs', async () => {
    const activated = await rest<{ jobs: Array<{ jobKey: string; processInstanceKey: string }> }>('POST', 'jobs/activation', { type: 'console-fixture-sync', worker: 'test', timeout: 60_000, maxJobsToActivate: 10 })
    for (const job of activated.jobs) jobs.set(job.processInstanceKey, job.jobKey)
    return keys.every((key) => jobs.has(key)) ? true : undefined
  })
  for (const key of keys) {
    await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: `jobs/${jobs.get(key)}/failure`, body: { retries: 0, errorMessage: 'Directory unreachable' }, json: false })
  }
  await waitFor('two incidents', async () => {
    const found = await rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'incidents/search', { filter: { state: 'ACTIVE', processDefinitionId: 'console-ops' } })
    return keys.every((key) => found.items.some((item) => item.processInstanceKey === key)) ? true : undefined
  })
  await signInAs('T_ADMIN')
  await page.goto(`${base}/console/#/processes?process=console-ops&incident=true&state=ACTIVE`)
  await page.getByRole('button', { name: 'Retry the incidents of these 2 instances' }).click()
  await page.locator('#batch-status').getByText(/: completed, 2 of 2 done, 0 failed\./).waitFor({ timeout: 20_000 })
  const open = await rest<{ items: Array<{ processInstanceKey: string }> }>('POST', 'incidents/search', { filter: { state: 'ACTIVE', processDefinitionId: 'console-ops' } })
  expect(open.items.filter((item) => keys.includes(item.processInstanceKey))).toEqual([])
  await page.goto(`${base}/console/#/processes?process=console-ops&state=ACTIVE`)
  // the new page, not the one it replaces: no incident is left to retry on it
  await page.getByRole('button', { name: 'Retry the incidents of these 0 instances' }).waitFor()
  page.once('dialog', (dialog) => void dialog.accept())
  await page.getByRole('button', { name: /^Cancel these \d+ active instances$/ }).click()
  await page.locator('#batch-status').getByText(/: completed, (\d+) of \1 done, 0 failed\./).waitFor({ timeout: 20_000 })
  for (const key of keys) expect((await rest<{ state: string }>('GET', `process-instances/${key}`)).state).toBe('TERMINATED')
  await signOut()
})

/** Declares an incident through the HTTP API, as another tool would. */
async function declareIncident(title: string, impact: string, urgency: string): Promise<{ id: string; processInstanceKey: string }> {
  const declared = await api<{ id: string; processInstanceKey: string }>('POST', '/api/incidents', TOKENS.T_MANAGER,
    { title, description: 'Déclaré par le test de la console', service: 'demarches-alpha', impact, urgency })
  expect(declared.status).toBe(201)
  return declared.body
}

const FRENCH_DATE = /^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)( \d{4})? \d{2}:\d{2}$/
const ENGLISH_DATE = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December)( \d{4})? \d{2}:\d{2}$/

/** The hour and minute of `iso` on a clock of `timeZone`, as 24-hour HH:MM. */
function clockTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
}

test("French for portail by default, English on the switch and remembered; dates in the organisation's zone; the form's texts translated", async () => {
  const declared = await declareIncident('Formulaires indisponibles', 'high', 'medium')
  await userTask(declared.processInstanceKey, 'restore-service')

  // No choice made in this browser: portail's language, French, and its zone, Europe/Paris.
  await signIn(TOKENS.T_MANAGER, null)
  await page.getByRole('heading', { name: 'Tâches', level: 1 }).waitFor()
  await page.locator('#who', { hasText: 'heures de Europe/Paris' }).waitFor()
  await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr')
  const row = page.getByRole('row').filter({ hasText: declared.id })
  const created = row.locator('time').first()
  const createdAt = (await created.getAttribute('datetime')) ?? ''
  const frenchText = (await created.textContent()) ?? ''
  expect(frenchText).toMatch(FRENCH_DATE)
  expect(frenchText.endsWith(clockTime(createdAt, 'Europe/Paris'))).toBe(true)
  // December in Paris is UTC+1: a date shown in UTC would end otherwise.
  expect(clockTime(createdAt, 'Europe/Paris')).not.toBe(clockTime(createdAt, 'UTC'))

  // The task and its process by their French names, from the table keyed by process and element id.
  await expect(row.getByRole('link').first().textContent()).resolves.toBe('Rétablir le service')
  await expect(row.textContent()).resolves.toContain('Gestion des incidents')

  // The task's Camunda Form in French, from the translation table; its duration for people, not PT8H.
  await row.getByRole('link').first().click()
  await page.getByRole('heading', { name: 'Rétablir le service', level: 1 }).waitFor()
  // form-js draws its own select: its label is text beside a hidden input.
  await page.locator('#task-form label', { hasText: 'Comment le service a-t-il été rétabli ?' }).waitFor()
  // Intl puts a no-break space between a number and its unit.
  const spaced = (text: string | null) => (text ?? '').replace(/\s/g, ' ')
  const formText = spaced(await page.locator('#task-form').textContent())
  expect(formText).toContain('à résoudre dans un délai de 8 h après la notification')
  expect(formText).not.toContain('PT8H')
  expect(spaced(await page.getByRole('complementary').textContent())).toContain('À résoudre sous8 h')
  // form-js's own messages in French too, once the task is claimed and its form sent half filled.
  await page.getByRole('button', { name: 'Prendre' }).click()
  await page.getByRole('textbox', { name: 'Service rétabli le', exact: true }).fill('hier')
  await page.getByRole('button', { name: 'Terminer la tâche' }).click()
  await page.getByRole('alert').filter({ hasText: 'Le formulaire a 3 champs à corriger.' }).waitFor()
  expect(await page.getByText('Champ obligatoire.').count()).toBe(2)
  await page.getByText("Cette valeur n'a pas le format attendu : voyez l'exemple sous le champ.").waitFor()
  await page.getByRole('button', { name: 'Rendre' }).click()
  await page.getByRole('button', { name: 'Prendre' }).waitFor()

  // The switch: English at once, and remembered by this browser after a reload.
  await page.getByRole('group', { name: 'Langue' }).getByRole('button', { name: 'English' }).click()
  await page.locator('#task-form label', { hasText: 'How was service restored?' }).waitFor()
  await page.getByRole('heading', { name: 'Restore service', level: 1 }).waitFor()
  expect(spaced(await page.locator('#task-form').textContent())).toContain('to be resolved within 8 hours of notification')
  await expect(page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).resolves.toBe('true')
  await expect(page.evaluate(`localStorage.getItem('${LANGUAGE_KEY}')`)).resolves.toBe('en')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click()
  await page.reload()
  await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor()
  await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
  const englishText = (await page.getByRole('row').filter({ hasText: declared.id }).locator('time').first().textContent()) ?? ''
  expect(englishText).toMatch(ENGLISH_DATE)
  expect(englishText.endsWith(clockTime(createdAt, 'Europe/Paris'))).toBe(true)
  await signOut()

  // provider-beta's own language and zone: English, Europe/London.
  await signIn(TOKENS.T_BETA, null)
  await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor()
  await page.locator('#who', { hasText: 'times in Europe/London' }).waitFor()
  await signOut()
})

interface Clock { measured: number; withinTarget: number; breached: number; running: number; averageMs: number | null }
interface Figures {
  incidents: {
    priorities: Array<{ priority: string; responseTarget: string | null; resolutionTarget: string | null; states: { open: number; restored: number; closed: number }; acknowledge: Clock; restore: Clock }>
    unprioritised: number
  }
  processes: Array<{ processDefinitionId: string; name: string; active: number; completed: number; terminated: number; incidents: number }>
}

test("the dashboard counts incidents of known priorities, times an acknowledgement against its target, and its page shows the JSON's figures", async () => {
  const figures = async () => (await api<Figures>('GET', '/console/api/dashboard', TOKENS.T_MANAGER)).body
  const priority = (from: Figures, name: string) => {
    const row = from.incidents.priorities.find((candidate) => candidate.priority === name)
    if (!row) throw new Error(`No priority ${name} in ${JSON.stringify(from.incidents.priorities)}`)
    return row
  }
  expect((await api('GET', '/console/api/dashboard', TOKENS.T_BETA)).status).toBe(403)
  const before = await figures()
  // The targets are the deployed decision's (incident-priority.dmn), every priority listed even before its first incident.
  expect(before.incidents.priorities.map(({ priority: name, responseTarget, resolutionTarget }) => ({ name, responseTarget, resolutionTarget }))).toEqual([
    { name: 'P1', responseTarget: 'PT15M', resolutionTarget: 'PT4H' },
    { name: 'P2', responseTarget: 'PT1H', resolutionTarget: 'PT8H' },
    { name: 'P3', responseTarget: 'PT4H', resolutionTarget: 'PT24H' },
    { name: 'P4', responseTarget: 'PT8H', resolutionTarget: 'PT72H' },
  ])

  const p1 = await declareIncident('Portail inaccessible', 'high', 'high')
  await declareIncident('Lenteurs à la connexion', 'high', 'medium')
  await declareIncident('Lenteurs au paiement', 'medium', 'high')
  await declareIncident('Faute de frappe', 'low', 'low')
  const opened = (from: Figures, name: string) => priority(from, name).states.open - priority(before, name).states.open
  const after = await waitFor('the four incidents prioritised', async () => {
    const now = await figures()
    return opened(now, 'P1') === 1 && opened(now, 'P2') === 2 && opened(now, 'P3') === 0 && opened(now, 'P4') === 1 ? now : undefined
  }, 60_000)
  const active = (from: Figures) => from.processes.find((row) => row.processDefinitionId === 'incident-management')?.active ?? 0
  expect(active(after) - active(before)).toBe(4)
  expect(priority(after, 'P1').acknowledge.running - priority(before, 'P1').acknowledge.running).toBe(1)

  // Taking the P1's restore task acknowledges it, well within 15 minutes; the time is kept on its instance.
  const restore = await userTask(p1.processInstanceKey, 'restore-service')
  expect((await api('POST', `/console/api/tasks/${restore.userTaskKey}/claim`, TOKENS.T_MANAGER)).status).toBe(204)
  const acknowledged = await figures()
  expect(priority(acknowledged, 'P1').acknowledge.measured - priority(before, 'P1').acknowledge.measured).toBe(1)
  expect(priority(acknowledged, 'P1').acknowledge.withinTarget - priority(before, 'P1').acknowledge.withinTarget).toBe(1)
  expect(priority(acknowledged, 'P1').acknowledge.running).toBe(priority(before, 'P1').acknowledge.running)
  expect(priority(acknowledged, 'P1').acknowledge.averageMs).toEqual(expect.any(Number))
  const recorded = await rest<{ items: Array<{ name: string; value: string }> }>('POST', 'variables/search', { filter: { processInstanceKey: p1.processInstanceKey, name: 'acknowledgedBy' } })
  expect(recorded.items.map((item) => JSON.parse(item.value))).toEqual(['T_MANAGER'])

  // The page: every figure of the priorities and processes tables is the JSON's.
  await signInAs('T_MANAGER')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click()
  const table = page.getByTestId('priorities')
  await table.waitFor()
  const shown = await figures()
  for (const row of shown.incidents.priorities) {
    const cells = await table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: row.priority, exact: true }) }).locator('td').allTextContents()
    expect(cells.slice(0, 3)).toEqual([row.states.open, row.states.restored, row.states.closed].map(String))
    expect(cells.slice(4, 7)).toEqual([row.acknowledge.withinTarget, row.acknowledge.breached, row.acknowledge.running].map(String))
    expect(cells.slice(9, 12)).toEqual([row.restore.withinTarget, row.restore.breached, row.restore.running].map(String))
  }
  const targets = await table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'P1', exact: true }) }).locator('td').allTextContents()
  expect([targets[3], targets[8]]).toEqual(['15 minutes', '4 hours'])
  const incidentProcess = shown.processes.find((row) => row.processDefinitionId === 'incident-management')
  const processCells = await page.getByTestId('processes').getByRole('row').filter({ has: page.getByRole('rowheader', { name: incidentProcess?.name }) }).locator('td').allTextContents()
  expect(processCells).toEqual([incidentProcess?.active, incidentProcess?.completed, incidentProcess?.terminated, incidentProcess?.incidents].map(String))
  // The page's JSON link saves the very figures it shows.
  // (It is saved as a download, as a person gets it: the page's CSP lets no script read it back.)
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /as JSON/ }).click()])
  const downloaded = JSON.parse(readFileSync(await download.path(), 'utf8')) as Figures
  expect({ incidents: downloaded.incidents, processes: downloaded.processes }).toEqual({ incidents: shown.incidents, processes: shown.processes })
  // The charts are drawn on their canvases.
  for (const id of ['chart-incidents', 'chart-clocks', 'chart-processes']) {
    await expect(page.locator(`#${id}`).getAttribute('width').then(Number)).resolves.toBeGreaterThan(0)
  }
  await signOut()
})

describe.each<Language>(['en', 'fr'])('every console page in %s', (language) => {
  test('has no serious or critical axe-core violation (and gives the README its pictures)', async () => {
    // A claimed task shows its form ready to fill; the instance page has an incident's trace.
    const declared = await declareIncident('Téléservice hors service', 'medium', 'medium')
    const task = await userTask(declared.processInstanceKey, 'restore-service')
    expect((await api('POST', `/console/api/tasks/${task.userTaskKey}/claim`, TOKENS.T_MANAGER)).status).toBe(204)
    const problems: Record<string, string[]> = {}
    const check = async (name: string) => {
      problems[name] = await accessibilityProblems()
      await screenshot(`console-${name}.${language}`)
    }
    const heading = (name: string) => page.getByRole('heading', { name, level: 1 }).waitFor()
    const fr = language === 'fr'

    await page.goto(`${base}/console/`)
    await page.evaluate(`sessionStorage.clear(); localStorage.setItem('${LANGUAGE_KEY}', '${language}')`)
    await page.reload()
    await heading(fr ? 'Connexion' : 'Sign in')
    await check('sign-in')
    await page.locator('#token').fill(TOKENS.T_MANAGER)
    await page.locator('form.sign-in button[type="submit"]').click()
    await heading(fr ? 'Tâches' : 'Tasks')
    await page.getByRole('row').filter({ hasText: declared.id }).waitFor()
    await check('tasks')

    await page.goto(`${base}/console/#/tasks/${task.userTaskKey}`)
    await page.getByLabel(fr ? 'Ce qui a été fait' : 'What was done').waitFor()
    await check('task-form')

    await page.goto(`${base}/console/#/declare`)
    await heading(fr ? 'Déclarer un incident' : 'Declare an incident')
    await page.locator('form.console-form button[type="submit"]').click()
    await page.getByRole('alert').filter({ hasText: fr ? 'Il y a un problème' : 'There is a problem' }).waitFor()
    await check('declare')

    await page.goto(`${base}/console/#/processes`)
    await heading(fr ? 'Processus' : 'Processes')
    await check('processes')

    await page.goto(`${base}/console/#/instances/${declared.processInstanceKey}`)
    await page.locator('[data-element-id="restore-service"].is-active').waitFor()
    await page.locator('#trace time').first().waitFor()
    await check('instance')

    await page.goto(`${base}/console/#/dashboard`)
    await page.getByTestId('priorities').waitFor()
    await check('dashboard')

    // the outbox, a page the server draws, in the language chosen in the console
    await page.goto(`${base}/outbox?lang=${language}`)
    await heading(fr ? 'Courriels envoyés' : 'Outbox')
    await check('outbox')

    await page.goto(`${base}/console/#/records/incidents`)
    await heading('Incidents')
    await page.getByRole('link', { name: declared.id }).waitFor()
    await check('records')

    await page.goto(`${base}/console/#/records/incidents/${declared.id}`)
    await page.getByTestId('record-timeline').waitFor()
    await check('record')

    await page.goto(`${base}/console/#/new/changes`)
    await heading(fr ? 'Demander une évolution' : 'Request a change')
    await page.locator('form.console-form button[type="submit"]').click()
    await page.getByRole('alert').filter({ hasText: fr ? 'Il y a un problème' : 'There is a problem' }).waitFor()
    await check('request')

    expect(problems).toEqual({ 'sign-in': [], tasks: [], 'task-form': [], declare: [], processes: [], instance: [], dashboard: [], outbox: [], records: [], record: [], request: [] })
    await signOut()
  })
})
