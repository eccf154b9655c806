/**
 * The engine's threads carry names (issue #19): an operator's `top -H` tells the gRPC, writer and
 * schema threads from the event loop and from V8's and libuv's threads, and the benchmark splits
 * the engine's CPU time by them. A thread inherits its creator's name, so libuv's pool must be
 * started by the event loop, not by the schema thread's `import()`: else four pool threads would
 * pass for the schema thread. Linux only (/proc): elsewhere the threads keep their names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { engineProcessKit } from '../support/engine-process'

jest.setTimeout(60_000)

const MODEL = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')
const kit = engineProcessKit('thread-names')
afterEach(() => kit.stop('SIGTERM'))

/** The nice value of each named thread of process `pid` (field 19 of its stat), by name; the event loop as `node`. */
function niceByName(pid: number): Record<string, number> {
  const nice: Record<string, number> = {}
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    const name = tid === String(pid) ? 'node' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    if (name === 'node' || name.startsWith('raccord-')) nice[name] = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
  }
  return nice
}

/** The name of each thread of process `pid`, sorted. */
function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()).sort()
}

const onLinux = existsSync('/proc/self/task')

;(onLinux ? test : test.skip)('the gRPC, log, writer and schema threads are named once each, and no other thread takes their names', async () => {
  // given an engine process with a data dir
  const client = await kit.start()

  // when a deployment has the schema thread start (and load its module)
  await client.zeebe.deployResource({ processFilename: MODEL })

  // then each named thread is there exactly once, and the process's other threads keep its name
  const names = threadNames(kit.engine.pid)
  const named = names.filter((name) => name.startsWith('raccord-'))
  expect(named).toEqual(['raccord-grpc', 'raccord-log', 'raccord-writer', 'raccord-xsd'])
  expect(names.length).toBeGreaterThan(named.length)
  expect(readFileSync(`/proc/${kit.engine.pid}/comm`, 'utf8').trim()).toBe('node')
})

;(onLinux ? test : test.skip)('the state thread runs below the threads that answer clients (nice 10); the log thread, which every answer waits for, at their priority', async () => {
  // given an engine process with a data dir
  const client = await kit.start()

  // when a command is logged and a checkpoint has its threads write
  await client.zeebe.deployResource({ processFilename: MODEL })

  // then the state thread is at nice 10 (or the process's own, when it runs lower still), the
  // event loop, the log thread and the others at the process's own
  const own = os.getPriority(kit.engine.pid)
  expect(niceByName(kit.engine.pid)).toEqual({ 'node': own, 'raccord-grpc': own, 'raccord-log': own, 'raccord-writer': Math.max(10, own), 'raccord-xsd': own })
})
