#!/usr/bin/env node
// Runs the compiled JavaScript in dist/node, which `npm ci` builds (the `prepare` script) and
// `npm run build` refreshes: compiling TypeScript on every start cost seconds. When dist/node is
// missing, or a source is newer than the last build (an edit not yet built), it runs the
// TypeScript sources through tsx instead, so what runs is never older than what was written.
'use strict'
const { existsSync, readdirSync, statSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const compiledCli = join(root, 'dist', 'node', 'src', 'cli.js')
const buildStamp = join(root, 'dist', 'node', '.built')

/** The newest modification time of the TypeScript sources that dist/node is built from. */
function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      // The console's browser code is bundled by esbuild, not compiled into dist/node.
      if (path !== join(root, 'src', 'console', 'client')) newest = Math.max(newest, newestSource(path))
    } else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) {
      newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  return newest
}

function compiledIsCurrent() {
  if (process.env.RACCORD_FROM_SOURCES === '1' || !existsSync(compiledCli) || !existsSync(buildStamp)) return false
  const built = statSync(buildStamp).mtimeMs
  return newestSource(join(root, 'src')) <= built && newestSource(join(root, 'workers')) <= built
}

if (compiledIsCurrent()) {
  require(compiledCli)
} else {
  require('tsx/cjs')
  require('../src/cli.ts')
}
