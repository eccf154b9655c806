import type { ArchivedInstance } from '../state/history'
import type { ElementInstanceRecord, Key } from '../state/records'
import type { RuntimeState } from './runtime-state'
import type { VariableStore } from './variables'

/**
 * Take a finished root instance, and the instances it called, out of the live state: its element
 * instances, variables, incidents, user tasks and decisions go with it, as plain records. Its
 * jobs, timers and subscriptions were closed when it finished. Found through the state's indexes
 * by instance, so the cost is the instance's own size, not the engine's.
 */
export function takeFinishedInstance(state: RuntimeState, vars: VariableStore, rootKey: Key): ArchivedInstance | undefined {
  const root = state.instances.get(rootKey)
  if (!root || root.state === 'ACTIVE') return undefined
  const archived: ArchivedInstance = {
    root: rootKey, ended: root.endDate ?? root.startDate,
    instances: [], elements: [], variables: [], incidents: [], userTasks: [], decisionInstances: [],
  }
  const pending = [rootKey]
  while (pending.length > 0) {
    const key = pending.pop() as Key
    const instance = state.instances.get(key)
    if (!instance) continue
    pending.push(...state.instances.keysOf(key))
    state.instances.delete(key)
    archived.instances.push(instance)
    for (const elementKey of [...state.elements.keysOf(key)]) {
      // (a rest copy, not a copy and `delete`: V8 keeps an object that lost a property as a
      // dictionary, which JSON.stringify then writes by its slow path)
      const { element: _model, ...record } = state.elements.get(elementKey) as ElementInstanceRecord & { element?: unknown }
      state.elements.delete(elementKey)
      state.activeChildren.delete(elementKey)
      archived.elements.push(record)
      const { records, inRows } = vars.takeScope(elementKey)
      archived.variables.push(...records)
      if (inRows) (archived.variablesInRows ??= []).push([elementKey, record.processInstanceKey])
    }
    for (const incidentKey of [...state.incidents.keysOf(key)]) {
      archived.incidents.push(state.incidents.get(incidentKey) as ArchivedInstance['incidents'][number])
      state.incidents.delete(incidentKey)
    }
    for (const taskKey of [...state.userTasks.keysOf(key)]) {
      archived.userTasks.push(state.userTasks.get(taskKey) as ArchivedInstance['userTasks'][number])
      state.userTasks.delete(taskKey)
    }
    for (const decisionKey of [...state.decisionInstances.keysOf(key)]) {
      archived.decisionInstances.push(state.decisionInstances.get(decisionKey) as ArchivedInstance['decisionInstances'][number])
      state.decisionInstances.delete(decisionKey)
    }
  }
  return archived
}
