import type { ArchivedInstance } from '../../src/engine/state/history'
import type { ProcessInstanceRecord } from '../../src/engine/state/records'

/** A finished root instance as the history holds it: one completed process instance of `order`, nothing else. */
export function finishedInstance(key: string): ArchivedInstance {
  return {
    root: key, ended: 1, elements: [], variables: [], incidents: [], userTasks: [], decisionInstances: [],
    instances: [{ key, bpmnProcessId: 'order', state: 'COMPLETED', tenantId: '<default>' } as unknown as ProcessInstanceRecord],
  }
}
