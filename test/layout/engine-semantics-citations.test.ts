/**
 * The engine's code and tests cite the Zeebe 8.8 semantics reference as "engine-semantics §N" or
 * "§N.M" (item M of section N). docs/engine-semantics.md is the project's copy of it: every
 * citation must name a section, and an item, that the copy holds.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')
const REFERENCE = join(ROOT, 'docs/engine-semantics.md')

/** Top-level numbered items of each `## N. Title` section. */
function sectionsOf(markdown: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>()
  let current: Set<string> | undefined
  for (const line of markdown.split('\n')) {
    const heading = /^## (\d+)\. /.exec(line)
    if (heading) {
      current = new Set()
      sections.set(heading[1], current)
      continue
    }
    const item = /^(\d+)\. /.exec(line)
    if (item && current) current.add(item[1])
  }
  return sections
}

/** Every "engine-semantics §2, §11.2" citation of src/, workers/ and test/, as ["2", "11.2"]. */
function citations(): Array<{ file: string; section: string }> {
  const found: Array<{ file: string; section: string }> = []
  for (const dir of ['src', 'workers', 'test']) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, dir, file), 'utf8').replace(/\s*\n\s*\*?\s*/g, ' ')
      for (const match of text.matchAll(/engine-semantics ((?:§\d+(?:\.\d+)?(?:, )?)+)/g)) {
        for (const section of match[1].matchAll(/§(\d+(?:\.\d+)?)/g)) found.push({ file: join(dir, file), section: section[1] })
      }
    }
  }
  return found
}

test('every engine-semantics citation names a section and item of docs/engine-semantics.md', () => {
  // given
  const sections = sectionsOf(readFileSync(REFERENCE, 'utf8'))
  const cited = citations()

  // when
  const dangling = cited.filter(({ section }) => {
    const [major, minor] = section.split('.')
    const items = sections.get(major)
    return items === undefined || (minor !== undefined && !items.has(minor))
  })

  // then
  expect(sections.size).toBeGreaterThan(10)
  expect(cited.length).toBeGreaterThan(5)
  expect(dangling).toEqual([])
})
