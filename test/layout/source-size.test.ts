/**
 * No source file in src/ or workers/ over 800 lines (issue 13): a file that grows past it holds
 * more than one concern and is split. Lines are counted as `wc -l` counts them.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const ROOT = join(__dirname, '../..')
const MAX_LINES = 800
const SOURCE = /\.(ts|tsx|js|cjs|mjs)$/

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => SOURCE.test(file))
    .map((file) => join(dir, file))
}

const lineCount = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n').length - 1

test('every source file of src/ and workers/ has at most 800 lines', () => {
  // given
  const files = [...sourceFiles('src'), ...sourceFiles('workers')]

  // when
  const oversized = files.map((file) => ({ file: relative(ROOT, join(ROOT, file)), lines: lineCount(file) })).filter(({ lines }) => lines > MAX_LINES)

  // then
  expect(files.length).toBeGreaterThan(50)
  expect(oversized).toEqual([])
})
