/**
 * The engine's threads carry names (issue #19): an operator's `top -H` tells the gRPC, writer and
 * schema threads from the event loop and from V8's and libuv's threads, and the benchmark splits
 * the engine's CPU time by them. A thread inherits its creator's name, so libuv's pool must be
 * started by the event loop, not by the schema thread's `import()`: else four pool threads would
 * pass for the schema thread. Linux only (/proc): elsewhere the threads keep their names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { engineProcessKit } from '../support/engine-process'

jest.setTimeout(60_000)

const MODEL = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')
const kit = engineProcessKit('thread-names')

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
