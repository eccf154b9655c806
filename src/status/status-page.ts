/**
 * The public status page (USR-1): one component per configured service (the portal's and each
 * provider's), the open notices and the history, as a Statuspage-like JSON summary, an HTML page
 * and an Atom feed. Nothing here needs a token: it is what end users read.
 */
import { Router } from 'express'
import { selfOrganisation, type Config, type Language } from '../config'
import { html, type SafeHtml } from '../notify'
import type { ComponentState, Impact, Notice, NoticeUpdate, StatusStore } from './status-store'

/** Component states from best to worst, to show the worst open notice. */
const SEVERITY: ComponentState[] = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage']

export interface StatusComponent {
  id: string
  name: string
  /** the organisation running it */
  group: string
  status: ComponentState
  updated_at: string | null
}

export interface StatusIncident {
  id: string
  name: string
  status: Notice['state']
  impact: Impact
  created_at: string
  updated_at: string
  resolved_at: string | null
  components: string[]
  incident_updates: Array<{ status: Notice['state']; body: string; created_at: string }>
}

/** The shape of Statuspage's /api/v2/summary.json, plus the resolved history. */
export interface StatusSummary {
  page: { name: string; url: string; language: Language; updated_at: string }
  status: { indicator: 'none' | 'minor' | 'major' | 'critical'; description: string }
  components: StatusComponent[]
  incidents: StatusIncident[]
  history: StatusIncident[]
  scheduled_maintenances: never[]
}

const WORDS = {
  fr: {
    title: (name: string) => `État des services – ${name}`,
    allOk: 'Tous les services fonctionnent normalement',
    minor: 'Perturbation partielle',
    major: 'Indisponibilité partielle',
    critical: 'Indisponibilité majeure',
    components: 'Services',
    current: 'Incidents en cours',
    none: 'Aucun incident en cours.',
    history: 'Historique',
    noHistory: 'Aucun incident passé.',
    feed: 'Flux Atom',
    component: {
      operational: 'Opérationnel',
      degraded_performance: 'Performances dégradées',
      partial_outage: 'Panne partielle',
      major_outage: 'Panne majeure',
      under_maintenance: 'En maintenance',
    },
    state: { investigating: 'Analyse en cours', identified: 'Cause identifiée', monitoring: 'Sous surveillance', resolved: 'Résolu' },
  },
  en: {
    title: (name: string) => `Service status – ${name}`,
    allOk: 'All Systems Operational',
    minor: 'Minor Service Outage',
    major: 'Partial System Outage',
    critical: 'Major System Outage',
    components: 'Services',
    current: 'Current incidents',
    none: 'No incident in progress.',
    history: 'History',
    noHistory: 'No past incident.',
    feed: 'Atom feed',
    component: {
      operational: 'Operational',
      degraded_performance: 'Degraded performance',
      partial_outage: 'Partial outage',
      major_outage: 'Major outage',
      under_maintenance: 'Under maintenance',
    },
    state: { investigating: 'Investigating', identified: 'Identified', monitoring: 'Monitoring', resolved: 'Resolved' },
  },
} as const

export function statusSummary(config: Config, store: StatusStore, baseUrl: string, now: Date = new Date()): StatusSummary {
  const self = selfOrganisation(config)
  const open = store.notices('open')
  const components = config.organisations.flatMap((org) =>
    org.services.map((service): StatusComponent => {
      const notices = open.filter((notice) => notice.component === service.id)
      const status = notices.reduce<ComponentState>((worst, notice) => (SEVERITY.indexOf(notice.componentState) > SEVERITY.indexOf(worst) ? notice.componentState : worst), 'operational')
      const touched = store.notices('all', 1000).filter((notice) => notice.component === service.id)
      return { id: service.id, name: service.name, group: org.name, status, updated_at: touched[0]?.updatedAt ?? null }
    }),
  )
  const worstImpact = open.reduce<Impact>((worst, notice) => (impactRank(notice.impact) > impactRank(worst) ? notice.impact : worst), 'none')
  const words = WORDS[self.language]
  const indicator = worstImpact
  return {
    page: { name: self.name, url: `${baseUrl}/status`, language: self.language, updated_at: now.toISOString() },
    status: { indicator, description: indicator === 'none' ? words.allOk : words[indicator] },
    components,
    incidents: open.map((notice) => toIncident(notice, store.updates(notice.id))),
    history: store.notices('resolved', 50).map((notice) => toIncident(notice, store.updates(notice.id))),
    scheduled_maintenances: [],
  }
}

function impactRank(impact: Impact): number {
  return ['none', 'minor', 'major', 'critical'].indexOf(impact)
}

function toIncident(notice: Notice, updates: NoticeUpdate[]): StatusIncident {
  return {
    id: notice.id,
    name: notice.title,
    status: notice.state,
    impact: notice.impact,
    created_at: notice.createdAt,
    updated_at: notice.updatedAt,
    resolved_at: notice.resolvedAt ?? null,
    components: [notice.component],
    incident_updates: updates.map((update) => ({ status: update.state, body: update.body, created_at: update.at })),
  }
}

export function statusHtml(summary: StatusSummary): SafeHtml {
  const words = WORDS[summary.page.language]
  const names = new Map(summary.components.map((component) => [component.id, component.name]))
  const incident = (item: StatusIncident) => html`<article class="incident impact-${item.impact}" id="${item.id}">
<h3>${item.name}</h3>
<p>${item.components.map((id) => names.get(id) ?? id).join(', ')}</p>
<ol>
${item.incident_updates.map((update) => html`<li><strong>${words.state[update.status]}</strong> – <time datetime="${update.created_at}">${update.created_at}</time><br>${update.body}</li>\n`)}</ol>
</article>
`
  return html`<!DOCTYPE html>
<html lang="${summary.page.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${words.title(summary.page.name)}</title>
<link rel="alternate" type="application/atom+xml" href="status.atom" title="${words.feed}">
</head>
<body>
<main>
<h1>${words.title(summary.page.name)}</h1>
<p class="indicator indicator-${summary.status.indicator}" data-indicator="${summary.status.indicator}">${summary.status.description}</p>
<h2>${words.components}</h2>
<table>
${summary.components.map((component) => html`<tr data-component="${component.id}" data-status="${component.status}"><th scope="row" align="left">${component.name}</th><td>${component.group}</td><td>${words.component[component.status]}</td></tr>\n`)}</table>
<h2>${words.current}</h2>
${summary.incidents.length === 0 ? html`<p>${words.none}</p>\n` : summary.incidents.map(incident)}<h2>${words.history}</h2>
${summary.history.length === 0 ? html`<p>${words.noHistory}</p>\n` : summary.history.map(incident)}<p><a href="status.atom">${words.feed}</a> · <a href="status.json">JSON</a></p>
</main>
</body>
</html>
`
}

/** One entry per notice update, newest first (RFC 4287). */
export function statusAtom(summary: StatusSummary, updates: NoticeUpdate[], titles: Map<string, string>): string {
  const words = WORDS[summary.page.language]
  const feedUpdated = updates[0]?.at ?? summary.page.updated_at
  const entries = updates.map(
    (update) => html`<entry>
<id>${summary.page.url}#${update.noticeId}@${update.at}</id>
<title>${words.state[update.state]}: ${titles.get(update.noticeId) ?? update.noticeId}</title>
<updated>${update.at}</updated>
<link rel="alternate" type="text/html" href="${summary.page.url}#${update.noticeId}"/>
<content type="text">${update.body}</content>
</entry>
`,
  )
  return html`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${summary.page.language}">
<id>${summary.page.url}</id>
<title>${words.title(summary.page.name)}</title>
<updated>${feedUpdated}</updated>
<author><name>${summary.page.name}</name></author>
<link rel="self" type="application/atom+xml" href="${summary.page.url}.atom"/>
<link rel="alternate" type="text/html" href="${summary.page.url}"/>
${entries}</feed>
`.value
}

/** GET /status, /status.json, /status.atom. `baseUrl` is read per request: the port is known only once listening. */
export function statusRouter(config: Config, store: StatusStore, baseUrl: () => string): Router {
  const router = Router()
  router.get('/status.json', (_req, res) => {
    res.set('cache-control', 'no-cache').json(statusSummary(config, store, baseUrl()))
  })
  router.get('/status.atom', (_req, res) => {
    const summary = statusSummary(config, store, baseUrl())
    const titles = new Map(store.notices('all', 1000).map((notice) => [notice.id, notice.title]))
    res.set('cache-control', 'no-cache').type('application/atom+xml').send(statusAtom(summary, store.recentUpdates(), titles))
  })
  router.get('/status', (_req, res) => {
    res.set('cache-control', 'no-cache').type('html').send(statusHtml(statusSummary(config, store, baseUrl())).value)
  })
  return router
}
