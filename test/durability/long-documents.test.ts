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
import { takeDeferred, variableJson, type DeferredRow } from '../../src/engine/runtime/checkpoint'
import { journaled } from '../../src/engine/runtime/journal'
import { takeValueJson, VariableStore, VARIABLE_KIND } from '../../src/engine/runtime/variables'
import { DirtyTracker } from '../../src/engine/state/record-map'
import type { VariableDocument, VariableRecord } from '../../src/engine/state/records'
import { EngineStore } from '../../src/engine/state/store'
import type { JsonLater } from '../../src/engine/state/writer'
import type { VariableItem } from '../support/engine-test-kit'
import { engineProcessKit } from '../support/engine-process'

const DU_CRASH = path.join(__dirname, '../fixtures/bpmn/durability/crash.bpmn')

/**
 * A document past 64 K characters, with what JSON escapes: quotes, a backslash, a line separator,
 * non-Latin text, nesting; and long strings (the gRPC thread gives their JSON as bytes): one of
 * ASCII, one that JSON escapes, one of characters of several bytes, one of surrogate pairs.
 */
function longDocument(tag: string): VariableDocument {
  return {
    orderId: tag,
    plain: `${tag} ${'p'.repeat(70_000)}`,
    escaped: `${tag} ${'"\\\n\u0001'.repeat(20_000)}`,
    accents: `${tag} ${'é€'.repeat(35_000)}`,
    astral: `${tag} ${'𝄞'.repeat(35_000)}`,
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

  test('a long string variable the gRPC thread gave as JSON bytes stands as a placeholder, and the log thread puts the bytes back', async () => {
    // given a command whose document is marked long, with the JSON of its one long string variable as bytes
    store = EngineStore.open(dir)
    const document: VariableDocument = { orderId: 'bytes', payload: `« ${'b'.repeat(70_000)} »`, other: 'q'.repeat(70_000) }
    markLongDocument(document, JSON.stringify(document).length, { payload: Buffer.from(JSON.stringify(document.payload)) })
    const command: Command = { c: 'create', i: { bpmnProcessId: 'crash', variables: document } }

    // when it is journaled
    const entry = journaled(command)

    // then the variable given as bytes is a placeholder in the command handed over, the other one is not
    expect(typeof entry).toBe('object')
    const later = (entry as { later: { i: { variables: Record<string, string> } }; raw: [string, Uint8Array][] })
    expect(later.raw).toHaveLength(1)
    expect(later.later.i.variables.payload).toBe(later.raw[0][0])
    expect(later.later.i.variables.other).toBe(document.other)
    expect(command.i.variables?.payload).toBe(document.payload)

    // and once committed, the log holds the JSON of the command as it was
    store.append(1, entry)
    await store.durable()
    const db = new Database(store.logFile, { readonly: true })
    try {
      expect(db.prepare('SELECT command FROM log').pluck().all()).toEqual([JSON.stringify(command)])
    } finally {
      db.close()
    }
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

describe('a variable given as JSON bytes, in a checkpoint', () => {
  const INSTANCE = '2251799813685300'

  /** A store holding `payload` set from a document whose long string came with its JSON as bytes. */
  function storeWithPayload(payload: string): { vars: VariableStore; record: () => VariableRecord } {
    let next = 2251799813685400
    const vars = new VariableStore(() => String(next++), () => undefined,
      () => ({ processInstanceKey: INSTANCE, processDefinitionKey: '1', bpmnProcessId: 'p', tenantId: '<default>' }))
    // (a durable engine's: the bytes are kept for checkpoints only)
    vars.tracker = new DirtyTracker()
    vars.tracker.active = true
    const document: VariableDocument = { payload }
    markLongDocument(document, payload.length + 14, { payload: Buffer.from(JSON.stringify(payload)) })
    vars.setLocalDocument(INSTANCE, document)
    return { vars, record: () => vars.ofScope(INSTANCE)[0] }
  }

  test('its row is handed over with the bytes once, then, built again (a retry), with the value', () => {
    // given a variable set from such a document
    const payload = 'v'.repeat(70_000)
    const { record } = storeWithPayload(payload)

    // when a checkpoint builds its row twice (a retry)
    const first = variableJson(record()) as JsonLater
    const second = variableJson(record()) as JsonLater

    // then the first stands the value in with a placeholder and gives the bytes; the second gives the value
    expect(first.raw).toHaveLength(1)
    expect((first.later as VariableRecord).value).toBe(first.raw?.[0][0])
    expect(Buffer.from(first.raw?.[0][1] ?? []).toString()).toBe(JSON.stringify(payload))
    expect(second).toEqual({ later: record(), chars: payload.length })
  })

  test('a row deferred to a later slice is handed over with the bytes taken when it was deferred', () => {
    // given a variable set from such a document, deferred as a copy with its bytes (as checkpointRows defers one)
    const payload = 'v'.repeat(70_000)
    const { record } = storeWithPayload(payload)
    const original = record()
    const deferred: DeferredRow[] = [[VARIABLE_KIND, original.key, { ...original }, [], takeValueJson(original)]]

    // when the slice takes it
    const [row] = takeDeferred(deferred, 10)

    // then its row stands the value in with a placeholder and gives the bytes
    const later = row[2] as JsonLater
    expect(later.raw).toHaveLength(1)
    expect(Buffer.from(later.raw?.[0][1] ?? []).toString()).toBe(JSON.stringify(payload))
  })

  test('without checkpoints (an engine in memory), the bytes are not kept', () => {
    // given a variable set from such a document in a store that no checkpoint tracks
    const { vars, record } = storeWithPayload('v'.repeat(70_000))
    vars.tracker = undefined
    vars.setLocalDocument(INSTANCE, (() => {
      const document: VariableDocument = { payload: 'u'.repeat(70_000) }
      markLongDocument(document, 70_014, { payload: Buffer.from(JSON.stringify(document.payload)) })
      return document
    })())

    // when its row is built
    const row = variableJson(record()) as JsonLater

    // then it has no bytes
    expect(row.raw).toBeUndefined()
    expect((row.later as VariableRecord).value).toBe('u'.repeat(70_000))
  })

  test('once the value changed, the bytes are not used', () => {
    // given a variable set from such a document, then set to another long value
    const { vars, record } = storeWithPayload('v'.repeat(70_000))
    vars.setLocal(INSTANCE, 'payload', 'w'.repeat(70_000))

    // when a checkpoint builds its row
    const row = variableJson(record()) as JsonLater

    // then it is the record as it is now, with no bytes
    expect(row.raw).toBeUndefined()
    expect((row.later as VariableRecord).value).toBe('w'.repeat(70_000))
  })
})

describe('long documents sent over gRPC, then a crash', () => {
  const kit = engineProcessKit('long-documents')
  afterEach(async () => {
    await kit.stop('SIGTERM')
  })

  test.each(['SIGKILL', 'SIGTERM'] as const)('an instance created and a job completed with long documents come back intact after %s', async (signal) => {
    // given an engine with the crash process, and two documents past 64 K characters
    let client = await kit.start()
    await client.zeebe.deployResource({ processFilename: DU_CRASH })
    const created = longDocument(`created-${signal}`)
    const result = { result: longDocument(`result-${signal}`), replaced: `${signal} ${'r'.repeat(70_000)}` }
    expect(JSON.stringify(created).length).toBeGreaterThan(65_536)

    // when the instance is created with one, its job completed with the other, and the engine ended at once
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: 'crash', variables: created as never })
    const [job] = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'test', requestTimeout: 5_000 })
    expect(job?.processInstanceKey).toBe(processInstanceKey)
    await client.zeebe.completeJob({ jobKey: job.key, variables: result as never })
    await kit.stop(signal)
    client = await kit.start()

    // then every variable is back with its value as sent, and the job is done
    const variables = await kit.search<VariableItem>('variables', { processInstanceKey })
    const values = Object.fromEntries(variables.map((v) => [v.name, JSON.parse(v.value) as unknown]))
    expect(values).toEqual({ ...created, ...result })
    const jobs = await client.zeebe.activateJobs({ type: 'du-work', maxJobsToActivate: 1, timeout: 60_000, worker: 'test', requestTimeout: 500 })
    expect(jobs).toEqual([])
  })
})
