/**
 * The process owner's texts in the user's language: Camunda Forms, process names and user task
 * names. The `.form` and `.bpmn` files stay the source, in English; the console swaps their visible
 * texts for translation tables keyed by form id and component id, or by process id and element
 * id, and keeps the model's own text wherever a table has none.
 */
import { language, type Language } from './i18n'
import formJs from './i18n/form-js.json'
import formsFr from './i18n/forms.fr.json'
import processesFr from './i18n/processes.fr.json'
import { formatDate, formatDuration, isIsoDuration } from './time'

/** The texts of one component: its label, description, text (markdown) and the labels of its values by value. */
export interface ComponentTexts {
  label?: string
  description?: string
  text?: string
  values?: Record<string, string>
}

/** form id → component id → texts. English is the forms' own language: it needs no table. */
export type FormTranslations = Record<string, Record<string, ComponentTexts>>

const TABLES: Partial<Record<Language, FormTranslations>> = { fr: formsFr }

/** process id → its name and the names of its user tasks by element id. */
export type ProcessTranslations = Record<string, { name: string; tasks: Record<string, string> }>

const PROCESS_TABLES: Partial<Record<Language, ProcessTranslations>> = { fr: processesFr }

/** A process's name in the user's language, else the model's, else its id. */
export function processName(processDefinitionId: string, own?: string): string {
  return PROCESS_TABLES[language()]?.[processDefinitionId]?.name ?? own ?? processDefinitionId
}

/** A user task's (or any element's) name in the user's language, else the model's, else its id. */
export function elementName(processDefinitionId: string, elementId: string, own?: string): string {
  return PROCESS_TABLES[language()]?.[processDefinitionId]?.tasks[elementId] ?? own ?? elementId
}

interface Component {
  id?: string
  key?: string
  path?: string
  label?: string
  description?: string
  text?: string
  values?: Array<{ label: string; value: string }>
  components?: Component[]
  [other: string]: unknown
}

/** A copy of `schema` with its texts in `lang`; the schema itself is left as it is. */
export function translateForm(schema: Record<string, unknown>, lang: Language = language()): Record<string, unknown> {
  const copy = structuredClone(schema) as { id?: string; components?: Component[] }
  const table = copy.id === undefined ? undefined : TABLES[lang]?.[copy.id]
  if (!table) return copy
  const walk = (components: Component[] | undefined) => {
    for (const component of components ?? []) {
      const texts = component.id === undefined ? undefined : table[component.id]
      if (texts) {
        if (texts.label !== undefined && component.label !== undefined) component.label = texts.label
        if (texts.description !== undefined && component.description !== undefined) component.description = texts.description
        if (texts.text !== undefined && component.text !== undefined) component.text = texts.text
        for (const value of component.values ?? []) value.label = texts.values?.[value.value] ?? value.label
      }
      walk(component.components)
    }
  }
  walk(copy.components)
  return copy
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** The keys the form's fields are bound to: their values must reach form-js as they are. */
function boundKeys(components: Component[] | undefined, into = new Set<string>()): Set<string> {
  for (const component of components ?? []) {
    for (const name of [component.key, component.path]) if (typeof name === 'string') into.add(name.split('.')[0])
    boundKeys(component.components, into)
  }
  return into
}

function forPeople(value: unknown): unknown {
  if (isIsoDuration(value)) return formatDuration(value)
  if (typeof value === 'string' && ISO_DATE_TIME.test(value)) return formatDate(value)
  if (Array.isArray(value)) return value.map(forPeople)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, forPeople(inner)]))
  return value
}

/**
 * The data a form shows: the variables no field is bound to, which only its texts read, get their
 * durations and dates written for people ("8 h", not "PT8H"); the fields' own values are untouched.
 */
export function displayData(schema: Record<string, unknown>, data: Record<string, unknown>): Record<string, unknown> {
  const bound = boundKeys((schema as { components?: Component[] }).components)
  return Object.fromEntries(Object.entries(data).map(([name, value]) => [name, bound.has(name) ? value : forPeople(value)]))
}

/**
 * form-js's own texts (validation messages, list controls) in the user's language, as a module
 * replacing its `translate` service. A pattern's message no longer shows the raw regular
 * expression: the field's description gives an example instead.
 */
export function formJsTranslation(lang: Language = language()): { translate: ['value', (template: string, replacements?: Record<string, string>) => string] } {
  const table: Record<string, string> = (formJs as Record<Language, Record<string, string>>)[lang] ?? {}
  const translate = (template: string, replacements: Record<string, string> = {}) =>
    (table[template] ?? template).replace(/{([^}]+)}/g, (whole, key: string) => replacements[key] ?? whole)
  return { translate: ['value', translate] }
}
