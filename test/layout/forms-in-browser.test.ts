/** Every form a person completes is completed in a browser test (test/console), so a new form cannot land untried. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')
const forms = readdirSync(join(ROOT, 'processes/forms')).filter((name) => name.endsWith('.form')).map((name) => name.replace(/\.form$/, ''))
const browserTests = [
  join(ROOT, 'test/console/console.test.ts'),
  ...readdirSync(join(ROOT, 'test/console/forms')).filter((name) => name.endsWith('.test.ts')).map((name) => join(ROOT, 'test/console/forms', name)),
].map((file) => readFileSync(file, 'utf8')).join('\n')

test.each(forms)('the form %s is completed in a browser test', (form) => {
  // The form kit takes a form id as its fourth argument; console.test.ts names the task it completes.
  expect(browserTests).toMatch(new RegExp(`'${form}'`))
})
