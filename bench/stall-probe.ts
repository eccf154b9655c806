/**
 * A stall probe for bench/engine.ts, in a process of its own so that the bench's client work does
 * not delay it: polls GET /v2/topology every 20 ms and reports how long the answers took. An
 * answer that takes over 100 ms means the engine's event loop stalled (issue 19: persisting must
 * not stop the engine).
 *
 * Usage: forked with the REST port as its argument; IPC `{ type: 'report' }` answers with the
 * figures since the last report.
 */
const port = Number(process.argv[2])
const INTERVAL_MS = 20

let latencies: number[] = []
let failures = 0
/** the polls over 100 ms: when they were sent (ms since the epoch) and how long they took */
let slow: { at: number; ms: number }[] = []

async function poll(): Promise<void> {
  for (;;) {
    const started = performance.now()
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/topology`)
      await response.arrayBuffer()
      if (!response.ok) failures++
    } catch {
      failures++
    }
    const took = performance.now() - started
    latencies.push(took)
    if (took > 100 && slow.length < 10_000) slow.push({ at: performance.timeOrigin + started, ms: took })
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, INTERVAL_MS - took)))
  }
}

process.on('message', (message: { type: string }) => {
  if (message.type !== 'report') return
  const sorted = [...latencies].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
  process.send?.({
    type: 'report', polls: sorted.length, failures, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN,
    over50: sorted.filter((t) => t > 50).length, over100: sorted.filter((t) => t > 100).length, slow,
  })
  latencies = []
  failures = 0
  slow = []
})
process.on('disconnect', () => process.exit(0))

void poll()
process.send?.({ type: 'ready', grpcPort: 0 })
