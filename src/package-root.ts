import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * raccord's package directory, found from this file's place: the sources run from `src/`, their
 * compiled form from `dist/node/src/`, so a path relative to `__dirname` would differ between them.
 */
function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'processes'))) return dir
    if (dirname(dir) === dir) throw new Error(`raccord's package directory (with package.json and processes/) is not above ${start}`)
  }
}

/** The directory holding raccord's package.json, processes/ and dist/. */
export const PACKAGE_ROOT = findPackageRoot(__dirname)
