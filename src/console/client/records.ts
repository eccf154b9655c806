/**
 * Records: every procedure's list and detail, as the party sees them through /api (the same
 * credential, the same scope): incidents, cuts, changes, openings, releases, pre-production
 * links, vulnerabilities and trace requests. A list searches, filters by state and pages on the
 * server; a detail shows the facts, where the procedure waits, its trail as a timeline, its
 * diagram (for managers) and, for a trace request, its printable letter.
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'
import { ApiError, apiRoot, call, callApi, storedToken, type Me } from './api'
import { alertBox, fill, h } from './dom'
import { t } from './i18n'
import { elementName, processName } from './model-texts'
import { pageCount, pager } from './pager'
import { formatDate, formatDuration, isIsoDuration } from './time'

export const RECORD_KINDS = ['incidents', 'cuts', 'changes', 'openings', 'releases', 'preproduction-links', 'vulnerabilities', 'trace-requests'] as const
export type RecordKind = (typeof RECORD_KINDS)[number]

export function isRecordKind(value: string | undefined): value is RecordKind {
  return (RECORD_KINDS as readonly string[]).includes(value ?? '')
}

/** The states a list filters on, per kind (the procedures' are their instance's). */
const STATES: Record<RecordKind, readonly string[]> = {
  incidents: ['open', 'restored', 'closed'],
  cuts: ['requested', 'cut', 'restoring', 'restored'],
  changes: ['ACTIVE', 'COMPLETED', 'TERMINATED'],
  openings: ['ACTIVE', 'COMPLETED', 'TERMINATED'],
  releases: ['ACTIVE', 'COMPLETED', 'TERMINATED'],
  'preproduction-links': ['ACTIVE', 'COMPLETED', 'TERMINATED'],
  vulnerabilities: ['reported', 'investigating', 'change-requested', 'late', 'fixed', 'resolved'],
  'trace-requests': ['registered', 'refused', 'letter-produced', 'dispatched', 'answered'],
}

type Item = Record<string, unknown>

/** The process a record of this kind runs, when its view does not name it. */
const PROCESS_OF: Partial<Record<RecordKind, string>> = {
  incidents: 'incident-management',
  cuts: 'interconnection-cut',
  vulnerabilities: 'vulnerability-handling',
  'trace-requests': 'trace-exchange',
}

const PAGE_SIZE = 20

const idOf = (item: Item) => String(item.id ?? item.reference ?? '')
const text = (value: unknown) => (typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value))
const stateLabel = (state: unknown) => t(`records.states.${text(state)}`, { defaultValue: text(state) })
const dateOf = (value: unknown) => (typeof value === 'string' && value !== '' ? h('time', { datetime: value }, formatDate(value)) : '')
const party = (value: unknown) => {
  const contact = (value ?? {}) as { name?: unknown; organisation?: unknown }
  return `${text(contact.name)} (${text(contact.organisation)})`
}

/** The columns of a list: a header key and the cell of an item. */
const COLUMNS: Record<RecordKind, Array<[string, (item: Item) => string | HTMLElement]>> = {
  incidents: [['title', (item) => text(item.title)], ['service', (item) => text(item.service)], ['priority', (item) => text(item.priority)], ['state', (item) => stateLabel(item.state)], ['declaredAt', (item) => dateOf(item.declaredAt)]],
  cuts: [['interconnectionId', (item) => text(item.interconnectionId)], ['reason', (item) => text(item.reason)], ['state', (item) => stateLabel(item.state)], ['requestedAt', (item) => dateOf(item.requestedAt)]],
  changes: procedureColumns(),
  openings: procedureColumns(),
  releases: procedureColumns(),
  'preproduction-links': procedureColumns(),
  vulnerabilities: [['title', (item) => text(item.title)], ['service', (item) => text(item.service)], ['severity', (item) => text(item.severity)], ['state', (item) => stateLabel(item.state)], ['remediationDueAt', (item) => dateOf(item.remediationDueAt)]],
  'trace-requests': [['requester', (item) => party(item.requester)], ['recipient', (item) => party(item.recipient)], ['state', (item) => stateLabel(item.state)], ['registeredAt', (item) => dateOf(item.registeredAt)]],
}

function procedureColumns(): Array<[string, (item: Item) => string | HTMLElement]> {
  return [['process', (item) => processName(text(item.process))], ['title', (item) => text(item.title)], ['serviceId', (item) => text(item.serviceId)], ['version', (item) => text(item.version)], ['state', (item) => stateLabel(item.state)], ['startedAt', (item) => dateOf(item.startedAt)]]
}

/** The kinds a signed-in person may request from the console (#/new/...). */
export function requestableKinds(me: Me): RecordKind[] {
  const starts = me.roles.includes('manager') || me.roles.includes('admin')
  const operates = me.roles.includes('operator') || me.roles.includes('admin')
  return RECORD_KINDS.filter((kind) => {
    if (kind === 'incidents') return false
    if (['changes', 'openings', 'releases', 'preproduction-links'].includes(kind)) return starts
    return operates
  })
}

function kindTabs(current: RecordKind): HTMLElement {
  return h('nav', { class: 'tabs', 'aria-label': t('records.kinds') }, h('ul', {},
    RECORD_KINDS.map((kind) => h('li', {}, h('a', { href: `#/records/${kind}`, 'aria-current': kind === current ? 'page' : null }, t(`records.kind.${kind}`))))))
}

export async function recordsPage(main: HTMLElement, me: Me, kind: RecordKind, query: URLSearchParams): Promise<void> {
  document.title = `${t(`records.kind.${kind}`)} · ${t('shell.brand')}`
  const q = query.get('q') ?? ''
  const state = query.get('state') ?? ''
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0)
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) })
  if (q !== '') params.set('q', q)
  if (state !== '') params.set('state', state)
  const page = await callApi<{ items: Item[]; total: number; offset: number; limit: number }>('GET', `/${kind}?${params.toString()}`)

  const search = h('input', { id: 'records-q', name: 'q', type: 'search', value: q })
  const stateSelect = h('select', { id: 'records-state', name: 'state' },
    h('option', { value: '' }, t('records.anyState')),
    STATES[kind].map((value) => h('option', { value, selected: value === state }, stateLabel(value))))
  const go = (nextOffset: number) => {
    const next = new URLSearchParams()
    if (search.value.trim() !== '') next.set('q', search.value.trim())
    if (stateSelect.value !== '') next.set('state', stateSelect.value)
    if (nextOffset > 0) next.set('offset', String(nextOffset))
    location.hash = `#/records/${kind}${next.size > 0 ? `?${next.toString()}` : ''}`
  }
  const columns = COLUMNS[kind]
  fill(main,
    h('h1', {}, t(`records.kind.${kind}`)),
    kindTabs(kind),
    requestableKinds(me).includes(kind) ? h('p', {}, h('a', { class: 'button', href: `#/new/${kind}` }, t(`requests.new.${kind}`))) : null,
    h('form', { class: 'filters', role: 'search', onsubmit: (event: Event) => {
      event.preventDefault()
      go(0)
    } },
    h('div', { class: 'field' }, h('label', { for: 'records-q' }, t('records.search')), search),
    h('div', { class: 'field' }, h('label', { for: 'records-state' }, t('records.state')), stateSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('records.apply')))),
    pageCount(page, 'records-count'),
    page.items.length === 0
      ? h('p', {}, t('records.none'))
      : h('table', { class: 'records' },
        h('caption', { class: 'visually-hidden' }, t(`records.kind.${kind}`)),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('records.fields.id')), columns.map(([key]) => h('th', { scope: 'col' }, t(`records.fields.${key}`))))),
        h('tbody', {}, page.items.map((item) => h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: `#/records/${kind}/${encodeURIComponent(idOf(item))}` }, idOf(item))),
          columns.map(([, cell]) => h('td', {}, cell(item))))))),
    pager(page, go))
}

/** Keys of a view that are not facts of the record: shown apart, or not at all. */
const NOT_FACTS = new Set(['links', 'timeline', 'process', 'variables', 'data', 'waitingAt', 'incidents', 'startVariables', 'letter', 'previousVersion'])

/** The record's facts: its own scalar fields, then those of its data or variables. */
function factsOf(view: Item): Array<[string, unknown]> {
  const own = Object.entries(view).filter(([key]) => !NOT_FACTS.has(key))
  const nested = Object.entries({ ...((view.data ?? {}) as Item), ...((view.variables ?? {}) as Item) }).filter(([key]) => !own.some(([name]) => name === key))
  return [...own, ...nested].filter(([, value]) => value !== null && value !== undefined && value !== '')
}

function factValue(key: string, value: unknown): string | HTMLElement {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateOf(value)
  if (isIsoDuration(value)) return formatDuration(value)
  if (key === 'state') return stateLabel(value)
  if ((key === 'impact' || key === 'urgency') && typeof value === 'string') return t(`declare.levels.${value}`, { defaultValue: value })
  if (key === 'priority' && typeof value === 'object' && value !== null) {
    const priority = value as { priority?: unknown; responseTarget?: unknown; resolutionTarget?: unknown }
    const target = (name: 'response' | 'resolution', duration: unknown) => (isIsoDuration(duration) ? t(`records.${name}`, { duration: formatDuration(duration) }) : null)
    return [text(priority.priority), target('response', priority.responseTarget), target('resolution', priority.resolutionTarget)].filter(Boolean).join(' · ')
  }
  if (typeof value === 'boolean') return value ? t('records.yes') : t('records.no')
  if (Array.isArray(value)) return value.map((entry) => (typeof entry === 'object' && entry !== null ? answerOf(entry as Item) : text(entry))).join(', ')
  if (typeof value === 'string' && ['approve', 'refuse'].includes(value)) return t(`records.decisions.${value}`)
  if (typeof value === 'object' && value !== null) {
    const object = value as Item
    if ('name' in object && 'organisation' in object) return party(object)
    return Object.entries(object).map(([name, entry]) => `${name}: ${typeof entry === 'object' ? JSON.stringify(entry) : text(entry)}`).join(' · ')
  }
  return text(value)
}

/** A party's answer (providerAnswers): "fournisseur-alpha: approved"; anything else as JSON. */
function answerOf(entry: Item): string {
  if (typeof entry.providerId === 'string' && typeof entry.decision === 'string') {
    const reasons = typeof entry.reasons === 'string' && entry.reasons !== '' ? ` (${entry.reasons})` : ''
    return `${entry.providerId}: ${t(`records.decisions.${entry.decision}`, { defaultValue: entry.decision })}${reasons}`
  }
  return JSON.stringify(entry)
}

interface WaitingElement {
  elementId: string
  elementName?: string
  type?: string
}

export async function recordPage(main: HTMLElement, me: Me, kind: RecordKind, id: string): Promise<void> {
  let view: Item
  try {
    view = await callApi<Item>('GET', `/${kind}/${encodeURIComponent(id)}`)
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) {
      fill(main, h('h1', {}, t('records.notFound', { id })), kindTabs(kind))
      return
    }
    throw failure
  }
  const title = text(view.title)
  document.title = `${id} · ${t('shell.brand')}`
  const process = (view.process ?? null) as { waitingAt?: WaitingElement[] } | null
  const waiting = ((Array.isArray(view.waitingAt) ? view.waitingAt : process?.waitingAt) ?? []) as WaitingElement[]
  const processId = typeof view.process === 'string' ? view.process : PROCESS_OF[kind] ?? ''
  const waitingTasks = waiting.filter((element) => element.type === undefined || !['MULTI_INSTANCE_BODY', 'SUB_PROCESS', 'PROCESS'].includes(element.type))
  const timeline = (Array.isArray(view.timeline) ? view.timeline : []) as Item[]
  const instanceKey = text(view.processInstanceKey)
  const letterButton = kind === 'trace-requests' && view.letter !== null && view.letter !== undefined
    ? h('button', { type: 'button', onclick: () => void openLetter(id, letterError) }, t('records.printLetter'))
    : null
  const letterError = h('div', {})
  const diagram = h('div', { class: 'diagram', id: 'record-diagram', role: 'figure', 'aria-label': t('records.diagramOf', { id }) })
  fill(main,
    h('p', {}, h('a', { href: `#/records/${kind}` }, t('records.backTo', { kind: t(`records.kind.${kind}`) }))),
    h('h1', {}, title === '' ? id : `${id} · ${title}`),
    h('section', { 'aria-labelledby': 'facts-title' },
      h('h2', { id: 'facts-title' }, t('records.facts')),
      h('dl', { class: 'facts', 'data-testid': 'record-facts' }, factsOf(view).flatMap(([key, value]) => [
        h('dt', {}, t(`records.fields.${key}`, { defaultValue: key })),
        h('dd', {}, factValue(key, value)),
      ]))),
    h('section', { 'aria-labelledby': 'waiting-title' },
      h('h2', { id: 'waiting-title' }, t('records.waitingAt')),
      waitingTasks.length === 0
        ? h('p', {}, t('records.waitingNothing'))
        : h('ul', { 'data-testid': 'record-waiting' }, waitingTasks.map((element) => h('li', {}, elementName(processId, element.elementId, element.elementName))))),
    instanceKey === '' ? null : h('section', { 'aria-labelledby': 'record-diagram-title' },
      h('h2', { id: 'record-diagram-title' }, t('records.diagramTitle')),
      diagram),
    h('section', { 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, t('records.timeline')),
      timeline.length === 0
        ? h('p', {}, t('records.timelineEmpty'))
        : h('ol', { class: 'timeline', 'data-testid': 'record-timeline' }, timeline.map((entry) => h('li', {},
          dateOf(entry.at), ' · ',
          h('strong', {}, t(`records.events.${text(entry.event)}`, { defaultValue: text(entry.event).replaceAll('-', ' ') })),
          entry.actor ? ` · ${text(entry.actor)}` : '')))),
    kind === 'changes' ? retirementActions(me, id, view, await organisationNames()) : null,
    h('section', { 'aria-labelledby': 'links-title' },
      h('h2', { id: 'links-title' }, t('records.more')),
      h('ul', {},
        me.may.viewProcesses && instanceKey !== '' ? h('li', {}, h('a', { href: `#/instances/${instanceKey}` }, t('records.diagram'))) : null,
        h('li', {}, h('a', { href: '#/tasks' }, t('records.tasks')))),
      letterButton, letterError))
  if (instanceKey !== '') await drawDiagram(diagram, instanceKey, waitingTasks.map((element) => element.elementId))
}

/** The record's process, its waiting steps marked as the instance page marks them. */
async function drawDiagram(container: HTMLElement, instanceKey: string, waiting: readonly string[]): Promise<void> {
  const xml = await call<string>('GET', `/instances/${instanceKey}/diagram`)
  const viewer = new NavigatedViewer({ container })
  await viewer.importXML(xml)
  const canvas = viewer.get<{ zoom(level: string): void; addMarker(id: string, marker: string): void }>('canvas')
  canvas.zoom('fit-viewport')
  for (const elementId of waiting) canvas.addMarker(elementId, 'is-active')
}

/** The trace letter, fetched with the signed-in credential and opened for printing in a new window. */
async function openLetter(id: string, error: HTMLElement): Promise<void> {
  const response = await fetch(`${apiRoot}/trace-requests/${encodeURIComponent(id)}/letter`, { headers: { authorization: `Bearer ${storedToken() ?? ''}` } })
  if (!response.ok) {
    fill(error, alertBox(t('records.letterFailed', { status: response.status })))
    return
  }
  const url = URL.createObjectURL(new Blob([await response.text()], { type: 'text/html' }))
  const opened = window.open(url, '_blank')
  if (opened === null) fill(error, h('p', {}, h('a', { href: url, target: '_blank' }, t('records.openLetter'))))
}

/**
 * CHG-8 on a change's page: the party that operates version n-1 retires it early; the other
 * party proposes it, with its reason, and the operator decides in its task.
 */
function retirementActions(me: Me, reference: string, view: Item, names: ReadonlyMap<string, string>): HTMLElement | null {
  const variables = (view.variables ?? {}) as Item
  if (typeof variables.previousVersion !== 'string' || (view.state !== 'ACTIVE' && view.state !== 'COMPLETED')) return null
  const operatorId = typeof variables.providerId === 'string' ? variables.providerId : text(variables.clientId)
  const operates = operatorId === me.organisation.id
  const operator = names.get(operatorId) ?? operatorId
  const reason = h('textarea', { id: 'retirement-reason', name: 'reason', rows: 3, maxlength: 2000 })
  const status = h('div', { id: 'retirement-status' })
  const submit = h('button', { type: 'submit' }, t(operates ? 'records.retireNow' : 'records.proposeRetirement'))
  const send = async (event: Event) => {
    event.preventDefault()
    submit.disabled = true
    try {
      const body = reason.value.trim() === '' ? {} : { reason: reason.value.trim() }
      await callApi('POST', `/changes/${encodeURIComponent(reference)}/${operates ? 'retirement' : 'retirement-requests'}`, body)
      fill(status, h('p', { class: 'notice', role: 'status' }, t(operates ? 'records.retirementRequested' : 'records.retirementProposed', { version: text(variables.previousVersion), operator })))
    } catch (failure) {
      fill(status, alertBox((failure as Error).message))
    } finally {
      submit.disabled = false
    }
  }
  return h('section', { 'aria-labelledby': 'retirement-title' },
    h('h2', { id: 'retirement-title' }, t('records.retirement', { version: text(variables.previousVersion) })),
    h('p', {}, t(operates ? 'records.retirementOperator' : 'records.retirementOther', { operator })),
    h('form', { class: 'console-form', onsubmit: (event: Event) => void send(event) },
      h('div', { class: 'field' }, h('label', { for: 'retirement-reason' }, t('records.retirementReason')), reason),
      h('div', { class: 'actions' }, submit)),
    status)
}

/** The organisations' names by id, as the console's directory gives them. */
async function organisationNames(): Promise<Map<string, string>> {
  const directory = await call<{ organisations: Array<{ id: string; name: string }> }>('GET', '/services')
  return new Map(directory.organisations.map((org) => [org.id, org.name]))
}
