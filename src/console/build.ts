/**
 * Builds the console's bundles with esbuild: bpmn-js, form-js and the pages in one script, their
 * style sheets in one CSS file, into dist/console/. No CDN: the console works offline.
 * `npm run build:console` runs it; `npm start` and the browser tests build first.
 */
import { build } from 'esbuild'
import { resolve } from 'node:path'
import { CONSOLE_ASSETS_DIR } from './router'

const CLIENT_DIR = resolve(__dirname, 'client')

export async function buildConsole(outDir = CONSOLE_ASSETS_DIR): Promise<void> {
  await build({
    entryPoints: [resolve(CLIENT_DIR, 'main.ts'), resolve(CLIENT_DIR, 'console.css')],
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    // bpmn-js and form-js read process.env.NODE_ENV in places.
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl' },
    entryNames: 'console',
    logLevel: 'warning',
    legalComments: 'linked',
  })
}

if (require.main === module) {
  const started = Date.now()
  buildConsole(process.argv[2] ? resolve(process.argv[2]) : undefined).then(
    () => console.log(`console bundles built in ${CONSOLE_ASSETS_DIR} (${Date.now() - started} ms)`),
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}
