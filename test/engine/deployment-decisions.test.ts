/**
 * Deployment, resource deletion, decision evaluation, instance creation, keys and topology through
 * the real SDK, checked against Zeebe 8.8 (engine-semantics §1, §13, §14).
 */
import { readFileSync } from 'node:fs'
import { GrpcStatus, bpmnFixture, dmnFixture, engineTestKit, grpcFailure } from '../support/engine-test-kit'

const read = (file: string) => readFileSync(file, 'utf8')

/** The first key of partition 1: (1 << 51) + 1. */
const FIRST_KEY = 2251799813685249n
/** A key in the partition-1 range that no entity has. */
const UNKNOWN_KEY = '2251799813999999'

const FORM = JSON.stringify({
  id: 'st-approval-form', type: 'default', schemaVersion: 16,
  components: [{ key: 'approved', label: 'Approved', type: 'checkbox', id: 'approved-field' }],
})

const { engine, client } = engineTestKit()

/** Deploy BPMN text under a resource name (marks in the fixtures are replaced first). */
function deployXml(name: string, xml: string) {
  return client.zeebe.deployResource({ name, process: Buffer.from(xml) })
}

function processesOf(response: { deployments: unknown[] }) {
  return (response.deployments as { process?: { bpmnProcessId: string; version: number; processDefinitionKey: string; resourceName: string } }[])
    .flatMap((d) => (d.process ? [d.process] : []))
}

const isKey = (value: string) => /^\d+$/.test(value) && BigInt(value) >= FIRST_KEY

test('topology answers one broker leading partition 1', async () => {
  // when
  const topology = await client.zeebe.topology()
  // then
  expect(topology).toMatchObject({ clusterSize: 1, partitionsCount: 1, replicationFactor: 1 })
  expect(topology.brokers).toHaveLength(1)
  expect(topology.brokers[0].partitions).toEqual([{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }])
})

test('keys are int64 decimal strings of partition 1, always increasing', async () => {
  // given
  const deployment = await client.zeebe.deployResource({ processFilename: bpmnFixture('create-result') })
  const [definition] = processesOf(deployment)
  // when
  const instances = []
  for (let i = 0; i < 3; i++) instances.push(await client.zeebe.createProcessInstance({ bpmnProcessId: 'create-result', variables: { a: i, b: 1 } }))
  const jobs = await client.zeebe.activateJobs({ type: 'st-create-work', worker: 'keys', timeout: 60_000, maxJobsToActivate: 3, requestTimeout: -1 })
  // then
  const keys = [deployment.key, definition.processDefinitionKey, ...instances.map((i) => i.processInstanceKey)]
  for (const key of [...keys, ...jobs.map((j) => j.key)]) expect(isKey(key)).toBe(true)
  const ordered = keys.map(BigInt)
  for (let i = 1; i < ordered.length; i++) expect(ordered[i]).toBeGreaterThan(ordered[i - 1])
  expect(BigInt(jobs[0].key)).toBeGreaterThan(ordered[2])
  for (const job of jobs) await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
})

describe('deployment', () => {
  test('a file with several processes deploys each executable one', async () => {
    // when
    const deployment = await client.zeebe.deployResource({ processFilename: bpmnFixture('deploy-multi') })
    // then
    expect(processesOf(deployment).map((p) => [p.bpmnProcessId, p.version])).toEqual([['st-deploy-multi-a', 1], ['st-deploy-multi-b', 1]])
    const missing = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'st-deploy-multi-draft', variables: {} }))
    expect(missing.code).toBe(GrpcStatus.NOT_FOUND)
  })

  test('the same content keeps version and key; changed content gets version + 1, even when reverted', async () => {
    // given
    const original = read(bpmnFixture('deploy-versioned'))
    const changed = original.replace('NAME_MARK', 'renamed')
    const [first] = processesOf(await deployXml('structure/deploy-versioned.bpmn', original))
    // when
    const [again] = processesOf(await deployXml('structure/deploy-versioned.bpmn', original))
    const [second] = processesOf(await deployXml('structure/deploy-versioned.bpmn', changed))
    const [reverted] = processesOf(await deployXml('structure/deploy-versioned.bpmn', original))
    // then
    expect(first.version).toBe(1)
    expect(again).toMatchObject({ version: 1, processDefinitionKey: first.processDefinitionKey })
    expect(second.version).toBe(2)
    expect(second.processDefinitionKey).not.toBe(first.processDefinitionKey)
    expect(reverted.version).toBe(3)
    const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'deploy-versioned', variables: {} })
    expect(created).toMatchObject({ version: 3, processDefinitionKey: reverted.processDefinitionKey })
  })

  test('changing one process of a multi-process file bumps every process of the file', async () => {
    // given
    const xml = read(bpmnFixture('deploy-multi'))
    await deployXml('st-deploy-multi-copy.bpmn', xml.replace(/st-deploy-multi-/g, 'st-deploy-copy-'))
    // when
    const changed = xml.replace(/st-deploy-multi-/g, 'st-deploy-copy-').replace('st-deploy-copy-a NAME_MARK', 'st-deploy-copy-a changed')
    const deployment = await deployXml('st-deploy-multi-copy.bpmn', changed)
    // then
    expect(processesOf(deployment).map((p) => [p.bpmnProcessId, p.version])).toEqual([['st-deploy-copy-a', 2], ['st-deploy-copy-b', 2]])
  })

  test.each([
    ['malformed XML', bpmnFixture('malformed'), 'malformed.bpmn', undefined],
    ['an unsupported element', bpmnFixture('invalid-complex-gateway'), 'st-complex', "Elements of type 'complexGateway' are currently not supported"],
    ['a service task without a task type', bpmnFixture('missing-task-definition'), 'Element: task', "Must have exactly one 'zeebe:taskDefinition' extension element"],
    ['a condition with bad FEEL syntax', bpmnFixture('invalid-feel-condition'), 'Element: st-bad-condition', "failed to parse expression 'amount >'"],
  ])('%s is rejected with INVALID_ARGUMENT naming the problem, and the engine keeps serving', async (_case, file, where, message) => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResource({ processFilename: file }))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain("Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to deploy new resources, but encountered the following errors:")
    expect(failure.details).toContain(`'${file}':`)
    expect(failure.details).toContain(where)
    if (message) expect(failure.details).toContain(message)
    const created = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'st-deploy-multi-a', variables: {} })
    expect(created.variables).toEqual({ mark: 'MARK' })
  })

  test('a deployment is all or nothing', async () => {
    // given
    const valid = read(bpmnFixture('delete-me')).replace(/delete-me/g, 'st-atomic-victim')
    // when
    const failure = await grpcFailure(client.zeebe.deployResources([
      { name: 'st-atomic-victim.bpmn', process: Buffer.from(valid) },
      { processFilename: bpmnFixture('invalid-complex-gateway') },
    ]))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    const missing = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'st-atomic-victim', variables: {} }))
    expect(missing.code).toBe(GrpcStatus.NOT_FOUND)
  })

  test('a deployment without resources is rejected', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResources([]))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain('Expected to deploy at least one resource, but none given')
  })

  test('a resource with an unknown extension is rejected', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResource({ name: 'st-notes.txt', process: Buffer.from('just text') }))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain("'st-notes.txt': unknown resource type")
  })

  test('a DMN and a form deploy, and redeploying them changes nothing', async () => {
    // given
    const resources = [
      { decisionFilename: dmnFixture('dish') },
      { name: 'st-approval-form.form', form: Buffer.from(FORM) },
    ]
    // when
    const first = await client.zeebe.deployResources(resources)
    const again = await client.zeebe.deployResources(resources)
    // then
    type Item = { decision?: Record<string, unknown>; decisionRequirements?: Record<string, unknown>; form?: Record<string, unknown> }
    const summarize = (items: Item[]) => ({
      drgs: items.flatMap((d) => (d.decisionRequirements ? [d.decisionRequirements] : [])),
      decisions: items.flatMap((d) => (d.decision ? [d.decision] : [])),
      forms: items.flatMap((d) => (d.form ? [d.form] : [])),
    })
    const deployed = summarize(first.deployments as Item[])
    expect(deployed.drgs).toEqual([expect.objectContaining({ dmnDecisionRequirementsId: 'st_dinner', version: 1 })])
    expect(deployed.decisions.map((d) => [d.dmnDecisionId, d.dmnDecisionName, d.version, d.dmnDecisionRequirementsId])).toEqual([
      ['st_season', 'Season', 1, 'st_dinner'], ['st_dish', 'Dish', 1, 'st_dinner'],
    ])
    expect(deployed.forms).toEqual([expect.objectContaining({ formId: 'st-approval-form', version: 1, resourceName: 'st-approval-form.form' })])
    for (const item of [...deployed.drgs, ...deployed.decisions, ...deployed.forms]) {
      const key = (item.decisionRequirementsKey ?? item.decisionKey ?? item.formKey) as string
      expect(isKey(key)).toBe(true)
    }
    expect(summarize(again.deployments as Item[])).toEqual(deployed)
  })

  test('a DMN lists its decisions before its decision requirements, as Zeebe does (the SDK reads deployments[0].decision), over gRPC and REST', async () => {
    // given a DMN of its own, so that no other test's versions move
    const dmn = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="ord_drg" name="Order" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="ord_a" name="A"><literalExpression><text>1</text></literalExpression></decision>
  <decision id="ord_b" name="B"><literalExpression><text>2</text></literalExpression></decision>
</definitions>`
    // when
    const grpc = await client.zeebe.deployResources([{ name: 'order.dmn', decision: Buffer.from(dmn) }])
    const rest = await client.camunda.getCamundaRestClient().deployResources([{ name: 'order.dmn', content: dmn }])
    // then
    const kinds = (items: unknown[]) => items.map((item) => Object.keys(item as object).find((key) => key === 'decision' || key === 'decisionRequirements'))
    expect(kinds(grpc.deployments)).toEqual(['decision', 'decision', 'decisionRequirements'])
    expect((grpc.deployments[0] as { decision?: { dmnDecisionId: string } }).decision?.dmnDecisionId).toBe('ord_a')
    expect(rest.decisions.map((decision) => decision.decisionDefinitionId)).toEqual(['ord_a', 'ord_b'])
    expect(rest.decisionRequirements.map((drg) => drg.decisionRequirementsId)).toEqual(['ord_drg'])
  })
})

describe('DeleteResource', () => {
  test('deleting the latest version makes the previous version latest again', async () => {
    // given
    const xml = read(bpmnFixture('delete-me'))
    const [v1] = processesOf(await deployXml('structure/delete-me.bpmn', xml.replace('&quot;MARK&quot;', '&quot;one&quot;')))
    const [v2] = processesOf(await deployXml('structure/delete-me.bpmn', xml.replace('&quot;MARK&quot;', '&quot;two&quot;')))
    expect((await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'delete-me', variables: {} })).variables).toEqual({ mark: 'two' })
    // when
    await client.zeebe.deleteResource({ resourceKey: v2.processDefinitionKey })
    // then
    const created = await client.zeebe.createProcessInstance({ bpmnProcessId: 'delete-me', variables: {} })
    expect(created).toMatchObject({ version: 1, processDefinitionKey: v1.processDefinitionKey })
    expect((await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'delete-me', variables: {} })).variables).toEqual({ mark: 'one' })
    // The SDK's gRPC createProcessInstance cannot send a processDefinitionKey: ask REST.
    const byKey = await fetch(`http://127.0.0.1:${engine.restPort}/v2/process-instances`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ processDefinitionKey: v2.processDefinitionKey }),
    })
    expect(byKey.status).toBe(404)
  })

  test('a deleted version number is never given again', async () => {
    // given
    const xml = read(bpmnFixture('delete-me')).replace(/delete-me/g, 'st-delete-version')
    const [v1] = processesOf(await deployXml('st-delete-version.bpmn', xml.replace('&quot;MARK&quot;', '&quot;one&quot;')))
    const [v2] = processesOf(await deployXml('st-delete-version.bpmn', xml.replace('&quot;MARK&quot;', '&quot;two&quot;')))
    await client.zeebe.deleteResource({ resourceKey: v2.processDefinitionKey })
    // when
    const [v3] = processesOf(await deployXml('st-delete-version.bpmn', xml.replace('&quot;MARK&quot;', '&quot;three&quot;')))
    // then
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3])
  })

  test('an unknown key is NOT_FOUND', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deleteResource({ resourceKey: UNKNOWN_KEY }))
    // then
    expect(failure.code).toBe(GrpcStatus.NOT_FOUND)
    expect(failure.details).toContain(UNKNOWN_KEY)
  })
})

describe('EvaluateDecision', () => {
  let dishKey: string

  beforeAll(async () => {
    const deployment = await client.zeebe.deployResource({ decisionFilename: dmnFixture('dish') })
    const dish = (deployment.deployments as { decision?: { dmnDecisionId: string; decisionKey: string } }[])
      .find((d) => d.decision?.dmnDecisionId === 'st_dish')
    dishKey = dish?.decision?.decisionKey as string
  })

  test('by id: the output, and the required decision evaluated first with its matched rules', async () => {
    // when
    const result = await client.zeebe.evaluateDecision({ decisionId: 'st_dish', variables: { month: 1, guests: 10 } })
    // then
    expect(result).toMatchObject({
      decisionId: 'st_dish', decisionKey: dishKey, decisionName: 'Dish', decisionVersion: 1,
      decisionRequirementsId: 'st_dinner', failedDecisionId: '', failureMessage: '',
    })
    expect(JSON.parse(result.decisionOutput)).toBe('Stew')
    expect(result.evaluatedDecisions.map((d) => [d.decisionId, JSON.parse(d.decisionOutput)])).toEqual([['st_season', 'Winter'], ['st_dish', 'Stew']])
    const [season, dish] = result.evaluatedDecisions
    expect(season.matchedRules.map((r) => [r.ruleId, r.ruleIndex])).toEqual([['st_season_winter', 1]])
    expect(dish.matchedRules).toEqual([{
      ruleId: 'st_dish_stew', ruleIndex: 2,
      evaluatedOutputs: [{ outputId: 'st_dish_out', outputName: 'dish', outputValue: '"Stew"' }],
    }])
    expect(dish.evaluatedInputs.map((i) => [i.inputId, JSON.parse(i.inputValue)])).toEqual([['st_dish_season', 'Winter'], ['st_dish_guests', 10]])
  })

  test('by key gives the same result', async () => {
    // when
    const result = await client.zeebe.evaluateDecision({ decisionKey: dishKey, variables: { month: 7, guests: 3 } })
    // then
    expect(result).toMatchObject({ decisionId: 'st_dish', decisionKey: dishKey, failedDecisionId: '' })
    expect(JSON.parse(result.decisionOutput)).toBe('Salad')
  })

  test('a failing evaluation is reported in failedDecisionId and failureMessage', async () => {
    // when: two rules of a UNIQUE table match
    const result = await client.zeebe.evaluateDecision({ decisionId: 'st_dish', variables: { month: 10, guests: 10 } })
    // then
    expect(result.failedDecisionId).toBe('st_dish')
    expect(result.failureMessage).toContain("'st_dish'")
    expect(result.evaluatedDecisions.map((d) => d.decisionId)).toContain('st_season')
  })

  test('an unknown decision id is NOT_FOUND', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.evaluateDecision({ decisionId: 'st_no_such_decision', variables: {} }))
    // then
    expect(failure.code).toBe(GrpcStatus.NOT_FOUND)
    expect(failure.details).toContain('st_no_such_decision')
  })
})

describe('CreateProcessInstance', () => {
  test('an unknown process id is NOT_FOUND with Zeebe\'s message', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'st-never-deployed', variables: {} }))
    // then
    expect(failure.code).toBe(GrpcStatus.NOT_FOUND)
    expect(failure.details).toBe("Command 'CREATE' rejected with code 'NOT_FOUND': Expected to find process definition with process ID 'st-never-deployed', but none found")
  })

  test('a process without a none start event is FAILED_PRECONDITION', async () => {
    // given
    await client.zeebe.deployResource({ processFilename: bpmnFixture('message-start-only') })
    // when
    const failure = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'message-start-only', variables: {} }))
    // then
    expect(failure.code).toBe(GrpcStatus.FAILED_PRECONDITION)
    expect(failure.details).toContain('Expected to create instance of process with none start event, but there is no such event')
  })

  test('with result: all root variables, or only fetchVariables', async () => {
    // given
    await client.zeebe.deployResource({ processFilename: bpmnFixture('create-result') })
    const worker = client.zeebe.createWorker({
      taskType: 'st-create-work', pollInterval: 50,
      taskHandler: (job) => job.complete({ fromWorker: 'w' }),
    })
    try {
      // when
      const all = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'create-result', variables: { a: 1, b: 2 }, requestTimeout: 10_000 })
      const some = await client.zeebe.createProcessInstanceWithResult({
        bpmnProcessId: 'create-result', variables: { a: 5, b: 5 }, fetchVariables: ['sum'], requestTimeout: 10_000,
      })
      // then
      expect(all).toMatchObject({ bpmnProcessId: 'create-result', version: 1 })
      expect(isKey(all.processInstanceKey)).toBe(true)
      expect(all.variables).toEqual({ a: 1, b: 2, sum: 3, fromWorker: 'w' })
      expect(some.variables).toEqual({ sum: 10 })
    } finally {
      await worker.close()
    }
  })
})
