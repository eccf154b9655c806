/**
 * SMTP servers for tests, on loopback: one that keeps every mail (the outbox sink, in a temporary
 * directory), one that rejects every recipient.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { startSmtpSink, type SmtpSink } from '../../src/notify/smtp-sink'

/** The outbox sink on a temporary directory, removed on close. */
export async function startTestSmtp(port = 0): Promise<SmtpSink> {
  const dir = await mkdtemp(join(tmpdir(), 'raccord-smtp-'))
  const sink = await startSmtpSink({ port, host: '127.0.0.1', dir })
  return {
    ...sink,
    close: async () => {
      await sink.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A server that answers every RCPT TO with `code`, e.g. 550 (unknown user) or 450 (mailbox busy). */
export async function startRejectingSmtp(code: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 1000,
    onRcptTo(address, _session, callback) {
      callback(Object.assign(new Error(`<${address.address}>: recipient rejected`), { responseCode: code }))
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return { url: `smtp://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) }
}

/** A loopback port nobody listens on (until someone takes it). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
