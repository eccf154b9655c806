/** Processes: instances with filters, and one instance with its diagram (bpmn-js), incidents, variables and trace. */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'
import { pager } from './pager'
import { ApiError, call, type TaskContext } from './api'
import { alertBox, announce, fill, h } from './dom'
import { t } from './i18n'
import { elementName, processName } from './model-texts'
import { batchOperations, instanceOperations } from './operations'
import { timeOf } from './time'

interface Instance {
  processInstanceKey: string
  processDefinitionId: string
  processDefinitionName?: string
  processDefinitionVersion: number
  state: string
  hasIncident: boolean
  startDate: string
  endDate?: string
  businessKey?: string | null
}

interface Element {
  elementInstanceKey: string
  elementId: string
  elementName?: string
  type: string
  state: string
  hasIncident: boolean
  startDate: string
  endDate?: string
}

interface Incident {
  incidentKey: string
  errorType: string
  errorMessage: string
  elementId: string
  creationTime: string
  state: string
  jobKey?: string
}

interface TraceEntry {
  at: string
  actor: string
  event: string
  detail: Record<string, unknown>
  messageId?: string
}

interface InstanceDetail {
  instance: Instance
  elements: Element[]
  variables: Array<{ name: string; value: unknown; scopeKey: string }>
  incidents: Incident[]
  context: TaskContext
  trace: TraceEntry[]
  can: { retry: boolean; cancel: boolean; operate?: boolean }
}

/** How often an open instance page reads the instance again. */
const REFRESH_MS = 2000

function select(id: string, label: string, value: string, options: Array<[string, string]>): HTMLElement[] {
  return [
    h('label', { for: id }, label),
    h('select', { id, name: id }, ...options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text))),
  ]
}

export async function processesPage(main: HTMLElement, query: URLSearchParams): Promise<void> {
  document.title = `${t('processes.title')} · ${t('shell.brand')}`
  const value = (name: string) => query.get(name) ?? ''
  const [definitions, instances] = await Promise.all([
    call<{ items: Array<{ processDefinitionId: string; name?: string }> }>('GET', '/processes'),
    call<{ items: Instance[]; total: number; offset: number; limit: number; can?: { operate: boolean } }>('GET', `/instances?${query.toString()}`),
  ])
  const businessKey = h('input', { id: 'businessKey', name: 'businessKey', type: 'search', value: value('businessKey'), 'aria-describedby': 'businessKey-help' })
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': t('processes.filter'), onsubmit: (event: Event) => {
    event.preventDefault()
    const params = new URLSearchParams()
    for (const [name, entry] of new FormData(event.target as HTMLFormElement)) if (entry !== '') params.set(name, String(entry))
    location.hash = `#/processes?${params.toString()}`
  } },
  h('div', {}, ...select('process', t('processes.process'), value('process'), [['', t('processes.allProcesses')], ...definitions.items.map((d): [string, string] => [d.processDefinitionId, processName(d.processDefinitionId, d.name)])])),
  h('div', {}, ...select('state', t('processes.state'), value('state'), [['', t('processes.anyState')], ['ACTIVE', stateLabel('ACTIVE')], ['COMPLETED', stateLabel('COMPLETED')], ['TERMINATED', stateLabel('TERMINATED')]])),
  h('div', {}, ...select('incident', t('processes.incidents'), value('incident'), [['', t('processes.withOrWithout')], ['true', t('processes.withIncident')], ['false', t('processes.withoutIncident')]])),
  h('div', {}, h('label', { for: 'businessKey' }, t('processes.businessKey')), businessKey,
    h('small', { id: 'businessKey-help' }, t('processes.businessKeyHelp'))),
  h('div', {}, h('button', { type: 'submit' }, t('processes.apply'))))

  const rows = instances.items.map((instance) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/instances/${instance.processInstanceKey}` }, instance.processInstanceKey)),
    h('td', {}, `${processName(instance.processDefinitionId, instance.processDefinitionName)} v${instance.processDefinitionVersion}`),
    h('td', {}, instance.businessKey ?? '—'),
    h('td', {}, stateLabel(instance.state)),
    h('td', {}, instance.hasIncident ? h('strong', { class: 'badge badge-incident' }, t('processes.incident')) : t('processes.none')),
    h('td', {}, timeOf(instance.startDate)),
    h('td', {}, timeOf(instance.endDate))))
  fill(main,
    h('h1', {}, t('processes.title')),
    filters,
    h('section', { 'aria-label': t('processes.instances') },
      h('h2', {}, t('processes.instancesCount', { count: instances.total })),
      rows.length === 0 ? h('p', {}, t('processes.noInstance')) : h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ...['instance', 'process', 'businessKey', 'state', 'incidents', 'started', 'ended'].map((column) => h('th', { scope: 'col' }, t(`processes.columns.${column}`))))),
        h('tbody', {}, ...rows)),
      pager(instances, (offset) => {
        const next = new URLSearchParams(query)
        if (offset > 0) next.set('offset', String(offset))
        else next.delete('offset')
        location.hash = `#/processes?${next.toString()}`
      })),
    instances.can?.operate && rows.length > 0 ? batchOperations(instances.items) : null)
}

function stateLabel(state: string): string {
  return ['ACTIVE', 'COMPLETED', 'TERMINATED'].includes(state) ? t(`processes.states.${state}`) : state
}

function json(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'null'
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text
}

export async function instancePage(main: HTMLElement, key: string): Promise<() => void> {
  let detail = await call<InstanceDetail>('GET', `/instances/${key}`)
  let xml = await call<string>('GET', `/instances/${key}/diagram`)
  const processId = detail.instance.processDefinitionId
  const name = processName(processId, detail.instance.processDefinitionName)
  document.title = `${name} ${key} · ${t('shell.brand')}`

  const status = h('div', { id: 'instance-status' })
  const summary = h('dl', { class: 'summary' })
  const diagram = h('div', { class: 'diagram', id: 'diagram', role: 'figure', 'aria-label': t('instance.diagramOf', { name }), 'aria-describedby': 'diagram-text' })
  const diagramText = h('p', { id: 'diagram-text' })
  const incidents = h('div', { id: 'incidents' })
  const variables = h('div', { id: 'variables' })
  const trace = h('div', { id: 'trace' })
  const path = h('div', { id: 'path' })
  const actions = h('div', { class: 'actions' })
  const operations = h('div', { id: 'operations' })
  /** which active elements the operations panel was drawn for: it is drawn again only when they change */
  let operationsFor = ''

  fill(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/processes' }, t('processes.title')), ' / ', key),
    h('h1', {}, name, detail.context.businessKey ? ` · ${detail.context.businessKey.value}` : ''),
    status, summary, actions, operations,
    h('section', { 'aria-labelledby': 'diagram-title' },
      h('h2', { id: 'diagram-title' }, t('instance.diagram')),
      h('p', { class: 'legend' }, h('span', { class: 'key key-active' }, t('instance.legend.active')), h('span', { class: 'key key-completed' }, t('instance.legend.done')),
        h('span', { class: 'key key-taken' }, t('instance.legend.taken')), h('span', { class: 'key key-incident' }, t('instance.legend.incident'))),
      diagram, diagramText),
    h('section', { 'aria-labelledby': 'incidents-title' }, h('h2', { id: 'incidents-title' }, t('processes.incidents')), incidents),
    h('div', { class: 'columns' },
      h('section', { 'aria-labelledby': 'trace-title' }, h('h2', { id: 'trace-title' }, t('instance.timeline')), trace, h('h3', {}, t('instance.path')), path),
      h('section', { 'aria-labelledby': 'variables-title' }, h('h2', { id: 'variables-title' }, t('instance.variables')), variables)))

  const viewer = new NavigatedViewer({ container: diagram })
  await viewer.importXML(xml)
  const canvas = viewer.get<{ zoom(level: string): void; addMarker(id: string, marker: string): void; removeMarker(id: string, marker: string): void }>('canvas')
  const registry = viewer.get<{ getAll(): Array<{ id: string; type: string; businessObject: { sourceRef?: { id: string }; targetRef?: { id: string } } }> }>('elementRegistry')
  canvas.zoom('fit-viewport')
  const MARKERS = ['is-active', 'is-completed', 'is-taken', 'has-incident']

  const render = (current: InstanceDetail) => {
    const { instance, elements } = current
    fill(summary,
      h('dt', {}, t('processes.columns.state')), h('dd', { 'data-testid': 'instance-state' }, stateLabel(instance.state)),
      h('dt', {}, t('processes.columns.instance')), h('dd', {}, instance.processInstanceKey),
      h('dt', {}, t('instance.version')), h('dd', {}, String(instance.processDefinitionVersion)),
      h('dt', {}, t('processes.columns.started')), h('dd', {}, timeOf(instance.startDate)),
      h('dt', {}, t('processes.columns.ended')), h('dd', {}, timeOf(instance.endDate)))

    const active = new Set(elements.filter((e) => e.state === 'ACTIVE').map((e) => e.elementId))
    const visited = new Set(elements.map((e) => e.elementId))
    const completed = new Set(elements.filter((e) => e.state === 'COMPLETED').map((e) => e.elementId))
    const failing = new Set(current.incidents.filter((i) => i.state === 'ACTIVE').map((i) => i.elementId))
    for (const shape of registry.getAll()) {
      if (shape.type === 'bpmn:Process' || shape.type === 'label') continue
      for (const marker of MARKERS) canvas.removeMarker(shape.id, marker)
      const { sourceRef, targetRef } = shape.businessObject
      if (shape.type === 'bpmn:SequenceFlow') {
        if (sourceRef && targetRef && completed.has(sourceRef.id) && visited.has(targetRef.id)) canvas.addMarker(shape.id, 'is-taken')
        continue
      }
      if (failing.has(shape.id)) canvas.addMarker(shape.id, 'has-incident')
      if (active.has(shape.id)) canvas.addMarker(shape.id, 'is-active')
      else if (completed.has(shape.id)) canvas.addMarker(shape.id, 'is-completed')
    }
    const waiting = elements.filter((e) => e.state === 'ACTIVE').map((e) => elementName(processId, e.elementId, e.elementName))
    fill(diagramText, waiting.length > 0 ? t('instance.activeNow', { elements: waiting.join(', ') }) : t('instance.noActive', { state: stateLabel(instance.state).toLowerCase() }))

    const open = current.incidents.filter((i) => i.state === 'ACTIVE')
    fill(incidents, open.length === 0 ? h('p', {}, t('instance.noIncident')) : h('ul', { class: 'incidents' }, ...open.map((incident) => h('li', { class: 'incident' },
      h('p', {}, h('strong', {}, incident.errorType), ` ${t('instance.at', { element: incident.elementId })} `, timeOf(incident.creationTime)),
      h('p', { class: 'error-message' }, incident.errorMessage),
      current.can.retry ? h('button', { type: 'button', onclick: () => void retry(incident) }, t('instance.retry', { element: incident.elementId })) : null))))

    fill(variables, h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('instance.name')), h('th', { scope: 'col' }, t('instance.value')), h('th', { scope: 'col' }, t('instance.scope')))),
      h('tbody', {}, ...current.variables.map((v) => h('tr', {},
        h('th', { scope: 'row' }, v.name), h('td', {}, h('pre', {}, json(v.value))), h('td', {}, v.scopeKey === instance.processInstanceKey ? t('instance.processScope') : v.scopeKey))))))

    fill(trace, current.trace.length === 0 ? h('p', {}, t('instance.noTrace')) : h('ol', { class: 'timeline' },
      ...current.trace.map((entry) => h('li', {}, timeOf(entry.at), ' ', h('strong', {}, entry.event), ` ${t('instance.by', { actor: entry.actor })}`,
        Object.keys(entry.detail).length > 0 ? h('details', {}, h('summary', {}, t('instance.details')), h('pre', {}, json(entry.detail))) : null))))

    fill(path, h('ol', { class: 'timeline' }, ...elements.map((e) => h('li', {},
      timeOf(e.startDate), ' ', h('strong', {}, elementName(processId, e.elementId, e.elementName)), ` (${e.type.toLowerCase().replace(/_/g, ' ')}) `,
      e.state === 'ACTIVE' ? h('span', { class: 'badge badge-active' }, t('instance.legend.active')) : stateLabel(e.state).toLowerCase()))))

    fill(actions, current.can.cancel ? h('button', { type: 'button', class: 'danger', onclick: () => void cancel() }, t('instance.cancel')) : null)

    const activeElements = elements.filter((e) => e.state === 'ACTIVE')
    const signature = `${String(current.can.operate)}:${instance.processDefinitionVersion}:${activeElements.map((e) => e.elementInstanceKey).join(',')}`
    if (signature !== operationsFor) {
      operationsFor = signature
      fill(operations, current.can.operate ? instanceOperations({ instanceKey: key, processId, xml, active: activeElements, onDone: refresh, onMigrated: redraw, status }) : null)
    }
  }

  const refresh = async () => {
    const next = await call<InstanceDetail>('GET', `/instances/${key}`)
    // Unchanged data keeps the page as it is, and the keyboard focus where it was.
    if (JSON.stringify(next) === JSON.stringify(detail)) return
    detail = next
    render(detail)
  }
  /** After a migration: the diagram of the version the instance now follows. */
  const redraw = async () => {
    xml = await call<string>('GET', `/instances/${key}/diagram`)
    await viewer.importXML(xml)
    canvas.zoom('fit-viewport')
    operationsFor = ''
    detail = await call<InstanceDetail>('GET', `/instances/${key}`)
    render(detail)
  }
  const retry = async (incident: Incident) => {
    try {
      await call('POST', `/incidents/${incident.incidentKey}/retry`)
      fill(status, h('p', { class: 'notice', role: 'status' }, t('instance.retried', { key: incident.incidentKey, element: incident.elementId })))
      announce(t('instance.retriedShort'))
      await refresh()
    } catch (failure) {
      fill(status, alertBox(t('instance.retryFailed', { message: (failure as ApiError).message })))
    }
  }
  const cancel = async () => {
    if (!window.confirm(t('instance.confirmCancel', { key }))) return
    try {
      await call('POST', `/instances/${key}/cancellation`)
      fill(status, h('p', { class: 'notice', role: 'status' }, t('instance.cancelled', { key })))
      await refresh()
    } catch (failure) {
      fill(status, alertBox(t('instance.cancelFailed', { message: (failure as ApiError).message })))
    }
  }

  render(detail)
  const timer = window.setInterval(() => {
    if (detail.instance.state !== 'ACTIVE') return
    refresh().catch((failure: unknown) => fill(status, alertBox(t('instance.refreshFailed', { message: (failure as Error).message }))))
  }, REFRESH_MS)
  return () => {
    window.clearInterval(timer)
    viewer.destroy()
  }
}
