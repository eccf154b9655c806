/**
 * Multi-tenancy is disabled, as in a Camunda 8.8 cluster started without it: only the tenant
 * '<default>' is served, and any other is refused with the gateway's own wording, on gRPC
 * (INVALID_ARGUMENT) and on REST (400 INVALID_ARGUMENT), before anything is created (issue #17).
 */
import { engineTestKit, GrpcStatus, grpcFailure } from '../support/engine-test-kit'

const { client, engine, startInstance, expectInstanceState } = engineTestKit({ worker: 'tenants' })

const PROCESS = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"><bpmn:process id="tenant-p" isExecutable="true">
<bpmn:startEvent id="s" /><bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" /></bpmn:process></bpmn:definitions>`

async function rest(path: string, body: unknown): Promise<{ status: number; body: { title?: string; detail?: string } }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as { title?: string; detail?: string } }
}

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'tenant-p.bpmn', process: Buffer.from(PROCESS) }])
})

test('gRPC: a deployment, an instance, a message and a signal for another tenant are INVALID_ARGUMENT naming it', async () => {
  const refusal = (request: string) => `Expected to handle gRPC request ${request} with tenant identifier 'acme', but multi-tenancy is disabled`
  expect(await grpcFailure(client.zeebe.deployResources([{ name: 'tenant-p.bpmn', process: Buffer.from(PROCESS) }], 'acme')))
    .toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: refusal('DeployResource') })
  expect(await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'tenant-p', variables: {}, tenantId: 'acme' })))
    .toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: refusal('CreateProcessInstance') })
  expect(await grpcFailure(client.zeebe.publishMessage({ name: 'm', correlationKey: 'k', variables: {}, tenantId: 'acme' })))
    .toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: refusal('PublishMessage') })
  expect(await grpcFailure(client.zeebe.broadcastSignal({ signalName: 's', variables: {}, tenantId: 'acme' })))
    .toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: refusal('BroadcastSignal') })
  // nothing of tenant acme was created
  const definitions = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-definitions/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter: { tenantId: 'acme' } }) })
  expect(((await definitions.json()) as { items: unknown[] }).items).toEqual([])
})

test("gRPC and REST: '<default>', or no tenant, is served", async () => {
  const deployed = await client.zeebe.deployResources([{ name: 'tenant-p.bpmn', process: Buffer.from(PROCESS) }], '<default>')
  expect(deployed.tenantId).toBe('<default>')
  const key = await startInstance('tenant-p')
  await expectInstanceState(key, 'COMPLETED')
  const created = await rest('process-instances', { processDefinitionId: 'tenant-p', tenantId: '<default>' })
  expect(created.status).toBe(200)
})

test('REST: creating an instance, publishing, correlating, broadcasting or evaluating for another tenant is 400 INVALID_ARGUMENT naming it', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['process-instances', { processDefinitionId: 'tenant-p', tenantId: 'acme' }, 'Create Process Instance'],
    ['messages/publication', { name: 'm', correlationKey: 'k', tenantId: 'acme' }, 'Publish Message'],
    ['messages/correlation', { name: 'm', correlationKey: 'k', tenantId: 'acme' }, 'Correlate Message'],
    ['signals/broadcast', { signalName: 's', tenantId: 'acme' }, 'Broadcast Signal'],
    ['decision-definitions/evaluation', { decisionDefinitionId: 'd', tenantId: 'acme' }, 'Evaluate Decision'],
    ['jobs/activation', { type: 't', timeout: 1000, maxJobsToActivate: 1, tenantIds: ['acme'] }, 'Activate Jobs'],
  ]
  for (const [path, body, request] of cases) {
    const answer = await rest(path, body)
    expect([path, answer.status, answer.body.title, answer.body.detail]).toEqual([path, 400, 'INVALID_ARGUMENT', `Expected to handle request ${request} with tenant identifier 'acme', but multi-tenancy is disabled`])
  }
})

test('REST: a deployment for another tenant is 400 INVALID_ARGUMENT naming it', async () => {
  const form = new FormData()
  form.append('resources', new Blob([PROCESS]), 'tenant-p.bpmn')
  form.append('tenantId', 'acme')
  const response = await fetch(`http://127.0.0.1:${engine.restPort}/v2/deployments`, { method: 'POST', body: form })
  expect(response.status).toBe(400)
  expect(await response.json()).toMatchObject({ title: 'INVALID_ARGUMENT', detail: "Expected to handle request Deploy Resources with tenant identifier 'acme', but multi-tenancy is disabled" })
})
