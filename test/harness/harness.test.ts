/**
 * The process-test harness tested on small models: every matcher passes when the instance did
 * what it says, and fails with a report of what the instance actually did.
 */
import { join } from 'node:path'
import { processHarness, type ProcessHarness } from '../support/process-harness'

const BPMN = join(__dirname, '..', 'fixtures', 'bpmn')
const FORMS = join(__dirname, '..', 'support', 'forms')

/** Failing assertions wait this long, so the suite stays quick. */
const FAIL_FAST = { timeoutMs: 400 }

let h: ProcessHarness
let orderSeq = 0

/** A business key unique within the run. */
function orderId(): string {
  orderSeq += 1
  return `order-${process.pid}-${Date.now()}-${orderSeq}`
}

beforeEach(async () => {
  h = await processHarness()
  await h.deploy(
    join(FORMS, 'ph-review-form.form'),
    join(BPMN, 'harness/review-process.bpmn'),
    join(BPMN, 'harness/payment.bpmn'),
    join(BPMN, 'harness/delivery.bpmn'),
    join(BPMN, 'harness/two-timers.bpmn'),
  )
})

afterEach(async () => {
  await h.close()
})

describe('instance state', () => {
  test('toBeActive passes for a started instance that waits', async () => {
    // given / when
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    // then
    await h.expectInstance(review).toBeActive()
  })

  test('toBeCompleted fails on a waiting instance, reporting its state, path and where it waits', async () => {
    // given an instance waiting at its user task
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.expectInstance(review).toBeWaitingAt('review')
    // when / then
    const failure = h.expectInstance(review, FAIL_FAST).toBeCompleted()
    await expect(failure).rejects.toThrow(`Expected process instance ${review.processInstanceKey} of 'review-process' to be COMPLETED, but it is ACTIVE`)
    await expect(failure).rejects.toThrow('path taken: start -> review (active)')
    await expect(failure).rejects.toThrow('waiting at: review')
    await expect(failure).rejects.toThrow('incidents: none')
  })

  test('toBeTerminated passes after cancellation and fails on a completed instance', async () => {
    // given one canceled and one rejected (completed) review
    const canceled = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.expectInstance(canceled).toBeWaitingAt('review')
    await h.camunda.getZeebeGrpcApiClient().cancelProcessInstance(canceled.processInstanceKey)
    const rejected = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.completeUserTask(rejected, 'review', { approved: false })
    // then
    await h.expectInstance(canceled).toBeTerminated()
    await h.expectInstance(rejected).toBeCompleted()
    await expect(h.expectInstance(rejected, FAIL_FAST).toBeTerminated())
      .rejects.toThrow(/to be TERMINATED, but it is COMPLETED[\s\S]*path taken: start -> review -> approved -> rejected/)
  })

  test('toBeActive fails on a completed instance', async () => {
    // given a rejected review, which completes
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.completeUserTask(review, 'review', { approved: false })
    await h.expectInstance(review).toBeCompleted()
    // then
    await expect(h.expectInstance(review, FAIL_FAST).toBeActive()).rejects.toThrow('to be ACTIVE, but it is COMPLETED')
  })
})

describe('elements', () => {
  test('toBeWaitingAt fails naming the element the instance actually waits at', async () => {
    // given an instance waiting at review
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    // when / then
    const failure = h.expectInstance(review, FAIL_FAST).toBeWaitingAt('ship')
    await expect(failure).rejects.toThrow("to be waiting at 'ship', but it is not waiting at 'ship'")
    await expect(failure).rejects.toThrow('waiting at: review')
  })

  test('toHaveCompletedElements and toHaveCompletedElementsInOrder pass on the approved path', async () => {
    // given an approved order and a shipping worker
    h.mockJobWorker('ph-ship').thenComplete({ shipmentId: 'S-1' })
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    // when
    await h.completeUserTask(review, 'review', { approved: true })
    // then
    await h.expectInstance(review).toBeCompleted()
    await h.expectInstance(review).toHaveCompletedElements('ship', 'review', 'shipped')
    await h.expectInstance(review).toHaveCompletedElementsInOrder('start', 'review', 'approved', 'ship', 'shipped')
    await h.expectInstance(review).toHaveVariable('shipmentId', 'S-1')
  })

  test('toHaveCompletedElements fails naming the missing element and the path actually taken', async () => {
    // given a rejected order
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.completeUserTask(review, 'review', { approved: false })
    await h.expectInstance(review).toBeCompleted()
    // when / then
    const failure = h.expectInstance(review, FAIL_FAST).toHaveCompletedElements('review', 'ship')
    await expect(failure).rejects.toThrow("but 'ship' did not complete")
    await expect(failure).rejects.toThrow('path taken: start -> review -> approved -> rejected')
  })

  test('toHaveCompletedElementsInOrder fails on the wrong order, reporting the completion order', async () => {
    // given a rejected order
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.completeUserTask(review, 'review', { approved: false })
    await h.expectInstance(review).toBeCompleted()
    // when / then
    await expect(h.expectInstance(review, FAIL_FAST).toHaveCompletedElementsInOrder('approved', 'review'))
      .rejects.toThrow('but the completion order is start, review, approved, rejected')
  })
})

describe('variables', () => {
  test('toHaveVariable compares JSON values deeply', async () => {
    // given
    const id = orderId()
    const review = await h.startProcess('review-process', { orderId: id, reviewer: 'ann', lines: [{ sku: 'A', qty: 2 }] })
    // then
    await h.expectInstance(review).toHaveVariable('orderId', id)
    await h.expectInstance(review).toHaveVariable('lines', [{ sku: 'A', qty: 2 }])
  })

  test('toHaveVariable fails with the actual value, and lists the variables', async () => {
    // given
    const review = await h.startProcess('review-process', { orderId: 'o-1', reviewer: 'ann' })
    // when / then
    const wrongValue = h.expectInstance(review, FAIL_FAST).toHaveVariable('reviewer', 'bob')
    await expect(wrongValue).rejects.toThrow('to have variable reviewer="bob", but reviewer is "ann"')
    await expect(wrongValue).rejects.toThrow('variables: orderId="o-1", reviewer="ann"')
    await expect(h.expectInstance(review, FAIL_FAST).toHaveVariable('approved', true))
      .rejects.toThrow("but it has no process variable 'approved'")
  })
})

describe('user tasks', () => {
  test('userTask returns the task with its assignee, candidate groups, due date and linked form', async () => {
    // given
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    // when
    const task = await h.userTask(review, 'review')
    // then
    expect(task).toMatchObject({
      elementId: 'review',
      name: 'Review the order',
      state: 'CREATED',
      assignee: 'ann',
      candidateGroups: ['sales', 'managers'],
      dueDate: '2030-01-15T10:00:00.000Z',
      processInstanceKey: review.processInstanceKey,
    })
    expect(task.formKey).toMatch(/^\d+$/)
  })

  test('userTask fails with a report when the instance never reaches the task', async () => {
    // given an instance waiting at review, not at ship
    const review = await h.startProcess('review-process', { orderId: orderId(), reviewer: 'ann' })
    await h.expectInstance(review).toBeWaitingAt('review')
    // when / then
    await expect(h.userTask(review, 'ship', FAIL_FAST)).rejects.toThrow(/a created user task at 'ship', but there is none[\s\S]*waiting at: review/)
  })
})

describe('job workers and incidents', () => {
  test('thenFail raises a JOB_NO_RETRIES incident, which toHaveIncident sees', async () => {
    // given a charging worker that fails
    h.mockJobWorker('ph-charge').thenFail('card service down')
    // when
    const payment = await h.startProcess('payment', { orderId: orderId() })
    // then
    await h.expectInstance(payment).toHaveIncident('JOB_NO_RETRIES')
    await h.expectInstance(payment).toBeWaitingAt('charge')
  })

  test('toHaveNoIncidents and toBeCompleted fail naming the incident type and message', async () => {
    // given an instance with an incident
    h.mockJobWorker('ph-charge').thenFail('card service down')
    const payment = await h.startProcess('payment', { orderId: orderId() })
    await h.expectInstance(payment).toHaveIncident('JOB_NO_RETRIES')
    // when / then
    await expect(h.expectInstance(payment, FAIL_FAST).toHaveNoIncidents())
      .rejects.toThrow("to have no active incident, but it has JOB_NO_RETRIES at 'charge'")
    const failure = h.expectInstance(payment, FAIL_FAST).toBeCompleted()
    await expect(failure).rejects.toThrow("JOB_NO_RETRIES at 'charge': card service down")
    await expect(failure).rejects.toThrow('path taken: start -> charge (active)')
  })

  test('toHaveIncident fails when there is none; toHaveNoIncidents passes', async () => {
    // given a charging worker that succeeds
    const worker = h.mockJobWorker('ph-charge').thenComplete({ receipt: 'R-1' })
    const payment = await h.startProcess('payment', { orderId: orderId() })
    // then
    await h.expectInstance(payment).toBeCompleted()
    await h.expectInstance(payment).toHaveNoIncidents()
    await h.expectInstance(payment).toHaveCompletedElements('charge', 'paid')
    expect(worker.handledJobs.map((j) => j.elementId)).toEqual(['charge'])
    await expect(h.expectInstance(payment, FAIL_FAST).toHaveIncident('JOB_NO_RETRIES'))
      .rejects.toThrow('to have an active JOB_NO_RETRIES incident, but it has no active incident')
  })

  test('thenThrowBpmnError is caught by the error boundary event, with its variables', async () => {
    // given a charging worker whose card is declined
    h.mockJobWorker('ph-charge').thenThrowBpmnError('CARD_DECLINED', { declineReason: 'insufficient funds' })
    // when
    const payment = await h.startProcess('payment', { orderId: orderId() })
    // then
    await h.expectInstance(payment).toBeCompleted()
    await h.expectInstance(payment).toHaveCompletedElementsInOrder('declined', 'not-paid')
    await h.expectInstance(payment).toHaveVariable('declineReason', 'insufficient funds')
  })
})

describe('messages', () => {
  test('publishMessage correlates by key and merges its variables', async () => {
    // given an instance waiting for its delivery
    const id = orderId()
    const delivery = await h.startProcess('delivery', { orderId: id })
    await h.expectInstance(delivery).toBeWaitingAt('await-delivery')
    // when
    await h.publishMessage('ph-delivered', id, { signedBy: 'Dana' })
    // then
    await h.expectInstance(delivery).toBeCompleted()
    await h.expectInstance(delivery).toHaveVariable('signedBy', 'Dana')
  })
})

describe('the clock', () => {
  test('clock jumps fire a P2D and a P6M timer, in order', async () => {
    // given both timers armed
    const timers = await h.startProcess('two-timers', { firedOrder: [] })
    await h.expectInstance(timers).toBeWaitingAt('wait-2d', 'wait-6m')
    // when two days pass
    await h.increaseTime('P2DT1M')
    // then only the two-day timer fired
    await h.expectInstance(timers).toHaveCompletedElements('wait-2d', 'mark-2d')
    await h.expectInstance(timers).toBeWaitingAt('wait-6m')
    // when six months pass
    await h.increaseTime('P6M')
    // then the six-month timer fired after it
    await h.expectInstance(timers).toBeCompleted()
    await h.expectInstance(timers).toHaveCompletedElementsInOrder('wait-2d', 'mark-2d', 'wait-6m', 'mark-6m', 'end')
    await h.expectInstance(timers).toHaveVariable('firedOrder', ['2d', '6m'])
  })

  test('one jump past both due dates fires the P2D timer before the P6M timer', async () => {
    // given both timers armed; the six-month one was activated first
    const timers = await h.startProcess('two-timers', { firedOrder: [] })
    await h.expectInstance(timers).toBeWaitingAt('wait-2d', 'wait-6m')
    // when seven months pass at once
    await h.increaseTime('P7M')
    // then they fired in due order
    await h.expectInstance(timers).toBeCompleted()
    await h.expectInstance(timers).toHaveVariable('firedOrder', ['2d', '6m'])
    await h.expectInstance(timers).toHaveCompletedElementsInOrder('mark-2d', 'mark-6m')
  })

  test('a timer does not fire before its due date', async () => {
    // given both timers armed
    const timers = await h.startProcess('two-timers', { firedOrder: [] })
    await h.expectInstance(timers).toBeWaitingAt('wait-2d', 'wait-6m')
    // when a day and 23 hours pass
    const before = h.now()
    await h.increaseTime('P1DT23H')
    // then the clock moved by exactly that, and nothing fired
    expect(h.now() - before).toBe((24 + 23) * 3600_000)
    await expect(h.expectInstance(timers, FAIL_FAST).toHaveCompletedElements('wait-2d'))
      .rejects.toThrow(/'wait-2d' did not complete[\s\S]*waiting at: (wait-6m, wait-2d|wait-2d, wait-6m)/)
  })
})
