/**
 * Receipts: test vectors against viem and ethers, signature and schema checks, the fast path against the
 * precise reader, the schema table's derivations, batches, and the worker pool.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { verifyTypedData as ethersVerifyTypedData } from 'ethers'
import { hashTypedData, verifyTypedData } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { toHex } from '../base/bytes.ts'
import type { ReceiptBatchDocument } from './batchDecode.ts'
import { signBatch } from './batchSign.ts'
import { batchedReceipt, verifyBatch, verifyBatchedReceipt } from './batchVerify.ts'
import type { SignedReceiptDocument } from './document.ts'
import { decodeReceiptFast, digestOfWords, STRUCT_SIZE } from './fastpath.ts'
import { VerifierPool } from './pool.ts'
import { receiptDigest, readReceiptMessage, ReceiptError, type UsageReceipt } from './receipt.ts'
import { ProviderRegistry } from './registry.ts'
import { parseSignature, SECP256K1_N } from './signature.ts'
import { addressOf, signReceipt } from './sign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME, USAGE_BATCH_TYPE, USAGE_RECEIPT_TYPE_STRING } from './types.ts'
import { FIELD_LAYOUT, fieldRange, MAX_RECEIPT_AMOUNT, RECEIPT_SCHEMA, STRUCT_SIZE as SCHEMA_STRUCT_SIZE, type FieldSpec } from './schema.ts'
import { ReceiptColumns } from './columns.ts'
import { ReceiptVerifier } from './verify.ts'
import { Reader } from '../base/reader.ts'

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'receipts')
const vectors = JSON.parse(readFileSync(join(fixtures, 'vectors.json'), 'utf8')) as {
  domain: { name: string; version: string; chainId: number; verifyingContract: `0x${string}` }
  providerPrivateKey: `0x${string}`
  provider: `0x${string}`
  typeString: string
  signed: SignedReceiptDocument[]
}
const domain = vectors.domain
const separator = domainSeparator(domain)
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v))
const viemMessage = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, /^[0-9]+$/.test(v) ? BigInt(v) : v]))

function flipFirstLetterCase(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2
  const c = address[i] as string
  return address.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + address.slice(i + 1)
}

function rejection(verify: () => unknown): ReceiptError['reason'] {
  try {
    verify()
  } catch (error) {
    if (error instanceof ReceiptError) return error.reason
    throw error
  }
  throw new Error('expected a rejection')
}

describe('test vectors', () => {
  it('publishes the type string derived from the schema table (the vectors pin it)', () => {
    expect(USAGE_RECEIPT_TYPE_STRING).toBe(vectors.typeString)
  })

  it.each(vectors.signed.map((v, i) => [i, v] as const))('vector %i verifies with viem, ethers and fomo-kit, with one digest', async (_i, doc) => {
    const types = { UsageReceipt: doc.types.UsageReceipt as never }
    const message = viemMessage(doc.message) as never
    expect(await verifyTypedData({ address: vectors.provider, domain: doc.domain, types, primaryType: 'UsageReceipt', message, signature: doc.signature })).toBe(true)
    expect(ethersVerifyTypedData(doc.domain, { UsageReceipt: doc.types.UsageReceipt as never }, doc.message, doc.signature).toLowerCase()).toBe(vectors.provider.toLowerCase())
    const verified = new ReceiptVerifier({ domain }).verify(doc)
    expect(verified.digest).toBe(hashTypedData({ domain: doc.domain, types, primaryType: 'UsageReceipt', message }))
  })

  it('signing reproduces the vectors byte for byte (RFC 6979 deterministic signatures)', () => {
    for (const doc of vectors.signed) {
      const receipt = readReceiptMessage(new Reader('receipt', doc.message))
      expect(signReceipt(receipt, vectors.providerPrivateKey, domain)).toEqual(doc)
    }
  })
})

describe('signature checks (security checklist 1-4)', () => {
  const doc = vectors.signed[0] as SignedReceiptDocument
  const verifier = () => new ReceiptVerifier({ domain })

  it('rejects the high-s twin (s -> n - s, v flipped); its dedupe id, the digest, is the same receipt', () => {
    const sig = doc.signature.slice(2)
    const s = BigInt(`0x${sig.slice(64, 128)}`)
    const v = Number.parseInt(sig.slice(128), 16)
    const twin = clone(doc)
    twin.signature = `0x${sig.slice(0, 64)}${(SECP256K1_N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`
    expect(rejection(() => verifier().verify(twin))).toBe('signature-high-s')
    const receipt = readReceiptMessage(new Reader('r', twin.message))
    expect(toHex(receiptDigest(receipt, separator))).toBe(verifier().verify(doc).digest)
  })

  it.each([
    ['64-byte compact form', (s: string) => s.slice(0, 130), 'signature-format'],
    ['66-byte form', (s: string) => `${s}00`, 'signature-format'],
    ['not hex', (s: string) => `${s.slice(0, 10)}zz${s.slice(12)}`, 'signature-format'],
    ['v = 0', (s: string) => `${s.slice(0, 130)}00`, 'signature-v'],
    ['v = 29', (s: string) => `${s.slice(0, 130)}1d`, 'signature-v'],
    ['r = 0', (s: string) => `0x${'0'.repeat(64)}${s.slice(66)}`, 'signature-range'],
    ['s = 0', (s: string) => `${s.slice(0, 66)}${'0'.repeat(64)}${s.slice(130)}`, 'signature-range'],
    ['r = n', (s: string) => `0x${SECP256K1_N.toString(16)}${s.slice(66)}`, 'signature-range'],
  ])('rejects %s', (_name, mutate, reason) => {
    const bad = clone(doc)
    bad.signature = mutate(doc.signature) as `0x${string}`
    expect(rejection(() => verifier().verify(bad))).toBe(reason)
  })

  it('checks r and s by bytes exactly as the bigint rule: in [1, n-1], s at most n/2 (property)', () => {
    const big = (w: Uint8Array) => BigInt(toHex(w))
    const word = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'))
    const half = SECP256K1_N >> 1n
    const edges = fc.constantFrom(0n, 1n, half - 1n, half, half + 1n, SECP256K1_N - 1n, SECP256K1_N, SECP256K1_N + 1n, (1n << 256n) - 1n).map(word)
    const any = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), edges)
    fc.assert(
      fc.property(any, any, (r, s) => {
        const [R, S] = [big(r), big(s)]
        const expected = R === 0n || R >= SECP256K1_N || S === 0n || S >= SECP256K1_N ? 'signature-range' : S > half ? 'signature-high-s' : 'parsed'
        let got = 'parsed'
        try {
          parseSignature(`${toHex(r)}${toHex(s).slice(2)}1b`)
        } catch (error) {
          got = (error as ReceiptError).reason
        }
        expect(got).toBe(expected)
      }),
      { numRuns: 2_000 },
    )
  })

  it('rejects an r that is no curve point (recovers no key)', () => {
    const bad = clone(doc)
    // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is not a square mod p).
    bad.signature = `0x${'0'.repeat(63)}5${doc.signature.slice(66)}` as `0x${string}`
    expect(['signature-invalid', 'signer-mismatch']).toContain(rejection(() => verifier().verify(bad)))
  })

  it.each([
    ['chainId', { chainId: 1 }],
    ['verifyingContract', { verifyingContract: '0x0000000000000000000000000000000000000001' }],
    ['version', { version: '2' }],
    ['name', { name: 'Other' }],
  ])('rejects a valid signature under another %s', (_field, change) => {
    expect(rejection(() => new ReceiptVerifier({ domain: { ...domain, ...change } as never }).verify(doc))).toBe('domain')
    // Re-labelled to the expected domain, the signature no longer matches.
    const relabelled = clone(doc)
    relabelled.domain = { ...domain, ...change } as never
    expect(rejection(() => verifier().verify(relabelled))).toBe('domain')
  })

  it('rejects a receipt signed under another domain and relabelled', () => {
    const other = { ...domain, chainId: 1 }
    const receipt = readReceiptMessage(new Reader('r', doc.message))
    const foreign = signReceipt(receipt, vectors.providerPrivateKey, other)
    foreign.domain = { ...domain }
    expect(rejection(() => verifier().verify(foreign))).toBe('signer-mismatch')
  })

  it.each(['user', 'grossAmount', 'requestId', 'timestamp', 'epoch', 'deploymentId'])('rejects %s edited after signing', (field) => {
    const bad = clone(doc)
    const m = bad.message as Record<string, string>
    if (field === 'user') m.user = '0x000000000000000000000000000000000000dEaD'
    else if (field === 'grossAmount') {
      m.grossAmount = '5000000'
      m.chargedAmount = String(5_000_000n - (5_000_000n * 1666n) / 10_000n)
    } else if (field === 'requestId' || field === 'deploymentId') m[field] = `0x${'ee'.repeat(32)}`
    else m[field] = String(BigInt(m[field] as string) + 1n)
    expect(rejection(() => verifier().verify(bad))).toBe('signer-mismatch')
  })

  it('rejects unknown and revoked signers', () => {
    const registry = new ProviderRegistry()
    const deployment = doc.message.deploymentId as string
    expect(rejection(() => new ReceiptVerifier({ domain, registry }).verify(doc))).toBe('signer-not-allowed')
    registry.allow(deployment, vectors.provider)
    expect(new ReceiptVerifier({ domain, registry }).verify(doc).receipt.provider).toBe(vectors.provider.toLowerCase())
    registry.revoke(deployment, vectors.provider)
    expect(rejection(() => new ReceiptVerifier({ domain, registry }).verify(doc))).toBe('signer-not-allowed')
    // Allowed for another deployment only.
    registry.allow(`0x${'99'.repeat(32)}`, vectors.provider)
    expect(rejection(() => new ReceiptVerifier({ domain, registry }).verify(doc))).toBe('signer-not-allowed')
  })
})

describe('schema (security checklist 5)', () => {
  const doc = vectors.signed[0] as SignedReceiptDocument
  it.each([
    ['amount 0', 'grossAmount', '0'],
    ['negative amount', 'grossAmount', '-5'],
    ['fractional amount', 'grossAmount', '2500000.5'],
    ['amount above the cap', 'grossAmount', '1000000000001'],
    ['hex amount', 'grossAmount', '0x2625a0'],
    ['exponent', 'grossAmount', '2.5e6'],
    ['leading zero', 'grossAmount', '02500000'],
    ['JSON number', 'grossAmount', 2500000],
    ['discount above 100 %', 'discountBps', '10001'],
    ['bad checksum', 'user', flipFirstLetterCase((vectors.signed[0] as SignedReceiptDocument).message.user as string)],
    ['short address', 'user', '0x1234'],
    ['uint32 overflow', 'epoch', '4294967296'],
  ])('rejects %s', (_name, field, value) => {
    const bad = clone(doc) as unknown as { message: Record<string, unknown> }
    bad.message[field] = value
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(bad))).toBe('schema')
  })

  it('rejects unknown and missing fields, other types and other formats', () => {
    const extra = clone(doc) as unknown as { message: Record<string, unknown> }
    extra.message.tip = '1'
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(extra))).toBe('schema')
    const missing = clone(doc) as unknown as { message: Record<string, unknown> }
    delete missing.message.requestId
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(missing))).toBe('schema')
    const types = clone(doc)
    ;(types.types.UsageReceipt as Array<{ name: string; type: string }>)[8] = { name: 'grossAmount', type: 'uint256' }
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(types))).toBe('schema')
    const format = clone(doc) as unknown as { format: string }
    format.format = 'fomo-receipt-v2'
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(format))).toBe('schema')
  })

  it('rejects a charged amount inconsistent with gross and discount', () => {
    const receipt = readReceiptMessage(new Reader('r', doc.message))
    expect(() => signReceipt({ ...receipt, chargedAmount: receipt.chargedAmount + 1n }, vectors.providerPrivateKey, domain)).toThrow(/chargedAmount/)
    const bad = clone(doc)
    bad.message.chargedAmount = String(receipt.chargedAmount - 1n)
    expect(rejection(() => new ReceiptVerifier({ domain }).verify(bad))).toBe('charged-mismatch')
  })
})

describe('the fast path accepts exactly what the precise reader accepts', () => {
  const base = (vectors.signed[0] as SignedReceiptDocument).message
  const mutation = fc.record({
    field: fc.constantFrom(...Object.keys(base)),
    value: fc.oneof(
      fc.constantFrom('0', '1', '-1', '01', '1.5', '1e3', '0x10', '', ' 1', '4294967295', '4294967296', '10000', '10001', '18446744073709551615', '18446744073709551616', '1000000000000', '1000000000001'),
      fc.constantFrom('0x2222222222222222222222222222222222222222', '0x2222222222222222222222222222222222222A22', '0X2222222222222222222222222222222222222222', `0x${'ab'.repeat(32)}`, `0x${'AB'.repeat(32)}`, `0x${'ab'.repeat(31)}`),
      fc.integer(),
      fc.constant(null),
      fc.string(),
    ),
  })
  it('on random field mutations: same verdict, same receipt, same digest', () => {
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 3 }), (mutations) => {
        const message: Record<string, unknown> = { ...base }
        for (const m of mutations) message[m.field] = m.value
        let slow: UsageReceipt | undefined
        try {
          slow = readReceiptMessage(new Reader('r', message))
        } catch {
          slow = undefined
        }
        const words = new Uint8Array(STRUCT_SIZE)
        const fast = decodeReceiptFast(message, words)
        if (fast === undefined) return // declining is always safe: the precise reader decides
        expect(slow).toEqual(fast)
        const digest = new Uint8Array(32)
        digestOfWords(words, separator, digest, 0)
        expect(toHex(digest)).toBe(toHex(receiptDigest(slow as UsageReceipt, separator)))
      }),
      { numRuns: 3000 },
    )
  })
})

describe('the fast path on key order and extra keys', () => {
  const base = (vectors.signed[0] as SignedReceiptDocument).message
  it('accepts the fields in any order with the same receipt and words, and declines a missing or extra key', () => {
    const words = new Uint8Array(STRUCT_SIZE)
    const reversed = Object.fromEntries(Object.entries(base).reverse())
    const fast = decodeReceiptFast(base, words)
    const copy = words.slice()
    expect(decodeReceiptFast(reversed, words)).toEqual(fast)
    expect(words).toEqual(copy)
    const { user: _user, ...missing } = base
    expect(decodeReceiptFast(missing, words)).toBeUndefined()
    expect(decodeReceiptFast({ ...base, tip: '1' }, words)).toBeUndefined()
    expect(decodeReceiptFast({ tip: '1', ...missing }, words)).toBeUndefined()
  })
})

describe('the receipt schema table', () => {
  it.each(RECEIPT_SCHEMA.map((f) => [f.name, f] as const))('%s: its storage, JSON range and batch placement agree with its EIP-712 type', (_name, field) => {
    const f: FieldSpec = field
    if (f.type === 'bytes32' || f.type === 'address') {
      expect(f.json.kind).toBe(f.type)
      expect(f.column).toEqual({ array: 'bytes', width: f.type === 'address' ? 20 : 32 })
      expect(f.sql.type).toBe('bytea')
    } else {
      const bits = Number(f.type.slice(4))
      const { min, max } = fieldRange(f)
      expect(min >= 0n && max <= (1n << BigInt(bits)) - 1n && min <= max).toBe(true)
      expect(f.column.array).not.toBe('bytes')
      expect(f.column.width * 8).toBeGreaterThanOrEqual(bits)
      expect(['bigint', 'integer', 'numeric']).toContain(f.sql.type)
      // A number-valued field (u16/u32 storage) must hold exactly in a double.
      if (f.column.array !== 'u64') expect(max <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true)
      if (f.json.kind === 'amount') expect(max).toBe(MAX_RECEIPT_AMOUNT)
    }
    if (f.batch === 'header') expect(USAGE_BATCH_TYPE).toContainEqual({ name: f.name, type: f.type })
  })

  it('lays out the struct words as 32 * (1 + index), one word per field', () => {
    expect(SCHEMA_STRUCT_SIZE).toBe(STRUCT_SIZE)
    expect(STRUCT_SIZE).toBe(32 * (1 + RECEIPT_SCHEMA.length))
    expect(FIELD_LAYOUT.map((f) => f.offset)).toEqual(RECEIPT_SCHEMA.map((_, i) => 32 * (1 + i)))
    expect(new Set(RECEIPT_SCHEMA.map((f) => f.sql.column)).size).toBe(RECEIPT_SCHEMA.length)
  })

  it('fills columns the same from the fast path and the precise path', () => {
    const verifier = new ReceiptVerifier({ domain })
    const fast = new ReceiptColumns(vectors.signed.length)
    const slow = new ReceiptColumns(vectors.signed.length)
    vectors.signed.forEach((d, i) => {
      verifier.verifyInto(d, fast, i)
      // An all-upper-case contract address: valid, but outside the fast path's envelope.
      const upper = clone(d)
      upper.domain.verifyingContract = `0x${d.domain.verifyingContract.slice(2).toUpperCase()}`
      verifier.verifyInto(upper, slow, i)
    })
    expect(slow.failures).toEqual([])
    expect(slow).toEqual(fast)
    vectors.signed.forEach((d, i) => expect(fast.receipt(i)).toEqual(verifier.verify(d).receipt))
  })
})

describe('provider-signed batches', () => {
  const batch = JSON.parse(readFileSync(join(fixtures, 'batch.json'), 'utf8')) as ReceiptBatchDocument
  const single = JSON.parse(readFileSync(join(fixtures, 'batched-receipt.json'), 'utf8'))
  const verifier = () => new ReceiptVerifier({ domain })

  it('verifies the committed batch and returns each receipt with its digest', () => {
    const columns = verifyBatch(verifier(), batch)
    vectors.signed.forEach((d, i) => {
      const v = verifier().verify(d)
      expect(columns.digestHex(i)).toBe(v.digest)
      expect(columns.receipt(i)).toEqual(v.receipt)
    })
  })

  it('verifies one batched receipt with its proof on its own', () => {
    expect(verifyBatchedReceipt(verifier(), single).digest).toBe(verifier().verify(vectors.signed[2]).digest)
    expect(batchedReceipt(batch, 2, verifier())).toEqual(single)
  })

  it('rejects a receipt altered, added or dropped after signing, naming what is wrong', () => {
    const altered = clone(batch)
    altered.receipts.inputTokens[1] = '7'
    expect(rejection(() => verifyBatch(verifier(), altered))).toBe('batch-root')
    const user = clone(batch)
    user.receipts.user = `0x${'00'.repeat(20)}${batch.receipts.user.slice(42)}` as `0x${string}`
    expect(rejection(() => verifyBatch(verifier(), user))).toBe('batch-root')
    const dropped = clone(batch)
    dropped.receipts.timestamp.pop()
    expect(() => verifyBatch(verifier(), dropped)).toThrow(/receipts.timestamp: expected an array of 4 decimal strings/)
    const charged = clone(batch)
    charged.receipts.chargedAmount[0] = String(BigInt(charged.receipts.chargedAmount[0]!) + 1n)
    expect(rejection(() => verifyBatch(verifier(), charged))).toBe('charged-mismatch')
    const header = clone(batch)
    header.message.count = '3'
    expect(rejection(() => verifyBatch(verifier(), header))).toBe('schema')
    const root = clone(batch)
    root.message.receiptsRoot = `0x${'11'.repeat(32)}`
    expect(rejection(() => verifyBatch(verifier(), root))).toBe('signer-mismatch')
    const number = clone(batch) as unknown as { receipts: { grossAmount: unknown[] } }
    number.receipts.grossAmount[0] = 2500000
    expect(rejection(() => verifyBatch(verifier(), number))).toBe('schema')
  })

  it('rejects a batched receipt whose proof or message does not match', () => {
    const wrongProof = clone(single)
    wrongProof.batch.proof[0] = `0x${'00'.repeat(32)}`
    expect(rejection(() => verifyBatchedReceipt(verifier(), wrongProof))).toBe('batch-root')
    const altered = clone(single)
    altered.message.outputTokens = '1'
    expect(rejection(() => verifyBatchedReceipt(verifier(), altered))).toBe('batch-root')
    const noProof = clone(single)
    noProof.batch.proof = []
    expect(rejection(() => verifyBatchedReceipt(verifier(), noProof))).toBe('batch-root')
  })

  it('verifies large amounts exactly (gross * discount above 2^53)', () => {
    const r = readReceiptMessage(new Reader('r', vectors.signed[0]!.message))
    const big = { ...r, grossAmount: 993_716_733_829n, discountBps: 9_731, chargedAmount: 26_730_980_141n }
    const columns = verifyBatch(verifier(), signBatch([big], vectors.providerPrivateKey, domain, separator))
    expect(columns.chargedAmount[0]).toBe(26_730_980_141n)
  })

  it('refuses to sign a batch mixing providers, deployments or epochs', () => {
    const receipts = vectors.signed.map((d) => readReceiptMessage(new Reader('r', d.message)))
    expect(() => signBatch([receipts[0]!, { ...receipts[1]!, epoch: 1 }], vectors.providerPrivateKey, domain, separator)).toThrow(/one provider's receipts/)
  })
})

describe('VerifierPool (worker threads)', () => {
  const pool = new VerifierPool({ domain, threads: 2 })
  afterAll(() => pool.close())

  it('verifies texts in order and reports each bad item', async () => {
    const texts = vectors.signed.map((d) => JSON.stringify(d))
    const bad = clone(vectors.signed[0] as SignedReceiptDocument)
    bad.signature = `${bad.signature.slice(0, 130)}1d` as `0x${string}`
    const columns = await pool.verifyTexts([...texts, JSON.stringify(bad), '{"a":1,"a":2}', 'not json'])
    expect([...columns.valid]).toEqual([1, 1, 1, 1, 0, 0, 0])
    expect(columns.failures.map((f) => [f.index, f.reason])).toEqual([[4, 'signature-v'], [5, 'schema'], [6, 'schema']])
    const direct = new ReceiptVerifier({ domain })
    vectors.signed.forEach((d, i) => {
      const v = direct.verify(d)
      expect(columns.receipt(i)).toEqual(v.receipt)
      expect(columns.digestHex(i)).toBe(v.digest)
    })
  })

  it('verifies batches, or names why a batch is rejected', async () => {
    const text = readFileSync(join(fixtures, 'batch.json'), 'utf8')
    const { columns, error } = await pool.verifyBatch(text)
    expect(error).toBeUndefined()
    expect([...columns.valid]).toEqual([1, 1, 1, 1])
    const altered = JSON.parse(text)
    altered.receipts.inputTokens[0] = '1'
    const rejected = await pool.verifyBatch(JSON.stringify(altered))
    expect(rejected.columns.length).toBe(0)
    expect(rejected.error?.reason).toBe('batch-root')
  })
})

describe('keys', () => {
  it('derives the provider address of the test key', () => {
    expect(addressOf(vectors.providerPrivateKey)).toBe(vectors.provider.toLowerCase())
    expect(RECEIPT_DOMAIN_NAME).toBe(domain.name)
  })
})
