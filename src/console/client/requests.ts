/**
 * Requesting a procedure from the console (#/new/<kind>): a cut, a change, an opening, a release,
 * a pre-production link, a vulnerability or a trace request, with the fields of its POST /api
 * route for the signed-in party. The server validates with the same schema as the API; its errors
 * are shown beside each field. Then the new record's page.
 */
import { ApiError, callApi, call, type Me } from './api'
import { alertBox, announce, fill, h } from './dom'
import { t } from './i18n'
import {
  bodyOf, checkboxField, clearProblems, dateTimeField, fixedField, multiChoiceField, numberField, radioField, selectField, showProblems, textField, type Choice, type Field,
} from './fields'
import type { RecordKind } from './records'
import { timeZone } from './time'

interface Directory {
  items: Array<{ id: string; name: string; organisation: { id: string; name: string; role: string } }>
  interconnections: Array<{ id: string; service: string; environment: string; organisation: { id: string; name: string } }>
  organisations: Array<{ id: string; name: string; role: string }>
}

export type RequestKind = Exclude<RecordKind, 'incidents'>

/** i18next reads a dot as nesting: `period.from` is the key `period_from`. */
const keyOf = (name: string) => name.replaceAll('.', '_')
const label = (name: string) => t(`requests.fields.${keyOf(name)}`)
const hint = (name: string) => t(`requests.hints.${keyOf(name)}`, { defaultValue: '' }) || undefined

function text(name: string, options: { multiline?: boolean; maxLength?: number } = {}): Field {
  return textField({ name, label: label(name), hint: hint(name), maxLength: options.maxLength ?? (options.multiline ? 4000 : 200), multiline: options.multiline })
}

function select(name: string, choices: Choice[]): Field {
  return selectField({ name, label: label(name), hint: hint(name), placeholder: t('requests.choose'), choices })
}

/** The fields of each request, for this person's organisation. */
function fieldsOf(kind: RequestKind, me: Me, directory: Directory): Field[] {
  const own = me.organisation
  const isClient = own.role === 'client'
  const services = (filter: (service: Directory['items'][number]) => boolean) =>
    directory.items.filter(filter).map((service) => ({ value: service.id, label: `${service.name} (${service.id})`, group: service.organisation.name }))
  const providerServices = services((service) => service.organisation.role === 'provider' && (isClient || service.organisation.id === own.id))
  const providers = directory.organisations.filter((org) => org.role === 'provider' && (isClient || org.id === own.id)).map((org) => ({ value: org.id, label: org.name }))
  const provider = () => (isClient ? select('providerId', providers) : fixedField({ name: 'providerId', label: label('providerId'), value: own.id, shown: own.name }))
  const links = (environment?: string) => directory.interconnections
    .filter((link) => environment === undefined || link.environment === environment)
    .map((link) => ({ value: link.id, label: `${link.id} · ${link.service} · ${t(`requests.environments.${link.environment}`, { defaultValue: link.environment })}`, group: link.organisation.name }))
  const retention = [checkboxField({ name: 'retainPreviousVersion', label: label('retainPreviousVersion'), hint: hint('retainPreviousVersion') }), numberField({ name: 'retentionMonths', label: label('retentionMonths'), hint: hint('retentionMonths'), min: 1, max: 6, step: 1 })]
  switch (kind) {
    case 'cuts':
      return [select('interconnectionId', links()), text('reason', { multiline: true })]
    case 'changes':
      return isClient
        ? [fixedField({ name: 'kind', label: label('kind'), value: 'portal-change', shown: t('requests.kinds.portal-change') }), text('title'), text('description', { multiline: true }), text('version', { maxLength: 50 }), text('previousVersion', { maxLength: 50 }), ...retention]
        : [fixedField({ name: 'kind', label: label('kind'), value: 'provider-change', shown: t('requests.kinds.provider-change') }), text('title'), text('description', { multiline: true }), select('serviceId', providerServices), text('version', { maxLength: 50 }), text('previousVersion', { maxLength: 50 }),
          checkboxField({ name: 'relatedToPortal', label: label('relatedToPortal'), hint: hint('relatedToPortal') }), ...retention]
    case 'openings':
      return [provider(), select('serviceId', providerServices), dateTimeField({ name: 'plannedAt', label: label('plannedAt'), hint: t('requests.hints.zone', { zone: timeZone() }), zone: timeZone })]
    case 'releases':
      return isClient
        ? [fixedField({ name: 'kind', label: label('kind'), value: 'portal-release', shown: t('requests.kinds.portal-release') }), text('title'), text('version', { maxLength: 50 }), dateTimeField({ name: 'plannedAt', label: label('plannedAt'), hint: t('requests.hints.zone', { zone: timeZone() }), zone: timeZone })]
        : [fixedField({ name: 'kind', label: label('kind'), value: 'provider-release', shown: t('requests.kinds.provider-release') }), select('serviceId', providerServices), text('version', { maxLength: 50 }), text('previousVersion', { maxLength: 50 }), text('validationReference')]
    case 'preproduction-links':
      return [provider(), select('interconnectionId', links('preproduction')), radioField({ name: 'action', label: label('action'), choices: ['reactivate', 'keep'].map((value) => ({ value, label: t(`requests.actions.${value}`) })) })]
    case 'vulnerabilities':
      return [text('title'), text('description', { multiline: true }), select('service', services((service) => isClient || service.organisation.id === own.id || service.organisation.role === 'client')),
        text('cveId', { maxLength: 30 }), text('cvssVector', { maxLength: 200 }), numberField({ name: 'cvssScore', label: label('cvssScore'), hint: hint('cvssScore'), min: 0, max: 10, step: 0.1 }),
        checkboxField({ name: 'knownExploited', label: label('knownExploited'), hint: hint('knownExploited') })]
    case 'trace-requests': {
      const organisations = directory.organisations.map((org) => ({ value: org.id, label: org.name }))
      return [radioField({ name: 'direction', label: label('direction'), choices: ['outgoing', 'incoming'].map((value) => ({ value, label: t(`requests.directions.${value}`) })) }),
        select('requester.organisation', organisations), text('requester.name'), select('recipient.organisation', organisations), text('recipient.name'),
        multiChoiceField({ name: 'services', label: label('services'), choices: services(() => true) }),
        dateTimeField({ name: 'period.from', label: label('period.from'), hint: t('requests.hints.zone', { zone: timeZone() }), zone: timeZone }),
        dateTimeField({ name: 'period.to', label: label('period.to'), zone: timeZone }),
        text('purpose', { multiline: true })]
    }
  }
}

export async function requestPage(main: HTMLElement, me: Me, kind: RequestKind): Promise<void> {
  document.title = `${t(`requests.new.${kind}`)} · ${t('shell.brand')}`
  const directory = await call<Directory>('GET', '/services')
  const fields = fieldsOf(kind, me, directory)
  const summary = h('div', { id: 'request-problems' })
  const submit = h('button', { type: 'submit' }, t('requests.submit'))
  const send = async (event: Event) => {
    event.preventDefault()
    if (submit.disabled) return
    submit.disabled = true
    clearProblems(summary, fields)
    try {
      const created = await callApi<{ id?: string; reference?: string }>('POST', `/${kind}`, bodyOf(fields))
      const id = created.id ?? created.reference ?? ''
      announce(t('requests.done', { id }))
      location.hash = `#/records/${kind}/${encodeURIComponent(id)}`
    } catch (failure) {
      if (failure instanceof ApiError && failure.errors.length > 0) showProblems(summary, fields, failure.errors)
      else fill(summary, alertBox(t('requests.failed', { message: (failure as Error).message })))
    } finally {
      submit.disabled = false
    }
  }
  fill(main,
    h('p', {}, h('a', { href: `#/records/${kind}` }, t('records.backTo', { kind: t(`records.kind.${kind}`) }))),
    h('h1', {}, t(`requests.new.${kind}`)),
    h('p', {}, t(`requests.intro.${kind}`, { organisation: me.organisation.name })),
    summary,
    h('form', { class: 'console-form', novalidate: true, onsubmit: (event: Event) => void send(event) },
      fields.map((field) => field.element),
      h('div', { class: 'actions' }, submit)))
}
