/**
 * Tasks and gateways, driven through the real @camunda8/sdk gRPC client (engine-semantics §3, §4,
 * §5, §6, §7, §13). What gRPC does not expose (incidents, element instances, variables) is read
 * through the REST /v2 search endpoints, as an application would read Operate data.
 */
import { GrpcStatus, bpmnFixture, dmnFixture, engineTestKit, until } from '../support/engine-test-kit'

const {
  client, startInstance, search, instanceState, expectInstanceState, elementInstances, activeIncident, activateOne,
} = engineTestKit({ worker: 'tg-test' })

beforeAll(async () => {
  await client.zeebe.deployResources([
    'service-send', 'job-script-rule', 'decision-task', 'decision-missing', 'script',
    'job-user-task', 'receive', 'exclusive', 'exclusive-no-default', 'parallel', 'inclusive',
    'simple-tasks',
  ].map((name) => ({ processFilename: bpmnFixture(name) })))
  await client.zeebe.deployResource({ decisionFilename: dmnFixture('risk') })
})

// ------------------------------------------------------------------ helpers

async function completedElementIds(processInstanceKey: string): Promise<string[]> {
  return (await elementInstances(processInstanceKey)).filter((e) => e.state === 'COMPLETED').map((e) => e.elementId).sort()
}

/**
 * Close a job stream. The SDK logs the CANCELLED status its own cancel causes with console.error;
 * that one line is expected, any other error is still printed.
 */
async function closeStream(stream: { close(): void }): Promise<void> {
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if ((args[0] as { code?: number } | undefined)?.code === GrpcStatus.CANCELLED) return
    process.stderr.write(`${args.map(String).join(' ')}\n`)
  })
  stream.close()
  await until('the stream to be canceled', async () => (spy.mock.calls.length > 0 ? true : undefined), 1_000).catch(() => undefined)
  spy.mockRestore()
}

// ------------------------------------------------------------------ service and send tasks

test('service and send tasks: a polling worker and a streaming worker each get their job with custom headers, and completions continue the instance', async () => {
  // given a polling worker for the service task and a job stream for the send task
  const seen: { type: string; headers: Record<string, string>; retries: number; variables: Record<string, unknown> }[] = []
  const worker = client.zeebe.createWorker({
    taskType: 'tg-charge', pollInterval: 50, timeout: 30_000,
    taskHandler: (job) => {
      seen.push({ type: job.type, headers: { ...job.customHeaders } as Record<string, string>, retries: job.retries, variables: { ...job.variables } })
      return job.complete({ chargeId: `ch-${job.variables.orderId}` })
    },
  })
  const stream = await client.zeebe.streamJobs({
    type: 'tg-receipt', worker: 'tg-stream', timeout: 30_000, tenantIds: ['<default>'], pollInterval: 0,
    taskHandler: (job) => {
      seen.push({ type: job.type, headers: { ...job.customHeaders } as Record<string, string>, retries: job.retries, variables: { ...job.variables } })
      return job.complete({ receiptSent: true })
    },
  })
  try {
    // when an instance runs to completion
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'service-send', variables: { orderId: 'o-1' }, requestTimeout: 10_000 })

    // then each task produced one job, with its headers and retries, and both outputs reached the root scope
    expect(seen).toEqual([
      { type: 'tg-charge', headers: { currency: 'EUR', channel: 'web shop' }, retries: 3, variables: { orderId: 'o-1' } },
      { type: 'tg-receipt', headers: {}, retries: 5, variables: { orderId: 'o-1', chargeId: 'ch-o-1' } },
    ])
    expect(result.variables).toEqual({ orderId: 'o-1', chargeId: 'ch-o-1', receiptSent: true })
    const types = (await elementInstances(result.processInstanceKey)).map((e) => `${e.elementId}:${e.type}:${e.state}`)
    expect(types).toEqual(expect.arrayContaining(['charge:SERVICE_TASK:COMPLETED', 'notify:SEND_TASK:COMPLETED']))
  } finally {
    await worker.close()
    await closeStream(stream)
  }
})

// ------------------------------------------------------------------ script and business-rule tasks as jobs

test('job-based script and business-rule tasks create jobs of their zeebe:taskDefinition type, retries from a FEEL expression', async () => {
  // given an instance whose rules task takes its retries from a variable
  const instance = await startInstance('job-script-rule', { maxRetries: 7 })

  // when the script job is activated and completed
  const scriptJob = await activateOne('tg-script-job', instance)
  expect(scriptJob).toMatchObject({ elementId: 'run-script', retries: 3, customHeaders: { language: 'groovy' } })
  await client.zeebe.completeJob({ jobKey: scriptJob.key, variables: { scriptResult: 42 } })

  // then the rules job follows, with retries = maxRetries and the script's result visible
  const rulesJob = await activateOne('tg-rules-job', instance)
  expect(rulesJob).toMatchObject({ elementId: 'run-rules', retries: 7, variables: { maxRetries: 7, scriptResult: 42 } })
  await client.zeebe.completeJob({ jobKey: rulesJob.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
  const types = (await elementInstances(instance)).map((e) => `${e.elementId}:${e.type}`)
  expect(types).toEqual(expect.arrayContaining(['run-script:SCRIPT_TASK', 'run-rules:BUSINESS_RULE_TASK']))
})

// ------------------------------------------------------------------ native business-rule tasks

test('a business-rule task with zeebe:calledDecision evaluates the DMN table and stores the output in resultVariable', async () => {
  // given the risk decision (deployed in beforeAll)
  // when instances run with a small and a large amount
  const small = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'decision-task', variables: { amount: 250, country: 'FR' } })
  const large = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'decision-task', variables: { amount: 5000, country: 'FR' } })

  // then the single output of the UNIQUE table is the value of `risk`
  expect(small.variables).toEqual({ amount: 250, country: 'FR', risk: 'low' })
  expect(large.variables).toEqual({ amount: 5000, country: 'FR', risk: 'high' })
})

test('the same decision evaluates standalone through EvaluateDecision, naming the matched rule', async () => {
  // when the decision is evaluated without a process
  const result = await client.zeebe.evaluateDecision({ decisionId: 'risk', variables: { amount: 1000, country: 'DE' } })

  // then its output is the JSON of the matched rule's output
  expect(result).toMatchObject({ decisionId: 'risk', decisionName: 'Payment risk', decisionVersion: 1, failedDecisionId: '', failureMessage: '' })
  expect(JSON.parse(result.decisionOutput)).toBe('high')
  expect(result.evaluatedDecisions[0].matchedRules.map((r) => r.ruleId)).toEqual(['rule-high'])
})

test('EvaluateDecision of an unknown decision id is NOT_FOUND', async () => {
  // when
  const failure = await client.zeebe.evaluateDecision({ decisionId: 'tg-no-such-decision', variables: {} }).then(
    () => undefined, (error: { code: number; details: string }) => error)

  // then
  expect(failure?.code).toBe(GrpcStatus.NOT_FOUND)
  expect(failure?.details).toContain('tg-no-such-decision')
})

test('a missing called decision raises CALLED_DECISION_ERROR; deploying it and resolving the incident lets the task complete', async () => {
  // given an instance calling decision late-class, which is not deployed yet
  const instance = await startInstance('decision-missing', { kind: 'outage' })

  // then a CALLED_DECISION_ERROR incident stops the task
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({ errorType: 'CALLED_DECISION_ERROR', elementId: 'classify' })
  expect(incident.errorMessage).toContain('late-class')
  expect(await instanceState(instance)).toBe('ACTIVE')

  // when the decision is deployed and the incident resolved
  await client.zeebe.deployResource({ decisionFilename: dmnFixture('late-class') })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the task evaluates it and the instance completes with the result
  await expectInstanceState(instance, 'COMPLETED')
  const variables = await search<{ name: string; value: string }>('variables', { processInstanceKey: instance, name: 'category' })
  expect(variables.map((v) => JSON.parse(v.value))).toEqual(['major'])
})

test('a failing decision evaluation (two UNIQUE rules match) raises DECISION_EVALUATION_ERROR; fixing the input and resolving completes', async () => {
  // given an amount and an embargoed country: rule-low and rule-embargo both match a UNIQUE table
  const instance = await startInstance('decision-task', { amount: 10, country: 'XX' })

  // then the evaluation failure is an incident on the task
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({ errorType: 'DECISION_EVALUATION_ERROR', elementId: 'assess' })
  expect(incident.errorMessage).toContain('risk')

  // when the input is corrected and the incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { country: 'FR' }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the decision is evaluated again and the instance completes
  await expectInstanceState(instance, 'COMPLETED')
  const risk = await search<{ value: string }>('variables', { processInstanceKey: instance, name: 'risk' })
  expect(risk.map((v) => JSON.parse(v.value))).toEqual(['low'])
})

// ------------------------------------------------------------------ native script tasks

test('a script task with zeebe:script evaluates its expression after the input mappings and stores the result in resultVariable', async () => {
  // when an instance runs with a positive quantity
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'script', variables: { quantity: 3, unitPrice: 2.5 } })

  // then the result variable holds the value; the input-mapped local `n` did not leave the task
  expect(result.variables).toEqual({ quantity: 3, unitPrice: 2.5, total: 7.5 })
})

test('a failing script raises EXTRACT_VALUE_ERROR; resolving after a variable fix re-runs input mappings and script', async () => {
  // given a quantity the script's assert rejects
  const instance = await startInstance('script', { quantity: 0, unitPrice: 4 })

  // then the script task has an EXTRACT_VALUE_ERROR incident
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'total' })
  expect(incident.errorMessage).toContain('quantity must be positive')
  const script = (await elementInstances(instance)).find((e) => e.elementId === 'total')
  expect(script).toMatchObject({ state: 'ACTIVE', hasIncident: true })

  // when the quantity is fixed at the root and the incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { quantity: 2 }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the input mapping reads the new quantity and the script completes
  await expectInstanceState(instance, 'COMPLETED')
  const total = await search<{ value: string }>('variables', { processInstanceKey: instance, name: 'total' })
  expect(total.map((v) => JSON.parse(v.value))).toEqual([8])
})

// ------------------------------------------------------------------ job-based user tasks

test('a user task without zeebe:userTask is a job of type io.camunda.zeebe:userTask carrying assignment headers', async () => {
  // given an instance with a reviewer
  const instance = await startInstance('job-user-task', { reviewer: 'alice' })

  // when the user-task job is activated
  const job = await activateOne('io.camunda.zeebe:userTask', instance)

  // then its headers hold the evaluated assignment and schedule next to the custom header
  expect(job.elementId).toBe('review')
  expect(job.customHeaders).toEqual({
    priorityLabel: 'high',
    'io.camunda.zeebe:assignee': 'alice',
    'io.camunda.zeebe:candidateGroups': '["ops","sre"]',
    'io.camunda.zeebe:dueDate': '2030-01-01T12:00:00Z',
  })
  const userTask = (await elementInstances(instance)).find((e) => e.elementId === 'review')
  expect(userTask).toMatchObject({ type: 'USER_TASK', state: 'ACTIVE' })

  // and completing the job completes the task
  await client.zeebe.completeJob({ jobKey: job.key, variables: { approved: true } })
  await expectInstanceState(instance, 'COMPLETED')
})

// ------------------------------------------------------------------ receive, manual and undefined tasks

test('a receive task waits for its message (name + correlation key) and completes with the message variables', async () => {
  // given an instance waiting at the receive task for order r-7
  const instance = await startInstance('receive', { orderId: 'r-7' })
  await until('the receive task to wait', async () =>
    (await elementInstances(instance)).find((e) => e.elementId === 'await-payment' && e.state === 'ACTIVE'))

  // when a message for another order is published, nothing happens
  await client.zeebe.publishMessage({ name: 'tg-payment-received', correlationKey: 'r-8', variables: { paid: 1 }, timeToLive: 0 })
  expect(await instanceState(instance)).toBe('ACTIVE')

  // when the matching message is published
  await client.zeebe.publishMessage({ name: 'tg-payment-received', correlationKey: 'r-7', variables: { paid: 99 }, timeToLive: 0 })

  // then the task completes and the message variables reach the root scope
  await expectInstanceState(instance, 'COMPLETED')
  const paid = await search<{ value: string }>('variables', { processInstanceKey: instance, name: 'paid' })
  expect(paid.map((v) => JSON.parse(v.value))).toEqual([99])
  const receive = (await elementInstances(instance)).find((e) => e.elementId === 'await-payment')
  expect(receive).toMatchObject({ type: 'RECEIVE_TASK', state: 'COMPLETED' })
})

test('a receive task correlates a message buffered (TTL > 0) before it was activated', async () => {
  // given a message published with a time to live before any instance waits for it
  await client.zeebe.publishMessage({ name: 'tg-payment-received', correlationKey: 'r-9', variables: { paid: 5 }, timeToLive: 60_000 })

  // when an instance reaches the receive task for order r-9
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'receive', variables: { orderId: 'r-9' }, requestTimeout: 10_000 })

  // then it took the buffered message at once
  expect(result.variables).toEqual({ orderId: 'r-9', paid: 5 })
})

test('manual and undefined tasks pass straight through', async () => {
  // when the simple-tasks process runs
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'simple-tasks', variables: { k: 'v' } })

  // then it completes, having passed the undefined task (TASK) and the manual task
  expect(result.variables).toEqual({ k: 'v' })
  const items = (await elementInstances(result.processInstanceKey)).map((e) => `${e.elementId}:${e.type}:${e.state}`)
  expect(items).toEqual(expect.arrayContaining(['task:TASK:COMPLETED', 'manual:MANUAL_TASK:COMPLETED']))
})

// ------------------------------------------------------------------ exclusive gateway

test('an exclusive gateway takes the first true condition in XML order, otherwise the default flow', async () => {
  // when amounts fall in both conditions, one condition, and none
  const both = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'exclusive', variables: { amount: 500 } })
  const one = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'exclusive', variables: { amount: 50 } })
  const none = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'exclusive', variables: { amount: 5 } })

  // then 500 (> 100 and > 10) goes to the first in XML order; the default's position is irrelevant
  expect(await completedElementIds(both.processInstanceKey)).toEqual(['end-large', 'split', 'start'])
  expect(await completedElementIds(one.processInstanceKey)).toEqual(['end-medium', 'split', 'start'])
  expect(await completedElementIds(none.processInstanceKey)).toEqual(['end-small', 'split', 'start'])
  const gateway = (await elementInstances(both.processInstanceKey)).find((e) => e.elementId === 'split')
  expect(gateway?.type).toBe('EXCLUSIVE_GATEWAY')
})

test('an exclusive gateway with no true condition and no default raises CONDITION_ERROR; setVariables + resolveIncident continue', async () => {
  // given a score matching neither `score >= 50` nor `score < 0`
  const instance = await startInstance('exclusive-no-default', { score: 10 })

  // then the gateway raises CONDITION_ERROR with Zeebe's message
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({
    errorType: 'CONDITION_ERROR', elementId: 'route',
    errorMessage: 'Expected at least one condition to evaluate to true, or to have a default flow',
  })

  // when the incident is resolved without a fix, the gateway fails again with a new incident
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })
  const again = await activeIncident(instance)
  expect(again).toMatchObject({ errorType: 'CONDITION_ERROR', elementId: 'route' })
  expect(again.incidentKey).not.toBe(incident.incidentKey)

  // when the score is raised and the new incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { score: 80 }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: again.incidentKey })

  // then the gateway re-evaluates and takes the approve flow
  await expectInstanceState(instance, 'COMPLETED')
  expect(await completedElementIds(instance)).toEqual(['end-approved', 'route', 'start'])
})

test('a condition evaluating to null raises EXTRACT_VALUE_ERROR (not false); setVariables + resolveIncident continue', async () => {
  // given no `score` variable: `score >= 50` is null
  const instance = await startInstance('exclusive-no-default', {})

  // then evaluation stops at the null with EXTRACT_VALUE_ERROR
  const incident = await activeIncident(instance)
  expect(incident).toMatchObject({
    errorType: 'EXTRACT_VALUE_ERROR', elementId: 'route',
    errorMessage: "Expected result of the expression 'score >= 50' to be 'BOOLEAN', but was 'NULL'. " +
      "The evaluation reported the following warnings:\n[NO_VARIABLE_FOUND] No variable found with name 'score'",
  })

  // when the score is set and the incident resolved
  await client.zeebe.setVariables({ elementInstanceKey: instance, variables: { score: -3 }, local: false })
  await client.zeebe.resolveIncident({ incidentKey: incident.incidentKey })

  // then the gateway continues on the reject flow
  await expectInstanceState(instance, 'COMPLETED')
  expect(await completedElementIds(instance)).toEqual(['end-rejected', 'route', 'start'])
})

// ------------------------------------------------------------------ parallel gateway

test('a parallel gateway forks every flow, and its join waits for a token on each incoming flow', async () => {
  // given both branches forked
  const instance = await startInstance('parallel')
  const a = await activateOne('tg-par-a', instance)
  const b = await activateOne('tg-par-b', instance)

  // when only branch a completes
  await client.zeebe.completeJob({ jobKey: a.key, variables: { a: 1 } })

  // then the join has not fired and the instance waits for b
  await until('branch a to complete', async () =>
    (await elementInstances(instance)).find((e) => e.elementId === 'branch-a' && e.state === 'COMPLETED'))
  expect((await elementInstances(instance)).filter((e) => e.elementId === 'join')).toEqual([])
  expect(await instanceState(instance)).toBe('ACTIVE')

  // when branch b completes
  await client.zeebe.completeJob({ jobKey: b.key, variables: { b: 2 } })

  // then the join fires once and the instance completes
  await expectInstanceState(instance, 'COMPLETED')
  const joins = (await elementInstances(instance)).filter((e) => e.elementId === 'join')
  expect(joins.map((e) => `${e.type}:${e.state}`)).toEqual(['PARALLEL_GATEWAY:COMPLETED'])
})

// ------------------------------------------------------------------ inclusive gateway

test('an inclusive fork takes every flow whose condition is true, and the join waits only for the taken flows', async () => {
  // given channels email and fax (not sms)
  const instance = await startInstance('inclusive', { channels: ['email', 'fax'] })
  const email = await activateOne('tg-inc-email', instance)
  const fax = await activateOne('tg-inc-fax', instance)
  expect(await client.zeebe.activateJobs({ type: 'tg-inc-sms', worker: 'tg-test', timeout: 30_000, maxJobsToActivate: 5, requestTimeout: -1 })).toEqual([])

  // when email completes, the join still waits for fax
  await client.zeebe.completeJob({ jobKey: email.key, variables: {} })
  await until('email to complete', async () =>
    (await elementInstances(instance)).find((e) => e.elementId === 'email' && e.state === 'COMPLETED'))
  expect((await elementInstances(instance)).filter((e) => e.elementId === 'join')).toEqual([])

  // when fax completes, no path can bring a token on the sms flow: the join fires
  await client.zeebe.completeJob({ jobKey: fax.key, variables: {} })
  await expectInstanceState(instance, 'COMPLETED')
  const items = (await elementInstances(instance)).map((e) => `${e.elementId}:${e.type}:${e.state}`)
  expect(items).toEqual(expect.arrayContaining(['fork:INCLUSIVE_GATEWAY:COMPLETED', 'join:INCLUSIVE_GATEWAY:COMPLETED']))
  expect(items.filter((i) => i.startsWith('sms:'))).toEqual([])
})

test('an inclusive fork with no true condition takes the default flow straight to the join', async () => {
  // when no channel is selected
  const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'inclusive', variables: { channels: [] } })

  // then only the default flow was taken and the instance completed
  expect(await completedElementIds(result.processInstanceKey)).toEqual(['end', 'fork', 'join', 'start'])
})
