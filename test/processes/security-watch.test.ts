/**
 * security-watch, every path: the cycle written at deployment, the review, each finding handled
 * by its own vulnerability-handling instance (real workers, real SMTP on loopback).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { withCycle } from '../../src/app/security/security-watch'
import type { VulnerabilityData } from '../../src/app/security/vulnerabilities'
import type { ProcessInstanceRef } from '../support/process-harness'
import { PROCESSES, securityFixture, waitFor } from './security-fixture'

const forms = readdirSync(join(PROCESSES, 'forms')).map((file) => `forms/${file}`)
const f = securityFixture(['vulnerability-handling.bpmn', 'vulnerability-urgency.dmn', ...forms])

interface InstanceItem { processInstanceKey: string; processDefinitionId: string; state: string; parentProcessInstanceKey?: string }

function search<T>(entity: string, filter: Record<string, unknown>): Promise<{ items: T[] }> {
  return f.h.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: T[] }>({ method: 'POST', urlPath: `${entity}/search`, body: { filter } })
}

/** Deploys security-watch with `cycle` written in, as raccord start does. */
async function deployWatch(cycle: string): Promise<void> {
  const xml = withCycle(readFileSync(join(PROCESSES, 'security-watch.bpmn'), 'utf8'), cycle)
  await f.h.camunda.getZeebeGrpcApiClient().deployResources([{ name: 'security-watch.bpmn', process: Buffer.from(xml) }])
}

/** The watch instance the timer started. */
function watchInstance(): Promise<ProcessInstanceRef> {
  return waitFor('a security-watch instance', async () => {
    const page = await search<InstanceItem>('process-instances', { processDefinitionId: 'security-watch', state: 'ACTIVE' })
    const [item] = page.items
    return item && { processInstanceKey: item.processInstanceKey, processDefinitionId: 'security-watch' }
  })
}

/** A finding as the review form gives it; the score may be left out, the vector gives it (SEC-2). */
const finding = (title: string, cvssVector: string, knownExploited: boolean, cvssScore?: number) => ({
  title,
  ...(cvssScore === undefined ? {} : { cvssScore }),
  cvssVector,
  service: 'portail-web',
  knownExploited,
})

test('SEC-1: the review comes back on the configured cycle, not before, for this party\'s security team, with the services a finding may affect', async () => {
  // given
  await deployWatch('R/P7D')
  // when
  await f.h.increaseTime('P6DT23H')
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect((await search<InstanceItem>('process-instances', { processDefinitionId: 'security-watch' })).items).toEqual([])
  await f.h.increaseTime('PT1H1M')
  // then
  const watch = await watchInstance()
  const task = await f.h.userTask(watch, 'review-security-watch')
  expect(task.candidateGroups).toEqual(['portail-security'])
  await f.h.expectInstance(watch).toHaveCompletedElementsInOrder('watch-due', 'prepare-review')
  const variables = await search<{ name: string; value: string }>('variables', { processInstanceKey: watch.processInstanceKey, name: 'serviceIds' })
  const options = JSON.parse(variables.items[0].value) as Array<{ label: string; value: string }>
  // This party's services come first; every service of the agreement is offered.
  expect(options[0]).toEqual({ label: 'Portail citoyen (site web) – Portail citoyen', value: 'portail-web' })
  expect(options.map((option) => option.value)).toEqual(expect.arrayContaining(['portail-web', 'demarches-alpha', 'payments-beta']))
})

test('SEC-1, SEC-2: each finding of the review starts its own vulnerability handling', async () => {
  // given
  await deployWatch('R/P7D')
  await f.h.increaseTime('P7DT1M')
  const watch = await watchInstance()
  // when
  await f.h.completeUserTask(watch, 'review-security-watch', {
    reviewedBy: 'Alix Robert',
    sourcesChecked: 'CERT-FR, CISA KEV, rapport du scanner',
    findings: [
      finding('Injection dans le moteur de gabarits', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', true, 9.3),
      finding('Fuite d\'en-têtes', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L', false),
    ],
  })
  // then
  await f.h.expectInstance(watch).toBeWaitingAt('handle-findings')
  const children = await waitFor('two vulnerability-handling instances', async () => {
    const page = await search<InstanceItem>('process-instances', { processDefinitionId: 'vulnerability-handling' })
    return page.items.length === 2 ? page.items : undefined
  })
  const vulnerabilities = await waitFor('both vulnerabilities in the security trace', () => {
    const found = f.store.list<VulnerabilityData>('vulnerability').filter((record) => children.some((child) => child.processInstanceKey === record.processInstanceKey))
    return found.length === 2 && found.every((record) => record.data.severity !== undefined) ? found : undefined
  })
  expect(vulnerabilities.map((record) => [record.data.title, record.data.severity, record.data.cvssVersion, record.data.reportingOrganisation, record.data.reportedBy]).sort()).toEqual([
    ['Fuite d\'en-têtes', 'Medium', '4.0', 'portail', 'Alix Robert'],
    ['Injection dans le moteur de gabarits', 'Critical', '4.0', 'portail', 'Alix Robert'],
  ])
  const review = f.store.get(vulnerabilities[0].data.watchReviewId as string)
  expect(review).toMatchObject({ kind: 'watch-review', state: 'findings', data: { reviewedBy: 'Alix Robert', sourcesChecked: 'CERT-FR, CISA KEV, rapport du scanner' } })
})

test('SEC-1: a review with no finding is recorded and ends', async () => {
  // given
  await deployWatch('0 0 8 * * MON')
  await f.h.increaseTime('P8D')
  const watch = await watchInstance()
  // when
  await f.h.completeUserTask(watch, 'review-security-watch', { reviewedBy: 'Alix Robert', sourcesChecked: 'CERT-FR', findings: [] })
  // then
  await f.h.expectInstance(watch).toBeCompleted()
  await f.h.expectInstance(watch).toHaveCompletedElements('record-watch-review', 'nothing-found')
  expect(f.store.list('watch-review').some((review) => review.processInstanceKey === watch.processInstanceKey && review.state === 'nothing-found')).toBe(true)
})
