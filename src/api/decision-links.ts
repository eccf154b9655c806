/**
 * /decisions/:token: the other party's decision links. GET shows the decision, the record and the
 * form's fields for that answer, in the addressee's organisation's language, so that a mail
 * scanner fetching the link changes nothing; POST decides, once, with that form's fields only,
 * checked by the form's own rules. A refused link gets a page saying why, in the reader's language.
 */
import express, { Router, type Request, type Response } from 'express'
import type { Config, Language } from '../config'
import { DecisionEngineError, DecisionLinkRefusedError, type DecisionLinkRefusal, type DecisionLinkService, type InspectedLink } from '../app/access/decision-links'
import { componentWords, taskName } from '../app/access/decision-links-words'
import { formFieldRules } from '../app/access/form-validation'
import { NotYourTaskError, TaskSubmissionError } from '../app/access/task-gate'
import { html, type SafeHtml } from '../notify'
import { linkPage } from './link-page'
import { formatDateTime } from '../notify/templates/shared'

const WORDS = {
  fr: {
    about: (party: string, addressee: string) => `Décision de ${party}, donnée par ${addressee} avec son lien personnel.`,
    record: 'Dossier',
    answer: 'Réponse',
    confirm: 'Confirmer cette décision',
    once: "Ce lien ne sert qu'une fois.",
    done: (at: string, actor: string) => `C'est enregistré le ${at}, au nom de ${actor}. Merci.`,
    invalid: 'La décision n\'est pas enregistrée : corrigez les champs ci-dessous.',
    refusedTitle: 'Lien refusé',
    refusal: {
      unknown: "Lien inconnu : raccord ne reconnaît pas ce lien (il ne l'a pas émis, ou il est incomplet). Rien n'a été enregistré.",
      altered: "Lien altéré : le contenu de ce lien ne correspond plus à sa signature. Rien n'a été enregistré.",
      expired: "Lien expiré : ce lien n'est plus valable. Rien n'a été enregistré ; répondez depuis la console de raccord ou demandez un nouveau lien.",
      used: 'Ce lien a déjà été utilisé. Rien de plus n\'a été enregistré.',
      closed: "Cette tâche est déjà terminée par une autre voie (la console ou un autre lien). Rien de plus n'a été enregistré.",
    } satisfies Record<DecisionLinkRefusal, string>,
    usedBy: (at: string, actor: string) => `Utilisé le ${at} par ${actor}.`,
    notYours: "Ce lien n'est pas celui de la partie à qui revient cette tâche. Rien n'a été enregistré.",
    unavailable: "L'enregistrement a échoué ; le lien reste utilisable. Réessayez dans un instant.",
    problems: { Required: 'obligatoire' } as Record<string, string>,
  },
  en: {
    about: (party: string, addressee: string) => `Decision of ${party}, given by ${addressee} with their personal link.`,
    record: 'Record',
    answer: 'Answer',
    confirm: 'Confirm this decision',
    once: 'This link works once.',
    done: (at: string, actor: string) => `Recorded on ${at}, in the name of ${actor}. Thank you.`,
    invalid: 'The decision is not recorded: correct the fields below.',
    refusedTitle: 'Link refused',
    refusal: {
      unknown: 'Unknown link: raccord does not know this link (it did not issue it, or it is incomplete). Nothing was recorded.',
      altered: 'Altered link: the content of this link no longer matches its signature. Nothing was recorded.',
      expired: 'Expired link: this link is no longer valid. Nothing was recorded; answer in the raccord console or ask for a new link.',
      used: 'This link has already been used. Nothing more was recorded.',
      closed: 'This task was already completed another way (the console or another link). Nothing more was recorded.',
    } satisfies Record<DecisionLinkRefusal, string>,
    usedBy: (at: string, actor: string) => `Used on ${at} by ${actor}.`,
    notYours: 'This link is not the one of the party this task is for. Nothing was recorded.',
    unavailable: 'Recording failed; the link can still be used. Try again in a moment.',
    problems: {} as Record<string, string>,
  },
} as const

/** HTTP status of each refusal. */
const STATUS: Record<DecisionLinkRefusal, number> = { unknown: 404, altered: 403, expired: 410, used: 409, closed: 409 }


/** A form field the page shows for the link's answer. */
interface ShownField {
  name: string
  type: string
  required: boolean
  label: string
  description?: string
  options: Array<{ value: string; label: string }>
}

/** The visible input fields of the form for the link's answer, the answer itself left out (the link fixes it). */
function shownFields(inspected: InspectedLink, lang: Language): ShownField[] {
  const { form, choiceField, claims, data } = inspected
  if (form === undefined) return []
  const formId = typeof form.id === 'string' ? form.id : undefined
  const answer = choiceField === undefined || claims.choice === null ? {} : { [choiceField.key]: claims.choice }
  return formFieldRules(form, { ...data, ...answer })
    .filter((rule) => !rule.hidden && rule.component.type !== 'group' && rule.name !== choiceField?.key)
    .map((rule) => {
      const words = componentWords(formId, rule.component as never, lang)
      return {
        name: rule.name,
        type: rule.component.type ?? 'textfield',
        required: rule.component.validate?.required === true,
        label: words.label,
        description: words.description,
        options: (rule.component.values ?? []).map((option) => ({ value: String(option.value), label: words.valueLabel(String(option.value)) })),
      }
    })
}

function fieldHtml(field: ShownField, value: unknown): SafeHtml {
  const id = `field-${field.name}`
  const text = typeof value === 'string' ? value : ''
  const required = field.required ? html` required` : ''
  const control = field.type === 'textarea'
    ? html`<textarea id="${id}" name="${field.name}" rows="5"${required}>${text}</textarea>`
    : field.type === 'checkbox'
      ? html`<input type="checkbox" id="${id}" name="${field.name}" value="true"${value === true || value === 'true' ? html` checked` : ''}${required}>`
      : field.options.length > 0
        ? html`<select id="${id}" name="${field.name}"${required}><option value=""></option>${field.options.map((option) => html`<option value="${option.value}"${option.value === text ? html` selected` : ''}>${option.label}</option>`)}</select>`
        : html`<input type="${field.type === 'number' ? 'number' : 'text'}" id="${id}" name="${field.name}" value="${text}"${required}>`
  return html`<p><label for="${id}">${field.label}${field.required ? ' *' : ''}</label><br>${control}${field.description ? html`<br><small>${field.description}</small>` : ''}</p>\n`
}

/** The submitted value of each shown field, typed as the form types it; empty fields are left out. */
function submission(fields: ShownField[], body: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const field of fields) {
    const raw = body[field.name]
    if (field.type === 'checkbox') {
      if (raw === 'true') values[field.name] = true
      continue
    }
    if (typeof raw !== 'string' || raw.trim() === '') continue
    values[field.name] = field.type === 'number' ? Number(raw) : raw
  }
  return values
}

/** The reader's language for a page about a link whose addressee is not known: their browser's. */
function readerLanguage(req: Request): Language {
  return req.acceptsLanguages('fr', 'en') === 'fr' ? 'fr' : 'en'
}

export function decisionLinkRoutes(config: Config, links: DecisionLinkService): Router {
  const router = Router()
  const organisationOf = (id: string) => config.organisations.find((org) => org.id === id)
  const languageOf = (party: string | undefined, req: Request): Language => (party === undefined ? undefined : organisationOf(party)?.language) ?? readerLanguage(req)

  const send = (res: Response, status: number, lang: Language, title: string, body: SafeHtml) => {
    res.status(status).set('cache-control', 'no-store').type('html').send(linkPage(lang, title, body))
  }

  /** A refusal as a page; anything else goes to the error middleware. */
  const refuse = (req: Request, res: Response, error: unknown) => {
    if (error instanceof DecisionLinkRefusedError) {
      const lang = languageOf(error.claims?.party, req)
      const used = error.reason === 'used' && error.claims !== undefined ? links.usedBy(error.claims) : undefined
      const timeZone = organisationOf(error.claims?.party ?? '')?.timeZone ?? 'UTC'
      const by = used === undefined ? '' : html`<p class="used-by">${WORDS[lang].usedBy(formatDateTime(used.usedAt, lang, { timeZone, senderName: '' }), used.actor)}</p>\n`
      return send(res, STATUS[error.reason], lang, WORDS[lang].refusedTitle, html`<p class="refusal" data-reason="${error.reason}">${WORDS[lang].refusal[error.reason]}</p>\n${by}`)
    }
    const lang = readerLanguage(req)
    if (error instanceof NotYourTaskError) return send(res, 403, lang, WORDS[lang].refusedTitle, html`<p class="refusal" data-reason="not-yours">${WORDS[lang].notYours}</p>\n`)
    if (error instanceof DecisionEngineError) return send(res, 503, lang, WORDS[lang].refusedTitle, html`<p class="refusal">${WORDS[lang].unavailable}</p>\n`)
    throw error
  }

  /** The page of a usable link: what is decided, on which record, and the fields to fill. */
  const decisionPage = (inspected: InspectedLink, lang: Language, values: Record<string, unknown>, problems: SafeHtml | '') => {
    const words = WORDS[lang]
    const { task, data, addressee, choiceField, claims, form } = inspected
    const party = organisationOf(addressee.organisation)?.name ?? addressee.organisation
    const formId = typeof form?.id === 'string' ? form.id : undefined
    const choiceComponent = form === undefined || choiceField === undefined ? undefined : formFieldRules(form, {}).find((rule) => rule.name === choiceField.key)?.component
    const answer = claims.choice === null || choiceComponent === undefined ? undefined : componentWords(formId, choiceComponent as never, lang).valueLabel(claims.choice)
    const record = [data.reference, data.title].filter((part): part is string => typeof part === 'string' && part !== '').join(' — ')
    const fields = shownFields(inspected, lang)
    // The task as the mail named it: in the reader's language (processes.fr.json), not the model's.
    const name = taskName(task.processDefinitionId, task.elementId, task.name, lang)
    return {
      title: answer === undefined ? name : `${answer} — ${name}`,
      body: html`<p>${words.about(party, addressee.actor)}</p>
${record === '' ? '' : html`<p>${words.record}${lang === 'fr' ? ' : ' : ': '}<strong>${record}</strong></p>\n`}${answer === undefined ? '' : html`<p>${words.answer}${lang === 'fr' ? ' : ' : ': '}<strong class="answer">${answer}</strong></p>\n`}${problems}<form method="post">
${fields.map((field) => fieldHtml(field, values[field.name]))}<button type="submit">${words.confirm}</button>
</form>
<p><small>${words.once}</small></p>
`,
    }
  }

  router.get('/:token', async (req, res) => {
    let inspected: InspectedLink
    try {
      inspected = await links.inspect(String(req.params.token))
    } catch (error) {
      return refuse(req, res, error)
    }
    const lang = languageOf(inspected.addressee.organisation, req)
    const shown = decisionPage(inspected, lang, {}, '')
    send(res, 200, lang, shown.title, shown.body)
  })

  router.post('/:token', express.urlencoded({ extended: false, limit: '32kb' }), async (req, res) => {
    const token = String(req.params.token)
    let inspected: InspectedLink
    try {
      inspected = await links.inspect(token)
    } catch (error) {
      return refuse(req, res, error)
    }
    const lang = languageOf(inspected.addressee.organisation, req)
    const body = (req.body ?? {}) as Record<string, unknown>
    const fields = shownFields(inspected, lang)
    try {
      const used = await links.use(token, submission(fields, body))
      const org = organisationOf(used.inspected.addressee.organisation)
      const at = formatDateTime(used.at, lang, { timeZone: org?.timeZone ?? 'UTC', senderName: '' })
      send(res, 200, lang, WORDS[lang].done(at, used.inspected.addressee.actor), html`<p class="done">${WORDS[lang].done(at, used.inspected.addressee.actor)}</p>\n`)
    } catch (error) {
      if (!(error instanceof TaskSubmissionError)) return refuse(req, res, error)
      const labels = new Map(fields.map((field) => [field.name, field.label]))
      const problems = html`<p class="invalid">${WORDS[lang].invalid}</p>\n<ul class="problems">\n${error.errors.map((problem) => html`<li data-field="${problem.field}">${labels.get(problem.field) ?? problem.field} (${problem.field})${lang === 'fr' ? ' : ' : ': '}${WORDS[lang].problems[problem.detail] ?? problem.detail}</li>\n`)}</ul>\n`
      const shown = decisionPage(inspected, lang, body, problems)
      send(res, 400, lang, shown.title, shown.body)
    }
  })

  return router
}
