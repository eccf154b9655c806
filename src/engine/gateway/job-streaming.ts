/**
 * The two ways jobs leave the gateway: ActivateJobs, which long-polls until jobs appear or its
 * request timeout passes, and StreamActivatedJobs, which pushes jobs as the engine activates them
 * for as long as the client listens.
 */
import type { ActivateJobsInput, ActivatedJob, EngineApi } from '../api'
import { toServiceError } from './errors'
import type { GatewayStream } from './gateway-thread'
import { activateJobsInput, jobStreamInput, type ActivateJobsRequest, type StreamActivatedJobsRequest } from './requests'
import { toGrpcJob } from './responses'

/** Default long-poll duration when ActivateJobs carries requestTimeout 0 (Zeebe's default). */
const DEFAULT_LONG_POLL_MS = 10_000

/**
 * The official Node SDK (@camunda8/sdk 8.8, GrpcClient) stops reading a long poll at its
 * requestTimeout + 1 s without cancelling the call: jobs written after that are never seen, and
 * would stay with no worker until their timeout. An answer not ready within requestTimeout + this
 * margin after the request arrived (the event loop was held up) yields its jobs back instead.
 */
const LATE_ANSWER_MARGIN_MS = 500

/** What the streaming calls share with the gateway that runs them. */
export interface StreamingContext {
  engine: EngineApi
  /** Pending long polls and streams: the gateway's close() settles each of them. */
  pending: Set<() => void>
  /** true once the gateway is closing: new calls end at once. */
  closing(): boolean
  /** The log position a job pushed now waits for in the gateway thread; undefined: the engine waits itself. */
  afterCommit(): number | undefined
}

function failCall(call: GatewayStream, error: unknown, method: string): void {
  const { code, details } = toServiceError(error, method)
  call.emit('error', { code, details })
}

/** ActivateJobs: answers with the jobs activatable now, or waits for some until the request timeout. */
export function activateJobs(context: StreamingContext, call: GatewayStream): void {
  const { engine, pending } = context
  const method = 'ActivateJobs'
  const fail = (error: unknown) => failCall(call, error, method)
  let input: ActivateJobsInput
  let requestTimeout: number
  try {
    ({ input, requestTimeout } = activateJobsInput(call.request as ActivateJobsRequest))
  } catch (error) {
    fail(error)
    return
  }

  const arrivedAt = performance.now()
  const pastDeadline = (margin: number) => requestTimeout > 0 && performance.now() - arrivedAt >= requestTimeout + margin
  let finished = false
  // Set once the call starts waiting; finish() may run before that.
  const waiting: { unsubscribe?: () => void; timer?: NodeJS.Timeout } = {}
  let scheduled = false
  const finish = (jobs: ActivatedJob[]) => {
    if (finished) return
    finished = true
    cleanup()
    if (jobs.length === 0) { call.end(); return }
    // Hand jobs out only once their activation is durable.
    engine.whenDurable().then(() => {
      if (call.cancelled || call.destroyed || pastDeadline(LATE_ANSWER_MARGIN_MS)) {
        engine.yieldJobs(jobs.map((job) => job.key))
        call.end()
        return
      }
      call.write({ jobs: jobs.map(toGrpcJob) })
      call.end()
    }, fail)
  }
  const cleanup = () => {
    waiting.unsubscribe?.()
    clearTimeout(waiting.timer)
    pending.delete(endNow)
  }
  const endNow = () => finish([])
  const tryActivate = (): boolean => {
    // The poll's time is up, though its timer has not run yet: it answers empty, as it would have.
    if (pastDeadline(0)) {
      finish([])
      return true
    }
    const jobs = engine.activateJobs(input)
    if (jobs.length > 0 || requestTimeout < 0) {
      finish(jobs)
      return true
    }
    return false
  }

  try {
    if (context.closing() || tryActivate()) return
  } catch (error) {
    finished = true
    fail(error)
    return
  }
  pending.add(endNow)
  call.on('cancelled', () => {
    finished = true
    cleanup()
  })
  waiting.timer = setTimeout(endNow, requestTimeout === 0 ? DEFAULT_LONG_POLL_MS : requestTimeout)
  // The engine may signal from inside a command: activate after that command has returned.
  waiting.unsubscribe = engine.onJobsAvailable(input.type, () => {
    if (finished || scheduled) return
    scheduled = true
    queueMicrotask(() => {
      scheduled = false
      if (finished) return
      try {
        tryActivate()
      } catch (error) {
        finished = true
        cleanup()
        fail(error)
      }
    })
  })
}

/** StreamActivatedJobs: registers a job stream with the engine until the client goes away. */
export function streamActivatedJobs(context: StreamingContext, call: GatewayStream): void {
  const { engine, pending } = context
  let closed = false
  let remove: (() => void) | undefined
  const stop = () => {
    if (closed) return
    closed = true
    remove?.()
    pending.delete(endStream)
  }
  const endStream = () => {
    if (closed) return
    stop()
    call.end()
  }
  try {
    const stream = jobStreamInput(call.request as StreamActivatedJobsRequest)
    if (context.closing()) {
      call.end()
      return
    }
    call.on('cancelled', stop)
    call.on('close', stop)
    call.on('error', stop)
    pending.add(endStream)
    const holdsUntilCommitted = context.afterCommit() !== undefined
    remove = engine.addJobStream({
      ...stream,
      holdsUntilCommitted,
      push(job) {
        if (closed || call.cancelled || call.destroyed) return false
        call.write(toGrpcJob(job), context.afterCommit())
        return true
      },
    })
    if (closed) remove()
  } catch (error) {
    stop()
    failCall(call, error, 'StreamActivatedJobs')
  }
}
