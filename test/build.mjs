/**
 * Builds dist/, the published package: the sources compiled with declarations (test/tsconfig.build.json), plus the plain
 * JavaScript files they load at run time. The build is written aside and swapped in, under a lock, so that processes
 * running the previous dist never read a half-written one and concurrent builds do not collide.
 *   --if-stale            only when a source is newer than dist (`npm ci`'s prepare, the CLI tests)
 *   --allow-type-errors   still build when tsc reports type errors, as running the sources through tsx did
 *                         (`npm test` type-checks first anyway); `npm run build` and `npm pack` refuse them
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')
const src = join(root, 'src')
const dist = join(root, 'dist')
const lock = join(root, '.dist-lock')
/** Plain files of src/ that are not shipped: this one loads TypeScript through tsx (dist runs verifyWorkerMain.js). */
const SOURCE_ONLY = new Set(['receipts/verifyWorker.mjs'])
const ifStale = process.argv.includes('--if-stale')
const allowTypeErrors = process.argv.includes('--allow-type-errors')

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
const folders = (dir) => [dir, ...readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? folders(join(dir, e.name)) : []))]

/** Newest modification among what dist is built from: sources (not tests), folders (a deleted file), configuration. */
function newestInput() {
  const inputs = [...files(src).filter((f) => !f.endsWith('.test.ts')), ...folders(src), join(root, 'tsconfig.json'), join(root, 'test', 'tsconfig.build.json'), import.meta.filename]
  return Math.max(...inputs.map((f) => statSync(f).mtimeMs))
}

// dist's own mtime is set to when its build started: a source saved during a build leaves it stale.
const stale = () => !existsSync(join(dist, 'cli', 'bin.js')) || newestInput() > statSync(dist).mtimeMs

function build() {
  const started = new Date()
  const out = join(root, `.dist-${process.pid}`)
  rmSync(out, { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'test', 'tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'pipe', encoding: 'utf8' })
  } catch (error) {
    // tsc exits 2 when it found type errors but wrote every file.
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`)
    if (!(allowTypeErrors && error.status === 2)) {
      rmSync(out, { recursive: true, force: true })
      throw new Error('tsc -p test/tsconfig.build.json failed')
    }
  }
  for (const file of files(src)) {
    const name = relative(src, file).split('\\').join('/')
    if (!/\.(mjs|d\.mts)$/.test(name) || SOURCE_ONLY.has(name)) continue
    mkdirSync(dirname(join(out, name)), { recursive: true })
    copyFileSync(file, join(out, name))
  }
  chmodSync(join(out, 'cli', 'bin.js'), 0o755)
  const old = join(root, `.dist-old-${process.pid}`)
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(out, dist)
  rmSync(old, { recursive: true, force: true })
  utimesSync(dist, started, started)
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
if (!ifStale || stale()) {
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if (error.code !== 'EEXIST') throw error
      // A lock left by a build that died (builds take well under 5 minutes).
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true })
      sleep(200)
    }
  }
  try {
    // Another build may have finished while this one waited.
    if (!ifStale || stale()) build()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
