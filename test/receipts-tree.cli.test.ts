import { attestationKeyOf, attestationSecret } from '../src/receipts/attestationKey.ts'
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, fomo } from './helpers.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fomo-cli-'))
})

const vectors = async () => JSON.parse(await readFile(join(FIXTURES, 'receipts', 'vectors.json'), 'utf8'))

describe('fomo keys, receipt sign and receipt verify', () => {
  it('creates a key file readable only by its owner and prints the address', async () => {
    const { code, stdout } = await fomo(['keys', 'new', '--out', 'k.json'], { cwd: dir })
    expect(code).toBe(0)
    const { address, attestationKey } = JSON.parse(stdout)
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect((await stat(join(dir, 'k.json'))).mode & 0o777).toBe(0o600)
    const file = JSON.parse(await readFile(join(dir, 'k.json'), 'utf8'))
    expect(file).toMatchObject({ format: 'fomo-key-v1', address })
    // The provider's attestation key (config.json's attestationKey) is the one derived from the file's key.
    expect(attestationKey).toBe(attestationKeyOf(attestationSecret(file.privateKey)).packed)
  })

  it('signs as the test provider, reproducing the committed vector, and verifies it', async () => {
    const v = await vectors()
    const unsigned = { format: 'fomo-unsigned-receipt-v1', domain: v.domain, message: v.signed[0].message }
    await writeFile(join(dir, 'unsigned.json'), JSON.stringify(unsigned))
    const signed = await fomo(['receipt', 'sign', '--in', 'unsigned.json'], { cwd: dir, env: { FOMO_PRIVATE_KEY: v.providerPrivateKey } })
    expect(signed.code).toBe(0)
    expect(JSON.parse(signed.stdout)).toEqual(v.signed[0])
    await writeFile(join(dir, 'signed.json'), signed.stdout)
    const ok = await fomo(['receipt', 'verify', '--in', 'signed.json', '--chain-id', '31337', '--contract', v.domain.verifyingContract], { cwd: dir })
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, provider: v.provider.toLowerCase() })
  })

  it('exits non-zero with the reason for another chain, a tampered field or a disallowed provider', async () => {
    const v = await vectors()
    await writeFile(join(dir, 'v0.json'), JSON.stringify(v.signed[0]))
    const chain = await fomo(['receipt', 'verify', '--in', 'v0.json', '--chain-id', '1'], { cwd: dir })
    expect(chain.code).toBe(1)
    expect(chain.stderr).toContain('domain.chainId is 31337, expected 1')
    const tampered = { ...v.signed[0], message: { ...v.signed[0].message, outputTokens: '9999' } }
    await writeFile(join(dir, 'tampered.json'), JSON.stringify(tampered))
    const bad = await fomo(['receipt', 'verify', '--in', 'tampered.json'], { cwd: dir })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('not by the provider')
    await writeFile(join(dir, 'registry.json'), JSON.stringify([{ deploymentId: `0x${'00'.repeat(32)}`, provider: v.provider }]))
    const notAllowed = await fomo(['receipt', 'verify', '--in', 'v0.json', '--registry', 'registry.json'], { cwd: dir })
    expect(notAllowed.code).toBe(1)
    expect(notAllowed.stderr).toContain('is not allowed to sign')
  })

  it('verifies a batch and a batched receipt', async () => {
    for (const file of ['batch.json', 'batched-receipt.json']) {
      const { code, stdout } = await fomo(['receipt', 'verify', '--in', join(FIXTURES, 'receipts', file)])
      expect(code).toBe(0)
      expect(JSON.parse(stdout).valid).toBe(true)
    }
  })
})

describe('fomo tree', () => {
  const values = Array.from({ length: 50 }, (_, i) => [`0x${(i + 1).toString(16).padStart(40, '0')}`, String(i * 1000)])

  it('builds from JSON and CSV to a dump OpenZeppelin loads, proves and verifies', async () => {
    await writeFile(join(dir, 'values.json'), JSON.stringify(values))
    await writeFile(join(dir, 'values.csv'), `account,amount\n${values.map((v) => v.join(',')).join('\n')}\n`)
    const fromJson = await fomo(['tree', 'build', '--encoding', 'address,uint256', '--in', 'values.json', '--out', 'a.json'], { cwd: dir })
    const fromCsv = await fomo(['tree', 'build', '--encoding', 'address,uint256', '--in', 'values.csv', '--header', '--out', 'b.json'], { cwd: dir })
    expect(fromJson.code).toBe(0)
    expect(fromCsv.code).toBe(0)
    const oz = StandardMerkleTree.of(values, ['address', 'uint256'])
    expect(JSON.parse(fromJson.stdout).root).toBe(oz.root)
    expect(JSON.parse(fromCsv.stdout).root).toBe(oz.root)
    expect(StandardMerkleTree.load(JSON.parse(await readFile(join(dir, 'a.json'), 'utf8'))).root).toBe(oz.root)

    const proof = await fomo(['tree', 'proof', '--tree', 'a.json', '--value', JSON.stringify(values[7])], { cwd: dir })
    expect(proof.code).toBe(0)
    expect(JSON.parse(proof.stdout).proof).toEqual(oz.getProof(7))
    await writeFile(join(dir, 'proof.json'), proof.stdout)
    expect((await fomo(['tree', 'verify', '--in', 'proof.json'], { cwd: dir })).code).toBe(0)
    const wrongRoot = await fomo(['tree', 'verify', '--in', 'proof.json', '--root', `0x${'12'.repeat(32)}`], { cwd: dir })
    expect(wrongRoot.code).toBe(1)
    expect(JSON.parse(wrongRoot.stdout).valid).toBe(false)
  })

  it('names the bad line of a CSV and the bad value of a JSON input', async () => {
    await writeFile(join(dir, 'bad.csv'), `0x${'01'.repeat(20)},5\n0xnothex,6\n`)
    const csv = await fomo(['tree', 'build', '--encoding', 'address,uint256', '--in', 'bad.csv', '--out', 'x.json'], { cwd: dir })
    expect(csv.code).toBe(1)
    expect(csv.stderr).toContain('bad.csv:2: leaf 1: "0xnothex" is not a valid address')
    const usage = await fomo(['tree', 'build', '--in', 'bad.csv', '--out', 'x.json'], { cwd: dir })
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('missing --encoding')
  })
})
