/**
 * Declare an incident: the fields of POST /api/incidents, validated by the server with the same
 * schema, its errors shown beside each field; then a link to the new incident's instance.
 */
import { ApiError, call, type Me } from './api'
import { alertBox, announce, fill, h } from './dom'
import { bodyOf, clearProblems, radioField, selectField, showProblems, textField, type Choice } from './fields'

interface ServiceItem {
  id: string
  name: string
  organisation: { id: string; name: string }
}

const LEVELS: Choice[] = [
  { value: 'high', label: 'High' },
  { value: 'medium', label: 'Medium' },
  { value: 'low', label: 'Low' },
]

export async function declarePage(main: HTMLElement, me: Me): Promise<void> {
  document.title = 'Declare an incident · raccord console'
  const { items: services } = await call<{ items: ServiceItem[] }>('GET', '/services')
  const fields = [
    textField({ name: 'title', label: 'Title', hint: 'What is wrong, in a few words: it heads every mail and the status page.', maxLength: 200 }),
    textField({ name: 'description', label: 'Description', hint: 'What users see, since when, what has been tried.', maxLength: 4000, multiline: true }),
    selectField({
      name: 'service',
      label: 'Service',
      placeholder: 'Choose a service',
      choices: services.map((service) => ({ value: service.id, label: `${service.name} (${service.id})`, group: service.organisation.name })),
    }),
    radioField({ name: 'impact', label: 'Impact', hint: 'How many users, how badly.', choices: LEVELS }),
    radioField({ name: 'urgency', label: 'Urgency', hint: 'How soon it must be restored.', choices: LEVELS }),
  ]
  const summary = h('div', { id: 'declare-problems' })
  const submit = h('button', { type: 'submit' }, 'Declare incident')

  const declare = async (event: Event) => {
    event.preventDefault()
    if (submit.disabled) return
    submit.disabled = true
    clearProblems(summary, fields)
    try {
      const incident = await call<{ id: string; processInstanceKey: string }>('POST', '/incidents', bodyOf(fields))
      announce(`Incident ${incident.id} declared`)
      declared(main, me, incident)
    } catch (failure) {
      if (failure instanceof ApiError && failure.errors.length > 0) showProblems(summary, fields, failure.errors)
      else fill(summary, alertBox(`The incident was not declared: ${(failure as Error).message}`))
    } finally {
      submit.disabled = false
    }
  }

  fill(main,
    h('h1', {}, 'Declare an incident'),
    h('p', {}, `Declared by ${me.name} (${me.organisation.name}). The process starts at once: the priority comes from the impact and urgency, and the service's operations team is told by mail.`),
    summary,
    h('form', { class: 'console-form', novalidate: true, onsubmit: (event: Event) => void declare(event) },
      fields.map((field) => field.element),
      h('div', { class: 'actions' }, submit)))
}

function declared(main: HTMLElement, me: Me, incident: { id: string; processInstanceKey: string }): void {
  const heading = h('h1', { tabindex: -1 }, `Incident ${incident.id} declared`)
  fill(main,
    heading,
    h('div', { class: 'notice', 'data-testid': 'declared' },
      h('p', {}, 'Its process has started; its tasks appear in Tasks for the teams concerned.'),
      h('ul', {},
        me.may.viewProcesses
          ? h('li', {}, h('a', { href: `#/instances/${incident.processInstanceKey}` }, `Open the instance of ${incident.id}`))
          : null,
        h('li', {}, h('a', { href: '#/tasks' }, 'Go to Tasks')),
        h('li', {}, h('a', { href: '#/declare', onclick: (event: Event) => {
          // The hash is already #/declare: route again to draw an empty form.
          event.preventDefault()
          window.dispatchEvent(new HashChangeEvent('hashchange'))
        } }, 'Declare another incident')))))
  heading.focus()
}
