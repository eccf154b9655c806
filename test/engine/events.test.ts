/**
 * BPMN events on the embedded engine, driven through the real @camunda8/sdk: start, end,
 * intermediate throw and catch events, the event-based gateway, boundary events and event
 * subprocesses (engine-semantics §5.4, §9, §10, §11.2). State the gRPC API does not expose is
 * read from the REST /v2 search endpoints; time moves only through PUT /v2/clock.
 */
import {
  DAY, GrpcStatus, HOUR, MINUTE, engineTestKit, eventually, grpcCode, stillAfterSettling,
} from '../support/engine-test-kit'

const {
  client, deploy, startInstance, cancelAfterTest, now, increaseTime, pinClockAt,
  instanceState, instancesOf, elementStates, incidentsOf, variablesOf, jobFor,
} = engineTestKit({ worker: 'events-test', pinClock: true })

// ------------------------------------------------------------------ start events

describe('start events', () => {
  test('a none start event starts an instance that passes a none throw event and completes', async () => {
    // given
    await deploy('none-events')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'none-events', variables: { caseRef: 'none-1' }, requestTimeout: 5_000,
    })
    // then
    expect(result.variables).toEqual({ caseRef: 'none-1' })
    expect(await elementStates(result.processInstanceKey, 'milestone')).toEqual(['COMPLETED'])
    expect(await instanceState(result.processInstanceKey)).toBe('COMPLETED')
  })

  test('a message start event refuses a second instance for an active correlation key, and starts it from the buffer once the first ends', async () => {
    // given
    await deploy('message-start')
    const publish = (correlationKey: string, orderRef: string) => client.zeebe.publishMessage({
      name: 'ev-order-placed', correlationKey, timeToLive: 10 * MINUTE, variables: { orderRef },
    })
    await publish('order-ms-1', 'ms-first')
    await eventually(async () => expect(await instancesOf('message-start', { name: 'orderRef', value: 'ms-first' })).toHaveLength(1))
    const [first] = await instancesOf('message-start', { name: 'orderRef', value: 'ms-first' })
    cancelAfterTest(first.processInstanceKey)
    // when
    await publish('order-ms-1', 'ms-second')
    await publish('order-ms-2', 'ms-other-key')
    // then: another key starts at once, the same key waits
    await eventually(async () => expect(await instancesOf('message-start', { name: 'orderRef', value: 'ms-other-key' })).toHaveLength(1))
    cancelAfterTest((await instancesOf('message-start', { name: 'orderRef', value: 'ms-other-key' }))[0].processInstanceKey)
    await stillAfterSettling(async () => expect(await instancesOf('message-start', { name: 'orderRef', value: 'ms-second' })).toHaveLength(0))
    // when the first instance ends
    const job = await jobFor('ev-message-start-work', first.processInstanceKey)
    await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
    // then the buffered message starts the next one
    await eventually(async () => expect(await instancesOf('message-start', { name: 'orderRef', value: 'ms-second' })).toHaveLength(1))
    const [second] = await instancesOf('message-start', { name: 'orderRef', value: 'ms-second' })
    cancelAfterTest(second.processInstanceKey)
    expect(await instanceState(first.processInstanceKey)).toBe('COMPLETED')
    expect(second.state).toBe('ACTIVE')
  })

  test('a message start event with an empty correlation key starts a new instance for every message', async () => {
    // given
    await deploy('message-start')
    // when
    for (let i = 0; i < 2; i++) {
      await client.zeebe.publishMessage({ name: 'ev-order-placed', correlationKey: '', timeToLive: 0, variables: { orderRef: 'ms-empty-key' } })
    }
    // then
    await eventually(async () => expect(await instancesOf('message-start', { name: 'orderRef', value: 'ms-empty-key' })).toHaveLength(2))
    for (const i of await instancesOf('message-start', { name: 'orderRef', value: 'ms-empty-key' })) cancelAfterTest(i.processInstanceKey)
  })

  test('a timer start event with timeCycle R2/PT1H starts an instance each hour, twice', async () => {
    // given
    await deploy('timer-start-cycle')
    expect(await instancesOf('timer-start-cycle')).toHaveLength(0)
    // when
    await increaseTime(HOUR + 1_000)
    // then
    await eventually(async () => expect(await instancesOf('timer-start-cycle')).toHaveLength(1))
    // when
    await increaseTime(HOUR)
    // then
    await eventually(async () => expect(await instancesOf('timer-start-cycle')).toHaveLength(2))
    // when the repetitions are used up
    await increaseTime(HOUR)
    // then
    await stillAfterSettling(async () => expect(await instancesOf('timer-start-cycle')).toHaveLength(2))
    expect((await instancesOf('timer-start-cycle')).map((i) => i.state)).toEqual(['COMPLETED', 'COMPLETED'])
  })

  test('a timer start event with timeDate starts one instance when the clock reaches the date', async () => {
    // given
    const date = Date.parse('2040-01-01T09:00:00Z')
    await deploy('timer-start-date')
    // when the clock is just before the date
    await pinClockAt(date - MINUTE)
    // then
    await stillAfterSettling(async () => expect(await instancesOf('timer-start-date')).toHaveLength(0))
    // when it passes the date
    await pinClockAt(date + 1_000)
    // then
    await eventually(async () => expect(await instancesOf('timer-start-date')).toHaveLength(1))
    await increaseTime(DAY)
    await stillAfterSettling(async () => expect(await instancesOf('timer-start-date')).toHaveLength(1))
  })

  test('a signal start event starts an instance carrying the signal variables', async () => {
    // given
    await deploy('signal-start')
    // when
    await client.zeebe.broadcastSignal({ signalName: 'signal-start', variables: { signalRef: 'sig-start-1' } })
    // then
    await eventually(async () => expect(await instancesOf('signal-start', { name: 'signalRef', value: 'sig-start-1' })).toHaveLength(1))
    const [instance] = await instancesOf('signal-start', { name: 'signalRef', value: 'sig-start-1' })
    expect(instance.state).toBe('COMPLETED')
  })
})

// ------------------------------------------------------------------ end events

describe('end events', () => {
  test('an error end event is caught by the boundary event with its exact code rather than by the catch-all', async () => {
    // given
    await deploy('error-end')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'error-end', variables: { errorCode: 'KNOWN' }, requestTimeout: 5_000,
    })
    // then
    const key = result.processInstanceKey
    expect(await elementStates(key, 'caught-known')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'caught-any')).toEqual([])
    expect(await elementStates(key, 'sub')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'not-caught')).toEqual([])
  })

  test('an error end event whose code no boundary names is caught by the catch-all boundary event', async () => {
    // given
    await deploy('error-end')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'error-end', variables: { errorCode: 'SOMETHING_ELSE' }, requestTimeout: 5_000,
    })
    // then
    expect(await elementStates(result.processInstanceKey, 'caught-any')).toEqual(['COMPLETED'])
    expect(await elementStates(result.processInstanceKey, 'caught-known')).toEqual([])
  })

  test('an uncaught error end event raises an UNHANDLED_ERROR_EVENT incident', async () => {
    // given
    await deploy('error-uncaught')
    // when
    const key = await startInstance('error-uncaught')
    // then
    await eventually(async () => {
      const incidents = await incidentsOf(key)
      expect(incidents).toHaveLength(1)
      expect(incidents[0]).toMatchObject({
        errorType: 'UNHANDLED_ERROR_EVENT', elementId: 'raise', state: 'ACTIVE',
        errorMessage: "Expected to throw an error event with the code 'NOBODY_CATCHES', but it was not caught. No error events are available in the scope.",
      })
    })
    expect(await instanceState(key)).toBe('ACTIVE')
  })

  test('an error thrown by a job is caught by an error event subprocess, which receives the error variables', async () => {
    // given
    await deploy('event-subprocesses')
    const key = await startInstance('event-subprocesses', { orderId: 'esp-error-1' })
    const job = await jobFor('ev-esp-work', key)
    // when
    await client.zeebe.throwError({ jobKey: job.key, errorCode: 'ESP_FAILED', errorMessage: 'disk full', variables: { reason: 'disk full' } })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'error-done')).toEqual(['COMPLETED'])
    expect(await variablesOf(key)).toMatchObject({ reason: 'disk full' })
    expect(await grpcCode(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))).toBe(GrpcStatus.NOT_FOUND)
  })

  test('an error thrown by a job that nothing catches raises UNHANDLED_ERROR_EVENT on the task, carrying the job key', async () => {
    // given
    await deploy('event-subprocesses')
    const key = await startInstance('event-subprocesses', { orderId: 'esp-error-2' })
    const job = await jobFor('ev-esp-work', key)
    // when
    await client.zeebe.throwError({ jobKey: job.key, errorCode: 'NOT_MODELLED', errorMessage: 'unexpected' })
    // then
    await eventually(async () => {
      const [incident] = await incidentsOf(key)
      expect(incident).toMatchObject({ errorType: 'UNHANDLED_ERROR_EVENT', elementId: 'work', jobKey: job.key, state: 'ACTIVE' })
      expect(incident.errorMessage).toContain("Expected to throw an error event with the code 'NOT_MODELLED' with message 'unexpected', but it was not caught.")
    })
    expect(await elementStates(key, 'error-done')).toEqual([])
  })

  test('a terminate end event inside a subprocess terminates its other branches, and the subprocess completes', async () => {
    // given
    await deploy('terminate-sub')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'terminate-sub', variables: {}, requestTimeout: 5_000 })
    // then
    const key = result.processInstanceKey
    expect(await elementStates(key, 'long-work')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'terminate')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'sub')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'after-sub')).toEqual(['COMPLETED'])
  })

  test('a terminate end event at process level terminates the other branches, and the instance is COMPLETED', async () => {
    // given
    await deploy('terminate-process')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'terminate-process', variables: {}, requestTimeout: 5_000 })
    // then
    expect(await instanceState(result.processInstanceKey)).toBe('COMPLETED')
    expect(await elementStates(result.processInstanceKey, 'long-work')).toEqual(['TERMINATED'])
  })

  test("an interrupting escalation boundary event terminates the subprocess, so the thrower's flow does not go on", async () => {
    // given
    await deploy('escalation')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'escalation', variables: { escalationCode: 'INTERRUPT' }, requestTimeout: 5_000,
    })
    // then
    const key = result.processInstanceKey
    expect(await elementStates(key, 'interrupted')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'sub')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'sub-end')).toEqual([])
    expect(await elementStates(key, 'done')).toEqual([])
  })

  test("a non-interrupting escalation boundary event runs alongside, and the thrower's flow goes on", async () => {
    // given
    await deploy('escalation')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'escalation', variables: { escalationCode: 'NOTIFY' }, requestTimeout: 5_000,
    })
    // then
    const key = result.processInstanceKey
    expect(await elementStates(key, 'notified')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'escalate')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'sub-end')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'done')).toEqual(['COMPLETED'])
  })

  test('an uncaught escalation lets the flow go on and raises no incident', async () => {
    // given
    await deploy('escalation')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'escalation', variables: { escalationCode: 'NOBODY_LISTENS' }, requestTimeout: 5_000,
    })
    // then
    const key = result.processInstanceKey
    expect(await elementStates(key, 'done')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'interrupted')).toEqual([])
    expect(await elementStates(key, 'notified')).toEqual([])
    expect(await incidentsOf(key)).toEqual([])
  })

  test('an escalation end event is caught by a catch-all escalation boundary event', async () => {
    // given
    await deploy('escalation-end')
    // when
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'escalation-end', variables: {}, requestTimeout: 5_000 })
    // then
    expect(await elementStates(result.processInstanceKey, 'escalated')).toEqual(['COMPLETED'])
    expect(await elementStates(result.processInstanceKey, 'done')).toEqual([])
  })

  test('a signal throw event and a signal end event broadcast their signals; the throw event sends its local variables', async () => {
    // given
    await deploy('signal-throw', 'signal-catch')
    const catcher = await startInstance('signal-catch')
    await eventually(async () => expect(await elementStates(catcher, 'wait-thrown')).toEqual(['ACTIVE']))
    // when
    const thrower = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'signal-throw', variables: {}, requestTimeout: 5_000 })
    // then
    expect(await elementStates(thrower.processInstanceKey, 'end-signal')).toEqual(['COMPLETED'])
    await eventually(async () => expect(await instanceState(catcher)).toBe('COMPLETED'))
    expect(await variablesOf(catcher)).toEqual({ answer: 42 })
  })

  test('a message throw event and a message end event are jobs: the instance goes on when each job completes', async () => {
    // given
    await deploy('message-throw')
    const key = await startInstance('message-throw')
    // when
    const throwJob = await jobFor('ev-message-throw-send', key)
    expect(throwJob.elementId).toBe('send-notice')
    await client.zeebe.completeJob({ jobKey: throwJob.key, variables: { noticeSent: true } })
    const endJob = await jobFor('ev-message-end-send', key)
    expect(endJob.elementId).toBe('send-final')
    expect(await instanceState(key)).toBe('ACTIVE')
    await client.zeebe.completeJob({ jobKey: endJob.key, variables: {} })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await variablesOf(key)).toEqual({ noticeSent: true })
  })
})

// ------------------------------------------------------------------ intermediate catch events

describe('intermediate catch events', () => {
  test('timer catch events wait for a duration, a date and a FEEL duration, and never fire early', async () => {
    // given
    await deploy('timer-catch')
    const dueAt = new Date(now() + 3 * HOUR).toISOString()
    const key = await startInstance('timer-catch', { dueAt, pause: 'P2D' })
    await eventually(async () => expect(await elementStates(key, 'wait-duration')).toEqual(['ACTIVE']))
    // when
    await increaseTime(HOUR - 1_000)
    // then
    await stillAfterSettling(async () => expect(await elementStates(key, 'wait-duration')).toEqual(['ACTIVE']))
    // when the duration is over
    await increaseTime(1_000)
    // then
    await eventually(async () => expect(await elementStates(key, 'wait-date')).toEqual(['ACTIVE']))
    expect(await elementStates(key, 'wait-duration')).toEqual(['COMPLETED'])
    // when the date is reached
    await pinClockAt(Date.parse(dueAt))
    // then
    await eventually(async () => expect(await elementStates(key, 'wait-feel-duration')).toEqual(['ACTIVE']))
    // when the FEEL duration is over
    await increaseTime(2 * DAY)
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
  })
})

// ------------------------------------------------------------------ event-based gateway

describe('event-based gateway', () => {
  test('the first event wins: a message takes its branch and closes the timer and signal branches', async () => {
    // given
    await deploy('event-gateway')
    const key = await startInstance('event-gateway', { orderId: 'ebg-1' })
    await eventually(async () => expect(await elementStates(key, 'first-event')).toEqual(['ACTIVE']))
    // when
    await client.zeebe.publishMessage({ name: 'ev-gateway-message', correlationKey: 'ebg-1', timeToLive: 0, variables: { via: 'message' } })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'by-message')).toEqual(['COMPLETED'])
    expect(await variablesOf(key)).toMatchObject({ via: 'message' })
    // when the other events happen later
    await client.zeebe.broadcastSignal({ signalName: 'ev-gateway-signal', variables: {} })
    await increaseTime(11 * MINUTE)
    // then
    await stillAfterSettling(async () => {
      expect(await elementStates(key, 'wait-timer')).toEqual([])
      expect(await elementStates(key, 'wait-signal')).toEqual([])
    })
  })

  test('the first event wins: a message buffered before the gateway is reached takes its branch at once', async () => {
    // given
    await deploy('event-gateway')
    await client.zeebe.publishMessage({ name: 'ev-gateway-message', correlationKey: 'ebg-buffered', timeToLive: 10 * MINUTE, variables: { via: 'buffer' } })
    // when
    const key = await startInstance('event-gateway', { orderId: 'ebg-buffered' })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'by-message')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'first-event')).toEqual(['COMPLETED'])
    expect(await variablesOf(key)).toMatchObject({ via: 'buffer' })
  })

  test('the first event wins: a timer takes its branch and closes the message and signal branches', async () => {
    // given
    await deploy('event-gateway')
    const key = await startInstance('event-gateway', { orderId: 'ebg-2' })
    await eventually(async () => expect(await elementStates(key, 'first-event')).toEqual(['ACTIVE']))
    // when
    await increaseTime(10 * MINUTE)
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'by-timer')).toEqual(['COMPLETED'])
    // when the message comes afterwards it finds no subscription
    await expect(client.camunda.getCamundaRestClient().correlateMessage({ name: 'ev-gateway-message', correlationKey: 'ebg-2', variables: {} }))
      .rejects.toMatchObject({ response: { statusCode: 404 } })
    expect(await elementStates(key, 'wait-message')).toEqual([])
  })
})

// ------------------------------------------------------------------ boundary events

describe('boundary events on a service task', () => {
  test('an error thrown by the job triggers the interrupting error boundary event with the error variables', async () => {
    // given
    await deploy('boundary-interrupting')
    const key = await startInstance('boundary-interrupting', { orderId: 'b-error' })
    const job = await jobFor('ev-boundary-work', key)
    // when
    await client.zeebe.throwError({ jobKey: job.key, errorCode: 'WORK_FAILED', variables: { failure: { code: 17 } } })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'failed')).toEqual(['COMPLETED'])
    expect(await variablesOf(key)).toEqual({ orderId: 'b-error', failure: { code: 17 } })
  })

  test('a message interrupts the task: its job is canceled and the boundary path runs', async () => {
    // given
    await deploy('boundary-interrupting')
    const key = await startInstance('boundary-interrupting', { orderId: 'b-message' })
    const job = await jobFor('ev-boundary-work', key)
    // when
    await client.zeebe.publishMessage({ name: 'ev-boundary-cancel', correlationKey: 'b-message', timeToLive: 0, variables: { canceledBy: 'customer' } })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'canceled')).toEqual(['COMPLETED'])
    expect(await variablesOf(key)).toMatchObject({ canceledBy: 'customer' })
    expect(await grpcCode(client.zeebe.completeJob({ jobKey: job.key, variables: {} }))).toBe(GrpcStatus.NOT_FOUND)
  })

  test('a message buffered before the task starts interrupts it as soon as the boundary subscription opens', async () => {
    // given
    await deploy('boundary-interrupting')
    await client.zeebe.publishMessage({ name: 'ev-boundary-cancel', correlationKey: 'b-buffered', timeToLive: 10 * MINUTE, variables: {} })
    // when
    const key = await startInstance('boundary-interrupting', { orderId: 'b-buffered' })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'canceled')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
  })

  test('a timer interrupts the task once its duration is over', async () => {
    // given
    await deploy('boundary-interrupting')
    const key = await startInstance('boundary-interrupting', { orderId: 'b-timer' })
    await jobFor('ev-boundary-work', key)
    // when
    await increaseTime(HOUR)
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'timed-out')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
  })

  test('a signal interrupts the task', async () => {
    // given
    await deploy('boundary-interrupting')
    const key = await startInstance('boundary-interrupting', { orderId: 'b-signal' })
    await jobFor('ev-boundary-work', key)
    // when
    await client.zeebe.broadcastSignal({ signalName: 'ev-boundary-abort', variables: {} })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'aborted')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
  })

  test('non-interrupting message and signal boundary events fire every time while the task stays active', async () => {
    // given
    await deploy('boundary-non-interrupting')
    const key = await startInstance('boundary-non-interrupting', { orderId: 'b-ni-1' })
    const job = await jobFor('ev-boundary-ni-work', key)
    // when
    for (let i = 0; i < 2; i++) {
      await client.zeebe.publishMessage({ name: 'ev-boundary-remind', correlationKey: 'b-ni-1', timeToLive: 0, variables: {} })
      await client.zeebe.broadcastSignal({ signalName: 'ev-boundary-note', variables: {} })
    }
    // then
    await eventually(async () => {
      expect(await elementStates(key, 'reminded')).toEqual(['COMPLETED', 'COMPLETED'])
      expect(await elementStates(key, 'noted')).toEqual(['COMPLETED', 'COMPLETED'])
    })
    expect(await elementStates(key, 'work')).toEqual(['ACTIVE'])
    // when the task completes
    await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
    // then
    await eventually(async () => expect(await elementStates(key, 'done')).toEqual(['COMPLETED']))
  })

  test('a non-interrupting timer cycle R3/PT10M fires three times while the task is active, then stops', async () => {
    // given
    await deploy('boundary-non-interrupting')
    const key = await startInstance('boundary-non-interrupting', { orderId: 'b-ni-2' })
    await jobFor('ev-boundary-ni-work', key)
    // when
    for (let fired = 1; fired <= 3; fired++) {
      await increaseTime(10 * MINUTE)
      // then
      await eventually(async () => expect(await elementStates(key, 'ticked')).toHaveLength(fired))
    }
    await increaseTime(10 * MINUTE)
    await stillAfterSettling(async () => expect(await elementStates(key, 'ticked')).toHaveLength(3))
    expect(await elementStates(key, 'work')).toEqual(['ACTIVE'])
  })
})

// ------------------------------------------------------------------ event subprocesses

describe('event subprocesses', () => {
  test('a non-interrupting message event subprocess runs for every message; an interrupting one then terminates everything else', async () => {
    // given
    await deploy('event-subprocesses')
    const key = await startInstance('event-subprocesses', { orderId: 'esp-msg' })
    // when
    for (let i = 0; i < 2; i++) {
      await client.zeebe.publishMessage({ name: 'ev-esp-note', correlationKey: 'esp-msg', timeToLive: 0, variables: {} })
    }
    // then both run, each waiting in its own task, beside the main task
    await eventually(async () => expect(await elementStates(key, 'handle-note')).toEqual(['ACTIVE', 'ACTIVE']))
    expect(await elementStates(key, 'work')).toEqual(['ACTIVE'])
    // when
    await client.zeebe.publishMessage({ name: 'ev-esp-cancel', correlationKey: 'esp-msg', timeToLive: 0, variables: {} })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'cancel-done')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
    expect(await elementStates(key, 'esp-note')).toEqual(['TERMINATED', 'TERMINATED'])
    expect(await elementStates(key, 'handle-note')).toEqual(['TERMINATED', 'TERMINATED'])
  })

  test('a non-interrupting timer cycle event subprocess repeats, with one catch-up after a long jump, until an interrupting timer ends the instance', async () => {
    // given
    await deploy('event-subprocesses')
    const key = await startInstance('event-subprocesses', { orderId: 'esp-timer' })
    await eventually(async () => expect(await elementStates(key, 'work')).toEqual(['ACTIVE']))
    // when
    await increaseTime(HOUR)
    await eventually(async () => expect(await elementStates(key, 'tick-done')).toEqual(['COMPLETED']))
    await increaseTime(HOUR)
    // then
    await eventually(async () => expect(await elementStates(key, 'tick-done')).toEqual(['COMPLETED', 'COMPLETED']))
    expect(await instanceState(key)).toBe('ACTIVE')
    // when the clock jumps past the one-day timer and many hourly ticks
    await increaseTime(DAY)
    // then the hourly timer fires once (catch-up), and the interrupting timer ends the instance
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'timeout-done')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'tick-done')).toHaveLength(3)
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
  })

  test('an interrupting signal event subprocess terminates the task and completes the instance', async () => {
    // given
    await deploy('event-subprocesses')
    const key = await startInstance('event-subprocesses', { orderId: 'esp-signal' })
    await eventually(async () => expect(await elementStates(key, 'work')).toEqual(['ACTIVE']))
    // when
    await client.zeebe.broadcastSignal({ signalName: 'ev-esp-abort', variables: { abortedBy: 'operator' } })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'abort-done')).toEqual(['COMPLETED'])
    expect(await elementStates(key, 'work')).toEqual(['TERMINATED'])
    expect(await variablesOf(key)).toMatchObject({ abortedBy: 'operator' })
  })
})
