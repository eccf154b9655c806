/**
 * Date and time pickers for the Camunda Forms' date fields. A form asks a date as a text field
 * checked by the ISO 8601 pattern (with its offset), so that Tasklist and raccord's console take
 * the same form; the console adds beside each one a picker read in the organisation's time zone,
 * which writes the field's text as a person would type it: 2026-12-07T14:00:00+01:00.
 */
import { h } from './dom'
import { zonedIso } from './fields'
import { t } from './i18n'

interface Component {
  id?: string
  type?: string
  label?: string
  validate?: { pattern?: string }
  components?: Component[]
}

/** A text field whose pattern asks an ISO 8601 date and time. */
function asksDateTime(component: Component): boolean {
  const pattern = component.validate?.pattern ?? ''
  return component.type === 'textfield' && pattern.startsWith('^\\d{4}-\\d{2}-\\d{2}T')
}

function dateFields(components: readonly Component[]): Component[] {
  return components.flatMap((component) => [...(asksDateTime(component) ? [component] : []), ...dateFields(component.components ?? [])])
}

/**
 * Pickers for the date fields form-js drew in `container`, in a block of their own put in
 * `holder`: form-js (Preact) owns its own tree, and a node slipped into it is lost on its next render.
 */
export function addDatePickers(container: HTMLElement, holder: HTMLElement, schema: Record<string, unknown>, zone: string): void {
  const pickers: HTMLElement[] = []
  for (const component of dateFields((schema.components ?? []) as Component[])) {
    if (component.id === undefined) continue
    const input = container.querySelector<HTMLInputElement>(`input[id$="-${CSS.escape(component.id)}"]`)
    if (input === null) continue
    const pickerId = `${input.id}-picker`
    const picker = h('input', { id: pickerId, type: 'datetime-local', onchange: () => {
      if (picker.value === '') return
      const iso = zonedIso(picker.value, zone)
      // form-js keeps the value in its own state, debounced: tell it as typing then leaving the field does.
      input.focus()
      input.value = iso
      input.dispatchEvent(new InputEvent('input', { bubbles: true, data: iso, inputType: 'insertText' }))
      input.blur()
      picker.focus()
    } })
    pickers.push(h('div', { class: 'date-picker' },
      h('label', { for: pickerId }, t('tasks.pickDate', { label: component.label ?? '', zone })),
      picker))
  }
  if (pickers.length > 0) holder.replaceChildren(h('fieldset', { class: 'date-pickers' }, h('legend', {}, t('tasks.pickDates')), pickers))
}
