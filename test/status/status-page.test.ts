/**
 * USR-1: the public status page as end users read it: one entry per service with its history, every
 * instant in the organisation's language and time zone, styled, and accessible (axe-core in Chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import express from 'express'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../support/browser'
import { statusHtml, statusRouter, statusSummary } from '../../src/status/status-page'
import { StatusStore } from '../../src/status/status-store'
import { exampleConfig } from '../workers/fixtures'

const config = exampleConfig()
let dir: string
let store: StatusStore

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raccord-status-'))
  store = StatusStore.open(dir)
  // given: an incident and a cut open on the same service, and an older notice resolved on it
  store.open({ id: 'incident:INC-1', component: 'demarches-alpha', title: 'Démarches lentes', impact: 'minor', componentState: 'degraded_performance', state: 'investigating', body: 'Lenteurs constatées.', createdAt: '2025-03-14T08:00:00Z', idempotencyKey: 'a' })
  store.open({ id: 'cut:CUT-1', component: 'demarches-alpha', title: 'Démarches indisponibles', impact: 'major', componentState: 'major_outage', state: 'investigating', body: 'Service coupé par précaution.', createdAt: '2025-03-14T09:15:00Z', idempotencyKey: 'b' })
  store.open({ id: 'incident:INC-0', component: 'demarches-alpha', title: 'Panne de février', impact: 'major', componentState: 'partial_outage', state: 'identified', body: 'Cause trouvée.', createdAt: '2025-02-10T08:00:00Z', idempotencyKey: 'c' })
  store.update({ noticeId: 'incident:INC-0', state: 'resolved', body: 'Service rétabli.', at: '2025-02-10T12:30:00Z', idempotencyKey: 'd' })
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

test('USR-1: each service is listed once, at its worst open state, with its open notices and its history', () => {
  // when
  const page = statusHtml(statusSummary(config, store, 'http://127.0.0.1')).value
  // then
  expect(page.match(/data-component="demarches-alpha"/g)).toHaveLength(1)
  expect(page).toContain('data-component="demarches-alpha" data-status="major_outage"')
  const entry = /<li class="service" id="service-demarches-alpha"[\s\S]*?<\/li>\n<li class="service"/.exec(page)?.[0] ?? ''
  expect(entry).toContain('Démarches lentes')
  expect(entry).toContain('Démarches indisponibles')
  expect(entry).toMatch(/<details><summary>1 incident passé<\/summary>[\s\S]*Panne de février/)
  expect(statusSummary(config, store, 'http://127.0.0.1').components.map((component) => component.id)).toEqual([...new Set(config.organisations.flatMap((org) => org.services.map((service) => service.id)))])
})

test('USR-1: instants read in the organisation\'s language and time zone, never as raw UTC', () => {
  // when
  const page = statusHtml(statusSummary(config, store, 'http://127.0.0.1')).value
  // then: 09:15 UTC in March is 10:15 in Paris
  expect(page).toContain('<time datetime="2025-03-14T09:15:00Z">vendredi 14 mars 2025 à 10:15 (UTC+1)</time>')
  expect(page.replace(/datetime="[^"]*"/g, '')).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/)
  expect(page).toContain('<html lang="fr">')
})

describe('in Chromium', () => {
  let browser: Browser
  let server: Server
  let base: string

  beforeAll(async () => {
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
  })

  beforeEach(async () => {
    const app = express()
    app.use(statusRouter(config, store, () => base))
    server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  })

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  test('USR-1: the page is styled, its history opens from the keyboard, and axe-core finds no serious or critical violation', async () => {
    const context = await browser.newContext({ locale: 'fr-FR' })
    const page = await context.newPage()
    try {
      // when
      await page.goto(`${base}/status`)
      // then: styled (the banner's colour comes from the page's own style sheet)
      const banner = await page.evaluate("getComputedStyle(document.querySelector('.indicator')).backgroundColor")
      expect(banner).not.toBe('rgba(0, 0, 0, 0)')
      const summary = page.locator('#service-demarches-alpha details summary')
      await summary.focus()
      await page.keyboard.press('Enter')
      await expect(page.locator('#service-demarches-alpha details').getAttribute('open')).resolves.not.toBeNull()
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
      expect(results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => violation.id)).toEqual([])
    } finally {
      await context.close()
    }
  })
})
