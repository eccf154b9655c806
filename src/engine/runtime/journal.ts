import { storeRefusal, type CommitNotices } from '../api'
import type { Clock } from '../clock'
import type { Command } from './commands'
import { longDocumentChars, longValueJson } from '../protocol'
import type { VariableDocument } from '../state/records'
import { rawPlaceholder, type JsonLater } from '../state/writer'

/** Where commands go before they run; `durable()` resolves once they are on disk. */
export interface Journal {
  /** the command's JSON, or the command for the log thread to turn into JSON (journaled, below) */
  append(time: number, command: string | JsonLater): void
  durable(): Promise<void>
  readonly failure: Error | undefined
  /** the log position of the last command appended */
  readonly lastSeq: number
  /** commit notices for a gateway (api.ts, CommitNotices), when the journal can give them */
  commitNotices?(): CommitNotices
}

/**
 * A command as the journal takes it: its JSON, or, when it carries a variable document parsed from
 * long text (protocol.ts, longDocumentChars), the command itself, for the log thread to turn into
 * JSON (JsonLater), with the long string variables the gRPC thread gave as JSON bytes standing as
 * placeholders. Nothing changes a command once it is run: its input and documents are read, never
 * written (variables are copied into the state), so the log thread's JSON is what JSON.stringify
 * gives here.
 */
export function journaled(entry: Command): string | JsonLater {
  const document = 'v' in entry ? entry.v : 'i' in entry && 'variables' in entry.i ? entry.i.variables : undefined
  const chars = longDocumentChars(document)
  if (chars === undefined || document === undefined) return JSON.stringify(entry)
  const raw: [string, Uint8Array][] = []
  const standIn: VariableDocument = { ...document }
  for (const name of Object.keys(document)) {
    const json = longValueJson(document, name)
    if (json === undefined) continue
    const placeholder = rawPlaceholder(raw.length)
    raw.push([placeholder, json])
    standIn[name] = placeholder
  }
  if (raw.length === 0) return { later: entry, chars }
  const later = 'v' in entry ? { ...entry, v: standIn } : 'i' in entry ? { ...entry, i: { ...entry.i, variables: standIn } } : entry
  return { later, chars, raw }
}

/**
 * Runs commands one at a time at one engine time: a command is journaled first (when a journal
 * is attached), then its effects run, then `finish` runs inside it (the straight-through steps
 * it started, subscriptions opened meanwhile meeting buffered messages). `finish` is told
 * whether the run is a journaled command: only those may take steps, so that replaying the
 * journal takes the same steps at the same points.
 */
export class CommandRunner {
  private depth = 0
  private commandTime: number | undefined
  private replayTime: number | undefined
  private replaying = false
  journal: Journal | undefined

  constructor(private readonly clock: Clock, private readonly finish: (isCommand: boolean) => void) {}

  /** Engine time: frozen for the length of a command, so that replaying it gives the same result. */
  now(): number {
    return this.commandTime ?? this.clock.now()
  }

  get isReplaying(): boolean {
    return this.replaying
  }

  /** Keys come only from inside a command, so that replaying the journal gives the same keys. */
  get inCommand(): boolean {
    return this.depth > 0
  }

  run<T>(entry: Command | null, fn: () => T): T {
    if (this.depth === 0) {
      if (this.journal?.failure) throw storeRefusal(this.journal.failure.message, entry?.c)
      this.commandTime = this.replayTime ?? this.clock.now()
      if (entry && this.journal && !this.replaying) this.journal.append(this.commandTime, journaled(entry))
    }
    this.depth++
    try {
      return fn()
    } finally {
      if (this.depth === 1) {
        try {
          this.finish(entry !== null)
        } finally {
          this.depth--
          this.commandTime = undefined
        }
      } else {
        this.depth--
      }
    }
  }

  /** Resolves once every command so far is durable (immediately without a journal). */
  whenDurable(): Promise<void> {
    if (!this.journal) return Promise.resolve()
    // A store that cannot write (disk full, read-only) is a refusal the client may retry, not an engine fault.
    return this.journal.durable().catch((error: Error) => {
      throw storeRefusal(error.message)
    })
  }

  /** Journal a step taken inside a command that replay must take again (a job activation). */
  append(entry: Command): void {
    if (this.journal && !this.replaying) this.journal.append(this.now(), journaled(entry))
  }

  /** Run `fn` as the replay of a command journaled at `time`: nothing is journaled again. */
  async replay<T>(time: number, fn: () => Promise<T>): Promise<T> {
    this.replaying = true
    this.replayTime = time
    try {
      return await fn()
    } finally {
      this.replaying = false
      this.replayTime = undefined
    }
  }
}
