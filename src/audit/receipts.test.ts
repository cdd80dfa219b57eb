/** The auditor's streaming read of a receipts file: the same totals, repeats and errors (with line numbers) as the whole-file reader, on the main thread and on the verifier pool. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { epochReceiptOf, spendFromReceipts } from '../epoch/spend.ts'
import { batch, EPOCH, receipt, signed, worldConfig } from '../../test/aggregator/world.ts'
import { verifiedColumns } from '../../test/aggregator/world.ts'
import { auditReceipts } from './receipts.ts'
import { AuditDiscrepancy } from './discrepancy.ts'

const config = worldConfig()
const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

async function file(lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-audit-receipts-'))
  dirs.push(dir)
  const path = join(dir, 'receipts.ndjson')
  await writeFile(path, `${lines.join('\n')}\n`)
  return path
}

/** Per-call receipts and two batches, one of them repeated, and one per-call receipt repeated. */
function lines(): string[] {
  const single = Array.from({ length: 6 }, (_, i) => JSON.stringify(signed(receipt(i))))
  const a = JSON.stringify(batch(Array.from({ length: 40 }, (_, i) => receipt(100 + 2 * i, { deployment: 0, user: i % 7 }))))
  const b = JSON.stringify(batch(Array.from({ length: 30 }, (_, i) => receipt(300 + 2 * i + 1, { deployment: 1, user: i % 4 }))))
  return [single[0]!, a, ...single.slice(1), '', b, a, single[2]!]
}

describe('auditReceipts: streamed, folded into totals, repeats counted once', () => {
  const expected = () => {
    const docs = [...Array.from({ length: 6 }, (_, i) => signed(receipt(i)))]
    const columns = verifiedColumns(docs, config)
    const receipts = Array.from({ length: columns.length }, (_, i) => ({ receipt: columns.receipt(i), digest: columns.digestHex(i) }))
    const batches = [Array.from({ length: 40 }, (_, i) => receipt(100 + 2 * i, { deployment: 0, user: i % 7 })), Array.from({ length: 30 }, (_, i) => receipt(300 + 2 * i + 1, { deployment: 1, user: i % 4 }))]
    const all = [...receipts.map((r) => ({ ...r })), ...batches.flat().map((r) => ({ receipt: r, digest: '0x' as `0x${string}` }))]
    return spendFromReceipts(all.map((r) => epochReceiptOf({ receipt: r.receipt, digest: r.digest })))
  }

  for (const [name, options] of [
    ['on this thread', { poolBytes: Number.MAX_SAFE_INTEGER }],
    ['on the verifier pool', { poolBytes: 0, threads: 2 }],
  ] as const)
    it(`gives the totals of the distinct receipts, from a file and from text, ${name}`, async () => {
      const text = `${lines().join('\n')}\n`
      const checks: string[] = []
      const fromFile = await auditReceipts({ path: await file(lines()) }, config, EPOCH, { push: (l) => checks.push(l) }, { ...options, keep: true })
      const fromText = await auditReceipts({ text }, config, EPOCH, { push: () => undefined }, { poolBytes: Number.MAX_SAFE_INTEGER })
      expect(fromFile.spend).toEqual(expected())
      expect(fromText.spend).toEqual(fromFile.spend)
      expect(fromFile.count).toBe(76)
      expect(fromFile.duplicates).toBe(41)
      expect(fromFile.receipts).toHaveLength(76)
      expect(new Set(fromFile.receipts!.map((r) => r.digest)).size).toBe(76)
      expect(checks).toEqual(['receipts: 76 signatures verified against the providers of config.json (41 repeats counted once)'])
    })

  it('names the line of a bad receipt, and of a receipt of another epoch', async () => {
    const bad = lines()
    bad[3] = bad[3]!.replace(/"inputTokens":"(\d+)"/, (_, n) => `"inputTokens":"${Number(n) + 1}"`)
    await expect(auditReceipts({ path: await file(bad) }, config, EPOCH, { push: () => undefined })).rejects.toThrow(/receipt on line 4/)
    const other = [...lines(), JSON.stringify(signed(receipt(999, { epoch: EPOCH + 1 })))]
    const error = await auditReceipts({ path: await file(other) }, config, EPOCH, { push: () => undefined }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuditDiscrepancy)
    expect((error as AuditDiscrepancy).shortMessage).toMatch(new RegExp(`receipt on line ${other.length} \\(requestId 0x[0-9a-f]{64}\\) is for epoch ${EPOCH + 1}`))
  })
})
