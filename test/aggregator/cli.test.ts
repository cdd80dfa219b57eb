import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { describe, expect, it } from 'vitest'
import { configJson } from '../../src/epoch/config.ts'
import { BIN, fomo } from '../helpers.ts'
import { databaseUrl, freshLocation, type Backend } from './stores.ts'
import { DEPLOYMENT_A, address, receipt, signed, worldConfig } from './world.ts'

const config = worldConfig()

async function serveUntilListening(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  for (let i = 0; i < 400 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 25))
  if (!out.includes('listening')) throw new Error(`serve did not start:\n${out}`)
  return { child, url: JSON.parse(out.split('\n').find((l) => l.includes('listening'))!).listening as string }
}

describe.each(['pglite', 'postgres'] as Backend[])('fomo init, serve, ingest, inputs, seal, export-receipts on %s', (backend) => {
  it.skipIf(backend === 'postgres' && !databaseUrl())('runs the whole flow from the command line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fomo-cli-agg-'))
    const location = await freshLocation(backend)
    const storeArgs = location.dataDir ? ['--data-dir', location.dataDir] : ['--database-url', location.databaseUrl!]
    await writeFile(join(dir, 'config.json'), JSON.stringify(configJson(config)))
    expect((await fomo(['init', '--config', join(dir, 'config.json'), ...storeArgs])).code).toBe(0)

    // Yesterday's epoch: it has ended, so it can be sealed, and its receipts are still young enough to take.
    const epoch = Math.floor(Date.now() / 86_400_000) - 1
    const ts = BigInt(epoch * 86_400 + 86_400 - 60)
    const docs = Array.from({ length: 30 }, (_, i) => signed(receipt(i, { epoch, timestamp: ts })))
    await writeFile(join(dir, 'receipts.ndjson'), docs.map((d) => JSON.stringify(d)).join('\n'))
    const { child, url } = await serveUntilListening(storeArgs)
    try {
      const sent = await fomo(['ingest', '--url', url, '--in', join(dir, 'receipts.ndjson'), '--batch-size', '7'])
      expect(sent.code).toBe(0)
      expect(JSON.parse(sent.stdout)).toMatchObject({ requests: 5, accepted: 30, duplicates: 0, rejected: 0 })
      const resent = await fomo(['ingest', '--url', url, '--in', join(dir, 'receipts.ndjson')])
      expect(JSON.parse(resent.stdout)).toMatchObject({ accepted: 0, duplicates: 30 })
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    await writeFile(join(dir, 'inputs.json'), JSON.stringify({ format: 'fomo-epoch-inputs-v1', epoch, deployments: { [DEPLOYMENT_A]: { opex: '0.001', circulatingSupply: '600000', stakes: { [address('user 0')]: '100' } } } }))
    expect((await fomo(['inputs', '--in', join(dir, 'inputs.json'), ...storeArgs])).code).toBe(0)
    const sealed = await fomo(['seal', '--epoch', String(epoch), '--out', join(dir, 'epochs'), ...storeArgs])
    expect(sealed.code).toBe(0)
    const { spendRoot } = JSON.parse(sealed.stdout)
    const files = await readdir(join(dir, 'epochs', `epoch-${epoch}`))
    expect(files.sort()).toEqual([...JSON.parse(sealed.stdout).files].sort())
    expect(files).toEqual(expect.arrayContaining(['config.json', 'inputs.json', 'manifest.json', 'report.json', 'reward-tree.json', 'spend-tree.json']))
    const spend = JSON.parse(await readFile(join(dir, 'epochs', `epoch-${epoch}`, 'spend-tree.json'), 'utf8'))
    expect(StandardMerkleTree.load(spend).root).toBe(spendRoot)
    const exported = await fomo(['export-receipts', '--epoch', String(epoch), '--out', join(dir, 'export.ndjson'), ...storeArgs])
    expect(JSON.parse(exported.stdout)).toMatchObject({ receipts: 30, batches: 0 })
    // The export is what the receipts were: every line verifies as signed.
    const lines = (await readFile(join(dir, 'export.ndjson'), 'utf8')).trim().split('\n')
    await writeFile(join(dir, 'one.json'), lines[0]!)
    expect((await fomo(['receipt', 'verify', '--in', join(dir, 'one.json')])).code).toBe(0)
  })
})
