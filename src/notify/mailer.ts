/**
 * Sends templated mails over SMTP, at most once per idempotency key.
 *
 * The Message-ID is derived from the key, and every accepted mail is recorded durably before
 * `send` returns, so a job delivered twice sends one mail. If raccord stops between the SMTP
 * server's acceptance and the record, the retry sends the same mail again with the same
 * Message-ID, which mail clients show once.
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import nodemailer, { type Transporter } from 'nodemailer'
import type { Logger } from 'pino'
import { selfOrganisation, type Config, type Language } from '../config'
import { renderTemplate, type TemplateData, type TemplateId } from './templates'
import { SentMailLog } from './sent-mail-log'

/** File, in the data dir, recording the mails already sent. */
export const SENT_MAIL_LOG_FILE = 'sent-mail.jsonl'

export interface MailerOptions {
  /** e.g. smtp://127.0.0.1:2525, or smtps://user:password@mail.example.org */
  smtpUrl: string
  config: Config
  /** Directory holding the record of sent mails. */
  dataDir: string
  logger?: Pick<Logger, 'info'>
}

/** One mail to send. */
export interface SendRequest<T extends TemplateId = TemplateId> {
  /** Same key, same mail: derive it from the job key or the business key. */
  idempotencyKey: string
  to: string[]
  cc?: string[]
  template: T
  /** The recipient organisation's language. */
  lang: Language
  data: TemplateData<T>
  /** IANA zone for dates in the mail; defaults to this installation's organisation's zone. */
  timeZone?: string
  /** Files sent with the mail, e.g. a calendar invitation (.ics). */
  attachments?: MailAttachment[]
}

/** A file attached to a mail. */
export interface MailAttachment {
  filename: string
  content: string
  /** e.g. text/calendar; method=REQUEST */
  contentType: string
}

export interface SendResult {
  /** With angle brackets, as in the header: `<hex@raccord.org-id>`. */
  messageId: string
  /** True when the key had already been sent: nothing went out this time. */
  duplicate: boolean
  accepted: string[]
  rejected: string[]
}

/** Base class of SMTP failures; `responseCode` is the SMTP reply code when the server gave one. */
export abstract class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly responseCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Worth retrying later: server unreachable, timeout, 4xx reply. */
export class TransientMailError extends MailDeliveryError {
  override name = 'TransientMailError'
}

/** Retrying will not help: 5xx reply (e.g. every recipient rejected), bad message or credentials. */
export class PermanentMailError extends MailDeliveryError {
  override name = 'PermanentMailError'
}

/** `<sha256(key) prefix@raccord.<self>>`: stable across retries and restarts. */
export function messageIdFor(idempotencyKey: string, selfOrgId: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)
  return `<${hash}@raccord.${selfOrgId}>`
}

export class Mailer {
  /** Sends in progress by key, so that two concurrent deliveries of one job share one send. */
  private readonly inFlight = new Map<string, Promise<SendResult>>()

  private constructor(
    private readonly options: MailerOptions,
    private readonly transport: Transporter,
    private readonly log: SentMailLog,
  ) {}

  static async open(options: MailerOptions): Promise<Mailer> {
    const log = await SentMailLog.open(join(options.dataDir, SENT_MAIL_LOG_FILE))
    const transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    })
    return new Mailer(options, transport, log)
  }

  /**
   * Sends the mail unless its key was sent already. Throws TransientMailError, PermanentMailError,
   * or, from the template, UnknownTemplateError and TemplateDataError.
   */
  send<T extends TemplateId>(request: SendRequest<T>): Promise<SendResult> {
    const pending = this.inFlight.get(request.idempotencyKey)
    if (pending) return pending.then((result) => ({ ...result, duplicate: true }))
    const sending = this.sendOnce(request).finally(() => this.inFlight.delete(request.idempotencyKey))
    this.inFlight.set(request.idempotencyKey, sending)
    return sending
  }

  async close(): Promise<void> {
    this.transport.close()
    await this.log.close()
  }

  private async sendOnce<T extends TemplateId>(request: SendRequest<T>): Promise<SendResult> {
    const sent = this.log.get(request.idempotencyKey)
    if (sent) {
      this.options.logger?.info({ messageId: sent.messageId, idempotencyKey: request.idempotencyKey }, 'mail already sent, not sending again')
      return { messageId: sent.messageId, duplicate: true, accepted: sent.accepted, rejected: sent.rejected }
    }

    const to = request.to.filter((address) => address.trim() !== '')
    const cc = (request.cc ?? []).filter((address) => address.trim() !== '')
    if (to.length === 0) throw new PermanentMailError(`Mail '${request.template}' has no recipient`, undefined)

    const { config } = this.options
    const self = selfOrganisation(config)
    const mail = renderTemplate(request.template, request.lang, request.data, {
      timeZone: request.timeZone ?? self.timeZone,
      senderName: self.name,
    })
    const messageId = messageIdFor(request.idempotencyKey, config.self)

    let info: { accepted?: unknown[]; rejected?: unknown[] }
    try {
      info = await this.transport.sendMail({
        messageId,
        from: { name: `${self.name} (raccord)`, address: self.contacts.operations.email },
        to,
        cc,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // RFC 3834: auto-responders must not answer, so two raccord installations never loop.
        headers: { 'Auto-Submitted': 'auto-generated' },
        ...(request.attachments === undefined ? {} : { attachments: request.attachments }),
      })
    } catch (error) {
      throw classifySmtpError(error)
    }

    const record = {
      idempotencyKey: request.idempotencyKey,
      messageId,
      sentAt: new Date().toISOString(),
      template: request.template,
      subject: mail.subject,
      to,
      cc,
      accepted: addresses(info.accepted),
      rejected: addresses(info.rejected),
    }
    await this.log.append(record)
    this.options.logger?.info({ messageId, template: request.template, to, cc, rejected: record.rejected }, 'mail sent')
    return { messageId, duplicate: false, accepted: record.accepted, rejected: record.rejected }
  }
}

function addresses(list: unknown[] | undefined): string[] {
  return (list ?? []).map((entry) => (typeof entry === 'string' ? entry : ((entry as { address?: string }).address ?? String(entry))))
}

/** Codes nodemailer gives when no SMTP reply tells us better. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EAUTH', 'ETLS'])

/** Sorts a nodemailer failure into retry-later or give-up. */
export function classifySmtpError(error: unknown): MailDeliveryError {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string }
  const detail = `SMTP delivery failed: ${message ?? String(error)}`
  if (typeof responseCode === 'number') {
    return responseCode >= 500 ? new PermanentMailError(detail, responseCode, { cause: error }) : new TransientMailError(detail, responseCode, { cause: error })
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) return new PermanentMailError(detail, undefined, { cause: error })
  return new TransientMailError(detail, undefined, { cause: error })
}
