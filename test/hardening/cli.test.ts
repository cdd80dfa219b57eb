/**
 * Issue 14, the command line as a newcomer meets it: no user file overwritten or deleted without --force, every
 * argument checked before anything irreversible, and one-line errors that say what to do with README's exit codes
 * (0 success, 1 failure, 2 usage error: the command line must change, a path it names included).
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/aggregator/store.ts'
import { receiptMessageJson } from '../../src/receipts/receipt.ts'
import { fomo } from '../helpers.ts'
import { databaseUrl, freshLocation } from '../aggregator/stores.ts'
import { DEPLOYMENT_A, EPOCH, receipt, signed, verifiedColumns, worldConfig } from '../aggregator/world.ts'

const config = worldConfig()
let dir: string
/** A directory nothing can be written to, even by root: a read-only mount when root, else mode 0555. */
let readOnly: string
let unmount = async () => undefined as unknown
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fomo-cli-hardening-'))
  readOnly = join(dir, 'read-only')
  await mkdir(readOnly)
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly])
    unmount = async () => execFileSync('umount', [readOnly])
  } else {
    const { chmod } = await import('node:fs/promises')
    await chmod(readOnly, 0o555)
  }
})
afterAll(() => unmount())

/** The failure is one line saying what to do, no stack trace, and the exit code README gives it. */
function failsWith(result: { code: number; stderr: string }, code: 1 | 2, message: string) {
  expect(result.stderr.split('\n')[0], result.stderr).toContain(`error: ${message}`)
  expect(result.stderr).not.toMatch(/^\s+at |internal error/m)
  expect(result.code, result.stderr).toBe(code)
}

const missing = () => join(dir, 'no-such-directory')
const unwritable = () => (process.getuid?.() === 0 ? 'is on a read-only file system' : 'is not writable (permission denied)')

describe('fomo keys new', () => {
  it('keeps an existing key file unless --force, and names an output directory it cannot write', async () => {
    const path = join(dir, 'provider.key.json')
    expect((await fomo(['keys', 'new', '--out', path])).code).toBe(0)
    const before = await readFile(path, 'utf8')
    failsWith(await fomo(['keys', 'new', '--out', path]), 2, `the key file ${path} already exists; give --force to replace it, or another --out`)
    expect(await readFile(path, 'utf8')).toBe(before)
    expect((await fomo(['keys', 'new', '--out', path, '--force'])).code).toBe(0)
    expect(await readFile(path, 'utf8')).not.toBe(before)
    failsWith(await fomo(['keys', 'new', '--out', join(missing(), 'k.json')]), 2, `the directory ${missing()} does not exist; give an --out in a writable directory`)
    failsWith(await fomo(['keys', 'new', '--out', join(readOnly, 'k.json')]), 2, `the directory ${readOnly} ${unwritable()}`)
  })
})

describe('private keys', () => {
  it('names bad hex as bad hex, refuses zero and keys above the curve order, and suggests --key only where it is an option', async () => {
    const unsigned = join(dir, 'unsigned.json')
    await writeFile(unsigned, JSON.stringify({ format: 'fomo-unsigned-receipt-v1', domain: config.domain, message: receiptMessageJson(receipt(0)) }))
    const badHex = join(dir, 'bad.key')
    await writeFile(badHex, `0x${'ab'.repeat(31)}zz\n`)
    failsWith(await fomo(['receipt', 'sign', '--in', unsigned, '--key-file', badHex]), 2, `the key file ${badHex} has a character that is not hex ("z" at position 64); a private key is 0x and 64 hex digits`)
    failsWith(await fomo(['receipt', 'sign', '--in', unsigned], { env: { FOMO_PRIVATE_KEY: `0x${'00'.repeat(32)}` } }), 2, 'FOMO_PRIVATE_KEY is zero, not a valid private key; create one with `fomo keys new`')
    const order = '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
    failsWith(await fomo(['receipt', 'sign', '--in', unsigned, '--key', order]), 2, '--key is not below the secp256k1 curve order, not a valid private key')
    const deploy = await fomo(['deploy', '--rpc', 'http://127.0.0.1:9'], { env: { FOMO_PRIVATE_KEY: '' } })
    failsWith(deploy, 2, 'no private key: give --key-file FILE or set FOMO_PRIVATE_KEY')
    expect(deploy.stderr).not.toContain('--key HEX')
  })
})

describe('fomo deploy and fomo attest', () => {
  it('keep an existing --out file unless --force, refusing it before deploying or proving anything', async () => {
    const existing = join(dir, 'existing-output.json')
    await writeFile(existing, 'kept\n')
    // The node at port 9 does not answer: the refusal comes before any transaction.
    failsWith(await fomo(['deploy', '--rpc', 'http://127.0.0.1:9', '--out', existing], { env: { FOMO_PRIVATE_KEY: `0x${'11'.repeat(32)}` } }), 2, `the deployment file ${existing} already exists; give --force to replace it, or another --out`)
    failsWith(await fomo(['attest', '--receipts', missing(), '--epoch', '1', '--config', missing(), '--out', existing], { env: { FOMO_PRIVATE_KEY: `0x${'11'.repeat(32)}` } }), 2, `the attestation file ${existing} already exists; give --force to replace it, or another --out`)
    expect(await readFile(existing, 'utf8')).toBe('kept\n')
  })
})

describe('fomo demo', () => {
  it('checks its arguments before touching the earlier demo, and replaces one only with --force', async () => {
    const old = join(dir, 'old-demo')
    await mkdir(old)
    await writeFile(join(old, '.fomo-demo'), 'an earlier demo\n')
    await writeFile(join(old, 'proofs.json'), 'minutes of proving\n')
    failsWith(await fomo(['demo', '--out', old, '--receipts', 'abc']), 2, '--receipts must be a positive integer')
    failsWith(await fomo(['demo', '--out', old, '--users', '0']), 2, '--users must be a positive integer')
    failsWith(await fomo(['demo', '--out', old]), 2, `${old} holds an earlier demo; give --force to replace it, or another --out`)
    expect((await readdir(old)).sort()).toEqual(['.fomo-demo', 'proofs.json'])
  })
})

describe('fomo tree build', () => {
  it('refuses a type that is not ABI, keeps an existing dump unless --force, and names unusable paths', async () => {
    const values = join(dir, 'values.csv')
    await writeFile(values, `0x${'01'.repeat(20)},5\n0x${'02'.repeat(20)},6\n`)
    const out = join(dir, 'dump.json')
    const build = (...extra: string[]) => fomo(['tree', 'build', '--encoding', 'address,uint256', '--in', values, ...extra])
    failsWith(await fomo(['tree', 'build', '--encoding', 'address,uint999', '--in', values, '--out', out]), 2, '--encoding: leaf encoding: "uint999" is not an ABI type')
    expect((await build('--out', out)).code).toBe(0)
    const first = await readFile(out, 'utf8')
    failsWith(await build('--out', out), 2, `the dump ${out} already exists; give --force to replace it, or another --out`)
    expect((await build('--out', out, '--force')).code).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(first)
    failsWith(await build('--out', join(readOnly, 'dump.json')), 2, `the directory of --out ${readOnly} ${unwritable()}`)
    failsWith(await build('--out', join(missing(), 'dump.json')), 2, `the directory of --out ${missing()} does not exist`)
    failsWith(await fomo(['tree', 'build', '--encoding', 'address,uint256', '--in', join(dir, 'none.csv'), '--out', join(dir, 'd2.json')]), 2, `the values file ${join(dir, 'none.csv')} does not exist; check --in`)
  })
})

describe.skipIf(!databaseUrl())('the aggregator commands on a PostgreSQL store', () => {
  let args: string[]
  beforeAll(async () => {
    const location = await freshLocation('postgres')
    args = ['--database-url', location.databaseUrl!]
    const store = await openStore(location)
    await store.setConfig(config)
    const docs = [0, 1, 2].map((i) => signed(receipt(i)))
    await store.insertReceipts(verifiedColumns(docs), docs.map((_, index) => ({ index })))
    await store.close()
  })

  it('fomo seal refuses an output directory it cannot write before sealing, and names it after sealing', async () => {
    failsWith(await fomo(['seal', '--epoch', String(EPOCH), '--out', readOnly, ...args]), 2, `the output directory ${readOnly} ${unwritable()}; give a writable directory`)
    const store = await openStore({ databaseUrl: args[1] })
    expect((await store.epochStatus(EPOCH)).status).toBe('open')
    await store.close()
    expect((await fomo(['seal', '--epoch', String(EPOCH), '--out', join(dir, 'epochs'), ...args])).code).toBe(0)
    failsWith(await fomo(['seal', '--epoch', String(EPOCH), '--out', readOnly, ...args]), 2, `the output directory ${readOnly} ${unwritable()}`)
  })

  it('fomo export-receipts keeps an existing file unless --force and names unusable paths', async () => {
    const out = join(dir, 'receipts.ndjson')
    expect((await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', out, ...args])).code).toBe(0)
    const first = await readFile(out, 'utf8')
    expect(first.trim().split('\n')).toHaveLength(3)
    failsWith(await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', out, ...args]), 2, `the receipts file ${out} already exists; give --force to replace it, or another --out`)
    expect((await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', out, '--force', ...args])).code).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(first)
    failsWith(await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', join(readOnly, 'r.ndjson'), ...args]), 2, `the directory of --out ${readOnly} ${unwritable()}`)
    failsWith(await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', join(missing(), 'r.ndjson'), ...args]), 2, `the directory of --out ${missing()} does not exist`)
  })

  it('fomo inputs names a 100-digit amount instead of overflowing a column, and stores nothing', async () => {
    const file = join(dir, 'inputs.json')
    await writeFile(file, JSON.stringify({ format: 'fomo-epoch-inputs-v2', epoch: EPOCH + 1, deployments: { [DEPLOYMENT_A]: { opex: '9'.repeat(100) } } }))
    failsWith(await fomo(['inputs', '--in', file, ...args]), 1, `epoch ${EPOCH + 1} inputs: deployment ${DEPLOYMENT_A}: opex has 106 digits, over the largest the protocol takes (2^256 - 1 base units); check the value`)
    failsWith(await fomo(['inputs', '--in', file, '--rpc', 'http://127.0.0.1:9', '--block', '1'.repeat(100), ...args]), 2, '--block must be a block number')
    const store = await openStore({ databaseUrl: args[1] })
    expect((await store.epochInputs(EPOCH + 1)).deployments.size).toBe(0)
    await store.close()
  })

  it('fomo serve refuses a bad port or host in one line', async () => {
    failsWith(await fomo(['serve', '--port', '70000', ...args]), 2, '--port must be an integer from 0 to 65535')
    failsWith(await fomo(['serve', '--host', 'not a host!', ...args]), 2, '--host "not a host!" is not an IP address or host name')
    failsWith(await fomo(['serve', '--host', '203.0.113.7', '--port', '0', ...args]), 2, 'cannot listen on 203.0.113.7:0: 203.0.113.7 is not an address of this machine (EADDRNOTAVAIL); give another --host')
  })

  it('exits 2 naming an input file that does not exist, in every command', async () => {
    const none = join(dir, 'none.json')
    failsWith(await fomo(['init', '--config', none, ...args]), 2, `cannot read config: ${none} does not exist; check the path`)
    failsWith(await fomo(['inputs', '--in', none, ...args]), 2, `cannot read inputs: ${none} does not exist`)
    failsWith(await fomo(['ingest', '--url', 'http://127.0.0.1:9', '--in', none]), 2, `cannot read receipts file: ${none} does not exist`)
    failsWith(await fomo(['receipt', 'verify', '--in', none]), 2, `cannot read receipt: ${none} does not exist`)
    failsWith(await fomo(['receipt', 'sign', '--in', none, '--key-file', none]), 2, `cannot read receipt: ${none} does not exist`)
  })

  it('refuses --data-dir with --database-url', async () => {
    failsWith(await fomo(['seal', '--epoch', String(EPOCH), '--out', dir, '--data-dir', join(dir, 'store'), ...args]), 2, 'give --data-dir (the embedded store) or --database-url (a PostgreSQL server), not both')
  })
})
