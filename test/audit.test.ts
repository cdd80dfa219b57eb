/**
 * The demo's epoch end to end through the CLI: `fomo demo` seals and publishes it, `fomo prove` proves it with the
 * test-only keys, `fomo audit` accepts it, and each of four tampered copies (one receipt, one spend leaf, one reward,
 * one proof) is rejected with a diagnosis that names what was changed, with the expected and the found value; so is
 * the epoch sealed again with spend moved between two users, from its proofs alone.
 */
import { proofsHash } from '../src/proofs/prove.ts'
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { fomo } from './helpers.ts'
import { writeEpochDirectory } from '../src/epoch/directory.ts'
import { movedSpendFiles } from './movedSpend.ts'

let out: string
let epochDir: string
let receipts: string
let attestations: string
let demoStdout: string

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fomo-audit-'))
  const demo = await fomo(['demo', '--out', join(out, 'demo'), '--seed', 'audit', '--receipts', '30', '--users', '8'])
  expect(demo.code, demo.stderr).toBe(0)
  demoStdout = demo.stdout
  const name = (await readdir(join(out, 'demo', 'epochs'))).find((f) => f.startsWith('epoch-'))!
  epochDir = join(out, 'demo', 'epochs', name)
  receipts = join(out, 'demo', `receipts-${name.slice('epoch-'.length)}.ndjson`)
  attestations = join(out, 'demo', `attestations-${name.slice('epoch-'.length)}.ndjson`)
}, 120_000)

/** A copy of the proven epoch (and its receipts) with one file changed. */
async function tampered(label: string, file: 'receipts' | string, change: (json: any) => void): Promise<{ dir: string; receipts: string }> {
  const dir = join(out, label, 'epochs', 'epoch-copy')
  await cp(epochDir, dir, { recursive: true })
  const copyReceipts = join(out, label, 'receipts.ndjson')
  await cp(receipts, copyReceipts)
  if (file === 'receipts') {
    const lines = (await readFile(copyReceipts, 'utf8')).trim().split('\n')
    const i = lines.findIndex((l) => l.includes('"fomo-receipt-v1"'))
    const doc = JSON.parse(lines[i]!)
    change(doc)
    lines[i] = JSON.stringify(doc)
    await writeFile(copyReceipts, `${lines.join('\n')}\n`)
  } else {
    const doc = JSON.parse(await readFile(join(dir, file), 'utf8'))
    change(doc)
    await writeFile(join(dir, file), JSON.stringify(doc))
  }
  return { dir, receipts: copyReceipts }
}

describe('fomo demo, prove and audit', () => {
  it('the demo prints the commands that prove and audit its epoch', () => {
    expect(demoStdout).toMatch(/Epoch \d+ sealed and published/)
    expect(demoStdout).toContain('accepted / dup / rejected  30 / 18 / 0')
    expect(demoStdout).toMatch(/claimed for\s+0x[0-9a-f]{40} in one transaction/)
    expect(demoStdout).toContain(`npx fomo prove ${epochDir} --receipts ${receipts} --attestations ${attestations}`)
    expect(demoStdout).toContain(`npx fomo audit ${epochDir} --receipts ${receipts}`)
  })

  it('audits the unproven epoch from its receipts, then proves it, then audits it with its proofs', async () => {
    const before = await fomo(['audit', epochDir, '--receipts', receipts])
    expect(before.code, before.stdout + before.stderr).toBe(0)
    expect(before.stdout).toMatch(/ok {7}receipts: 30 signatures verified/)
    expect(before.stdout).toContain('warning  no proofs.json')

    // Without the providers' attestations nothing is proven: the aggregator cannot prove receipts on its own word.
    const unattested = await fomo(['prove', epochDir, '--receipts', receipts])
    expect(unattested.code).toBe(1)
    expect(unattested.stderr).toMatch(/no attestations of provider 0x[0-9a-f]{40} of deployment 0x[0-9a-f]{64} for epoch \d+/)
    const proved = await fomo(['prove', epochDir, '--receipts', receipts, '--attestations', attestations])
    expect(proved.code, proved.stderr).toBe(0)
    expect(proved.stderr).toContain('TEST-ONLY')
    const summary = JSON.parse(proved.stdout)
    expect(summary).toMatchObject({ circuit: 'receipt_batch_4', receipts: 30 })
    const proofs = JSON.parse(await readFile(join(epochDir, 'proofs.json'), 'utf8'))
    expect(proofs).toMatchObject({ format: 'fomo-epoch-proofs-v4', proofsHash: summary.proofsHash, circuit: { receipts: 4, rows: 2, testOnly: true } })
    expect(proofs.batches.length).toBe(summary.batches)

    const after = await fomo(['audit', epochDir, '--receipts', receipts])
    expect(after.code, after.stdout + after.stderr).toBe(0)
    expect(after.stdout).toMatch(/ok {7}proofs: 4 provider attestations signed by their configured keys; \d+ batch proofs of receipt_batch_4 verify/)
    expect(after.stdout).toContain('each batch root is the Poseidon root of the receipts')
    expect(after.stdout).toMatch(/audit passed/)
    // Without the receipts the auditor still recomputes everything downstream of the spend leaves.
    const blind = await fomo(['audit', epochDir])
    expect(blind.code, blind.stdout).toBe(0)
    expect(blind.stdout).toContain('warning  no receipts given')
  }, 300_000)

  it('names a tampered receipt: its line and request id', async () => {
    const t = await tampered('receipt', 'receipts', (doc) => (doc.message.inputTokens = String(Number(doc.message.inputTokens) + 1)))
    const r = await fomo(['audit', t.dir, '--receipts', t.receipts])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/DISCREPANCY \(receipt\) receipt on line \d+ \(requestId 0x[0-9a-f]{64}\): /)
  })

  it('names a tampered spend leaf: user, deployment, field, expected and found', async () => {
    let gross = ''
    const t = await tampered('leaf', 'spend-tree.json', (doc) => {
      gross = doc.values[0].value[3]
      doc.values[0].value[3] = String(BigInt(gross) + 1n)
    })
    const r = await fomo(['audit', t.dir, '--receipts', t.receipts])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`DISCREPANCY \\(spend-leaf\\) spend leaf of user 0x[0-9a-f]{40} in deployment 0x[0-9a-f]{64} \\(leaf #0\\): gross: expected ${gross}, found ${BigInt(gross) + 1n}`))
  })

  it('names a tampered reward: account, token, expected and found', async () => {
    let amount = ''
    let account = ''
    const t = await tampered('reward', 'reward-tree.json', (doc) => {
      ;[, account, , amount] = doc.values[1].value
      doc.values[1].value[3] = (BigInt(amount) + 10n ** 18n).toString()
    })
    const r = await fomo(['audit', t.dir, '--receipts', t.receipts])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`DISCREPANCY \\(reward-leaf\\) cumulative reward of ${account} in token 0x[0-9a-f]{40} \\(leaf #1\\): expected ${amount}, found ${BigInt(amount) + 10n ** 18n}`))
  })

  it('names an attestation its provider did not sign, and a batch proven twice', async () => {
    const t = await tampered('attestation', 'proofs.json', (doc) => (doc.attestations[0].root = String(BigInt(doc.attestations[0].root) + 1n)))
    const r = await fomo(['audit', t.dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/DISCREPANCY \(proof\) attestation of provider 0x[0-9a-f]{40} for deployment 0x[0-9a-f]{64} does not carry a valid signature of its key/)
    // The first batch twice, with the proofs hash made to match: the registry's order refuses it, and so does the audit.
    const twice = await tampered('twice', 'proofs.json', (doc) => {
      doc.batches.splice(1, 0, doc.batches[0])
      doc.proofsHash = proofsHash(doc.batches)
    })
    const w = await fomo(['audit', twice.dir])
    expect(w.code).toBe(1)
    expect(w.stdout).toMatch(/DISCREPANCY \(proof\) proof of batch #1 \(deployment 0x[0-9a-f]{64}\): batch index within its provider's attestation \(a batch proven twice or out of order\): expected 1, found 0/)
  })

  it('names a tampered proof: the batch that does not verify', async () => {
    const t = await tampered('proof', 'proofs.json', (doc) => (doc.batches[1].proof.proof.pi_a[0] = (BigInt(doc.batches[1].proof.proof.pi_a[0]) + 1n).toString()))
    const r = await fomo(['audit', t.dir, '--receipts', t.receipts])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/DISCREPANCY \(proof\) proof of batch #1 \(deployment 0x[0-9a-f]{64}\) does not verify/)
    // A changed proven total changes the signals the proofs hash commits to.
    const signal = await tampered('signal', 'proofs.json', (doc) => (doc.batches[0].proof.publicSignals.totalGross = String(BigInt(doc.batches[0].proof.publicSignals.totalGross) + 1n)))
    const s = await fomo(['audit', signal.dir])
    expect(s.code).toBe(1)
    expect(s.stdout).toMatch(/DISCREPANCY \(proof\) proofs.json proofsHash is not the hash of its batches' public signals/)
  })

  it('names spend moved from one user to another and sealed again, its totals kept, from the proofs alone (no receipts)', async () => {
    // The proven epoch's spend leaves with one unit of gross and charged moved between two users of a deployment.
    const { epoch, files, from, to } = await movedSpendFiles(epochDir)
    const dir = await writeEpochDirectory(join(out, 'moved', 'epochs'), epoch, files)
    await cp(join(epochDir, 'proofs.json'), join(dir, 'proofs.json'))
    const r = await fomo(['audit', dir])
    expect(r.code, r.stdout).toBe(1)
    // The first of the two users in key order is named, with its proven gross and the moved one.
    const first = from.user < to.user ? from : to
    const found = first === from ? first.gross - 1n : first.gross + 1n
    expect(r.stdout).toContain(`DISCREPANCY (spend-leaf) gross of user ${first.user} on deployment ${from.deploymentId}: the spend tree against the sum of the user's proven stake rows: expected ${first.gross}, found ${found}`)
    // The same copy without proofs.json is what an auditor without receipts could not tell from the honest epoch.
    const unproven = await writeEpochDirectory(join(out, 'moved-unproven', 'epochs'), epoch, files)
    const blind = await fomo(['audit', unproven])
    expect(blind.code, blind.stdout).toBe(0)
  })
})
