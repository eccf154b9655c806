/**
 * Operate's operations in the console, for this installation's admin: move a token past a broken
 * step (modification), migrate an instance to another version of its process with a mapping of
 * its active elements, and retry or cancel the listed instances as one batch operation.
 */
import { ApiError, call } from './api'
import { alertBox, fill, h } from './dom'
import { t } from './i18n'
import { elementName } from './model-texts'

/** The elements a token can be moved to, or an active element mapped to (no start or boundary event: Zeebe refuses them), as BPMN's XML names them. */
const TARGET_TYPES = new Set(['task', 'serviceTask', 'userTask', 'sendTask', 'receiveTask', 'scriptTask', 'businessRuleTask', 'manualTask',
  'callActivity', 'subProcess', 'exclusiveGateway', 'parallelGateway', 'inclusiveGateway', 'eventBasedGateway', 'intermediateCatchEvent',
  'intermediateThrowEvent', 'endEvent'])

const BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL'

export interface ModelElement {
  id: string
  name?: string
}

/** The elements of a BPMN model a token may be placed on, in document order. */
export function targetElements(xml: string): ModelElement[] {
  const doc = new DOMParser().parseFromString(xml, 'application/xml')
  const out: ModelElement[] = []
  for (const node of Array.from(doc.getElementsByTagNameNS(BPMN, '*'))) {
    if (!TARGET_TYPES.has(node.localName)) continue
    const id = node.getAttribute('id')
    if (id) out.push({ id, name: node.getAttribute('name') ?? undefined })
  }
  return out
}

interface ActiveElement {
  elementInstanceKey: string
  elementId: string
  elementName?: string
  type: string
}

interface Version {
  processDefinitionKey: string
  version: number
}

const failureOf = (failure: unknown) => (failure as ApiError).message

/** The panel on an instance's page: move a token, migrate to another version. */
export function instanceOperations(options: {
  instanceKey: string
  processId: string
  xml: string
  active: ActiveElement[]
  onDone: () => Promise<void>
  /** the instance follows another version now: its page is drawn again */
  onMigrated: () => Promise<void>
  /** where the outcome is told: the page's, since this panel is drawn again when the active elements change */
  status: HTMLElement
}): HTMLElement {
  const { instanceKey, processId, status } = options
  const label = (element: ModelElement) => elementName(processId, element.id, element.name)
  const ownElements = targetElements(options.xml)
  const movable = options.active.filter((e) => e.type !== 'MULTI_INSTANCE_BODY' && e.type !== 'PROCESS')

  const moves = movable.length === 0 ? h('p', {}, t('operations.noActive')) : h('ul', { class: 'operations' }, ...movable.map((active) => {
    const from = label({ id: active.elementId, name: active.elementName })
    const selectId = `move-${active.elementInstanceKey}`
    const target = h('select', { id: selectId }, ...ownElements.filter((e) => e.id !== active.elementId).map((e) => h('option', { value: e.id }, label(e))))
    return h('li', {},
      h('label', { for: selectId }, t('operations.moveTo', { element: from })), ' ', target, ' ',
      h('button', { type: 'button', onclick: () => void move(active, from, target) }, t('operations.move')))
  }))

  const move = async (active: ActiveElement, from: string, target: HTMLSelectElement) => {
    const to = target.selectedOptions[0]?.textContent ?? target.value
    try {
      await call('POST', `/instances/${instanceKey}/modification`, { elementInstanceKey: active.elementInstanceKey, targetElementId: target.value })
      fill(status, h('p', { class: 'notice', role: 'status' }, t('operations.moved', { from, to })))
      await options.onDone()
    } catch (failure) {
      fill(status, alertBox(t('operations.moveFailed', { message: failureOf(failure) })))
    }
  }

  const migration = h('div', { id: 'migration' })
  const loadVersions = async () => {
    const { items } = await call<{ items: Version[] }>('GET', `/instances/${instanceKey}/migration-targets`)
    if (items.length === 0) return fill(migration, h('p', {}, t('operations.noOtherVersion')))
    const versionSelect = h('select', { id: 'target-version' }, ...items.map((v) => h('option', { value: v.processDefinitionKey }, t('operations.versionLabel', { version: v.version }))))
    const mapping = h('div', { id: 'mapping' })
    fill(migration,
      h('div', {}, h('label', { for: 'target-version' }, t('operations.targetVersion')), ' ', versionSelect, ' ',
        h('button', { type: 'button', onclick: () => void prepare(versionSelect, items, mapping) }, t('operations.prepare'))),
      mapping)
  }

  const prepare = async (versionSelect: HTMLSelectElement, versions: Version[], mapping: HTMLElement) => {
    const targetKey = versionSelect.value
    const version = versions.find((v) => v.processDefinitionKey === targetKey)?.version
    const xml = await call<string>('GET', `/instances/${instanceKey}/migration-targets/${targetKey}/diagram`)
    const targets = targetElements(xml)
    const sources = [...new Map(options.active.filter((e) => e.type !== 'PROCESS').map((e) => [e.elementId, e])).values()]
    const selects = sources.map((source, index) => {
      const id = `map-${index}`
      const select = h('select', { id, 'data-source': source.elementId },
        h('option', { value: '' }, t('operations.unmapped')),
        ...targets.map((e) => h('option', { value: e.id, selected: e.id === source.elementId }, label(e))))
      return { source, id, select }
    })
    fill(mapping,
      h('ul', { class: 'operations' }, ...selects.map(({ source, id, select }) => h('li', {},
        h('label', { for: id }, t('operations.mapTo', { element: label({ id: source.elementId, name: source.elementName }) })), ' ', select))),
      h('button', { type: 'button', onclick: () => void migrate(targetKey, version ?? 0, selects.map(({ source, select }) => ({ sourceElementId: source.elementId, targetElementId: select.value }))) }, t('operations.migrate')))
  }

  const migrate = async (targetProcessDefinitionKey: string, version: number, mapped: Array<{ sourceElementId: string; targetElementId: string }>) => {
    try {
      await call('POST', `/instances/${instanceKey}/migration`, { targetProcessDefinitionKey, mappingInstructions: mapped.filter((m) => m.targetElementId !== '') })
      await options.onMigrated()
      fill(status, h('p', { class: 'notice', role: 'status' }, t('operations.migrated', { version })))
    } catch (failure) {
      fill(status, alertBox(t('operations.migrateFailed', { message: failureOf(failure) })))
    }
  }

  void loadVersions().catch((failure: unknown) => fill(migration, alertBox(failureOf(failure))))
  return h('section', { 'aria-labelledby': 'operations-title', class: 'operations-panel' },
    h('h2', { id: 'operations-title' }, t('operations.title')),
    h('p', {}, t('operations.intro')),
    h('h3', {}, t('operations.moveTitle')), moves,
    h('h3', {}, t('operations.migrateTitle')), migration)
}

interface BatchStatus {
  batchOperationKey: string
  state: string
  operationsTotalCount: number
  operationsCompletedCount: number
  operationsFailedCount: number
  items: Array<{ processInstanceKey: string; state: string; errorMessage?: string }>
}

const FINAL = new Set(['COMPLETED', 'PARTIALLY_COMPLETED', 'CANCELED', 'FAILED'])
const POLL_MS = 500

/** Retry or cancel the listed instances as one batch operation, and follow it. */
export function batchOperations(instances: Array<{ processInstanceKey: string; state: string; hasIncident: boolean }>): HTMLElement {
  const status = h('div', { id: 'batch-status', 'aria-live': 'polite' })
  const withIncident = instances.filter((i) => i.state === 'ACTIVE' && i.hasIncident).map((i) => i.processInstanceKey)
  const active = instances.filter((i) => i.state === 'ACTIVE').map((i) => i.processInstanceKey)

  const follow = async (batchOperationKey: string) => {
    // Followed while its page is shown.
    while (status.isConnected) {
      const batch = await call<BatchStatus>('GET', `/batch-operations/${batchOperationKey}`)
      fill(status, h('p', { class: 'notice', role: 'status' }, t('operations.batchStatus', {
        key: batch.batchOperationKey, state: t(`operations.batchStates.${batch.state}`), done: batch.operationsCompletedCount,
        total: batch.operationsTotalCount, failed: batch.operationsFailedCount,
      })), ...batch.items.filter((i) => i.state === 'FAILED').map((i) => h('p', { class: 'error-message' }, t('operations.batchFailedItem', { instance: i.processInstanceKey, message: i.errorMessage ?? '' }))))
      if (FINAL.has(batch.state)) return
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }

  const start = async (type: 'RESOLVE_INCIDENT' | 'CANCEL_PROCESS_INSTANCE', keys: string[]) => {
    if (type === 'CANCEL_PROCESS_INSTANCE' && !window.confirm(t('operations.confirmBatchCancel', { count: keys.length }))) return
    try {
      const started = await call<{ batchOperationKey: string }>('POST', '/batch-operations', { type, processInstanceKeys: keys })
      await follow(started.batchOperationKey)
    } catch (failure) {
      fill(status, alertBox(t('operations.batchFailed', { message: failureOf(failure) })))
    }
  }

  return h('section', { 'aria-labelledby': 'batch-title', class: 'operations-panel' },
    h('h2', { id: 'batch-title' }, t('operations.batchTitle')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', disabled: withIncident.length === 0, onclick: () => void start('RESOLVE_INCIDENT', withIncident) }, t('operations.batchRetry', { count: withIncident.length })),
      h('button', { type: 'button', class: 'danger', disabled: active.length === 0, onclick: () => void start('CANCEL_PROCESS_INSTANCE', active) }, t('operations.batchCancel', { count: active.length }))),
    status)
}
