import { createHash } from 'node:crypto'
import { EngineError, type DeployedItem, type DeployResourceInput, type DeploymentResult } from '../api'
import { parseBpmn } from '../model/bpmn'
import { parseDmn, type DrgModel } from '../model/dmn'
import { parseForm } from '../model/form'
import { formatProblems } from '../model/problems'
import type { Problem, ProcessModel } from '../model/types'
import type {
  DecisionDefinitionRecord, DecisionRequirementsRecord, FormRecord, Key, ProcessDefinitionRecord,
  ResourceRecord,
} from '../state/records'

export const DEFAULT_TENANT = '<default>'

export interface DeployedProcess {
  record: ProcessDefinitionRecord
  model: ProcessModel
}

export interface DeployedDrg {
  record: DecisionRequirementsRecord
  model: DrgModel
}

interface ParsedResource {
  resource: DeployResourceInput
  checksum: string
  processes?: ProcessModel[]
  drg?: DrgModel
  form?: { id: string; versionTag?: string; schema: string }
}

/**
 * Deployed definitions and their versions. Deployment is all-or-nothing: every resource is parsed
 * and validated first, and one problem anywhere rejects the whole deployment (Zeebe's rule).
 */
export class Repository {
  readonly resources = new Map<Key, ResourceRecord>()
  readonly processes = new Map<Key, DeployedProcess>()
  readonly drgs = new Map<Key, DeployedDrg>()
  readonly decisions = new Map<Key, DecisionDefinitionRecord>()
  readonly forms = new Map<Key, FormRecord>()
  private readonly latestProcess = new Map<string, Key>()
  private readonly latestDecision = new Map<string, Key>()
  private readonly latestForm = new Map<string, Key>()
  private readonly latestDrg = new Map<string, Key>()
  /** Highest version ever given per kind, id and tenant: a deleted version is never reused (Zeebe's rule). */
  private readonly maxVersions = new Map<string, number>()

  private nextVersion(kind: string, id: string, tenantId: string): number {
    const k = `${kind}\u0000${tenantKey(id, tenantId)}`
    const v = (this.maxVersions.get(k) ?? 0) + 1
    this.maxVersions.set(k, v)
    return v
  }

  /** Counts the changes: a checkpoint writes the repository only when it changed. */
  revision = 0

  constructor(private readonly nextKey: () => Key) {}

  async parse(resources: DeployResourceInput[]): Promise<ParsedResource[]> {
    if (resources.length === 0) {
      throw new EngineError('INVALID_ARGUMENT', 'Expected to deploy at least one resource, but none given', 'CREATE')
    }
    const parsed: ParsedResource[] = []
    const failures: { resourceName: string; problems: Problem[] }[] = []
    for (const resource of resources) {
      const text = resource.content.toString('utf8')
      const checksum = createHash('md5').update(resource.content).digest('hex')
      const lower = resource.name.toLowerCase()
      let problems: Problem[]
      const entry: ParsedResource = { resource, checksum }
      if (lower.endsWith('.bpmn') || lower.endsWith('.xml')) {
        const r = await parseBpmn(text)
        problems = r.problems
        entry.processes = r.processes
      } else if (lower.endsWith('.dmn')) {
        const r = await parseDmn(text)
        problems = r.problems
        entry.drg = r.drg
      } else if (lower.endsWith('.form')) {
        const r = parseForm(text)
        problems = r.problems
        entry.form = r.form
      } else {
        problems = [{ message: 'unknown resource type' }]
      }
      if (problems.length > 0) failures.push({ resourceName: resource.name, problems })
      parsed.push(entry)
    }
    const seen = new Map<string, string>()
    for (const p of parsed) {
      for (const proc of p.processes ?? []) {
        const other = seen.get(proc.id)
        if (other !== undefined) {
          failures.push({ resourceName: p.resource.name, problems: [{ message: `Duplicated process id in resources '${other}' and '${p.resource.name}'` }] })
        }
        seen.set(proc.id, p.resource.name)
      }
    }
    if (failures.length > 0) {
      const detail = failures.map((f) => formatProblems(f.resourceName, f.problems)).join('\n')
      throw new EngineError('INVALID_ARGUMENT',
        `Expected to deploy new resources, but encountered the following errors:\n${detail}`, 'CREATE', failures)
    }
    return parsed
  }

  /** Store parsed resources: new versions where content changed. Returns the processes that became latest. */
  store(parsed: ParsedResource[], tenantId: string): { result: DeploymentResult; newProcesses: DeployedProcess[]; replaced: DeployedProcess[] } {
    this.revision++
    const deploymentKey = this.nextKey()
    const deployments: DeployedItem[] = []
    const newProcesses: DeployedProcess[] = []
    const replaced: DeployedProcess[] = []
    for (const p of parsed) {
      const { resource, checksum } = p
      const content = resource.content.toString('utf8')
      const resourceKey = this.nextKey()
      const storeResource = () => this.resources.set(resourceKey, { key: resourceKey, deploymentKey, resourceName: resource.name, checksum, content, tenantId })
      if (p.processes) {
        const duplicate = p.processes.every((m) => {
          const latest = this.latestProcessRecord(m.id, tenantId)
          const res = latest && this.resources.get(latest.resourceKey)
          return latest !== undefined && res !== undefined && res.checksum === checksum && res.resourceName === resource.name
        })
        if (!duplicate) storeResource()
        for (const model of p.processes) {
          const latest = this.latestProcessRecord(model.id, tenantId)
          if (duplicate && latest) {
            deployments.push({ kind: 'process', bpmnProcessId: model.id, version: latest.version, processDefinitionKey: latest.key, resourceName: resource.name, tenantId })
            continue
          }
          const record: ProcessDefinitionRecord = {
            key: this.nextKey(), bpmnProcessId: model.id, name: model.name, version: this.nextVersion('process', model.id, tenantId),
            versionTag: model.versionTag, resourceName: resource.name, resourceKey, deploymentKey, tenantId, active: true,
          }
          const deployed = { record, model }
          if (latest) replaced.push(this.processes.get(latest.key) as DeployedProcess)
          this.processes.set(record.key, deployed)
          this.latestProcess.set(tenantKey(model.id, tenantId), record.key)
          newProcesses.push(deployed)
          deployments.push({ kind: 'process', bpmnProcessId: model.id, version: record.version, processDefinitionKey: record.key, resourceName: resource.name, tenantId })
        }
      } else if (p.drg) {
        const drg = p.drg
        const latestKey = this.latestDrg.get(tenantKey(drg.id, tenantId))
        const latest = latestKey ? this.drgs.get(latestKey) : undefined
        const latestRes = latest && this.resources.get(latest.record.resourceKey)
        if (latest && latestRes && latestRes.checksum === checksum && latestRes.resourceName === resource.name) {
          // Zeebe lists a DMN's decisions before its decision requirements (deployments[0].decision is set).
          for (const d of this.decisions.values()) {
            if (d.decisionRequirementsKey === latest.record.key) deployments.push({ kind: 'decision', decisionId: d.decisionId, name: d.name, version: d.version, decisionKey: d.key, decisionRequirementsId: drg.id, decisionRequirementsKey: latest.record.key, tenantId })
          }
          deployments.push({ kind: 'decisionRequirements', decisionRequirementsId: drg.id, name: drg.name, version: latest.record.version, decisionRequirementsKey: latest.record.key, resourceName: resource.name, tenantId })
          continue
        }
        storeResource()
        const record: DecisionRequirementsRecord = {
          key: this.nextKey(), decisionRequirementsId: drg.id, name: drg.name, version: this.nextVersion('drg', drg.id, tenantId),
          resourceName: resource.name, resourceKey, deploymentKey, tenantId, active: true,
        }
        this.drgs.set(record.key, { record, model: drg })
        this.latestDrg.set(tenantKey(drg.id, tenantId), record.key)
        const requirementsItem = { kind: 'decisionRequirements' as const, decisionRequirementsId: drg.id, name: drg.name, version: record.version, decisionRequirementsKey: record.key, resourceName: resource.name, tenantId }
        for (const decision of drg.decisions) {
          const d: DecisionDefinitionRecord = {
            key: this.nextKey(), decisionId: decision.id, name: decision.name, version: this.nextVersion('decision', decision.id, tenantId),
            versionTag: decision.versionTag, decisionRequirementsKey: record.key, decisionRequirementsId: drg.id,
            resourceName: resource.name, deploymentKey, tenantId, active: true,
          }
          this.decisions.set(d.key, d)
          this.latestDecision.set(tenantKey(decision.id, tenantId), d.key)
          deployments.push({ kind: 'decision', decisionId: d.decisionId, name: d.name, version: d.version, decisionKey: d.key, decisionRequirementsId: drg.id, decisionRequirementsKey: record.key, tenantId })
        }
        deployments.push(requirementsItem)
      } else if (p.form) {
        const form = p.form
        const latestKey = this.latestForm.get(tenantKey(form.id, tenantId))
        const latest = latestKey ? this.forms.get(latestKey) : undefined
        const latestRes = latest && this.resources.get(latest.resourceKey)
        if (latest && latestRes && latestRes.checksum === checksum && latestRes.resourceName === resource.name) {
          deployments.push({ kind: 'form', formId: form.id, version: latest.version, formKey: latest.key, resourceName: resource.name, tenantId })
          continue
        }
        storeResource()
        const record: FormRecord = {
          key: this.nextKey(), formId: form.id, version: this.nextVersion('form', form.id, tenantId), versionTag: form.versionTag,
          resourceName: resource.name, resourceKey, deploymentKey, tenantId, schema: form.schema, active: true,
        }
        this.forms.set(record.key, record)
        this.latestForm.set(tenantKey(form.id, tenantId), record.key)
        deployments.push({ kind: 'form', formId: form.id, version: record.version, formKey: record.key, resourceName: resource.name, tenantId })
      }
    }
    return { result: { deploymentKey, tenantId, deployments }, newProcesses, replaced }
  }

  exportState(): RepositorySnapshot {
    return {
      resources: [...this.resources.values()],
      processes: [...this.processes.values()].map((p) => p.record),
      drgs: [...this.drgs.values()].map((d) => d.record),
      decisions: [...this.decisions.values()],
      forms: [...this.forms.values()],
      maxVersions: Object.fromEntries(this.maxVersions),
    }
  }

  async importState(state: RepositorySnapshot): Promise<void> {
    for (const [k, v] of Object.entries(state.maxVersions)) this.maxVersions.set(k, v)
    for (const r of state.resources) this.resources.set(r.key, r)
    const models = new Map<Key, ProcessModel[]>()
    const drgModels = new Map<Key, DrgModel>()
    for (const r of state.resources) {
      const lower = r.resourceName.toLowerCase()
      if (lower.endsWith('.bpmn') || lower.endsWith('.xml')) models.set(r.key, (await parseBpmn(r.content)).processes)
      else if (lower.endsWith('.dmn')) {
        const drg = (await parseDmn(r.content)).drg
        if (drg) drgModels.set(r.key, drg)
      }
    }
    for (const record of state.processes) {
      const model = models.get(record.resourceKey)?.find((m) => m.id === record.bpmnProcessId)
      if (!model) throw new Error(`Snapshot names process ${record.bpmnProcessId} v${record.version}, but its resource does not define it`)
      this.processes.set(record.key, { record, model })
      const latest = this.latestProcessRecord(record.bpmnProcessId, record.tenantId)
      if (!latest || latest.version < record.version) this.latestProcess.set(tenantKey(record.bpmnProcessId, record.tenantId), record.key)
    }
    for (const record of state.drgs) {
      const model = drgModels.get(record.resourceKey)
      if (!model) throw new Error(`Snapshot names decision requirements ${record.decisionRequirementsId}, but its resource does not define them`)
      this.drgs.set(record.key, { record, model })
      const prev = this.latestDrg.get(tenantKey(record.decisionRequirementsId, record.tenantId))
      if (!prev || (this.drgs.get(prev)?.record.version ?? 0) < record.version) this.latestDrg.set(tenantKey(record.decisionRequirementsId, record.tenantId), record.key)
    }
    for (const d of state.decisions) {
      this.decisions.set(d.key, d)
      const prev = this.latestDecision.get(tenantKey(d.decisionId, d.tenantId))
      if (!prev || (this.decisions.get(prev)?.version ?? 0) < d.version) this.latestDecision.set(tenantKey(d.decisionId, d.tenantId), d.key)
    }
    for (const f of state.forms) {
      this.forms.set(f.key, f)
      const prev = this.latestForm.get(tenantKey(f.formId, f.tenantId))
      if (!prev || (this.forms.get(prev)?.version ?? 0) < f.version) this.latestForm.set(tenantKey(f.formId, f.tenantId), f.key)
    }
  }

  /** The latest version of every process id. */
  latestProcesses(): DeployedProcess[] {
    return [...this.latestProcess.values()].map((k) => this.processes.get(k)).filter((p): p is DeployedProcess => p !== undefined)
  }

  latestProcessRecord(bpmnProcessId: string, tenantId: string): ProcessDefinitionRecord | undefined {
    return this.latestProcessOf(bpmnProcessId, tenantId)?.record
  }

  latestProcessOf(bpmnProcessId: string, tenantId: string): DeployedProcess | undefined {
    const key = this.latestProcess.get(tenantKey(bpmnProcessId, tenantId))
    return key ? this.processes.get(key) : undefined
  }

  processVersion(bpmnProcessId: string, version: number, tenantId: string): DeployedProcess | undefined {
    for (const p of this.processes.values()) {
      if (p.record.bpmnProcessId === bpmnProcessId && p.record.version === version && p.record.tenantId === tenantId && p.record.active) return p
    }
    return undefined
  }

  processByVersionTag(bpmnProcessId: string, versionTag: string, tenantId: string): DeployedProcess | undefined {
    let found: DeployedProcess | undefined
    for (const p of this.processes.values()) {
      if (p.record.bpmnProcessId === bpmnProcessId && p.record.versionTag === versionTag && p.record.tenantId === tenantId && p.record.active) {
        if (!found || p.record.version > found.record.version) found = p
      }
    }
    return found
  }

  /** The process of the same deployment as `deploymentKey` (binding type "deployment"). */
  processInDeployment(bpmnProcessId: string, deploymentKey: Key): DeployedProcess | undefined {
    for (const p of this.processes.values()) {
      if (p.record.bpmnProcessId === bpmnProcessId && p.record.deploymentKey === deploymentKey && p.record.active) return p
    }
    return undefined
  }

  latestDecisionOf(decisionId: string, tenantId: string): { decision: DecisionDefinitionRecord; drg: DeployedDrg } | undefined {
    const key = this.latestDecision.get(tenantKey(decisionId, tenantId))
    const decision = key ? this.decisions.get(key) : undefined
    if (!decision) return undefined
    return { decision, drg: this.drgs.get(decision.decisionRequirementsKey) as DeployedDrg }
  }

  decisionByKey(key: Key): { decision: DecisionDefinitionRecord; drg: DeployedDrg } | undefined {
    const decision = this.decisions.get(key)
    if (!decision || !decision.active) return undefined
    return { decision, drg: this.drgs.get(decision.decisionRequirementsKey) as DeployedDrg }
  }

  latestFormOf(formId: string, tenantId: string): FormRecord | undefined {
    const key = this.latestForm.get(tenantKey(formId, tenantId))
    return key ? this.forms.get(key) : undefined
  }

  formInDeployment(formId: string, deploymentKey: Key): FormRecord | undefined {
    for (const f of this.forms.values()) if (f.formId === formId && f.deploymentKey === deploymentKey && f.active) return f
    return undefined
  }

  /** Remove a process definition; the previous version becomes latest again. Returns the new latest, if any. */
  deleteProcess(key: Key): DeployedProcess | undefined {
    this.revision++
    const removed = this.processes.get(key) as DeployedProcess
    removed.record.active = false
    this.processes.delete(key)
    const tk = tenantKey(removed.record.bpmnProcessId, removed.record.tenantId)
    if (this.latestProcess.get(tk) !== key) return undefined
    let newLatest: DeployedProcess | undefined
    for (const p of this.processes.values()) {
      if (p.record.bpmnProcessId === removed.record.bpmnProcessId && p.record.tenantId === removed.record.tenantId) {
        if (!newLatest || p.record.version > newLatest.record.version) newLatest = p
      }
    }
    if (newLatest) this.latestProcess.set(tk, newLatest.record.key)
    else this.latestProcess.delete(tk)
    return newLatest
  }

  deleteDrg(key: Key): void {
    this.revision++
    const drg = this.drgs.get(key) as DeployedDrg
    this.drgs.delete(key)
    const tk = tenantKey(drg.record.decisionRequirementsId, drg.record.tenantId)
    if (this.latestDrg.get(tk) === key) this.latestDrg.delete(tk)
    for (const d of [...this.decisions.values()]) {
      if (d.decisionRequirementsKey !== key) continue
      this.decisions.delete(d.key)
      const dk = tenantKey(d.decisionId, d.tenantId)
      if (this.latestDecision.get(dk) !== d.key) continue
      let prev: DecisionDefinitionRecord | undefined
      for (const o of this.decisions.values()) {
        if (o.decisionId === d.decisionId && o.tenantId === d.tenantId && (!prev || o.version > prev.version)) prev = o
      }
      if (prev) this.latestDecision.set(dk, prev.key)
      else this.latestDecision.delete(dk)
    }
  }

  deleteForm(key: Key): void {
    this.revision++
    const form = this.forms.get(key) as FormRecord
    this.forms.delete(key)
    const tk = tenantKey(form.formId, form.tenantId)
    if (this.latestForm.get(tk) !== key) return
    let prev: FormRecord | undefined
    for (const f of this.forms.values()) if (f.formId === form.formId && f.tenantId === form.tenantId && (!prev || f.version > prev.version)) prev = f
    if (prev) this.latestForm.set(tk, prev.key)
    else this.latestForm.delete(tk)
  }
}

/** The repository as plain records; models are parsed again from the stored resources. */
export interface RepositorySnapshot {
  resources: ResourceRecord[]
  processes: ProcessDefinitionRecord[]
  drgs: DecisionRequirementsRecord[]
  decisions: DecisionDefinitionRecord[]
  forms: FormRecord[]
  maxVersions: Record<string, number>
}

function tenantKey(id: string, tenantId: string): string {
  return `${tenantId}\u0000${id}`
}
