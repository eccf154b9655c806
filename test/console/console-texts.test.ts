/**
 * The console's texts: French and English carry the same keys, and the French table of the
 * Camunda Forms matches the `.form` files (every form id, component id and value it names exists,
 * every visible text has its translation, with the same {{placeholders}}), as the table of the
 * processes' and user tasks' names matches the `.bpmn` files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import en from '../../src/console/client/i18n/en.json'
import fr from '../../src/console/client/i18n/fr.json'
import formJs from '../../src/console/client/i18n/form-js.json'
import formsFr from '../../src/console/client/i18n/forms.fr.json'
import processesFr from '../../src/console/client/i18n/processes.fr.json'

const PROCESSES_DIR = resolve(__dirname, '../../processes')
const FORMS_DIR = join(PROCESSES_DIR, 'forms')

interface Component {
  id?: string
  label?: string
  description?: string
  text?: string
  values?: Array<{ label: string; value: string }>
  components?: Component[]
}

type Texts = { label?: string; description?: string; text?: string; values?: Record<string, string> }

function keysOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix]
  return Object.entries(value).flatMap(([name, inner]) => keysOf(inner, prefix === '' ? name : `${prefix}.${name}`))
}

/** Plural keys differ by language (French and English share _one and _other). */
test('French and English have the same console texts', () => {
  expect(keysOf(fr).sort()).toEqual(keysOf(en).sort())
})

const placeholders = (text: string) => [...text.matchAll(/\{\{[^}]+\}\}/g)].map((match) => match[0]).sort()

test('the French table of the forms covers every visible text of every .form, and names nothing else', () => {
  const table = formsFr as Record<string, Record<string, Texts>>
  const forms = readdirSync(FORMS_DIR).filter((file) => file.endsWith('.form')).map((file) => JSON.parse(readFileSync(join(FORMS_DIR, file), 'utf8')) as { id: string; components: Component[] })
  const problems: string[] = []
  const seen = new Set<string>()
  for (const form of forms) {
    const texts = table[form.id]
    if (!texts) {
      problems.push(`${form.id}: no translation`)
      continue
    }
    const walk = (components: Component[] = []) => {
      for (const component of components) {
        const own = component.id === undefined ? undefined : texts[component.id]
        if (component.id !== undefined) seen.add(`${form.id}/${component.id}`)
        for (const field of ['label', 'description', 'text'] as const) {
          const original = component[field]
          if (original === undefined) {
            if (own?.[field] !== undefined) problems.push(`${form.id}/${component.id}: translates a ${field} the form does not have`)
            continue
          }
          const translated = own?.[field]
          if (translated === undefined) problems.push(`${form.id}/${component.id}: no French ${field}`)
          else if (placeholders(translated).join() !== placeholders(original).join()) problems.push(`${form.id}/${component.id}: ${field} placeholders ${placeholders(translated)} instead of ${placeholders(original)}`)
        }
        const values = (component.values ?? []).map((value) => value.value).sort()
        if (Object.keys(own?.values ?? {}).sort().join() !== values.join()) problems.push(`${form.id}/${component.id}: values ${Object.keys(own?.values ?? {})} instead of ${values}`)
        walk(component.components)
      }
    }
    walk(form.components)
  }
  for (const [formId, components] of Object.entries(table)) {
    for (const componentId of Object.keys(components)) if (!seen.has(`${formId}/${componentId}`)) problems.push(`${formId}/${componentId}: no such form component`)
  }
  expect(problems).toEqual([])
})

test('the French table of the processes names every process and user task of the .bpmn files, and nothing else', () => {
  const models: Record<string, { name: string; tasks: Record<string, string> }> = {}
  for (const file of readdirSync(PROCESSES_DIR).filter((name) => name.endsWith('.bpmn'))) {
    const xml = readFileSync(join(PROCESSES_DIR, file), 'utf8')
    const process = /<bpmn:process id="([^"]+)" name="([^"]+)"/.exec(xml)
    if (!process) throw new Error(`${file}: no named process`)
    const tasks = [...xml.matchAll(/<bpmn:userTask id="([^"]+)" name="([^"]+)"/g)].map((match) => [match[1], match[2]])
    models[process[1]] = { name: process[2], tasks: Object.fromEntries(tasks) }
  }
  const table = processesFr as Record<string, { name: string; tasks: Record<string, string> }>
  expect(Object.keys(table).sort()).toEqual(Object.keys(models).sort())
  for (const [id, model] of Object.entries(models)) {
    expect({ id, tasks: Object.keys(table[id].tasks).sort() }).toEqual({ id, tasks: Object.keys(model.tasks).sort() })
    expect(table[id].name).not.toBe('')
  }
})

test("the table of form-js's own texts names texts form-js translates, with their placeholders", () => {
  const viewer = readFileSync(require.resolve('@bpmn-io/form-js-viewer'), 'utf8')
  const braces = (text: string) => [...text.matchAll(/\{[^}]+\}/g)].map((match) => match[0]).sort().join()
  const problems: string[] = []
  for (const [language, table] of Object.entries(formJs as Record<string, Record<string, string>>)) {
    for (const [template, translated] of Object.entries(table)) {
      if (!viewer.includes(`translate('${template}'`)) problems.push(`${language}: form-js has no text '${template}'`)
      // The pattern's message leaves out the raw regular expression on purpose.
      if (template !== 'Field must match pattern {value}.' && braces(translated) !== braces(template)) problems.push(`${language}: '${translated}' changes the placeholders of '${template}'`)
    }
  }
  expect(problems).toEqual([])
})
