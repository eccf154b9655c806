/**
 * Declare an incident: the fields of POST /api/incidents, validated by the server with the same
 * schema, its errors shown beside each field; then a link to the new incident's instance.
 */
import { ApiError, call, type Me } from './api'
import { alertBox, announce, fill, h } from './dom'
import { t } from './i18n'
import { bodyOf, clearProblems, radioField, selectField, showProblems, textField, type Choice } from './fields'

interface ServiceItem {
  id: string
  name: string
  organisation: { id: string; name: string }
}

const levels = (): Choice[] => ['high', 'medium', 'low'].map((value) => ({ value, label: t(`declare.levels.${value}`) }))

export async function declarePage(main: HTMLElement, me: Me): Promise<void> {
  document.title = `${t('declare.title')} · ${t('shell.brand')}`
  const { items: services } = await call<{ items: ServiceItem[] }>('GET', '/services')
  const fields = [
    textField({ name: 'title', label: t('declare.fields.title'), hint: t('declare.hints.title'), maxLength: 200 }),
    textField({ name: 'description', label: t('declare.fields.description'), hint: t('declare.hints.description'), maxLength: 4000, multiline: true }),
    selectField({
      name: 'service',
      label: t('declare.fields.service'),
      placeholder: t('declare.chooseService'),
      choices: services.map((service) => ({ value: service.id, label: `${service.name} (${service.id})`, group: service.organisation.name })),
    }),
    radioField({ name: 'impact', label: t('declare.fields.impact'), hint: t('declare.hints.impact'), choices: levels() }),
    radioField({ name: 'urgency', label: t('declare.fields.urgency'), hint: t('declare.hints.urgency'), choices: levels() }),
  ]
  const summary = h('div', { id: 'declare-problems' })
  const submit = h('button', { type: 'submit' }, t('declare.submit'))

  const declare = async (event: Event) => {
    event.preventDefault()
    if (submit.disabled) return
    submit.disabled = true
    clearProblems(summary, fields)
    try {
      const incident = await call<{ id: string; processInstanceKey: string }>('POST', '/incidents', bodyOf(fields))
      announce(t('declare.declared', { id: incident.id }))
      declared(main, me, incident)
    } catch (failure) {
      if (failure instanceof ApiError && failure.errors.length > 0) showProblems(summary, fields, failure.errors)
      else fill(summary, alertBox(t('declare.failed', { message: (failure as Error).message })))
    } finally {
      submit.disabled = false
    }
  }

  fill(main,
    h('h1', {}, t('declare.title')),
    h('p', {}, t('declare.intro', { name: me.name, organisation: me.organisation.name })),
    summary,
    h('form', { class: 'console-form', novalidate: true, onsubmit: (event: Event) => void declare(event) },
      fields.map((field) => field.element),
      h('div', { class: 'actions' }, submit)))
}

function declared(main: HTMLElement, me: Me, incident: { id: string; processInstanceKey: string }): void {
  const heading = h('h1', { tabindex: -1 }, t('declare.declared', { id: incident.id }))
  fill(main,
    heading,
    h('div', { class: 'notice', 'data-testid': 'declared' },
      h('p', {}, t('declare.started')),
      h('ul', {},
        me.may.viewProcesses
          ? h('li', {}, h('a', { href: `#/instances/${incident.processInstanceKey}` }, t('declare.openInstance', { id: incident.id })))
          : null,
        h('li', {}, h('a', { href: '#/tasks' }, t('declare.goToTasks'))),
        h('li', {}, h('a', { href: '#/declare', onclick: (event: Event) => {
          // The hash is already #/declare: route again to draw an empty form.
          event.preventDefault()
          window.dispatchEvent(new HashChangeEvent('hashchange'))
        } }, t('declare.another'))))))
  heading.focus()
}
