/**
 * The console in a real Chromium (Debian's, driven by playwright-core), against the application
 * on an embedded engine with its workers and an SMTP sink: sign in, declare an incident, work its
 * tasks through their Camunda Forms to its closure, watch the instance move on the diagram, retry
 * an incident, and stay out of another organisation's tasks. RACCORD_SCREENSHOTS=1 also writes docs/screenshots/*.png.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { credentialsFrom } from '../../src/api/auth'
import { startApplication, type Application } from '../../src/app/application'
import type { Config } from '../../src/config'
import type { SmtpSink } from '../../src/notify'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../support/engine-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

const ROOT = resolve(__dirname, '../..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
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
        { tokenEnv: 'T_MANAGER', roles: ['operator', 'manager'], organisation: 'portail' },
        { tokenEnv: 'T_BETA', roles: ['operator'], organisation: 'provider-beta' },
        { tokenEnv: 'T_ADMIN', roles: ['admin'], organisation: 'portail' },
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
    workers: { pollIntervalMs: 50, backoffBaseMs: 10_000, longPollMs: 1000 },
  })
  base = `http://127.0.0.1:${app.apiPort}`
  await client.zeebe.deployResource({ processFilename: join(__dirname, 'fixtures/console-retry.bpmn') })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
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

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
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

async function signIn(token: string): Promise<void> {
  await page.goto(`${base}/console/`)
  // A test that failed half-way leaves its session behind: start from the sign-in form.
  await page.evaluate('sessionStorage.clear()')
  await page.reload()
  await page.getByLabel('Access token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** Signs in and waits for the tasks page the console opens on. */
async function signInAs(token: keyof typeof TOKENS): Promise<void> {
  await signIn(TOKENS[token])
  await page.locator('#who', { hasText: token }).waitFor()
  await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor()
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel('Access token').waitFor()
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
  await screenshot('console-declare')

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
  expect(viewed.body).toMatchObject({ title: 'Démarches Alpha indisponibles', declaredBy: 'T_MANAGER (portail)', processInstanceKey })
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
  await screenshot('console-tasks')
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
  await page.getByLabel('Service restored at').fill('yesterday')
  await page.getByRole('button', { name: 'Complete task' }).click()
  await page.getByRole('alert').filter({ hasText: '1 field to correct' }).waitFor()
  await page.getByLabel('Service restored at').fill('2025-03-14T16:45:00+01:00')
  await page.keyboard.press('Tab')
  await screenshot('console-task-form')
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
  await screenshot('console-instance')
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
