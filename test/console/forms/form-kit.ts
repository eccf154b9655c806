/**
 * What the browser tests of the forms share: the application on an embedded engine with its
 * workers and an SMTP sink, the example configuration with a token for each credential of both
 * parties, and Debian's Chromium. A test reaches a user task through the API (and, for the steps
 * other tests prove, through the engine's REST API), then completes the task's Camunda Form in the
 * browser, signed in as the party that must act, by the labels a person reads.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../../support/browser'
import { credentialsFrom } from '../../../src/api/auth'
import { startApplication, type Application } from '../../../src/wiring/application'
import type { SmtpSink } from '../../../src/notify'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../../support/engine-harness'
import { startTestSmtp } from '../../support/smtp-sink'
import { exampleConfig, exampleTokens } from '../../workers/fixtures'

const ROOT = resolve(__dirname, '../../..')
const WAIT_MS = 15_000

/** A credential of the example configuration, by its environment variable. */
export type TokenName = `RACCORD_TOKEN_${string}`

interface FormComponent {
  type?: string
  key?: string
  label?: string
  values?: Array<{ label: string; value: string }>
  components?: FormComponent[]
}

/** A value to put in a field, by the field's key: text, an option's value, a checkbox state, or the label of an option a variable gives. */
export type FieldValues = Record<string, string | boolean | { pick: string }>

/** How a form is submitted: something to do before filling it, and what tells that it was taken (default: the task is completed). */
export interface SubmitOptions {
  before?: (page: Page) => Promise<void>
  taken?: () => Promise<boolean>
}

export interface FormKit {
  readonly base: string
  readonly page: Page
  readonly client: TestClient
  readonly smtp: SmtpSink
  /** Calls the API with a credential of the example configuration. */
  api<T = Record<string, unknown>>(method: string, path: string, token: TokenName, body?: unknown): Promise<{ status: number; body: T }>
  /** The engine's /v2 REST API, for what other tests prove (setting up, reading state). */
  rest<T>(method: 'GET' | 'POST', urlPath: string, body?: Record<string, unknown>): Promise<T>
  /** The user task waiting at `elementId` of the instance; with `group`, the one for that candidate group. */
  userTask(processInstanceKey: string, elementId: string, group?: string): Promise<{ userTaskKey: string; candidateGroups: string[]; candidateUsers: string[] }>
  /** Completes a task through the engine's REST API: the steps before the one a test proves. */
  completeByRest(processInstanceKey: string, elementId: string, variables: Record<string, unknown>, group?: string): Promise<void>
  /** Signs in as `token`, opens the task, claims it, fills its form by its labels and completes it. */
  completeInBrowser(token: TokenName, task: { processInstanceKey: string; elementId: string; group?: string }, formId: string, values: FieldValues, options?: SubmitOptions): Promise<string>
  /** Moves the engine's clock forward (PUT /v2/clock): due timers fire. */
  increaseTime(ms: number): Promise<void>
  /** Waits until `times` element instances of `elementId` exist in the instance (active or done). */
  reached(processInstanceKey: string, elementId: string, times?: number): Promise<void>
  /** The value of a process variable, as JSON. */
  variable(processInstanceKey: string, name: string): Promise<unknown>
  /**
   * Requests a procedure in the console as `token` (#/new/<kind>): `fill` fills the form as a
   * person would, then it is sent; answers the new record's id and its process instance.
   */
  requestInBrowser(token: TokenName, kind: string, fill: (page: Page) => Promise<void>): Promise<{ reference: string; id: string; processInstanceKey: string }>
  /** Signs in to the console as `token`, in English, and waits for the Tasks page. */
  signIn(token: TokenName): Promise<void>
  /** Whether the console lists the task for this credential. */
  listsTask(token: TokenName, userTaskKey: string): Promise<boolean>
}

/** Registers the hooks that start and stop everything; use the kit inside tests only. */
export function formKit(): FormKit {
  const tokens = exampleTokens()
  let engine: TestEngine
  let client: TestClient
  let smtp: SmtpSink
  let app: Application
  let dataDir: string
  let base = ''
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const pageErrors: string[] = []
  let pinnedAt: number | undefined

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, ['-r', 'tsx/cjs', 'src/console/build.ts'], { cwd: ROOT })
    engine = await startTestEngine()
    client = createTestClient(engine)
    smtp = await startTestSmtp()
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-forms-'))
    const config = { ...exampleConfig(), api: { ...exampleConfig().api, port: 0 } }
    app = await startApplication({
      config,
      credentials: credentialsFrom(config, tokens),
      camunda: client.camunda,
      smtpUrl: smtp.url,
      dataDir,
      logger: pino({ level: 'silent' }),
      apiPort: 0,
      outbox: smtp,
      workers: { pollIntervalMs: 50, backoffBaseMs: 10_000 },
    })
    base = `http://127.0.0.1:${app.apiPort}`
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })
    await context.route((url) => url.origin !== base, (route) => route.abort())
    page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    page.on('pageerror', (error) => pageErrors.push(error.message))
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
    expect(pageErrors.splice(0)).toEqual([])
  })

  const rest = <T>(method: 'GET' | 'POST', urlPath: string, body?: Record<string, unknown>): Promise<T> =>
    client.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, T>({ method, urlPath, body })

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const found = await probe()
      if (found !== undefined) return found
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
      await new Promise((resolveWait) => setTimeout(resolveWait, 50))
    }
  }

  const userTask: FormKit['userTask'] = (processInstanceKey, elementId, group) =>
    waitFor(`user task ${elementId}`, async () => {
      const found = await rest<{ items: Array<{ userTaskKey: string; candidateGroups?: string[]; candidateUsers?: string[] }> }>('POST', 'user-tasks/search', { filter: { processInstanceKey, elementId, state: 'CREATED' } })
      const item = found.items.find((candidate) => group === undefined || (candidate.candidateGroups ?? []).includes(group))
      return item && { userTaskKey: item.userTaskKey, candidateGroups: item.candidateGroups ?? [], candidateUsers: item.candidateUsers ?? [] }
    })

  async function signIn(token: TokenName): Promise<void> {
    await page.goto(`${base}/console/`)
    await page.evaluate("sessionStorage.clear(); localStorage.setItem('raccord.console.language', 'en')")
    await page.reload()
    await page.locator('#token').fill(tokens[token] ?? '')
    await page.locator('form.sign-in button[type="submit"]').click()
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor()
  }

  async function fill(formId: string, values: FieldValues): Promise<void> {
    const schema = JSON.parse(readFileSync(join(ROOT, 'processes/forms', `${formId}.form`), 'utf8')) as { components: FormComponent[] }
    const components = schema.components.flatMap(function flat(component): FormComponent[] { return [component, ...(component.components ?? []).flatMap(flat)] })
    for (const [key, value] of Object.entries(values)) {
      const component = components.find((candidate) => candidate.key === key)
      if (component?.label === undefined) throw new Error(`${formId} has no labelled field '${key}'`)
      // The whole label (form-js may mark a required one with an asterisk): "Reached at" is not "Person reached at...".
      const field = page.getByLabel(new RegExp(`^\\s*${component.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`)).first()
      if (component.type === 'radio') {
        const option = component.values?.find((candidate) => candidate.value === value)
        await page.getByRole('radio', { name: option?.label ?? String(value), exact: true }).check()
      } else if (component.type === 'select') {
        // form-js draws its own select: focusing it opens the list of options.
        const option = typeof value === 'object' ? value.pick : component.values?.find((candidate) => candidate.value === value)?.label
        await field.focus()
        await page.getByText(option ?? String(value), { exact: true }).click()
      } else if (component.type === 'checkbox') {
        await field.setChecked(value === true)
      } else {
        await field.fill(String(value))
      }
    }
  }

  const kit: FormKit = {
    get base() { return base },
    get page() { return page },
    get client() { return client },
    get smtp() { return smtp },
    async api<T>(method: string, path: string, token: TokenName, body?: unknown) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens[token] ?? ''}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T }
    },
    rest,
    userTask,
    signIn,
    async requestInBrowser(token, kind, fillForm) {
      await signIn(token)
      await page.goto(`${base}/console/#/new/${kind}`)
      await page.locator('form.console-form').waitFor()
      await fillForm(page)
      await page.getByRole('button', { name: 'Send the request' }).click()
      try {
        await page.waitForURL(new RegExp(`#/records/${kind}/[A-Z]+-`))
      } catch (error) {
        const alerts = await page.getByRole('alert').allTextContents()
        throw new Error(`The ${kind} request was not taken; the page said: ${alerts.join(' | ') || '(nothing)'}`, { cause: error })
      }
      const id = decodeURIComponent(page.url().split('/').pop() ?? '')
      const view = await kit.api<{ processInstanceKey: string }>('GET', `/api/${kind}/${id}`, token)
      return { reference: id, id, processInstanceKey: view.body.processInstanceKey }
    },
    async completeByRest(processInstanceKey, elementId, variables, group) {
      const task = await userTask(processInstanceKey, elementId, group)
      await rest('POST', `user-tasks/${task.userTaskKey}/completion`, { variables })
    },
    async completeInBrowser(token, { processInstanceKey, elementId, group }, formId, values, options = {}) {
      const task = await userTask(processInstanceKey, elementId, group)
      await signIn(token)
      await page.goto(`${base}/console/#/tasks/${task.userTaskKey}`)
      await page.getByRole('button', { name: 'Claim' }).click()
      await page.getByRole('button', { name: 'Complete task' }).waitFor()
      await options.before?.(page)
      await fill(formId, values)
      await page.getByRole('button', { name: 'Complete task' }).click()
      try {
        await waitFor(`${elementId} taken`, async () => {
          if (options.taken !== undefined) return (await options.taken()) ? true : undefined
          const done = await rest<{ items: Array<{ state: string }> }>('POST', 'user-tasks/search', { filter: { userTaskKey: task.userTaskKey } })
          return done.items[0]?.state === 'COMPLETED' ? true : undefined
        })
      } catch (error) {
        // What the person saw: the console's alerts name the refused fields.
        const alerts = await page.getByRole('alert').allTextContents()
        throw new Error(`${(error as Error).message}; the page said: ${alerts.join(' | ') || '(nothing)'}`, { cause: error })
      }
      return task.userTaskKey
    },
    async increaseTime(ms) {
      pinnedAt = (pinnedAt ?? Date.now()) + ms
      await client.camunda.getCamundaRestClient().callApiEndpoint({ method: 'PUT', urlPath: 'clock', body: { timestamp: pinnedAt }, json: false })
    },
    async reached(processInstanceKey, elementId, times = 1) {
      await waitFor(`${elementId} reached ${times} time(s)`, async () => {
        const found = await rest<{ items: unknown[] }>('POST', 'element-instances/search', { filter: { processInstanceKey, elementId } })
        return found.items.length >= times ? true : undefined
      })
    },
    async variable(processInstanceKey, name) {
      const found = await waitFor(`variable ${name}`, async () => {
        const page = await rest<{ items: Array<{ value: string }> }>('POST', 'variables/search', { filter: { processInstanceKey, name } })
        return page.items[0]
      })
      return JSON.parse(found.value) as unknown
    },
    async listsTask(token, userTaskKey) {
      const listed = await kit.api<{ items?: Array<{ userTaskKey: string }> } | Array<{ userTaskKey: string }>>('GET', '/console/api/tasks', token)
      const items = Array.isArray(listed.body) ? listed.body : listed.body.items ?? []
      return items.some((item) => item.userTaskKey === userTaskKey)
    },
  }
  return kit
}
