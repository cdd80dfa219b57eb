import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { GOLDEN_DIR, goldenFiles } from './golden.ts'

// Writes fixtures/golden from the current code. Run only when a format changes on purpose: npx tsx test/generate-golden.ts
const out = await mkdtemp(join(tmpdir(), 'fomo-golden-'))
const files = await goldenFiles(out)
await rm(GOLDEN_DIR, { recursive: true, force: true })
for (const [name, content] of files) {
  await mkdir(dirname(join(GOLDEN_DIR, name)), { recursive: true })
  await writeFile(join(GOLDEN_DIR, name), content)
}
await rm(out, { recursive: true, force: true })
console.log(`wrote ${files.size} files to ${GOLDEN_DIR}`)
process.exit(0)
