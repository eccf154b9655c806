/**
 * A local SMTP server that keeps every mail it receives, for when no SMTP_URL is set: raccord
 * then sends to it, and the mails are listed at /outbox. Also the SMTP server of the tests.
 *
 * Each mail is stored as `<id>.eml` next to `index.json`, the summaries of all mails, so the
 * outbox survives a restart.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { simpleParser, type AddressObject } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface SmtpSinkOptions {
  /** 0 picks a free port. */
  port: number
  /** Loopback by default: the sink accepts mail from anyone who can reach it. */
  host?: string
  /** Where the .eml files and index.json go (the data dir's outbox/). */
  dir: string
  /**
   * Told of each error once the sink listens, mostly a client session that failed (a TCP reset in
   * the middle of a mail): that session ends, the sink goes on serving. Absent, the error ends
   * with its session unreported.
   */
  onError?: (error: Error) => void
}

/** What the outbox shows of one received mail. */
export interface StoredMail {
  /** The sink's own id, used in /outbox/:id and as the .eml file name. */
  id: string
  messageId: string
  from: string
  to: string[]
  cc: string[]
  /** Every RCPT TO of the SMTP session, Bcc included. */
  envelopeTo: string[]
  subject: string
  /** The Date header, ISO 8601. */
  date: string
  receivedAt: string
  text: string
  html: string
  /** The attached files (the crisis cell's .ics invitation...); absent in mails stored before they were listed. */
  attachments?: Array<{ filename: string; contentType: string; size: number }>
}

/** One attached file of a stored mail, read back from its .eml. */
export interface StoredAttachment {
  filename: string
  contentType: string
  content: Buffer
}

export interface SmtpSink {
  port: number
  host: string
  /** To put in SMTP_URL, e.g. smtp://127.0.0.1:2525. */
  url: string
  dir: string
  /** Mails in the order they arrived. */
  list(): StoredMail[]
  get(id: string): StoredMail | undefined
  /** The `index`-th attachment of a stored mail, or undefined when there is none. */
  attachment(id: string, index: number): Promise<StoredAttachment | undefined>
  close(): Promise<void>
}

export const OUTBOX_INDEX_FILE = 'index.json'

/** Where `raccord start` runs its sink unless RACCORD_SMTP_SINK_PORT says otherwise. */
export const DEFAULT_SMTP_SINK_PORT = 2525

/** The sink's port from RACCORD_SMTP_SINK_PORT (0 picks a free one), so two installations can share a host. */
export function smtpSinkPort(env: NodeJS.ProcessEnv): number {
  const value = env.RACCORD_SMTP_SINK_PORT
  if (value === undefined || value === '') return DEFAULT_SMTP_SINK_PORT
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`RACCORD_SMTP_SINK_PORT must be a port number (0-65535), got '${value}'`)
  return Number(value)
}

const MAX_MAIL_BYTES = 10 * 1024 * 1024

export async function startSmtpSink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1'
  const { dir } = options
  await mkdir(dir, { recursive: true })
  const mails = await readIndex(join(dir, OUTBOX_INDEX_FILE))
  let indexWrite: Promise<void> = Promise.resolve()

  const store = async (raw: Buffer, envelopeTo: string[]): Promise<void> => {
    const parsed = await simpleParser(raw)
    const id = randomUUID()
    await writeFile(join(dir, `${id}.eml`), raw)
    mails.push({
      id,
      messageId: parsed.messageId ?? '',
      from: parsed.from?.text ?? '',
      to: addressList(parsed.to),
      cc: addressList(parsed.cc),
      envelopeTo,
      subject: parsed.subject ?? '',
      date: (parsed.date ?? new Date()).toISOString(),
      receivedAt: new Date().toISOString(),
      text: parsed.text ?? '',
      html: parsed.html || '',
      attachments: parsed.attachments.map((attachment, index) => ({ filename: attachment.filename ?? `attachment-${index + 1}`, contentType: attachment.contentType, size: attachment.size })),
    })
    // Concurrent sessions each rewrite the whole index: one at a time, each with the latest list,
    // even after a failed write (that failure went to its own session as a 451).
    const write = () => writeIndex(dir, mails)
    indexWrite = indexWrite.then(write, write)
    await indexWrite
  }

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: MAX_MAIL_BYTES,
    closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(Object.assign(new Error('Message too large'), { responseCode: 552 }))
          return
        }
        // Reply 250 only once the mail is on disk: then the sender may forget it.
        store(Buffer.concat(chunks), session.envelope.rcptTo.map((rcpt) => rcpt.address)).then(
          () => callback(),
          (error: unknown) => callback(Object.assign(new Error(`Cannot store mail: ${(error as Error).message}`), { responseCode: 451 })),
        )
      })
    },
  })

  // smtp-server re-emits every session's socket error on the server: with no listener, one client
  // resetting its connection in the middle of a mail would throw out of the whole process.
  let listening = false
  server.on('error', (error: Error) => {
    if (listening) options.onError?.(error)
  })
  await new Promise<void>((resolveListen, rejectListen) => {
    server.server.once('error', rejectListen)
    server.listen(options.port, host, () => {
      server.server.off('error', rejectListen)
      listening = true
      resolveListen()
    })
  })
  const port = (server.server.address() as AddressInfo).port

  return {
    port,
    host,
    url: `smtp://${host}:${port}`,
    dir,
    list: () => mails.map((mail) => ({ ...mail })),
    get: (id) => {
      const mail = mails.find((candidate) => candidate.id === id)
      return mail && { ...mail }
    },
    attachment: async (id, index) => {
      // Only a stored mail's own file: the id is one the sink made, never a path from outside.
      if (!mails.some((mail) => mail.id === id)) return undefined
      const parsed = await simpleParser(await readFile(join(dir, `${id}.eml`)))
      const found = parsed.attachments[index]
      return found && { filename: found.filename ?? `attachment-${index + 1}`, contentType: found.contentType, content: found.content }
    },
    close: async () => {
      await new Promise<void>((resolveClose) => server.close(resolveClose))
      await indexWrite
    },
  }
}

function addressList(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field]
  return objects.flatMap((object) => object.value.map((address) => address.address ?? '')).filter((address) => address !== '')
}

async function readIndex(file: string): Promise<StoredMail[]> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredMail[]
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new Error(`Cannot read the outbox index ${file}: ${(error as Error).message}`, { cause: error })
  }
}

/** Written aside then renamed, so a crash never leaves a half-written index. */
async function writeIndex(dir: string, mails: StoredMail[]): Promise<void> {
  const file = join(dir, OUTBOX_INDEX_FILE)
  await writeFile(`${file}.tmp`, JSON.stringify(mails, null, 2))
  await rename(`${file}.tmp`, file)
}
