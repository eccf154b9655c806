/** The only registry of mail templates: a template id is a key of `templates`. */
import type { z } from 'zod'
import type { Language } from '../../config'
import { formatPath } from '../../config'
import { layoutMail, type MailContent, type RenderContext, type RenderedMail } from '../mail-content'
import { changeNotice } from './change-notice'
import { crisisCellInvitation } from './crisis-cell-invitation'
import { crisisMeetingOverdue } from './crisis-meeting-overdue'
import { decisionRequested } from './decision-requested'
import { generic } from './generic'
import { incidentDeclared } from './incident-declared'
import { incidentPriorityChanged } from './incident-priority-changed'
import { incidentResolved } from './incident-resolved'
import { incidentSlaBreached } from './incident-sla-breached'
import { incidentSlaReminder } from './incident-sla-reminder'
import { interconnectionCutWarning } from './interconnection-cut-warning'
import { interconnectionRestoreRequested } from './interconnection-restore-requested'
import { interconnectionRestored } from './interconnection-restored'
import { traceAnswerReminder } from './trace-answer-reminder'
import { vulnerabilityDeadlineReminder } from './vulnerability-deadline-reminder'
import { vulnerabilityDelayNotice } from './vulnerability-delay-notice'
import { vulnerabilityDisclosed } from './vulnerability-disclosed'
import { vulnerabilityFixed } from './vulnerability-fixed'

export const templates = {
  'incident-declared': incidentDeclared,
  'vulnerability-disclosed': vulnerabilityDisclosed,
  'vulnerability-deadline-reminder': vulnerabilityDeadlineReminder,
  'vulnerability-delay-notice': vulnerabilityDelayNotice,
  'vulnerability-fixed': vulnerabilityFixed,
  'trace-answer-reminder': traceAnswerReminder,
  'change-notice': changeNotice,
  'incident-priority-changed': incidentPriorityChanged,
  'incident-sla-reminder': incidentSlaReminder,
  'incident-sla-breached': incidentSlaBreached,
  'incident-resolved': incidentResolved,
  'interconnection-cut-warning': interconnectionCutWarning,
  'crisis-cell-invitation': crisisCellInvitation,
  'crisis-meeting-overdue': crisisMeetingOverdue,
  'interconnection-restore-requested': interconnectionRestoreRequested,
  'interconnection-restored': interconnectionRestored,
  'decision-requested': decisionRequested,
  generic,
}

/** Id of a mail template. */
export type TemplateId = keyof typeof templates

/** The data a template needs, as the caller passes it. */
export type TemplateData<T extends TemplateId> = z.input<(typeof templates)[T]['data']>

export const LANGUAGES: readonly Language[] = ['fr', 'en']

/** Template ids come from process variables: this narrows a string to a known id. */
export function isTemplateId(id: string): id is TemplateId {
  return Object.prototype.hasOwnProperty.call(templates, id)
}

/** No template has this id. */
export class UnknownTemplateError extends Error {
  constructor(readonly templateId: string) {
    super(`Unknown mail template '${templateId}': expected one of ${Object.keys(templates).join(', ')}`)
    this.name = 'UnknownTemplateError'
  }
}

/** The data or the language given to a template does not fit it; `problems` has one entry per bad field. */
export class TemplateDataError extends Error {
  constructor(
    readonly templateId: string,
    readonly problems: string[],
  ) {
    super(`Bad data for mail template '${templateId}':\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'TemplateDataError'
  }
}

/** Any template, seen from the registry: its content functions take data already validated by its schema. */
interface RegisteredTemplate {
  data: z.ZodType
  content: Record<Language, (data: never, ctx: RenderContext) => MailContent>
}

/** Renders a template in one language. Throws UnknownTemplateError or TemplateDataError. */
export function renderTemplate<T extends TemplateId>(id: T, lang: Language, data: TemplateData<T>, ctx: RenderContext): RenderedMail {
  if (!isTemplateId(id)) throw new UnknownTemplateError(id)
  if (!LANGUAGES.includes(lang)) throw new TemplateDataError(id, [`lang: expected one of ${LANGUAGES.join(', ')}, got '${String(lang)}'`])
  const template: RegisteredTemplate = templates[id]
  const parsed = template.data.safeParse(data)
  if (!parsed.success) {
    throw new TemplateDataError(
      id,
      parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(data)'}: ${issue.message}`),
    )
  }
  return layoutMail(template.content[lang](parsed.data as never, ctx), lang, ctx)
}
