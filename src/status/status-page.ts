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
  page: { name: string; url: string; language: Language; time_zone: string; updated_at: string }
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
    updated: 'Mis à jour le',
    operator: 'Opéré par',
    serviceHistory: (count: number) => (count === 1 ? '1 incident passé' : `${count} incidents passés`),
    resolvedAt: 'résolu le',
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
    updated: 'Updated',
    operator: 'Run by',
    serviceHistory: (count: number) => (count === 1 ? '1 past incident' : `${count} past incidents`),
    resolvedAt: 'resolved',
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
  const seen = new Set<string>()
  const components = config.organisations.flatMap((org) =>
    org.services.filter((service) => !seen.has(service.id) && seen.add(service.id)).map((service): StatusComponent => {
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
    page: { name: self.name, url: `${baseUrl}/status`, language: self.language, time_zone: self.timeZone, updated_at: now.toISOString() },
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

const LOCALES: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' }

/** An instant as end users read it: the page's language and the organisation's time zone, the zone named. */
function localTime(iso: string, page: StatusSummary['page']): SafeHtml {
  const date = new Date(iso)
  const text = Number.isNaN(date.getTime())
    ? iso
    : new Intl.DateTimeFormat(LOCALES[page.language], { dateStyle: 'full', timeStyle: 'short', timeZone: page.time_zone }).format(date)
      + ` (${new Intl.DateTimeFormat(LOCALES[page.language], { timeZoneName: 'short', timeZone: page.time_zone }).formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? page.time_zone})`
  return html`<time datetime="${iso}">${text}</time>`
}

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --minor: #9a6700; --major: #bc4c00; --critical: #cf222e; --maintenance: #0969da; --line: #d0d7de; --muted: #57606a; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
main { max-width: 50rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
.indicator { padding: 1rem 1.25rem; border-radius: .5rem; color: #fff; font-weight: 600; font-size: 1.1rem; margin: 0; }
.indicator-none { background: var(--ok); } .indicator-minor { background: var(--minor); } .indicator-major { background: var(--major); } .indicator-critical { background: var(--critical); }
.updated { color: var(--muted); font-size: .9rem; }
.services { list-style: none; margin: 0; padding: 0; background: #fff; border: 1px solid var(--line); border-radius: .5rem; }
.service { padding: .9rem 1.25rem; border-top: 1px solid var(--line); }
.service:first-child { border-top: 0; }
.service-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem; align-items: baseline; }
.service-name { font-weight: 600; margin: 0; font-size: 1rem; }
.operator { color: var(--muted); font-size: .9rem; }
.state { font-weight: 600; }
.state-operational { color: var(--ok); } .state-degraded_performance { color: var(--minor); } .state-partial_outage { color: var(--major); }
.state-major_outage { color: var(--critical); } .state-under_maintenance { color: var(--maintenance); }
.incident { margin: .75rem 0 0; padding: .75rem 1rem; border-left: 4px solid var(--line); background: #f6f8fa; border-radius: 0 .375rem .375rem 0; }
.incident h3 { font-size: 1rem; margin: 0 0 .25rem; }
.impact-minor { border-color: var(--minor); } .impact-major { border-color: var(--major); } .impact-critical { border-color: var(--critical); }
.incident ol { margin: .25rem 0 0; padding-left: 1.25rem; }
.incident li { margin: .25rem 0; }
time { color: var(--muted); }
details { margin-top: .5rem; } summary { cursor: pointer; color: var(--maintenance); }
a { color: var(--maintenance); }
footer { margin-top: 2rem; color: var(--muted); }
`

/**
 * The page end users read: the overall state, then one entry per service with its state, its open
 * notices and, folded, its history; every instant in the organisation's language and time zone.
 */
export function statusHtml(summary: StatusSummary): SafeHtml {
  const words = WORDS[summary.page.language]
  const names = new Map(summary.components.map((component) => [component.id, component.name]))
  const incident = (item: StatusIncident) => html`<article class="incident impact-${item.impact}" id="${item.id}">
<h3>${item.name}</h3>
<ol>
${item.incident_updates.map((update) => html`<li><strong>${words.state[update.status]}</strong> – ${localTime(update.created_at, summary.page)}<br>${update.body}</li>\n`)}</ol>
</article>
`
  const service = (component: StatusComponent) => {
    const current = summary.incidents.filter((item) => item.components.includes(component.id))
    const past = summary.history.filter((item) => item.components.includes(component.id))
    return html`<li class="service" id="service-${component.id}" data-component="${component.id}" data-status="${component.status}">
<div class="service-head"><h3 class="service-name">${component.name}</h3><span class="state state-${component.status}">${words.component[component.status]}</span></div>
<div class="operator">${words.operator} ${component.group}</div>
${current.map(incident)}${past.length === 0 ? '' : html`<details><summary>${words.serviceHistory(past.length)}</summary>
${past.map(incident)}</details>
`}</li>
`
  }
  return html`<!DOCTYPE html>
<html lang="${summary.page.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${words.title(summary.page.name)}</title>
<link rel="alternate" type="application/atom+xml" href="status.atom" title="${words.feed}">
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${words.title(summary.page.name)}</h1>
<p class="indicator indicator-${summary.status.indicator}" data-indicator="${summary.status.indicator}">${summary.status.description}</p>
<p class="updated">${words.updated} ${localTime(summary.page.updated_at, summary.page)}</p>
<h2>${words.components}</h2>
<ul class="services">
${summary.components.map(service)}</ul>
<h2>${words.current}</h2>
${summary.incidents.length === 0 ? html`<p>${words.none}</p>\n` : html`<p>${summary.incidents.map((item, i) => html`${i > 0 ? ', ' : ''}<a href="#service-${item.components[0] ?? ''}">${item.name}</a>`)}</p>\n`}<h2>${words.history}</h2>
${summary.history.length === 0 ? html`<p>${words.noHistory}</p>\n` : html`<ul class="history">
${summary.history.map((item) => html`<li><a href="#service-${item.components[0] ?? ''}">${item.name}</a> – ${item.components.map((id) => names.get(id) ?? id).join(', ')}, ${words.resolvedAt} ${localTime(item.resolved_at ?? item.updated_at, summary.page)}</li>\n`)}</ul>
`}<footer><a href="status.atom">${words.feed}</a> · <a href="status.json">JSON</a></footer>
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
