/**
 * The manager's dashboard: the figures of GET /dashboard as charts (chart.js) and, for every
 * chart, the same figures as a table, which screen readers and the keyboard reach.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js'
import { call } from './api'
import { fill, h } from './dom'
import { language, t } from './i18n'
import { elementName, processName } from './model-texts'
import { formatDuration, formatMilliseconds, formatNumber, timeOf } from './time'

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip)

interface ClockFigures {
  measured: number
  withinTarget: number
  breached: number
  running: number
  averageMs: number | null
}

interface PriorityFigures {
  priority: string
  responseTarget: string | null
  resolutionTarget: string | null
  states: { open: number; restored: number; closed: number }
  acknowledge: ClockFigures
  restore: ClockFigures
}

/** The JSON of GET /console/api/dashboard. */
export interface DashboardFigures {
  generatedAt: string
  incidents: {
    priorities: PriorityFigures[]
    unprioritised: number
    breaches: Array<{ incidentId: string; title: string; service: string; priority: string; clock: 'acknowledge' | 'restore'; target: string; dueAt: string; stoppedAt: string | null }>
  }
  cuts: Array<{ cutId: string; interconnectionId: string | null; service: string | null; processInstanceKey: string; startedAt: string; crisisDeadline: string; crisisRound: number | null; overdue: boolean }>
  changes: {
    pending: Array<{ reference: string; process: string; title: string | null; processInstanceKey: string; startedAt: string; waitingFor: Array<{ elementId: string; name: string }> }>
    retirements: Array<{ reference: string; title: string | null; previousVersion: string | null; processInstanceKey: string; releasedAt: string | null; retirementDeadline: string }>
  }
  processes: Array<{ processDefinitionId: string; name: string; active: number; completed: number; terminated: number; incidents: number }>
}

/** Colours told apart without colour too: each series is also named in the legend and the table. */
const COLOURS = { open: '#b3261e', restored: '#c77700', closed: '#0a7a32', target: '#7b8794', measured: '#1a4fa0', active: '#1a4fa0', completed: '#0a7a32', terminated: '#7b8794', incidents: '#b3261e' }

const HOUR_MS = 3_600_000

function isoDurationMs(iso: string | null): number | null {
  if (iso === null) return null
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso)
  if (!match) return null
  return ((Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 60_000
}

function table(caption: string, testId: string, columns: string[], rows: Array<Array<Node | string>>, empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { 'data-testid': testId }, empty)
  return h('table', { class: 'list', 'data-testid': testId },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col' }, column)))),
    h('tbody', {}, rows.map(([head, ...cells]) => h('tr', {}, h('th', { scope: 'row' }, head), cells.map((cell) => h('td', {}, cell))))))
}

/** A chart in a figure: the canvas says what it shows, the table beside it gives its figures. */
function chartFigure(id: string, title: string, config: ChartConfiguration<'bar'>, charts: Chart[]): HTMLElement {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title })
  const figure = h('figure', { class: 'chart' }, h('figcaption', {}, title), h('div', { class: 'chart-area' }, canvas))
  // Drawn once the canvas is in the page, so that it takes its container's size.
  queueMicrotask(() => charts.push(new Chart(canvas, config)))
  return figure
}

const count = (value: number) => formatNumber(value)
const mean = (ms: number | null) => (ms === null ? '—' : formatMilliseconds(ms))
const duration = (iso: string | null) => (iso === null ? '—' : formatDuration(iso))

export async function dashboardPage(main: HTMLElement): Promise<() => void> {
  document.title = `${t('dashboard.title')} · ${t('shell.brand')}`
  const figures = await call<DashboardFigures>('GET', '/dashboard')
  const charts: Chart[] = []
  const { priorities, breaches, unprioritised } = figures.incidents
  const labels = priorities.map((row) => row.priority)
  const common = { responsive: true, maintainAspectRatio: false, animation: false as const, locale: language() === 'fr' ? 'fr-FR' : 'en-GB' }

  const byState = chartFigure('chart-incidents', t('dashboard.charts.incidents'), {
    type: 'bar',
    data: {
      labels,
      datasets: (['open', 'restored', 'closed'] as const).map((state) => ({ label: t(`dashboard.states.${state}`), data: priorities.map((row) => row.states[state]), backgroundColor: COLOURS[state] })),
    },
    options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  }, charts)

  const hours = (ms: number | null) => (ms === null ? null : Math.round((ms / HOUR_MS) * 100) / 100)
  const clocks = chartFigure('chart-clocks', t('dashboard.charts.clocks'), {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: t('dashboard.columns.responseTarget'), data: priorities.map((row) => hours(isoDurationMs(row.responseTarget))), backgroundColor: COLOURS.target },
        { label: t('dashboard.columns.meanAcknowledge'), data: priorities.map((row) => hours(row.acknowledge.averageMs)), backgroundColor: COLOURS.measured },
        { label: t('dashboard.columns.resolutionTarget'), data: priorities.map((row) => hours(isoDurationMs(row.resolutionTarget))), backgroundColor: '#b8c0cc' },
        { label: t('dashboard.columns.meanRestore'), data: priorities.map((row) => hours(row.restore.averageMs)), backgroundColor: COLOURS.closed },
      ],
    },
    options: { ...common, scales: { y: { beginAtZero: true, title: { display: true, text: t('dashboard.hours') } } } },
  }, charts)

  const perProcess = chartFigure('chart-processes', t('dashboard.charts.processes'), {
    type: 'bar',
    data: {
      labels: figures.processes.map((row) => processName(row.processDefinitionId, row.name)),
      datasets: (['active', 'completed', 'terminated', 'incidents'] as const).map((series) => ({
        label: t(`dashboard.columns.${series}`), data: figures.processes.map((row) => row[series]), backgroundColor: COLOURS[series], stack: series === 'incidents' ? 'incidents' : 'instances',
      })),
    },
    options: { ...common, indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
  }, charts)

  const clockCells = (clock: ClockFigures) => [count(clock.withinTarget), count(clock.breached), count(clock.running), mean(clock.averageMs)]
  const priorityTable = table(t('dashboard.tables.priorities'), 'priorities',
    ['priority', 'open', 'restored', 'closed', 'responseTarget', 'acknowledgedInTime', 'acknowledgeBreaches', 'acknowledgeRunning', 'meanAcknowledge',
      'resolutionTarget', 'restoredInTime', 'restoreBreaches', 'restoreRunning', 'meanRestore'].map((column) => t(`dashboard.columns.${column}`)),
    priorities.map((row) => [row.priority, count(row.states.open), count(row.states.restored), count(row.states.closed),
      duration(row.responseTarget), ...clockCells(row.acknowledge), duration(row.resolutionTarget), ...clockCells(row.restore)]),
    t('dashboard.empty.priorities'))

  const breachTable = table(t('dashboard.tables.breaches'), 'breaches',
    ['incident', 'priority', 'clock', 'target', 'dueAt', 'stoppedAt'].map((column) => t(`dashboard.columns.${column}`)),
    breaches.map((breach) => [`${breach.incidentId}: ${breach.title}`, breach.priority, t(`dashboard.clocks.${breach.clock}`), formatDuration(breach.target),
      timeOf(breach.dueAt), breach.stoppedAt === null ? t('dashboard.stillRunning') : timeOf(breach.stoppedAt)]),
    t('dashboard.empty.breaches'))

  const cutTable = table(t('dashboard.tables.cuts'), 'cuts',
    ['cut', 'service', 'startedAt', 'crisisDeadline'].map((column) => t(`dashboard.columns.${column}`)),
    figures.cuts.map((cut) => [h('a', { href: `#/instances/${cut.processInstanceKey}` }, cut.cutId), cut.service ?? '—', timeOf(cut.startedAt),
      cut.overdue ? h('span', {}, timeOf(cut.crisisDeadline), ' ', h('strong', { class: 'badge badge-overdue' }, t('time.overdue'))) : timeOf(cut.crisisDeadline)]),
    t('dashboard.empty.cuts'))

  const changeTable = table(t('dashboard.tables.changes'), 'changes',
    ['reference', 'process', 'title', 'startedAt', 'waitingFor'].map((column) => t(`dashboard.columns.${column}`)),
    figures.changes.pending.map((change) => [h('a', { href: `#/instances/${change.processInstanceKey}` }, change.reference), processName(change.process), change.title ?? '—',
      timeOf(change.startedAt), change.waitingFor.map((task) => elementName(change.process, task.elementId, task.name)).join(', ') || '—']),
    t('dashboard.empty.changes'))

  const retirementTable = table(t('dashboard.tables.retirements'), 'retirements',
    ['reference', 'previousVersion', 'releasedAt', 'retirementDeadline'].map((column) => t(`dashboard.columns.${column}`)),
    figures.changes.retirements.map((retirement) => [h('a', { href: `#/instances/${retirement.processInstanceKey}` }, retirement.reference), retirement.previousVersion ?? '—',
      timeOf(retirement.releasedAt), timeOf(retirement.retirementDeadline)]),
    t('dashboard.empty.retirements'))

  const processTable = table(t('dashboard.tables.processes'), 'processes',
    ['process', 'active', 'completed', 'terminated', 'incidents'].map((column) => t(`dashboard.columns.${column}`)),
    figures.processes.map((row) => [processName(row.processDefinitionId, row.name), count(row.active), count(row.completed), count(row.terminated), count(row.incidents)]),
    t('dashboard.empty.processes'))

  // GET /console/api/dashboard needs the bearer token a plain link would not send: the link saves the figures shown.
  const json = URL.createObjectURL(new Blob([JSON.stringify(figures, null, 2)], { type: 'application/json' }))
  fill(main,
    h('h1', {}, t('dashboard.title')),
    h('p', {}, t('dashboard.intro'), ' ', timeOf(figures.generatedAt), '. ',
      h('a', { href: json, download: `dashboard-${figures.generatedAt.slice(0, 19).replaceAll(':', '')}.json` }, t('dashboard.json'))),
    h('p', {}, h('button', { type: 'button', onclick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, t('dashboard.refresh'))),
    h('section', { 'aria-labelledby': 'incidents-title' },
      h('h2', { id: 'incidents-title' }, t('dashboard.sections.incidents')),
      unprioritised > 0 ? h('p', {}, t('dashboard.unprioritised', { count: unprioritised })) : null,
      h('div', { class: 'charts' }, byState, clocks),
      priorityTable,
      h('h3', {}, t('dashboard.tables.breaches')),
      breachTable),
    h('section', { 'aria-labelledby': 'cuts-title' }, h('h2', { id: 'cuts-title' }, t('dashboard.sections.cuts')), cutTable),
    h('section', { 'aria-labelledby': 'changes-title' },
      h('h2', { id: 'changes-title' }, t('dashboard.sections.changes')), changeTable,
      h('h3', {}, t('dashboard.tables.retirements')), retirementTable),
    h('section', { 'aria-labelledby': 'processes-title' }, h('h2', { id: 'processes-title' }, t('dashboard.sections.processes')), perProcess, processTable))

  return () => {
    for (const chart of charts) chart.destroy()
    URL.revokeObjectURL(json)
  }
}
