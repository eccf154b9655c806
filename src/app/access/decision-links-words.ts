/**
 * The words of a task's form in the reader's language: the forms are written in English, and the
 * console's French resources (forms.fr.json, by form id and component id) give their French. The
 * link pages and mails use the same texts as the console, so a field is named alike everywhere.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Language } from '../../config'
import { PACKAGE_ROOT } from '../../package-root'

interface ComponentWords {
  label?: string
  description?: string
  values?: Record<string, string>
}

type FormWords = Record<string, Record<string, ComponentWords>>

const FRENCH_FORMS = join(PACKAGE_ROOT, 'src', 'console', 'client', 'i18n', 'forms.fr.json')

let french: FormWords | undefined

function frenchWords(): FormWords {
  french ??= existsSync(FRENCH_FORMS) ? (JSON.parse(readFileSync(FRENCH_FORMS, 'utf8')) as FormWords) : {}
  return french
}

/** A component of a form, as far as its words go. */
export interface WordedComponent {
  id?: string
  label?: string
  description?: string
  values?: Array<{ value?: unknown; label?: string }>
}

/** The component's words in `lang`: the French resource when there is one, else the form's own English. */
export function componentWords(formId: string | undefined, component: WordedComponent, lang: Language): { label: string; description?: string; valueLabel(value: string): string } {
  const translated = lang === 'fr' && formId !== undefined && component.id !== undefined ? frenchWords()[formId]?.[component.id] : undefined
  const english = (value: string) => component.values?.find((option) => String(option.value) === value)?.label ?? value
  return {
    label: translated?.label ?? component.label ?? component.id ?? '',
    description: translated?.description ?? component.description,
    valueLabel: (value) => translated?.values?.[value] ?? english(value),
  }
}

type ProcessWords = Record<string, { name?: string; tasks?: Record<string, string> }>

const FRENCH_PROCESSES = join(PACKAGE_ROOT, 'src', 'console', 'client', 'i18n', 'processes.fr.json')

let frenchProcesses: ProcessWords | undefined

/** A task's name in `lang`: the console's French resource (processes.fr.json) when there is one, else the model's name. */
export function taskName(processId: string, elementId: string, modelName: string | undefined, lang: Language): string {
  frenchProcesses ??= existsSync(FRENCH_PROCESSES) ? (JSON.parse(readFileSync(FRENCH_PROCESSES, 'utf8')) as ProcessWords) : {}
  const translated = lang === 'fr' ? frenchProcesses[processId]?.tasks?.[elementId] : undefined
  return translated ?? modelName ?? elementId
}
