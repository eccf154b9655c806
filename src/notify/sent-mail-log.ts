/**
 * The durable record of mails already handed to the SMTP server, by idempotency key: a job that
 * is delivered twice finds its key here and sends nothing.
 *
 * One JSON object a line, appended and fsynced before `send` returns. A crash can only tear the
 * last line, so an unterminated last line is cut off on open; any other bad line is an error.
 */
import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

/** One mail the SMTP server accepted. */
export interface SentMail {
  idempotencyKey: string
  messageId: string
  sentAt: string
  template: string
  subject: string
  to: string[]
  cc: string[]
  accepted: string[]
  rejected: string[]
}

/** The record is unreadable: raccord refuses to guess which mails went out. */
export class SentMailLogError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`)
    this.name = 'SentMailLogError'
  }
}

export class SentMailLog {
  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly byKey: Map<string, SentMail>,
  ) {}

  static async open(file: string): Promise<SentMailLog> {
    await mkdir(dirname(file), { recursive: true })
    const content = await readExisting(file)
    const complete = content.subarray(0, content.lastIndexOf(0x0a) + 1)
    // A torn last line would otherwise be glued to the next record.
    if (complete.length < content.length) await truncate(file, complete.length)
    const byKey = new Map<string, SentMail>()
    for (const record of parse(file, complete.toString('utf8'))) byKey.set(record.idempotencyKey, record)
    const handle = await open(file, 'a')
    return new SentMailLog(file, handle, byKey)
  }

  get(idempotencyKey: string): SentMail | undefined {
    return this.byKey.get(idempotencyKey)
  }

  async append(record: SentMail): Promise<void> {
    await this.handle.appendFile(`${JSON.stringify(record)}\n`)
    await this.handle.sync()
    this.byKey.set(record.idempotencyKey, record)
  }

  async close(): Promise<void> {
    await this.handle.close()
  }

  get path(): string {
    return this.file
  }
}

async function readExisting(file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0)
    throw error
  }
}

function parse(file: string, content: string): SentMail[] {
  const lines = content.split('\n')
  lines.pop()
  return lines.map((line, i) => {
    try {
      const record = JSON.parse(line) as SentMail
      if (typeof record.idempotencyKey !== 'string' || typeof record.messageId !== 'string') throw new Error('missing key or Message-ID')
      return record
    } catch (error) {
      throw new SentMailLogError(file, `line ${i + 1} is not a sent-mail record (${(error as Error).message})`)
    }
  })
}
