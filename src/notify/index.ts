export {
  Mailer,
  messageIdFor,
  classifySmtpError,
  MailDeliveryError,
  TransientMailError,
  PermanentMailError,
  SENT_MAIL_LOG_FILE,
  type MailerOptions,
  type SendRequest,
  type SendResult,
  type MailAttachment,
} from './mailer'
export { SentMailLog, SentMailLogError, type SentMail } from './sent-mail-log'
export {
  templates,
  renderTemplate,
  isTemplateId,
  UnknownTemplateError,
  TemplateDataError,
  LANGUAGES,
  type TemplateId,
  type TemplateData,
} from './templates'
export { formatDateTime, formatDuration } from './templates/shared'
export { layoutMail, type MailContent, type RenderContext, type RenderedMail } from './mail-content'
export { html, escapeHtml, SafeHtml } from './html'
export { startSmtpSink, smtpSinkPort, DEFAULT_SMTP_SINK_PORT, OUTBOX_INDEX_FILE, type SmtpSink, type SmtpSinkOptions, type StoredMail } from './smtp-sink'
