import { stat } from 'node:fs'

/**
 * The engine's threads name themselves, so that `top -H`, `ps -L` and /proc tell them apart from
 * the event loop's (which keeps the process's name) and from V8's and libuv's own: an operator
 * sees which one uses the CPU, and `npm run bench:engine` splits the engine's CPU time by thread.
 *
 * On Linux, a thread may write its own name (15 bytes at most) to /proc/thread-self/comm;
 * elsewhere, or without /proc, the thread keeps its name and nothing else changes.
 */
let poolStarted = false

/**
 * To be called before a named thread starts. A thread inherits the name of the thread that
 * creates it, and libuv creates its pool's threads in the first thread that queues work there
 * (the schema thread's `import()` would): the event loop queues a no-op first, so that the pool's
 * threads keep the process's name and their CPU is not counted as a named thread's.
 */
export function startSharedPoolFirst(): void {
  if (poolStarted) return
  poolStarted = true
  stat(process.execPath, () => undefined)
}

export const THREAD_NAMES = { gateway: 'raccord-grpc', log: 'raccord-log', writer: 'raccord-writer', schema: 'raccord-xsd' } as const

/** A line of JavaScript, for the source a worker thread evaluates, that gives the thread `name`. */
export function nameThreadSource(name: (typeof THREAD_NAMES)[keyof typeof THREAD_NAMES]): string {
  return `try { require('node:fs').writeFileSync('/proc/thread-self/comm', ${JSON.stringify(name)}) } catch {}`
}
