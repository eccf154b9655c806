/**
 * Message correlation, timers and signal broadcast on the embedded engine, driven through the
 * real @camunda8/sdk (engine-semantics §8, §9, §10.6). State the gRPC API does not expose is read
 * from the REST /v2 search endpoints; time moves only through PUT /v2/clock.
 */
import {
  DAY, GrpcStatus, HOUR, MINUTE, engineTestKit, eventually, grpcCode, stillAfterSettling,
} from '../support/engine-test-kit'
import { subIndexKey } from '../../src/engine/runtime/runtime-state'
import { hash30 } from '../../src/engine/state/key-index'

/** The longest delay setTimeout honours; a longer one fires after 1 ms. */
const MAX_TIMEOUT = 2 ** 31 - 1

const {
  client, deploy, startInstance, increaseTime, pinClockAt, now, instanceState, instancesOf, elementStates, variablesOf, jobFor,
} = engineTestKit({ worker: 'messages-timers-test', pinClock: true })

function publishPayment(correlationKey: string, timeToLive: number, variables: Record<string, number | boolean> = {}, messageId?: string) {
  return client.zeebe.publishMessage({ name: 'ev-payment', correlationKey, timeToLive, variables, ...(messageId ? { messageId } : {}) })
}

/** Two correlation keys of `messageName` (default tenant) whose entries in the subscription index have the same hash. */
function collidingCorrelationKeys(messageName: string): [string, string] {
  const seen = new Map<number, string>()
  for (let i = 0; ; i++) {
    const key = `mt-hash-${i}`
    const hash = hash30(subIndexKey(messageName, key, '<default>'))
    const earlier = seen.get(hash)
    if (earlier !== undefined) return [earlier, key]
    seen.set(hash, key)
  }
}

// ------------------------------------------------------------------ messages

describe('messages', () => {
  test('a message published with a TTL is buffered, and correlates when a subscription opens later', async () => {
    // given
    await deploy('message-catch', 'message-late')
    await publishPayment('mt-buffer-1', 10 * MINUTE, { amount: 12.5 })
    // when an instance reaches the catch event after the publication
    const key = await startInstance('message-catch', { orderId: 'mt-buffer-1' })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await variablesOf(key)).toEqual({ orderId: 'mt-buffer-1', amount: 12.5 })

    // given an instance that is busy elsewhere when the message arrives
    const late = await startInstance('message-late', { orderId: 'mt-buffer-2' })
    const job = await jobFor('ev-message-late-prepare', late)
    await publishPayment('mt-buffer-2', 10 * MINUTE, { amount: 3 })
    await stillAfterSettling(async () => expect(await instanceState(late)).toBe('ACTIVE'))
    // when its subscription opens
    await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
    // then
    await eventually(async () => expect(await instanceState(late)).toBe('COMPLETED'))
    expect(await variablesOf(late)).toMatchObject({ amount: 3 })
  })

  test('two subscriptions whose correlation keys share a hash in the engine\'s index each get only their own message', async () => {
    // given two correlation keys whose index entries hash alike (found by trying names in order),
    // each awaited by an instance of its own process (a message goes to each process once)
    const [first, second] = collidingCorrelationKeys('ev-payment')
    await deploy('message-catch', 'message-catch-other')
    const a = await startInstance('message-catch', { orderId: first })
    const b = await startInstance('message-catch-other', { orderId: second })
    await eventually(async () => expect([await elementStates(a, 'wait-payment'), await elementStates(b, 'wait-payment')]).toEqual([['ACTIVE'], ['ACTIVE']]))
    // when the first one's message comes
    await publishPayment(first, 0, { paid: 1 })
    // then only the first instance takes it
    await eventually(async () => expect(await instanceState(a)).toBe('COMPLETED'))
    await stillAfterSettling(async () => expect(await elementStates(b, 'wait-payment')).toEqual(['ACTIVE']))
    // when the second one's message comes, the second takes it
    await publishPayment(second, 0, { paid: 2 })
    await eventually(async () => expect(await instanceState(b)).toBe('COMPLETED'))
    expect([await variablesOf(a), await variablesOf(b)]).toEqual([{ orderId: first, paid: 1 }, { orderId: second, paid: 2 }])
  })

  test('a message published with TTL 0 is not buffered', async () => {
    // given
    await deploy('message-catch')
    await publishPayment('mt-ttl-0', 0, { attempt: 1 })
    // when
    const key = await startInstance('message-catch', { orderId: 'mt-ttl-0' })
    // then
    await eventually(async () => expect(await elementStates(key, 'wait-payment')).toEqual(['ACTIVE']))
    await stillAfterSettling(async () => expect(await elementStates(key, 'wait-payment')).toEqual(['ACTIVE']))
    // when a message comes while the instance waits
    await publishPayment('mt-ttl-0', 0, { attempt: 2 })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await variablesOf(key)).toMatchObject({ attempt: 2 })
  })

  test('a message correlates to at most one instance per BPMN process id, and to each process id once', async () => {
    // given two waiting instances of one process and one of another, all on the same key
    await deploy('message-catch', 'message-catch-other')
    const first = await startInstance('message-catch', { orderId: 'mt-once' })
    const second = await startInstance('message-catch', { orderId: 'mt-once' })
    const other = await startInstance('message-catch-other', { orderId: 'mt-once' })
    await eventually(async () => expect(await elementStates(second, 'wait-payment')).toEqual(['ACTIVE']))
    // when one buffered message is published
    await publishPayment('mt-once', 10 * MINUTE)
    // then one instance of each process id receives it
    await eventually(async () => expect(await instanceState(other)).toBe('COMPLETED'))
    await stillAfterSettling(async () => {
      const states = [await instanceState(first), await instanceState(second)]
      expect(states.sort()).toEqual(['ACTIVE', 'COMPLETED'])
    })
    // when a second message comes
    await publishPayment('mt-once', 10 * MINUTE)
    // then the other instance receives it
    await eventually(async () => {
      expect(await instanceState(first)).toBe('COMPLETED')
      expect(await instanceState(second)).toBe('COMPLETED')
    })
  })

  test('a buffered message is not correlated again to the same process when its next subscription opens', async () => {
    // given
    await deploy('message-twice')
    const key = await startInstance('message-twice', { orderId: 'mt-twice' })
    // when
    await publishPayment('mt-twice', 10 * MINUTE, { payment: 1 })
    // then the first catch event takes it, the second keeps waiting though the message is still buffered
    await eventually(async () => expect(await elementStates(key, 'second-payment')).toEqual(['ACTIVE']))
    await stillAfterSettling(async () => expect(await elementStates(key, 'second-payment')).toEqual(['ACTIVE']))
    // when
    await publishPayment('mt-twice', 10 * MINUTE, { payment: 2 })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await variablesOf(key)).toMatchObject({ payment: 2 })
  })

  test('a messageId is refused with ALREADY_EXISTS while a message with that id is buffered, and reusable after it expired', async () => {
    // given
    await publishPayment('mt-id-1', 5 * MINUTE, {}, 'payment-77')
    // when the same id is published again for the same name and key
    const code = await grpcCode(publishPayment('mt-id-1', 5 * MINUTE, {}, 'payment-77'))
    // then
    expect(code).toBe(GrpcStatus.ALREADY_EXISTS)
    // and another correlation key, or no id, is a different message
    await expect(publishPayment('mt-id-2', 5 * MINUTE, {}, 'payment-77')).resolves.toBeDefined()
    await expect(publishPayment('mt-id-1', 5 * MINUTE)).resolves.toBeDefined()
    // when the buffered message expires
    await increaseTime(5 * MINUTE + 1_000)
    // then its id is free again
    await eventually(async () => expect(publishPayment('mt-id-1', 5 * MINUTE, {}, 'payment-77')).resolves.toBeDefined())
  })

  test('a correlation key expression that yields a number matches the message correlation key of its decimal string', async () => {
    // given
    await deploy('message-catch')
    const key = await startInstance('message-catch', { orderId: 12345 })
    await eventually(async () => expect(await elementStates(key, 'wait-payment')).toEqual(['ACTIVE']))
    // when
    await publishPayment('12345', 0, { paid: true })
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await variablesOf(key)).toEqual({ orderId: 12345, paid: true })
  })
})

// ------------------------------------------------------------------ timers

describe('timers', () => {
  test('a six-month timer fires when the clock is moved past it, and no setTimeout over 2^31-1 ms is ever requested', async () => {
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout')
    try {
      // given
      await deploy('timer-long')
      const key = await startInstance('timer-long')
      await eventually(async () => expect(await elementStates(key, 'wait-six-months')).toEqual(['ACTIVE']))
      // when a month passes
      await increaseTime(31 * DAY)
      // then it still waits
      await stillAfterSettling(async () => expect(await elementStates(key, 'wait-six-months')).toEqual(['ACTIVE']))
      // when the clock moves past six months
      await increaseTime(160 * DAY)
      // then
      await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
      const delays = setTimeoutSpy.mock.calls.map((call) => call[1] ?? 0)
      expect(delays.filter((ms) => ms > MAX_TIMEOUT)).toEqual([])
    } finally {
      setTimeoutSpy.mockRestore()
    }
  })

  test('after a clock jump, a timer whose date has already passed fires at once, not when an earlier wake-up was planned', async () => {
    // given an instance waiting an hour of engine time, then the clock moved past it
    await deploy('timer-date-first')
    const first = await startInstance('timer-date-first', { dueAt: new Date(now() + HOUR).toISOString() })
    await increaseTime(2 * HOUR)
    await eventually(async () => expect(await instanceState(first)).toBe('COMPLETED'))
    // when an instance starts with a date that has already passed
    const second = await startInstance('timer-date-first', { dueAt: new Date(now() - MINUTE).toISOString() })
    // then it does not wait for the wake-up planned an hour of real time after the first one
    await eventually(async () => expect(await instanceState(second)).toBe('COMPLETED'))
  })

  test('a cron timeCycle start event fires at 09:00 on weekdays only, with one catch-up fire after a jump', async () => {
    // given the clock at 08:00 on Monday 2035-01-01 when the process is deployed
    await pinClockAt(Date.parse('2035-01-01T08:00:00Z'))
    await deploy('timer-cron')
    const count = async () => (await instancesOf('timer-cron')).length
    // when
    await pinClockAt(Date.parse('2035-01-01T09:00:00Z'))
    // then
    await eventually(async () => expect(await count()).toBe(1))
    // when
    await pinClockAt(Date.parse('2035-01-02T09:00:01Z'))
    // then
    await eventually(async () => expect(await count()).toBe(2))
    // when the clock jumps from Tuesday to Saturday, past Wednesday, Thursday and Friday
    await pinClockAt(Date.parse('2035-01-05T10:00:00Z'))
    // then the overdue timer fires once
    await eventually(async () => expect(await count()).toBe(3))
    // when Sunday comes
    await pinClockAt(Date.parse('2035-01-06T10:00:00Z'))
    // then nothing fires
    await stillAfterSettling(async () => expect(await count()).toBe(3))
    // when Monday 09:00 comes
    await pinClockAt(Date.parse('2035-01-08T09:00:00Z'))
    // then
    await eventually(async () => expect(await count()).toBe(4))
  })

  test('when the clock jumps past several timers they fire in due order', async () => {
    // given timers of 3h, 1h and 2h, armed in that order
    await deploy('timer-order')
    const result = client.zeebe.createProcessInstanceWithResult({
      bpmnProcessId: 'timer-order', variables: { runRef: 'order-1', fired: [] }, requestTimeout: 10_000,
    })
    await eventually(async () => {
      const [instance] = await instancesOf('timer-order', { name: 'runRef', value: 'order-1' })
      expect(instance).toBeDefined()
      expect(await elementStates(instance.processInstanceKey, 'wait-2h')).toEqual(['ACTIVE'])
    })
    // when
    await increaseTime(4 * HOUR)
    // then
    const { variables } = await result
    expect(variables.fired).toEqual(['1h', '2h', '3h'])
  })
})

// ------------------------------------------------------------------ signals

describe('signals', () => {
  test('a signal reaches every waiting catch event, boundary event and signal start event, and is not buffered', async () => {
    // given
    await deploy('signal-broadcast-start', 'signal-broadcast-catch', 'signal-broadcast-boundary')
    await client.zeebe.broadcastSignal({ signalName: 'ev-broadcast', variables: { wave: 1 } })
    await eventually(async () => expect(await instancesOf('signal-broadcast-start')).toHaveLength(1))
    const catchers = [await startInstance('signal-broadcast-catch'), await startInstance('signal-broadcast-catch')]
    const guarded = await startInstance('signal-broadcast-boundary')
    await eventually(async () => expect(await elementStates(guarded, 'work')).toEqual(['ACTIVE']))
    // then the first signal was not kept for them
    await stillAfterSettling(async () => {
      for (const key of catchers) expect(await elementStates(key, 'wait-signal')).toEqual(['ACTIVE'])
    })
    // when
    await client.zeebe.broadcastSignal({ signalName: 'ev-broadcast', variables: { wave: 2 } })
    // then
    await eventually(async () => {
      for (const key of [...catchers, guarded]) expect(await instanceState(key)).toBe('COMPLETED')
    })
    for (const key of catchers) expect(await variablesOf(key)).toEqual({ wave: 2 })
    expect(await elementStates(guarded, 'interrupted')).toEqual(['COMPLETED'])
    const started = await instancesOf('signal-broadcast-start')
    expect(started).toHaveLength(2)
    expect(started.map((i) => i.state)).toEqual(['COMPLETED', 'COMPLETED'])
  })
})
