/**
 * Long variable documents (issue #19): the gRPC thread parses a variables field of 64 K characters
 * or more itself (gateway-thread.ts, preparse), and a command carrying such a document is handed to
 * the log thread as the command, for that thread to turn into JSON (journal.ts, journaled). The log
 * holds the same text JSON.stringify gives on the event loop, and the engine replays it after a
 * crash with the documents intact.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { markLongDocument } from '../../src/engine/protocol'
import type { Command } from '../../src/engine/runtime/commands'
import { journaled } from '../../src/engine/runtime/journal'
import type { VariableDocument } from '../../src/engine/state/records'
import { EngineStore } from '../../src/engine/state/store'
import type { VariableItem } from '../support/engine-test-kit'
import { engineProcessKit } from '../support/engine-process'

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

/** A document past 64 K characters, with what JSON escapes: quotes, a backslash, a line separator, non-Latin text, nesting. */
function longDocument(tag: string): VariableDocument {
  return {
    orderId: tag,
    'a "quoted" key': { lines: Array.from({ length: 400 }, (_, n) => ({ n, text: `ligne ${n} « é » \\ \u2028 ${'z'.repeat(150)}` })) },
    negative: -0.5,
    nothing: null,
  }
}

describe('the journal of a command carrying a long document', () => {
  let dir: string
  let store: EngineStore | undefined

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'raccord-long-'))
  })

  afterEach(() => {
    store?.close()
    store = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  test('a command is journaled as its JSON, unless its document was parsed from long text: then as the command, for the log thread', () => {
    // given two commands with the same document, only one of them marked long
    const plain: Command = { c: 'create', i: { bpmnProcessId: 'p', variables: longDocument('plain') } }
    const document = longDocument('long')
    markLongDocument(document, JSON.stringify(document).length)
    const long: Command = { c: 'complete', k: '2251799813685301', v: document }

    // when each is journaled
    // then the first is its JSON, the second the command with its length
    expect(journaled(plain)).toBe(JSON.stringify(plain))
    expect(journaled(long)).toEqual({ later: long, chars: JSON.stringify(document).length })
  })

  test('the log thread writes a command handed over as such with the JSON the event loop would have written', async () => {
    // given a store, and a command whose document is marked long
    store = EngineStore.open(dir)
    const document = longDocument('logged')
    markLongDocument(document, JSON.stringify(document).length)
    const command: Command = { c: 'create', i: { bpmnProcessId: 'crash', variables: document } }

    // when it is appended between two others and committed
    store.append(1, '{"c":"tick"}')
    store.append(2, journaled(command))
    store.append(3, '{"c":"tick"}')
    await store.durable()

    // then another connection reads the three, the second exactly as JSON.stringify gives it
    const db = new Database(store.logFile, { readonly: true })
    try {
      const rows = db.prepare('SELECT seq, time, command FROM log ORDER BY seq').all()
      expect(rows).toEqual([
        { seq: 1, time: 1, command: '{"c":"tick"}' },
        { seq: 2, time: 2, command: JSON.stringify(command) },
        { seq: 3, time: 3, command: '{"c":"tick"}' },
      ])
    } finally {
      db.close()
    }
  })
})

describe('long documents sent over gRPC, then a crash', () => {
  const kit = engineProcessKit('long-documents')

  test('an instance created and a job completed with long documents come back intact after SIGKILL', async () => {
    // given an engine with the crash process, and two documents past 64 K characters
    let client = await kit.start()
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    const created = longDocument('long-1')
    const result = { result: longDocument('result-1') }
    expect(JSON.stringify(created).length).toBeGreaterThan(65_536)

    // when the instance is created with one, its job completed with the other, and the engine killed at once
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: created as never })
    const [job] = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'test', requestTimeout: 5_000 })
    expect(job?.processInstanceKey).toBe(processInstanceKey)
    await client.zeebe.completeJob({ jobKey: job.key, variables: result as never })
    await kit.stop('SIGKILL')
    client = await kit.start()

    // then every variable is back with its value as sent, and the job is done
    const variables = await kit.search<VariableItem>('variables', { processInstanceKey })
    const values = Object.fromEntries(variables.map((v) => [v.name, JSON.parse(v.value) as unknown]))
    expect(values).toEqual({ ...created, ...result })
    const jobs = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'test', requestTimeout: 500 })
    expect(jobs).toEqual([])
  })
})
