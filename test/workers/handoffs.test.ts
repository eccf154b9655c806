/**
 * The hand-off workers without an engine: the process hand-off capability is a recording fake, so
 * what each worker publishes or starts, and what it does on a redelivered job, shows plainly.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProcessNotDeployedError, type HandoffMessage, type ProcessHandoff } from '../../src/engine-client/process-handoff'
import type { VulnerabilityData } from '../../src/app/security/vulnerabilities'
import { JobInputError, type JobInfo } from '../../src/app/worker-kit/job-input'
import type { WorkerContext } from '../../src/app/worker-kit/worker-context'
import { StatusStore } from '../../src/status/status-store'
import * as publishStatus from '../../workers/publish-status'
import * as requestInterconnectionCut from '../../workers/request-interconnection-cut'
import * as startFixChange from '../../workers/start-fix-change'
import { NOW, workerFixture, type WorkerFixture } from './fixtures'

/** Records what a worker hands to other processes. */
class RecordingHandoff implements ProcessHandoff {
  readonly messages: HandoffMessage[] = []
  readonly started: Array<{ bpmnProcessId: string; variables: Record<string, unknown> }> = []
  /** make startProcess throw this */
  startFailure: Error | undefined

  async publishMessage(message: HandoffMessage): Promise<void> {
    this.messages.push(message)
  }

  async startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<string> {
    if (this.startFailure) throw this.startFailure
    this.started.push({ bpmnProcessId, variables })
    return String(2251799813690000 + this.started.length)
  }
}

let f: WorkerFixture
let handoff: RecordingHandoff
let status: StatusStore
let statusDir: string

beforeEach(() => {
  f = workerFixture()
  handoff = new RecordingHandoff()
  statusDir = mkdtempSync(join(tmpdir(), 'raccord-handoff-status-'))
  status = StatusStore.open(statusDir)
})

afterEach(() => {
  status.close()
  rmSync(statusDir, { recursive: true, force: true })
  f.close()
})

function context(job: Partial<JobInfo> & { headers?: Record<string, string> } = {}): WorkerContext & publishStatus.StatusCapability {
  return { ...f.context({ headers: {}, ...job }), processes: handoff, status }
}

function openIncident(id: string, service = 'demarches-alpha'): void {
  f.trace.openIncident({ id, title: 'Fuite de données suspectée', service, impact: 'high', urgency: 'high', reportingOrganisation: 'portail', declaredBy: 'Centre de services du portail', declaredAt: '2025-03-14T08:00:00.000Z' })
}

function openVulnerability(id: string, service: string): void {
  const data: VulnerabilityData = {
    cveId: 'CVE-2024-3094', title: 'Porte dérobée dans xz-utils', cvssScore: 9.8, cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', cvssVersion: '3.1',
    service, knownExploited: true, reportingOrganisation: 'portail', reportedBy: 'Alix Robert', reportedAt: '2025-03-13T10:00:00.000Z',
    severity: 'Critical', remediationDeadline: 'P7D', remediationDueAt: '2025-03-20T10:00:00.000Z',
  }
  f.security.create({ id, kind: 'vulnerability', state: 'open', data, at: data.reportedAt })
}

describe('request-interconnection-cut', () => {
  test('CUT-1: a suspected compromise publishes interconnection-cut-requested keyed by a new cut id, once per delivery of the job', async () => {
    // given
    openIncident('INC-20250314-0001')
    const input = { service: 'demarches-alpha', incidentId: 'INC-20250314-0001', title: 'Fuite de données suspectée', declaredBy: 'Centre de services du portail' }
    // when: delivered twice
    const first = await requestInterconnectionCut.handle(input, context())
    const again = await requestInterconnectionCut.handle(input, context())
    // then
    expect(first.cutIds).toHaveLength(1)
    expect(again).toEqual(first)
    const [cutId] = first.cutIds
    expect(cutId).toMatch(/^CUT-20250314-[0-9a-f]{6}$/)
    expect(handoff.messages[0]).toEqual({
      name: 'interconnection-cut-requested',
      correlationKey: cutId,
      messageId: `cut-request:${cutId}`,
      variables: {
        cutId, interconnectionId: 'alpha-prod', reason: 'Suspected compromise, incident INC-20250314-0001: Fuite de données suspectée',
        requestedBy: 'Centre de services du portail', origin: 'self', requestedAt: NOW.toISOString(), incidentId: 'INC-20250314-0001',
      },
    })
    // the same message id: the engine takes it once
    expect(handoff.messages[1]).toEqual(handoff.messages[0])
    expect(f.trace.entries('INC-20250314-0001').filter((entry) => entry.event === 'cut-requested')).toHaveLength(1)
  })

  test('SEC-4: operations\' decision on a vulnerability carries their reason and name into the cut', async () => {
    // given
    openVulnerability('VUL-20250313-abcdef', 'payments-beta')
    // when
    const output = await requestInterconnectionCut.handle({ service: 'payments-beta', vulnerabilityId: 'VUL-20250313-abcdef', cutReason: 'Exploitation active', cutDecidedBy: 'Alix Robert' }, context())
    // then
    expect(output.cutIds[0]).toMatch(/^CUT-20250313-/)
    expect(handoff.messages[0].variables).toMatchObject({ interconnectionId: 'beta-prod', reason: 'Exploitation active (vulnerability VUL-20250313-abcdef)', requestedBy: 'Alix Robert', vulnerabilityId: 'VUL-20250313-abcdef' })
    expect(f.security.events('VUL-20250313-abcdef').map((event) => event.event)).toEqual(['cut-requested'])
  })

  test('CUT-1: a service no production interconnection carries publishes nothing, and the trace says why', async () => {
    // given
    openIncident('INC-20250314-0002', 'portail-web')
    // when
    const output = await requestInterconnectionCut.handle({ service: 'portail-web', incidentId: 'INC-20250314-0002' }, { ...context(), processes: undefined })
    // then
    expect(output.cutIds).toEqual([])
    expect(output.cutNotRequestedReason).toContain("'portail-web'")
    expect(handoff.messages).toEqual([])
    expect(f.trace.entries('INC-20250314-0002').map((entry) => entry.event)).toEqual(['cut-not-requested'])
  })

  test('CUT-1: without the hand-off capability, or without saying who asks, the job cannot be done', async () => {
    openIncident('INC-20250314-0003')
    await expect(requestInterconnectionCut.handle({ service: 'demarches-alpha', incidentId: 'INC-20250314-0003' }, { ...context(), processes: undefined })).rejects.toThrow(JobInputError)
    await expect(requestInterconnectionCut.handle({ service: 'demarches-alpha' }, context())).rejects.toThrow(/exactly one/)
  })
})

describe('start-fix-change', () => {
  test('SEC-2: on the client\'s own service, a portal change is started once, with the due date, and its reference kept', async () => {
    // given
    openVulnerability('VUL-20250313-000001', 'portail-web')
    // when: delivered twice
    const first = await startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000001' }, context())
    const again = await startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000001' }, context())
    // then
    expect(first).toMatchObject({ changeStarted: true, changeKind: 'portal', changeRequestedBy: 'raccord', changeFallbackReason: null })
    expect(first.changeReference).toMatch(/^CHG-20250313-[0-9a-f]{6}$/)
    expect(again).toEqual(first)
    expect(handoff.started).toHaveLength(1)
    expect(handoff.started[0]).toMatchObject({
      bpmnProcessId: 'portal-change',
      variables: { reference: first.changeReference, version: 'fix CVE-2024-3094', clientId: 'portail', retainPreviousVersion: false, remediationDueAt: '2025-03-20T10:00:00.000Z', vulnerabilityId: 'VUL-20250313-000001' },
    })
    expect(f.security.require('VUL-20250313-000001').data).toMatchObject({ changeReference: first.changeReference, changeProcess: 'portal-change' })
  })

  test('SEC-2: at a provider, on its own service, a provider change unrelated to portal features is started (CHG-6)', async () => {
    // given: this installation runs for fournisseur-alpha
    openVulnerability('VUL-20250313-000002', 'demarches-alpha')
    const ctx = { ...context(), config: { ...f.config, self: 'fournisseur-alpha' } }
    // when
    const output = await startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000002' }, ctx)
    // then
    expect(output).toMatchObject({ changeStarted: true, changeKind: 'provider' })
    expect(handoff.started[0]).toMatchObject({ bpmnProcessId: 'provider-change', variables: { providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha', relatedToPortal: false } })
  })

  test('SEC-2: on the other party\'s service no change is started here, and the fallback says why', async () => {
    // given
    openVulnerability('VUL-20250313-000003', 'demarches-alpha')
    // when
    const output = await startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000003' }, context())
    // then
    expect(output).toMatchObject({ changeStarted: false, changeReference: null })
    expect(output.changeFallbackReason).toMatch(/appartient à .*fournisseur-alpha.*ne peut pas démarrer/)
    expect(handoff.started).toEqual([])
    expect(f.security.events('VUL-20250313-000003').map((event) => event.event)).toEqual(['change-not-started'])
  })

  test('SEC-2: a change process that is not deployed falls back to a reference recorded by hand; any other failure is retried', async () => {
    openVulnerability('VUL-20250313-000004', 'portail-web')
    handoff.startFailure = new ProcessNotDeployedError('portal-change')
    const output = await startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000004' }, context())
    expect(output).toMatchObject({ changeStarted: false })
    expect(output.changeFallbackReason).toContain("'portal-change' is not deployed")

    handoff.startFailure = new Error('14 UNAVAILABLE')
    await expect(startFixChange.handle({ vulnerabilityId: 'VUL-20250313-000004' }, context({ key: '2251799813685400' }))).rejects.toThrow('UNAVAILABLE')
  })
})

describe('publish-status', () => {
  const job = (event: string) => ({ headers: { event }, key: `job-${event}` })

  test('USR-1: a P1 incident opens a critical notice on its component, and the restoration resolves it', async () => {
    // given
    openIncident('INC-20250314-0010')
    const input = { incidentId: 'INC-20250314-0010', service: 'demarches-alpha', priority: { priority: 'P1' } }
    // when
    const opened = await publishStatus.handle(input, context(job('incident-opened')))
    // then
    expect(opened.statusNoticeId).toBe('incident:INC-20250314-0010')
    expect(status.notice('incident:INC-20250314-0010')).toMatchObject({ component: 'demarches-alpha', impact: 'critical', componentState: 'major_outage', state: 'investigating', title: 'Incident sur Démarches en ligne Alpha' })
    // when
    await publishStatus.handle({ incidentId: 'INC-20250314-0010' }, context(job('incident-resolved')))
    // then
    expect(status.notice('incident:INC-20250314-0010')?.state).toBe('resolved')
    expect(f.trace.entries('INC-20250314-0010').map((entry) => entry.event)).toEqual(['status-published', 'status-published'])
  })

  test('USR-1: an incident below P1 opens nothing, and its restoration resolves nothing', async () => {
    openIncident('INC-20250314-0011')
    expect(await publishStatus.handle({ incidentId: 'INC-20250314-0011', service: 'demarches-alpha', priority: { priority: 'P2' } }, context(job('incident-opened')))).toEqual({ statusNoticeId: null })
    expect(await publishStatus.handle({ incidentId: 'INC-20250314-0011' }, context(job('incident-resolved')))).toEqual({ statusNoticeId: null })
    expect(status.notices()).toEqual([])
  })

  test('PRD-4: an opened service is announced on its component, resolved at once, twice delivered once published', async () => {
    const input = { reference: 'OPN-20250314-aaaaaa', serviceId: 'payments-beta' }
    await publishStatus.handle(input, context(job('service-opened')))
    await publishStatus.handle(input, context(job('service-opened')))
    expect(status.notice('opening:OPN-20250314-aaaaaa')).toMatchObject({ component: 'payments-beta', impact: 'none', componentState: 'operational', state: 'resolved', title: 'Nouveau service : Beta online payments' })
    expect(status.updates('opening:OPN-20250314-aaaaaa')).toHaveLength(1)
  })

  test('USR-1: each event says which variables it needs', async () => {
    await expect(publishStatus.handle({}, context(job('cut-opened')))).rejects.toThrow('variable cutId: Required for the event cut-opened')
    await expect(publishStatus.handle({ incidentId: 'INC-x' }, context(job('incident-opened')))).rejects.toThrow('variable priority: Required')
    await expect(publishStatus.handle({ reference: 'OPN-1', serviceId: 'nope' }, context(job('service-opened')))).rejects.toThrow("variable serviceId: unknown service 'nope'")
    await expect(publishStatus.handle({}, context(job('unknown')))).rejects.toThrow('is not one of')
  })
})
