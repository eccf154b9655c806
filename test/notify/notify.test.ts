import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import express from 'express'
import { loadConfig } from '../../src/config'
import {
  Mailer,
  PermanentMailError,
  renderTemplate,
  SENT_MAIL_LOG_FILE,
  startSmtpSink,
  TemplateDataError,
  templates,
  TransientMailError,
  UnknownTemplateError,
  type SmtpSink,
  type TemplateData,
  type TemplateId,
} from '../../src/notify'
import { freePort, startRejectingSmtp, startTestSmtp } from '../support/smtp-sink'
import { exampleTokens } from '../workers/fixtures'
import { outboxRouter } from '../../src/api/outbox-router'

const config = loadConfig(resolve(__dirname, '../../raccord.config.example.yaml'), exampleTokens())

const incident = {
  reference: 'INC-2025-0042',
  title: 'Dépôt de dossier impossible',
  service: 'Démarches en ligne Alpha',
  priority: 'P2',
  declaringParty: 'Portail citoyen',
  url: 'https://raccord.portail.example.org/incidents/INC-2025-0042',
} as const

const cut = {
  reference: 'CUT-20250304-a1b2',
  interconnection: 'alpha-prod',
  service: 'Démarches en ligne Alpha',
  environment: 'production',
  sendingParty: 'Portail citoyen',
  contact: { name: 'Centre de services du portail', email: 'exploitation@portail.example.org', phone: '+33 1 00 00 00 01' },
} as const

const vulnerability = {
  reference: 'VUL-20250304-a1b2',
  cveId: 'CVE-2024-3094',
  title: 'Porte dérobée xz-utils',
  service: 'Démarches en ligne Alpha',
  severity: 'Critical',
  cvssScore: 10,
  cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
  knownExploited: true,
  reportingParty: 'Portail citoyen',
  remediationDueAt: '2025-03-11T09:15:00Z',
} as const

/** One valid data set per template: adding a template without a sample does not compile. */
const samples: { [T in TemplateId]: TemplateData<T> } = {
  'incident-declared': {
    ...incident,
    description: 'Les usagers reçoivent une erreur 502 à la validation.',
    impact: 'high',
    urgency: 'medium',
    declaredAt: '2025-03-04T09:15:00Z',
    responseDueAt: '2025-03-04T10:15:00Z',
    resolutionDueAt: '2025-03-04T17:15:00Z',
    contact: { name: 'Centre de services du portail', email: 'exploitation@portail.example.org', phone: '+33 1 00 00 00 01' },
  },
  'incident-priority-changed': {
    ...incident,
    priority: 'P1',
    previousPriority: 'P2',
    reason: 'Tous les usagers sont touchés',
    responseDueAt: '2025-03-04T09:45:00Z',
    resolutionDueAt: '2025-03-04T13:15:00Z',
  },
  'incident-sla-reminder': { ...incident, target: 'resolution', dueAt: '2025-03-04T17:15:00Z' },
  'incident-sla-breached': { ...incident, target: 'response', dueAt: '2025-03-04T10:15:00Z', escalatedTo: ['Jean Moreau'] },
  'incident-resolved': { ...incident, resolvedAt: '2025-03-04T12:00:00Z', resolution: 'workaround', summary: 'Bascule sur le serveur de secours.' },
  generic: { subject: 'Test', paragraphs: ['Bonjour,', 'Ceci est un essai.'] },
  'interconnection-cut-warning': {
    ...cut,
    cutAt: '2025-03-04T09:15:00Z',
    acknowledgementDelayMinutes: 30,
    acknowledgeLink: { label: 'Accuser réception', url: 'https://raccord.portail.example.org/links/a.b' },
    confirmCutLink: { label: 'Confirmer la coupure', url: 'https://raccord.portail.example.org/links/c.d' },
  },
  'crisis-cell-invitation': { ...cut, round: 1, meetingAt: '2025-03-05T09:00:00Z', dueBy: '2025-03-06T09:15:00Z', members: ['Camille Martin (portail)', 'Sacha Durand (fournisseur-alpha)'] },
  'crisis-meeting-overdue': { ...cut, round: 1, dueBy: '2025-03-06T09:15:00Z' },
  'interconnection-restore-requested': { ...cut, terms: 'Clés renouvelées', confirmRestoreLink: { label: 'Confirmer', url: 'https://raccord.portail.example.org/links/e.f' } },
  'interconnection-restored': { ...cut, restoredAt: '2025-03-07T09:15:00Z' },
  'decision-requested': { task: "Approuver l'ouverture (fournisseur)", reference: 'OPN-20250304-a1b2c3', title: 'Ouverture de Démarches Alpha', addressee: 'Sacha Durand', party: 'Fournisseur Alpha', actions: [{ label: 'Approuver', url: 'https://raccord.portail.example.org/decisions/a.b' }], expiresAt: '2025-03-18T09:15:00Z' },
  'vulnerability-disclosed': { ...vulnerability, description: 'Porte dérobée dans xz-utils.' },
  'vulnerability-deadline-reminder': vulnerability,
  'vulnerability-delay-notice': { ...vulnerability, expectedFixDate: '2025-03-25T09:15:00Z', delayReason: "Correctif de l'éditeur attendu" },
  'vulnerability-fixed': { ...vulnerability, fixingParty: 'Fournisseur Alpha', fixedBy: 'Sacha Durand', fixedAt: '2025-03-10T09:15:00Z', fixSummary: 'xz-utils 5.6.2 déployé.', fixedLate: false, changeReference: 'CHG-42' },
  'trace-answer-reminder': { reference: 'TRQ-20250304-a1b2', direction: 'outgoing', otherParty: 'Fournisseur Alpha', dispatchedAt: '2025-03-04T09:15:00Z', postalReference: '1A 234 567 8901 2', answerDelay: 'P30D' },
  'change-notice': { event: 'retention-agreed', reference: 'CHG-20250304-a1b2c3', title: 'Nouveau parcours de dépôt', version: '5.0', previousVersion: '4.9', dueAt: '2025-09-04T09:15:00Z', headers: { deprecation: '@1741079700', sunset: 'Thu, 04 Sep 2025 09:15:00 GMT' } },
}

const ctx = { timeZone: 'Europe/Paris', senderName: 'Portail citoyen' }

describe('templates', () => {
  test.each(Object.keys(templates) as TemplateId[])('%s renders in French and English, text and HTML', (id) => {
    const fr = renderTemplate(id, 'fr', samples[id], ctx)
    const en = renderTemplate(id, 'en', samples[id], ctx)
    for (const mail of [fr, en]) {
      expect(mail.subject).not.toBe('')
      expect(mail.text).not.toBe('')
      expect(mail.html).toMatch(/^<!DOCTYPE html>/)
    }
    expect(fr.html).toContain('<html lang="fr">')
    expect(en.html).toContain('<html lang="en">')
    if (id !== 'generic') expect(fr.subject).not.toBe(en.subject)
  })

  test('dates are shown in the recipient time zone and language', () => {
    const fr = renderTemplate('incident-declared', 'fr', samples['incident-declared'], ctx)
    const en = renderTemplate('incident-declared', 'en', samples['incident-declared'], { ...ctx, timeZone: 'Europe/London' })
    expect(fr.text).toContain('Résolution attendue avant : mardi 4 mars 2025 à 18:15 UTC+1')
    expect(en.text).toContain('Resolution due by: Tuesday, 4 March 2025 at 17:15 GMT')
  })

  test('TRC-3: a delay reads as people say it, never as an ISO 8601 duration', () => {
    const fr = renderTemplate('trace-answer-reminder', 'fr', samples['trace-answer-reminder'], ctx)
    const en = renderTemplate('trace-answer-reminder', 'en', samples['trace-answer-reminder'], ctx)
    expect(fr.subject).toMatch(/\(30\sjours\)/)
    expect(en.subject).toMatch(/within 30\sdays/)
    for (const mail of [fr, en]) expect(mail.subject).not.toContain('P30D')
  })

  test('an unknown template id is a typed error', () => {
    expect(() => renderTemplate('incident-exploded' as TemplateId, 'fr', samples.generic, ctx)).toThrow(UnknownTemplateError)
  })

  test('data that does not fit the template names each bad field', () => {
    const data = { ...samples['incident-declared'], priority: 'P9', contact: { name: 'x', email: 'nope', phone: '1' } } as unknown as TemplateData<'incident-declared'>
    let error: unknown
    try {
      renderTemplate('incident-declared', 'en', data, ctx)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TemplateDataError)
    expect((error as TemplateDataError).problems).toEqual([expect.stringMatching(/^priority: /), expect.stringMatching(/^contact\.email: /)])
  })

  test('a javascript: link is refused', () => {
    const data = { ...samples.generic, link: { label: 'click', url: 'javascript:alert(1)' } }
    expect(() => renderTemplate('generic', 'en', data, ctx)).toThrow(TemplateDataError)
  })
})

describe('Mailer over SMTP', () => {
  let smtp: SmtpSink
  let dataDir: string
  let mailer: Mailer

  beforeEach(async () => {
    smtp = await startTestSmtp()
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-mailer-'))
    mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
  })

  afterEach(async () => {
    await mailer.close()
    await smtp.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  test('INC-4: the other party receives the incident, to and cc, from our operations team', async () => {
    const result = await mailer.send({
      idempotencyKey: 'job-1',
      to: ['supervision@fournisseur-alpha.example.org'],
      cc: ['sacha.durand@fournisseur-alpha.example.org'],
      template: 'incident-declared',
      lang: 'fr',
      data: samples['incident-declared'],
    })

    expect(result).toMatchObject({ duplicate: false, accepted: ['supervision@fournisseur-alpha.example.org', 'sacha.durand@fournisseur-alpha.example.org'], rejected: [] })
    expect(result.messageId).toMatch(/^<[0-9a-f]{40}@raccord\.portail>$/)
    const [mail, ...others] = smtp.list()
    expect(others).toHaveLength(0)
    expect(mail).toMatchObject({
      messageId: result.messageId,
      from: '"Portail citoyen (raccord)" <exploitation@portail.example.org>',
      to: ['supervision@fournisseur-alpha.example.org'],
      cc: ['sacha.durand@fournisseur-alpha.example.org'],
      subject: '[P2] Incident INC-2025-0042 déclaré : Dépôt de dossier impossible',
    })
    expect(mail?.text).toContain('Portail citoyen a déclaré un incident sur le service Démarches en ligne Alpha.')
    expect(mail?.text).toContain('Impact : élevé')
    expect(mail?.html).toContain('<th scope="row" align="left">Urgence</th><td>moyenne</td>')
    const eml = await readFile(join(smtp.dir, `${mail?.id}.eml`), 'utf8')
    expect(eml).toMatch(/^Auto-Submitted: auto-generated\r?$/m)
  })

  test('an English-speaking party gets the mail in English, dates in the zone given', async () => {
    await mailer.send({
      idempotencyKey: 'job-en',
      to: ['servicedesk@provider-beta.example.org'],
      template: 'incident-resolved',
      lang: 'en',
      timeZone: 'Europe/London',
      data: samples['incident-resolved'],
    })
    const [mail] = smtp.list()
    expect(mail?.subject).toBe('[P2] Incident INC-2025-0042 resolved: Dépôt de dossier impossible')
    expect(mail?.text).toContain('The service is restored (workaround).')
    expect(mail?.text).toContain('Resolved at: Tuesday, 4 March 2025 at 12:00 GMT')
    expect(mail?.text).not.toContain('rétabli')
  })

  test('interpolated values are escaped in HTML, kept verbatim in text and subject', async () => {
    const title = '<script>alert("x")</script> & <b>co</b>'
    await mailer.send({
      idempotencyKey: 'job-xss',
      to: ['servicedesk@provider-beta.example.org'],
      template: 'incident-declared',
      lang: 'en',
      data: { ...samples['incident-declared'], title },
    })
    const [mail] = smtp.list()
    expect(mail?.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;')
    expect(mail?.html).not.toContain('<script>')
    expect(mail?.text).toContain(title)
    expect(mail?.subject).toContain(title)
  })

  test('the same idempotency key twice sends one mail, with the same Message-ID', async () => {
    const request = { idempotencyKey: 'job-twice', to: ['a@provider-beta.example.org'], template: 'generic' as const, lang: 'en' as const, data: samples.generic }
    const first = await mailer.send(request)
    const second = await mailer.send(request)
    expect(second).toEqual({ ...first, duplicate: true })
    expect(smtp.list()).toHaveLength(1)
  })

  test('concurrent deliveries of one key share one send', async () => {
    const request = { idempotencyKey: 'job-race', to: ['a@provider-beta.example.org'], template: 'generic' as const, lang: 'en' as const, data: samples.generic }
    const [a, b] = await Promise.all([mailer.send(request), mailer.send(request)])
    expect(a.messageId).toBe(b.messageId)
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true])
    expect(smtp.list()).toHaveLength(1)
  })

  test('the record of sent mails survives a restart', async () => {
    const request = { idempotencyKey: 'job-restart', to: ['a@provider-beta.example.org'], template: 'generic' as const, lang: 'en' as const, data: samples.generic }
    const first = await mailer.send(request)
    await mailer.close()
    mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
    expect(await mailer.send(request)).toMatchObject({ messageId: first.messageId, duplicate: true })
    expect(smtp.list()).toHaveLength(1)
  })

  test('a record torn by a crash is cut off, and the log stays usable', async () => {
    await mailer.send({ idempotencyKey: 'job-kept', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'en', data: samples.generic })
    await mailer.close()
    const file = join(dataDir, SENT_MAIL_LOG_FILE)
    await writeFile(file, `${await readFile(file, 'utf8')}{"idempotencyKey":"job-torn","messa`)
    mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
    await mailer.send({ idempotencyKey: 'job-torn', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'en', data: samples.generic })
    await mailer.close()
    mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
    const kept = await mailer.send({ idempotencyKey: 'job-kept', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'en', data: samples.generic })
    expect(kept.duplicate).toBe(true)
    expect(smtp.list()).toHaveLength(2)
  })

  test('no recipient is a permanent error', async () => {
    await expect(mailer.send({ idempotencyKey: 'job-none', to: [' '], template: 'generic', lang: 'en', data: samples.generic })).rejects.toThrow(PermanentMailError)
  })
})

describe('SMTP failures', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-mailer-'))
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  test('SMTP down is transient; once it is back the mail is sent once', async () => {
    const port = await freePort()
    const mailer = await Mailer.open({ smtpUrl: `smtp://127.0.0.1:${port}`, config, dataDir })
    const request = { idempotencyKey: 'job-outage', to: ['a@provider-beta.example.org'], template: 'generic' as const, lang: 'en' as const, data: samples.generic }
    try {
      const failure = mailer.send(request)
      await expect(failure).rejects.toThrow(TransientMailError)
      await expect(failure).rejects.toMatchObject({ responseCode: undefined })

      const smtp = await startTestSmtp(port)
      try {
        const sent = await mailer.send(request)
        const again = await mailer.send(request)
        expect(again).toMatchObject({ messageId: sent.messageId, duplicate: true })
        expect(smtp.list().map((mail) => mail.messageId)).toEqual([sent.messageId])
      } finally {
        await smtp.close()
      }
    } finally {
      await mailer.close()
    }
  })

  test.each([
    [550, PermanentMailError],
    [450, TransientMailError],
  ])('recipient rejected with %i', async (code, errorClass) => {
    const smtp = await startRejectingSmtp(code)
    const mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
    try {
      const failure = mailer.send({ idempotencyKey: `job-${code}`, to: ['nobody@provider-beta.example.org'], template: 'generic', lang: 'en', data: samples.generic })
      await expect(failure).rejects.toThrow(errorClass)
      await expect(failure).rejects.toMatchObject({ responseCode: code })
    } finally {
      await mailer.close()
      await smtp.close()
    }
  })
})

describe('outbox', () => {
  let smtp: SmtpSink
  let dataDir: string
  let mailer: Mailer

  beforeEach(async () => {
    smtp = await startTestSmtp()
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-mailer-'))
    mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
  })

  afterEach(async () => {
    await mailer.close()
    await smtp.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function get(path: string, reader?: Parameters<typeof outboxRouter>[2]): Promise<Response> {
    const app = express().use(outboxRouter(smtp, undefined, reader))
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolveListen) => server.once('listening', resolveListen))
    try {
      return await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`)
    } finally {
      await new Promise((resolveClose) => server.close(resolveClose))
    }
  }

  test('lists mails as HTML and JSON, and shows one mail with its HTML sandboxed', async () => {
    const title = '<i>escaped</i>'
    await mailer.send({ idempotencyKey: 'job-outbox', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'en', data: { subject: title, paragraphs: ['Hello'] } })
    const [mail] = smtp.list()

    const list = await get('/outbox')
    expect(list.headers.get('content-type')).toMatch(/^text\/html/)
    const listHtml = await list.text()
    expect(listHtml).toContain(`<a href="outbox/${mail?.id}?lang=en">&lt;i&gt;escaped&lt;/i&gt;</a>`)

    const json = (await (await get('/outbox.json')).json()) as Array<{ subject: string }>
    expect(json.map((entry) => entry.subject)).toEqual([title])

    const one = await (await get(`/outbox/${mail?.id}`)).text()
    expect(one).toContain('<iframe title="HTML version of the mail" sandbox srcdoc="&lt;!DOCTYPE html&gt;')
    expect(one).toContain(`<dd>${mail?.messageId.replace('<', '&lt;').replace('>', '&gt;')}</dd>`)

    const missing = await get('/outbox/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  })

  test('an attachment (the crisis cell\'s .ics) is listed on its mail and downloads as sent; the list searches and pages', async () => {
    const ics = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'
    await mailer.send({ idempotencyKey: 'job-ics', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'en', data: { subject: 'Crisis cell', paragraphs: ['Meet'] }, attachments: [{ filename: 'crisis-cell.ics', content: ics, contentType: 'text/calendar; charset=utf-8' }] })
    for (let i = 0; i < 52; i++) await mailer.send({ idempotencyKey: `job-page-${i}`, to: ['b@provider-beta.example.org'], template: 'generic', lang: 'en', data: { subject: `Bulletin ${i}`, paragraphs: ['News'] } })
    const mail = smtp.list().find((candidate) => candidate.subject === 'Crisis cell')
    expect(mail?.attachments).toEqual([{ filename: 'crisis-cell.ics', contentType: 'text/calendar', size: Buffer.byteLength(ics) }])
    const page = await (await get(`/outbox/${mail?.id}`)).text()
    expect(page).toContain(`<a href="${mail?.id}/attachments/0">crisis-cell.ics</a>`)
    const download = await get(`/outbox/${mail?.id}/attachments/0`)
    expect(download.headers.get('content-type')).toMatch(/^text\/calendar/)
    expect(download.headers.get('content-disposition')).toContain('crisis-cell.ics')
    expect(await download.text()).toBe(ics)
    expect((await get(`/outbox/${mail?.id}/attachments/1`)).status).toBe(404)
    // 53 mails: the first page holds 50, newest first; a search finds the one
    const first = await (await get('/outbox')).text()
    expect(first).toContain('1–50 of 53 mails')
    expect(first).toContain('Next page')
    expect(first).not.toContain('>Crisis cell<')
    expect(await (await get('/outbox?offset=50')).text()).toContain('>Crisis cell<')
    const found = await (await get('/outbox?q=crisis')).text()
    expect(found).toContain('1–1 of 1 mail<')
  })

  test('a French reader gets the outbox in French, its dates in Paris time', async () => {
    await mailer.send({ idempotencyKey: 'job-fr-outbox', to: ['a@portail.example.org'], template: 'generic', lang: 'fr', data: { subject: 'Bonjour', paragraphs: ['Salut'] } })
    const [mail] = smtp.list()
    const french = () => ({ lang: 'fr' as const, timeZone: 'Europe/Paris' })
    const list = await (await get('/outbox', french)).text()
    expect(list).toContain('<html lang="fr">')
    expect(list).toContain('<h1>Courriels envoyés</h1>')
    expect(list).toContain('1–1 sur 1 courriel')
    const expected = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(mail?.receivedAt ?? ''))
    expect(list).toContain(`>${expected}</time>`)
    const one = await (await get(`/outbox/${mail?.id}`, french)).text()
    expect(one).toContain('Retour aux courriels envoyés')
    // asked in English (the console's choice), the French reader gets English
    expect(await (await get('/outbox?lang=en', french)).text()).toContain('<h1>Outbox</h1>')
    expect(one).toContain('<h2>Texte brut</h2>')
  })

  test('the sink keeps its mails across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raccord-outbox-'))
    try {
      const first = await startSmtpSink({ port: 0, dir })
      const sender = await Mailer.open({ smtpUrl: first.url, config, dataDir })
      await sender.send({ idempotencyKey: 'job-kept-in-outbox', to: ['a@provider-beta.example.org'], template: 'generic', lang: 'fr', data: samples.generic })
      await sender.close()
      await first.close()
      const second = await startSmtpSink({ port: 0, dir })
      expect(second.list().map((mail) => mail.subject)).toEqual(['Test'])
      await second.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
