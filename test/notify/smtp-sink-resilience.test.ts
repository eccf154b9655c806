/**
 * The local SMTP sink runs inside `raccord start`: a client that misbehaves at any stage of its
 * session (a TCP reset, garbage, an AUTH attempt) ends its own session, never the process.
 */
import { connect, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { smtpSinkPort, startSmtpSink, type SmtpSink } from '../../src/notify/smtp-sink'

/** A raw SMTP client: reads replies line by line, so each stage is reached before the reset. */
class RawSession {
  private buffer = ''
  private waiters: Array<() => void> = []
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      for (const waiter of this.waiters.splice(0)) waiter()
    })
    // The client side sees its own reset as an error too: it is what the test does on purpose.
    socket.on('error', () => undefined)
  }

  static open(port: number): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawSession(socket)))
      socket.once('error', reject)
    })
  }

  /** Waits for a reply line starting with `code` (the last line of a multi-line reply). */
  async reply(code: string): Promise<string> {
    for (;;) {
      const line = this.buffer.split('\r\n').find((candidate) => candidate.startsWith(`${code} `))
      if (line !== undefined) {
        this.buffer = ''
        return line
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  async command(line: string, code: string): Promise<string> {
    this.socket.write(`${line}\r\n`)
    return this.reply(code)
  }

  /** A TCP RST instead of a FIN: the server's socket sees ECONNRESET. */
  reset(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.resetAndDestroy()
    })
  }
}

describe('the local SMTP sink survives misbehaving clients', () => {
  let dir: string
  let sink: SmtpSink
  const sessionErrors: Error[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raccord-sink-'))
    sink = await startSmtpSink({ port: 0, dir, onError: (error) => sessionErrors.push(error) })
  })
  afterAll(async () => {
    await sink.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('resets at every stage of a session, garbage and an AUTH attempt leave it serving, and a real send still arrives', async () => {
    // Reset as soon as connected, before the greeting is read.
    await (await RawSession.open(sink.port)).reset()

    // Reset after the greeting.
    const greeted = await RawSession.open(sink.port)
    await greeted.reply('220')
    await greeted.reset()

    // Reset after an AUTH attempt (AUTH is disabled: the sink takes mail from anyone it can hear).
    const auth = await RawSession.open(sink.port)
    await auth.reply('220')
    await auth.command('EHLO attacker.example', '250')
    expect(await auth.command(`AUTH PLAIN ${Buffer.from('\0user\0password').toString('base64')}`, '500')).toMatch(/^500 /)
    await auth.reset()

    // Garbage: unknown commands, binary bytes, an overlong line, then a reset.
    const garbage = await RawSession.open(sink.port)
    await garbage.reply('220')
    expect(await garbage.command('HELLO?', '500')).toMatch(/^500 /)
    garbage.socket.write(Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10]))
    await garbage.reply('500')
    garbage.socket.write(`${'X'.repeat(100_000)}\r\n`)
    await garbage.reset()

    // Reset once in DATA (the server waits for the mail, so the reset reaches a reading socket),
    // then once with half a mail sent.
    for (const half of ['', 'Subject: half\r\n\r\nthe first half of a mail']) {
      const midData = await RawSession.open(sink.port)
      await midData.reply('220')
      await midData.command('EHLO client.example', '250')
      await midData.command('MAIL FROM:<a@example.org>', '250')
      await midData.command('RCPT TO:<b@example.org>', '250')
      await midData.command('DATA', '354')
      midData.socket.write(half)
      await midData.reset()
    }

    // Reset right after the mail was accepted, before QUIT.
    const afterMail = await RawSession.open(sink.port)
    await afterMail.reply('220')
    await afterMail.command('EHLO client.example', '250')
    await afterMail.command('MAIL FROM:<a@example.org>', '250')
    await afterMail.command('RCPT TO:<b@example.org>', '250')
    await afterMail.command('DATA', '354')
    await afterMail.command('Subject: whole\r\n\r\na whole mail\r\n.', '250')
    await afterMail.reset()

    const transport = nodemailer.createTransport({ url: sink.url })
    try {
      const info = await transport.sendMail({ from: 'raccord@example.org', to: 'ops@example.org', subject: 'still here', text: 'the sink survived' })
      expect(info.accepted).toEqual(['ops@example.org'])
    } finally {
      transport.close()
    }
    expect(sink.list().map((mail) => mail.subject)).toEqual(['whole', 'still here'])
    // The resets reached the sink as errors of their sessions, and were reported, not thrown.
    expect(sessionErrors.some((error) => (error as NodeJS.ErrnoException).code === 'ECONNRESET')).toBe(true)
  })
})

describe('the sink port', () => {
  test('is RACCORD_SMTP_SINK_PORT when set, else 2525', () => {
    expect(smtpSinkPort({})).toBe(2525)
    expect(smtpSinkPort({ RACCORD_SMTP_SINK_PORT: '' })).toBe(2525)
    expect(smtpSinkPort({ RACCORD_SMTP_SINK_PORT: '2526' })).toBe(2526)
    expect(smtpSinkPort({ RACCORD_SMTP_SINK_PORT: '0' })).toBe(0)
  })

  test('a value that is not a port names the variable', () => {
    expect(() => smtpSinkPort({ RACCORD_SMTP_SINK_PORT: 'smtp' })).toThrow("RACCORD_SMTP_SINK_PORT must be a port number (0-65535), got 'smtp'")
    expect(() => smtpSinkPort({ RACCORD_SMTP_SINK_PORT: '70000' })).toThrow(/RACCORD_SMTP_SINK_PORT must be a port number/)
  })

  test('two sinks on one host: the second on its own port', async () => {
    const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'raccord-sink-a-')), mkdtemp(join(tmpdir(), 'raccord-sink-b-'))])
    const first = await startSmtpSink({ port: 0, dir: dirs[0] })
    try {
      await expect(startSmtpSink({ port: first.port, dir: dirs[1] })).rejects.toThrow(/EADDRINUSE/)
      const second = await startSmtpSink({ port: smtpSinkPort({ RACCORD_SMTP_SINK_PORT: '0' }), dir: dirs[1] })
      expect(second.port).not.toBe(first.port)
      await second.close()
    } finally {
      await first.close()
      await Promise.all(dirs.map((path) => rm(path, { recursive: true, force: true })))
    }
  })
})
