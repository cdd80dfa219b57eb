import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../src/epoch/config.ts'
import { readEpochInputs } from '../src/epoch/inputs.ts'
import { seal } from '../src/epoch/seal.ts'
import { type SpendRow } from '../src/epoch/spend.ts'
import { discountParameters } from '../src/economics/parameters.ts'
import { stakingDiscountBps } from '../src/economics/revenue.ts'
import type { Hex } from '../src/base/bytes.ts'
import { GOLDEN_DIR, goldenFiles } from './golden.ts'

async function committed(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(join(GOLDEN_DIR, 'epoch'))).sort()) files.set(`epoch/${name}`, await readFile(join(GOLDEN_DIR, 'epoch', name)))
  files.set('receipts.ndjson', await readFile(join(GOLDEN_DIR, 'receipts.ndjson')))
  return files
}

describe('golden epoch (fixtures/golden, written before any refactoring)', () => {
  it('the demo at a fixed time and seed reproduces every artifact and the receipts export byte for byte', async () => {
    const out = await mkdtemp(join(tmpdir(), 'fomo-golden-'))
    try {
      const expected = await committed()
      const found = await goldenFiles(out)
      expect([...found.keys()]).toEqual([...expected.keys()])
      for (const [name, content] of expected) expect(found.get(name)?.equals(content), `${name} differs from fixtures/golden/${name}`).toBe(true)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })

  it('seal() alone, from the committed configuration, inputs and spend leaves, reproduces every epoch file', async () => {
    const expected = await committed()
    const text = (name: string) => expected.get(`epoch/${name}`)!.toString('utf8')
    const config = readConfig(JSON.parse(text('config.json')))
    const inputs = readEpochInputs(JSON.parse(text('inputs.json')), config)
    const report = JSON.parse(text('report.json')) as { epoch: number }
    // The spend tree's leaves are (epoch, deployment, user, gross, charged, count); discounts agree with the snapshot (report: no mismatches).
    const leaves = (JSON.parse(text('spend-tree.json')) as { values: Array<{ value: string[] }> }).values.map((v) => v.value)
    const spend = leaves.map(([, deploymentId, user, gross, charged, count]): SpendRow => {
      const d = inputs.deployments.get(deploymentId as Hex)!
      const bps = Number(stakingDiscountBps(d.stakes.get((user as string).toLowerCase() as Hex) ?? 0n, d.circulatingSupply!, discountParameters(config.platform)))
      return { deploymentId: deploymentId as Hex, user: (user as string).toLowerCase() as Hex, gross: BigInt(gross!), charged: BigInt(charged!), count: BigInt(count!), minDiscountBps: bps, maxDiscountBps: bps }
    })
    const out = seal({ epoch: report.epoch, config, spend, inputs: inputs.deployments, previous: [], previousManifestSha256: null })
    expect(out.files.map((f) => `epoch/${f.name}`)).toEqual([...expected.keys()].filter((k) => k.startsWith('epoch/')))
    for (const f of out.files) expect(Buffer.from(f.content).equals(expected.get(`epoch/${f.name}`)!), `${f.name} differs`).toBe(true)
  })
})
