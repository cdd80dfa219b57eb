/**
 * Groth16 proofs of the test-size batch circuit with the committed TEST-ONLY keys (fixtures/zk): the zkey
 * verifies against the circuit and the ceremony, proofs verify, and every tampered public signal, an
 * out-of-field public signal and a tampered proof are refused.
 */
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { compileCached, FIELD_PRIME, type CompiledCircuit } from '../src/proofs/circom.ts'
import { BATCH_PUBLIC_SIGNALS, proveBatch, ProofError, readBatchProof, readVerificationKey, verifyBatchProof, type BatchProof } from '../src/proofs/groth16.ts'
import { batchInput, batchStatement, paddedTable, stakeRowCell, type StakeTableRow } from '../src/proofs/statement.ts'
import { proofCalldata } from '../src/chain/publication.ts'
import { proofsHash } from '../src/proofs/prove.ts'
import { getContract, keccak256 } from 'viem'
import { attestation, attestBatches, params, providerSecrets, receipts, rows } from './zk-sample.ts'
import { attestationKeyOf } from '../src/proofs/attestation.ts'

const root = join(import.meta.dirname, '..')
const zk = join(root, 'fixtures', 'zk')
const ZKEY = join(zk, 'receipt_batch_4.test-only.zkey')
const PTAU = join(zk, 'pot14_final.test-only.ptau')
let circuit: CompiledCircuit
let vkey: unknown
let proof: BatchProof

beforeAll(async () => {
  circuit = await compileCached('circuits/test/receipt_batch_4.circom', root)
  vkey = await readVerificationKey(join(zk, 'receipt_batch_4.verification_key.json'))
  proof = await proveBatch(circuit, ZKEY, batchInput(receipts, rows, params, 4, 2, attestation))
}, 120_000)

describe('batch proofs (Groth16, test-only keys)', () => {
  it('the zkey verifies against the circuit and the ceremony (snarkjs zkey verify)', async () => {
    const snarkjs = (await import('snarkjs')) as unknown as { zKey: { verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: unknown): Promise<boolean> } }
    const lines: string[] = []
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug: () => undefined }
    expect(await snarkjs.zKey.verifyFromR1cs(circuit.r1cs, PTAU, ZKEY, logger)).toBe(true)
    // At least one phase-2 contribution, then a beacon.
    expect(lines.join('\n')).toMatch(/contribution #1 fomo-kit test contribution/)
    expect(lines.join('\n')).toMatch(/fomo-kit test beacon/)
  })

  it('proves the statement the TypeScript reference computes, and the proof verifies', async () => {
    const s = batchStatement(receipts, rows, params, 4, 2, attestation)
    expect(proof.publicSignals).toMatchObject({ root: s.root.toString(), stakesCommitment: s.stakesCommitment.toString(), totalGross: s.totalGross.toString(), totalCharged: s.totalCharged.toString(), count: '3' })
    expect(await verifyBatchProof(vkey, proof)).toBe(true)
  })

  it.each(BATCH_PUBLIC_SIGNALS)('refuses the proof with public signal %s changed', async (name) => {
    const tampered = { ...proof, publicSignals: { ...proof.publicSignals, [name]: (BigInt(proof.publicSignals[name]) + 1n).toString() } }
    expect(await verifyBatchProof(vkey, tampered)).toBe(false)
  })

  it('refuses a public signal at or above the field modulus (it would alias signal - r)', async () => {
    const aliased = { ...proof, publicSignals: { ...proof.publicSignals, totalGross: (BigInt(proof.publicSignals.totalGross) + FIELD_PRIME).toString() } }
    await expect(verifyBatchProof(vkey, aliased)).rejects.toThrow(ProofError)
    expect(() => readBatchProof({ ...proof, publicSignals: { ...proof.publicSignals, count: '-3' } })).toThrow(/count is not a field element/)
  })

  it('refuses a tampered proof', async () => {
    const p = JSON.parse(JSON.stringify(proof)) as BatchProof
    p.proof.pi_a[0] = (BigInt(p.proof.pi_a[0]!) + 1n).toString()
    expect(await verifyBatchProof(vkey, p).catch(() => false)).toBe(false)
  })
})

describe('the generated Solidity verifier (in-process EVM)', () => {
  it('accepts the proof, refuses a changed signal and any public signal >= r', async () => {
    const { startDevnet } = await import('../src/chain/devnet.ts')
    const { ReceiptBatch4Verifier } = await import('../src/chain/contracts.generated.ts')
    const { getContract } = await import('viem')
    const devnet = await startDevnet()
    const hash = await devnet.clients.wallet.deployContract({ abi: ReceiptBatch4Verifier.abi, bytecode: ReceiptBatch4Verifier.bytecode } as never)
    const address = (await devnet.clients.public.waitForTransactionReceipt({ hash })).contractAddress!
    const verifier = getContract({ abi: ReceiptBatch4Verifier.abi, address, client: { public: devnet.clients.public } })
    const args = (signals: bigint[]) => {
      const c = proofCalldata(proof)
      return [c.a, c.b, c.c, signals] as const
    }
    const signals = BATCH_PUBLIC_SIGNALS.map((n) => BigInt(proof.publicSignals[n]))
    expect(await verifier.read.verifyProof(args(signals) as never)).toBe(true)
    expect(await verifier.read.verifyProof(args(signals.map((s, i) => (i === 2 ? s + 1n : s))) as never)).toBe(false)
    expect(await verifier.read.verifyProof(args(signals.map((s, i) => (i === 2 ? s + FIELD_PRIME : s))) as never)).toBe(false)
  })
})

/**
 * A registry with the test verifier (timelock 1 s) and a plain one, both pinning a configuration (any hash, and an
 * MTStaking with the sample's X, M and circulating supply as the deployment's staking contract) whose attestation
 * keys are those of the given provider secrets, each recorded by the account beside it.
 */
async function registryWithKeys(providers: ReadonlyArray<{ secret: Uint8Array; account: (accounts: `0x${string}`[]) => `0x${string}` }>, options: { settlement?: boolean } = {}) {
  const { startDevnet } = await import('../src/chain/devnet.ts')
  const { ReceiptBatch4Verifier } = await import('../src/chain/contracts.generated.ts')
  const { deployContracts, deployStaking, deployTestToken, distributorAt } = await import('../src/chain/contracts.ts')
  const { MTStaking } = await import('../src/chain/contracts.generated.ts')
  const { distributorDomain } = await import('../src/epoch/rewards.ts')
  const devnet = await startDevnet()
  const me = devnet.accounts[0]!
  const hash = await devnet.clients.wallet.deployContract({ abi: ReceiptBatch4Verifier.abi, bytecode: ReceiptBatch4Verifier.bytecode } as never)
  const verifier = (await devnet.clients.public.waitForTransactionReceipt({ hash })).contractAddress!
  // With a revenue settlement (deployed first, naming the distributor's address to come), on a real Uniswap v2.
  const settled = options.settlement ? await settlementFor(devnet) : undefined
  const { distributor } = await deployContracts(devnet.clients, { admin: me, publisher: me, guardian: me, timelockSeconds: 1n, verifier, poseidon: settled?.poseidon, revenueSettlement: settled?.settlement })
  const { distributor: plain } = await deployContracts(devnet.clients, { admin: me, publisher: me, guardian: me, timelockSeconds: 1n })
  const send = async (tx: Promise<`0x${string}`>) => expect((await devnet.clients.public.waitForTransactionReceipt({ hash: await tx })).status).toBe('success')
  const mt = await deployTestToken(devnet.clients, 'MT', 'MT', 18)
  const staking = await deployStaking(devnet.clients, mt, me, params.maxDiscountBps, params.multiplier, 1n)
  const stakingContract = getContract({ abi: MTStaking.abi, address: staking, client: { public: devnet.clients.public, wallet: devnet.clients.wallet } })
  await send(stakingContract.write.setCirculatingSupply([params.circulating]))
  const configHash = keccak256('0xc0')
  const deployment = `0x${params.deploymentId.toString(16).padStart(64, '0')}` as const
  const keys = providers.map((p) => ({ key: attestationKeyOf(p.secret), account: p.account(devnet.accounts) }))
  for (const address of [distributor, plain])
    await send(distributorAt(devnet.clients, address).write.scheduleConfig([configHash, keccak256('0x05'), [deployment], [staking], keys.map(() => deployment), keys.map((k) => k.key.id), keys.map((k) => k.account)]))
  const domain = distributorDomain(await devnet.clients.public.getChainId(), distributor)
  return { devnet, verifier, distributor, plain, registry: distributorAt(devnet.clients, distributor), stakingContract, mt, configHash, deployment, keys, domain, ours: { ...params, domain: BigInt(domain) }, send, settled }
}

/** A RevenueSettlement for the distributor `devnet`'s first account deploys right after it (USDC, FLOCK, Uniswap v2). */
async function settlementFor(devnet: Awaited<ReturnType<(typeof import('../src/chain/devnet.ts'))['startDevnet']>>) {
  const { deployPoseidon, deployTestToken } = await import('../src/chain/contracts.ts')
  const { deploySettlement, nextContractAddress } = await import('../src/chain/settlement.ts')
  const { deployUniswapV2 } = await import('../src/chain/uniswap.ts')
  const me = devnet.accounts[0]!
  const uni = await deployUniswapV2(devnet.clients, { feeToSetter: me })
  const usdc = await deployTestToken(devnet.clients, 'USDC', 'USDC', 6)
  const flock = await deployTestToken(devnet.clients, 'FLOCK', 'FLOCK', 18)
  const poseidon = await deployPoseidon(devnet.clients)
  const distributor = await nextContractAddress(devnet.clients, 1n)
  const settlement = await deploySettlement(devnet.clients, { usdc, flock, router: uni.router, treasury: me, distributor, admin: me })
  return { poseidon, settlement, usdc }
}

const reverts = async (call: Promise<unknown>, error: string) => expect(call).rejects.toThrow(new RegExp(error))

describe('a registry that requires batch proofs (in-process EVM)', () => {
  it('takes a proposal only with valid proofs of this epoch, of every batch a registered provider attested, once, whose totals are the committed totals and whose signals hash to proofsHash', async () => {
    const { distributorAt } = await import('../src/chain/contracts.ts')
    const { distributorDomain } = await import('../src/epoch/rewards.ts')
    // The first provider's attestation key is registered for the deployment, not the second's.
    const { devnet, distributor, plain, registry, stakingContract, configHash, deployment, keys, domain, ours, send } = await registryWithKeys([{ secret: providerSecrets[0], account: (a) => a[1]! }])
    const registered = keys[0]!.key
    expect(await registry.read.providerAccountOf([configHash, deployment, registered.id])).toBe(devnet.accounts[1])
    // Two batches made for this registry, attested together by the registered provider: the order the registry takes.
    const parts = [receipts.slice(0, 2), receipts.slice(2)]
    const attested = attestBatches(parts, ours)
    const statements = parts.map((rs, i) => batchStatement(rs, rows, ours, 4, 2, attested[i]!))
    const prove = (rs: typeof receipts, a: (typeof attested)[number]) => proveBatch(circuit, ZKEY, batchInput(rs, rows, ours, 4, 2, a)).then(proofCalldata)
    const proofs = await Promise.all(parts.map((rs, i) => proveBatch(circuit, ZKEY, batchInput(rs, rows, ours, 4, 2, attested[i]!))))
    const [a, b] = proofs.map((p) => proofCalldata(p)) as [ReturnType<typeof proofCalldata>, ReturnType<typeof proofCalldata>]
    // The same receipts under a key the configuration does not register, and a second attestation of the registered
    // provider (all three receipts as one batch): receipts proven under either would be invented or counted twice.
    const unregistered = await prove(receipts, attestBatches([receipts], ours, providerSecrets[1])[0]!)
    const again = await prove(receipts, attestBatches([receipts], ours)[0]!)
    const total = (f: 'totalGross' | 'totalCharged' | 'count') => statements.reduce((sum, st) => sum + st[f], 0n)
    const commitment = {
      spendRoot: keccak256('0x01'),
      rewardRoot: keccak256('0x02'),
      totalGross: total('totalGross'),
      totalCharged: total('totalCharged'),
      receiptCount: total('count'),
      manifestHash: keccak256('0x03'),
      domain,
      proofsHash: proofsHash(proofs.map((proof) => ({ proof }))),
      configHash,
      snapshotBlock: await devnet.clients.public.getBlockNumber(),
      ledgerHash: keccak256('0x04'),
    }
    const epoch = params.epoch
    const calldata = [a, b]
    await reverts(registry.write.propose([epoch, commitment, '']), 'EpochRegistryProofsRequired')
    await reverts(distributorAt(devnet.clients, plain).write.proposeWithProofs([epoch, { ...commitment, domain: distributorDomain(await devnet.clients.public.getChainId(), plain) }, calldata, '']), 'EpochRegistryNoVerifier')
    await reverts(registry.write.proposeWithProofs([epoch, { ...commitment, totalGross: commitment.totalGross + 1n }, calldata, '']), 'EpochRegistryProvenTotals')
    await reverts(registry.write.proposeWithProofs([epoch, { ...commitment, receiptCount: 4n }, calldata, '']), 'EpochRegistryProvenTotals')
    await reverts(registry.write.proposeWithProofs([epoch, { ...commitment, proofsHash: keccak256('0x04') }, calldata, '']), 'EpochRegistryProofsHash')
    // A proof of another epoch, or made for another registry (or chain), is refused.
    await reverts(registry.write.proposeWithProofs([epoch + 1n, commitment, calldata, '']), 'EpochRegistryProofEpoch')
    await reverts(registry.write.submitProofs([epoch, [proofCalldata(proof)]]), 'EpochRegistryProofDomain')
    const forged = { ...a, signals: a.signals.map((v, i) => (i === 2 ? v + 1n : v)) as never }
    await reverts(registry.write.proposeWithProofs([epoch, { ...commitment, totalGross: commitment.totalGross + 1n }, [forged, b], '']), 'EpochRegistryInvalidProof')
    // totalGross + r would alias totalGross in the field: the verifier refuses it, so the sum cannot be inflated.
    const aliased = { ...a, signals: a.signals.map((v, i) => (i === 2 ? v + FIELD_PRIME : v)) as never }
    await reverts(registry.write.proposeWithProofs([epoch, { ...commitment, totalGross: commitment.totalGross + FIELD_PRIME }, [aliased, b], '']), 'EpochRegistryInvalidProof')
    // The same proof twice, batches out of order, or a second attestation of the same provider would count receipts
    // twice: refused whatever the commitment says.
    const doubled = { ...commitment, totalGross: statements[0]!.totalGross * 2n, totalCharged: statements[0]!.totalCharged * 2n, receiptCount: statements[0]!.count * 2n }
    await reverts(registry.write.proposeWithProofs([epoch, doubled, [a, a], '']), 'EpochRegistryProofOrder')
    await reverts(registry.write.proposeWithProofs([epoch, commitment, [b, a], '']), 'EpochRegistryProofOrder')
    await reverts(registry.write.submitProofs([epoch, [a, b, again]]), 'EpochRegistryProofOrder')
    // One deployment's batches are all discounted with one snapshot's X, M and circulating supply.
    const otherSupply = await proveBatch(circuit, ZKEY, batchInput(parts[1]!, rows, { ...ours, circulating: ours.circulating + 10n ** 18n }, 4, 2, attested[1]!)).then(proofCalldata)
    await reverts(registry.write.submitProofs([epoch, [a, otherSupply]]), 'EpochRegistryProofParameters')
    // Receipts attested by a key the configuration does not register (invented receipts) are refused.
    await reverts(registry.write.submitProofs([epoch, [unregistered]]), 'EpochRegistryProofProvider')
    // A provider's attested batches all proven, or none: one left out is refused at proposal.
    const first = { ...commitment, totalGross: statements[0]!.totalGross, totalCharged: statements[0]!.totalCharged, receiptCount: statements[0]!.count, proofsHash: proofsHash([{ proof: proofs[0]! }]) }
    await reverts(registry.write.proposeWithProofs([epoch, first, [a], '']), 'EpochRegistryProofsIncomplete')
    // Proofs may span transactions: submitted, then proposed; a batch already proven is refused in a later one too.
    await send(registry.write.submitProofs([epoch, [a]]))
    await reverts(registry.write.propose([epoch, commitment, '']), 'EpochRegistryProofsIncomplete')
    await reverts(registry.write.submitProofs([epoch, [a]]), 'EpochRegistryProofOrder')
    await send(registry.write.resetProofs([epoch]))
    await reverts(registry.write.propose([epoch, commitment, '']), 'EpochRegistryProofsRequired')
    await send(registry.write.submitProofs([epoch, [a]]))
    await send(registry.write.submitProofs([epoch, [b]]))
    const [gross, charged, count, batches, chain] = await registry.read.provenOf([epoch])
    expect([gross, charged, count, batches, chain]).toEqual([commitment.totalGross, commitment.totalCharged, commitment.receiptCount, 2n, commitment.proofsHash])
    await send(registry.write.propose([epoch, commitment, '']))
    expect((await registry.read.pendingCommitment()).proofsHash).toBe(commitment.proofsHash)
    // While pending, its proofs cannot change; a revoked epoch starts again from no proofs.
    await reverts(registry.write.submitProofs([epoch, calldata]), 'EpochRegistryPendingExists')
    await reverts(registry.write.resetProofs([epoch]), 'EpochRegistryPendingExists')
    await send(registry.write.revoke([epoch]))
    expect((await registry.read.provenOf([epoch]))[3]).toBe(0n)
    // The proofs' X, M and circulating supply must be what the pinned staking contract gives at the committed snapshot
    // block: after the supply changed, the same proofs do not fit a later snapshot.
    await send(stakingContract.write.setCirculatingSupply([params.circulating * 2n]))
    await devnet.mine(1)
    const later = { ...commitment, snapshotBlock: (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n }
    await reverts(registry.write.proposeWithProofs([epoch, later, calldata, '']), 'EpochRegistrySnapshotParameters')
    // The revoked commitment cannot come back unchanged; with the supply back, the same proofs fit a new snapshot.
    await reverts(registry.write.proposeWithProofs([epoch, commitment, calldata, '']), 'EpochRegistryRevokedProposal')
    await send(stakingContract.write.setCirculatingSupply([params.circulating]))
    await devnet.mine(1)
    const fresh = { ...commitment, snapshotBlock: (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n }
    await send(registry.write.proposeWithProofs([epoch, fresh, calldata, '']))
    expect((await registry.read.pendingCommitment()).proofsHash).toBe(commitment.proofsHash)
  }, 120_000)

  it('a provider that records its attestation on chain cannot be left out: a proposal without all its batches is refused, or revoked by anyone', async () => {
    const { devnet, registry, stakingContract, deployment, keys, domain, ours, send } = await registryWithKeys([
      { secret: providerSecrets[0], account: (a) => a[1]! },
      { secret: providerSecrets[1], account: (a) => a[2]! },
    ])
    const [p0, p1] = [devnet.accounts[1]!, devnet.accounts[2]!]
    const as = async (account: `0x${string}`) => (await import('../src/chain/contracts.ts')).distributorAt(devnet.clientsFor(account), registry.address)
    // Each provider attests its own receipts as one batch; proofs go in the registry's order of keys.
    const parts = [receipts.slice(0, 2), receipts.slice(2)]
    const attested = parts.map((rs, i) => attestBatches([rs], ours, providerSecrets[i])[0]!)
    const proofs = await Promise.all(parts.map((rs, i) => proveBatch(circuit, ZKEY, batchInput(rs, rows, ours, 4, 2, attested[i]!))))
    const order = keys[0]!.key.id < keys[1]!.key.id ? [0, 1] : [1, 0]
    const statement = (i: number) => batchStatement(parts[i]!, rows, ours, 4, 2, attested[i]!)
    const commitmentOf = (included: number[], spendRoot: `0x${string}`, configHash = keccak256('0xc0')) => ({
      spendRoot,
      rewardRoot: keccak256('0x02'),
      totalGross: included.reduce((n, i) => n + statement(i).totalGross, 0n),
      totalCharged: included.reduce((n, i) => n + statement(i).totalCharged, 0n),
      receiptCount: included.reduce((n, i) => n + statement(i).count, 0n),
      manifestHash: keccak256('0x03'),
      domain,
      proofsHash: proofsHash(included.map((i) => ({ proof: proofs[i]! }))),
      configHash,
      snapshotBlock,
      ledgerHash: keccak256('0x04'),
    })
    const calldata = (included: number[]) => included.map((i) => proofCalldata(proofs[i]!))
    const snapshotBlock = await devnet.clients.public.getBlockNumber({ cacheTime: 0 })
    const epoch = params.epoch
    const message = BigInt(proofs[1]!.publicSignals.attestation)
    const k1 = keys[1]!.key.id

    // Nothing recorded: the aggregator may propose provider 0 alone.
    await send(registry.write.proposeWithProofs([epoch, commitmentOf([0], keccak256('0xa0')), calldata([0]), '']))
    const anyone = await as(devnet.accounts[5]!)
    await reverts(anyone.write.challengeOmission([epoch, deployment, keys[0]!.key.id]), 'EpochRegistryAttestationProven')
    // A watcher with a key and no role, and no artifacts at all (an omission is read from the chain alone), looks at the
    // pending proposal at every poll. Provider 1 records its attestation between two polls, during the timelock; only
    // its own account may, once. The watcher then revokes the proposal that leaves it out; its spend root is never
    // taken again.
    const { watchRegistry } = await import('../src/audit/watch.ts')
    const records: Array<{ event: string; details: Record<string, unknown> }> = []
    const controller = new AbortController()
    let polls = 0
    await watchRegistry({
      client: devnet.clients.public,
      wallet: devnet.clientsFor(devnet.accounts[5]!).wallet,
      registry: registry.address,
      fromBlock: 0n,
      now: () => 0n,
      log: (r) => records.push(r),
      signal: controller.signal,
      sleep: async () => {
        if (++polls > 1) return controller.abort()
        await reverts((await as(p0)).write.recordAttestation([epoch, deployment, k1, message]), 'EpochRegistryNotAttester')
        await send((await as(p1)).write.recordAttestation([epoch, deployment, k1, message]))
        await reverts((await as(p1)).write.recordAttestation([epoch, deployment, k1, message + 1n]), 'EpochRegistryAttestationRecorded')
      },
    })
    expect(await registry.read.recordedAttestation([epoch, deployment, k1])).toBe(message)
    expect(records.map((r) => r.event)).toEqual(['config-scheduled', 'proposed', 'missing-artifacts', 'discrepancy', 'challenged'])
    expect(records[2]!.details).toMatchObject({ action: 'report' })
    expect(records[3]!.details).toMatchObject({ kind: 'proof', action: 'challenge', expected: String(message), found: 'none' })
    expect(records[4]!.details).toMatchObject({ fault: 'omission', providerKey: String(k1), provider: p1, recorded: String(message) })
    expect(await registry.read.hasPending()).toBe(false)
    expect(await registry.read.challengedSpendRoot([keccak256('0xa0')])).toBe(true)
    const [omission] = await registry.getEvents.EpochOmissionChallenged({}, { fromBlock: 0n })
    expect(omission?.args).toMatchObject({ epoch, challenger: devnet.accounts[5], deploymentId: deployment, providerKey: k1, attestation: message })
    // From now on a proposal must prove all of it, and one that does cannot be revoked this way.
    await reverts(registry.write.proposeWithProofs([epoch, commitmentOf([0], keccak256('0xa1')), calldata([0]), '']), 'EpochRegistryAttestationUnproven')
    await send(registry.write.proposeWithProofs([epoch, commitmentOf(order, keccak256('0xa2')), calldata(order), '']))
    expect(await registry.read.provenAttestation([epoch, deployment, k1])).toBe(message)
    await reverts(anyone.write.challengeOmission([epoch, deployment, k1]), 'EpochRegistryAttestationProven')

    // A provider that records and then withholds its receipts is dropped by the admin, through a configuration
    // without its key (public a timelock ahead): the recorded attestation then binds no proposal.
    await send(registry.write.revoke([epoch]))
    const without = keccak256('0xc1')
    await send(registry.write.scheduleConfig([without, keccak256('0x05'), [deployment], [stakingContract.address], [deployment], [keys[0]!.key.id], [p0]]))
    await send(registry.write.activateConfig())
    await send(registry.write.proposeWithProofs([epoch, commitmentOf([0], keccak256('0xa3'), without), calldata([0]), '']))
    await reverts(anyone.write.challengeOmission([epoch, deployment, k1]), 'EpochRegistryAttestationProven')
    // Once the epoch is final nothing more is recorded for it.
    await send(registry.write.finalize([epoch]))
    await reverts((await as(p0)).write.recordAttestation([epoch, deployment, keys[0]!.key.id, 1n]), 'EpochRegistryEpochNotAfter')
    // Nor are its proofs forgotten: they are what it was proven with.
    await reverts(registry.write.resetProofs([epoch]), 'EpochRegistryEpochNotAfter')
  }, 120_000)

  it('an epoch a provider recorded cannot be skipped: a later proposal is refused, or revoked by anyone', async () => {
    const { devnet, registry, deployment, keys, domain, ours, send } = await registryWithKeys([
      { secret: providerSecrets[0], account: (a) => a[1]! },
      { secret: providerSecrets[1], account: (a) => a[2]! },
    ])
    const { distributorAt } = await import('../src/chain/contracts.ts')
    const { omissionFaults, submitOmissionChallenge } = await import('../src/chain/attestations.ts')
    const { omissionDiscrepancy } = await import('../src/audit/chain.ts')
    const [k0, k1] = [keys[0]!.key.id, keys[1]!.key.id]
    const epoch = params.epoch
    const next = epoch + 1n
    // Provider 0 served epoch `next` alone; provider 1 served epoch `epoch` alone.
    const later = { ...ours, epoch: next }
    const a0 = attestBatches([receipts], later, providerSecrets[0])[0]!
    const a1 = attestBatches([receipts], ours, providerSecrets[1])[0]!
    const [p0, p1] = await Promise.all([proveBatch(circuit, ZKEY, batchInput(receipts, rows, later, 4, 2, a0)), proveBatch(circuit, ZKEY, batchInput(receipts, rows, ours, 4, 2, a1))])
    const snapshotBlock = await devnet.clients.public.getBlockNumber({ cacheTime: 0 })
    const commitmentOf = (p: BatchProof, st: ReturnType<typeof batchStatement>, spendRoot: `0x${string}`) => ({
      spendRoot,
      rewardRoot: keccak256('0x02'),
      totalGross: st.totalGross,
      totalCharged: st.totalCharged,
      receiptCount: st.count,
      manifestHash: keccak256('0x03'),
      domain,
      proofsHash: proofsHash([{ proof: p }]),
      configHash: keccak256('0xc0'),
      snapshotBlock,
      ledgerHash: keccak256('0x04'),
    })
    const c0 = (root: `0x${string}`) => commitmentOf(p0, batchStatement(receipts, rows, later, 4, 2, a0), root)
    const anyone = distributorAt(devnet.clientsFor(devnet.accounts[5]!), registry.address)

    // Nothing recorded: the aggregator may propose `next` first (an epoch with no receipts is never proposed).
    await send(registry.write.proposeWithProofs([next, c0(keccak256('0xb0')), [proofCalldata(p0)], '']))
    await reverts(anyone.write.challengeSkip([next, epoch, deployment, k1]), 'EpochRegistryNotSkipped')
    expect(await omissionFaults(devnet.clients.public, registry.address, Number(next), keccak256('0xc0'))).toEqual([])
    // Provider 1 records its attestation of `epoch` during the timelock: finalizing `next` would close `epoch` for
    // good, so anyone revokes the proposal, from the chain alone (`skippedRecording`). Its spend root is not barred: a
    // skip says nothing of `next`'s own trees.
    const message = BigInt(p1.publicSignals.attestation)
    await send(distributorAt(devnet.clientsFor(devnet.accounts[2]!), registry.address).write.recordAttestation([epoch, deployment, k1, message]))
    const [found, skipped, key] = await registry.read.skippedRecording()
    expect([found, skipped, key.providerKey]).toEqual([true, epoch, k1])
    await reverts(anyone.write.challengeSkip([next, next, deployment, k1]), 'EpochRegistryNotSkipped')
    await reverts(anyone.write.challengeSkip([next, epoch, deployment, k0]), 'EpochRegistryNotSkipped')
    const faults = await omissionFaults(devnet.clients.public, registry.address, Number(next), keccak256('0xc0'))
    expect(faults).toMatchObject([{ epoch: Number(next), recordedEpoch: Number(epoch), providerKey: k1, recorded: message, provider: devnet.accounts[2] }])
    expect(omissionDiscrepancy(faults).message).toMatch(/skips epoch 20000/)
    await submitOmissionChallenge(devnet.clientsFor(devnet.accounts[5]!), registry.address, faults[0]!)
    expect(await registry.read.hasPending()).toBe(false)
    expect(await registry.read.challengedSpendRoot([keccak256('0xb0')])).toBe(false)
    const [event] = await registry.getEvents.EpochSkipChallenged({}, { fromBlock: 0n })
    expect(event?.args).toMatchObject({ epoch: next, challenger: devnet.accounts[5], skipped: epoch, deploymentId: deployment, providerKey: k1 })
    // Now a proposal of `next` is refused outright; `epoch` goes first, then `next`.
    await reverts(registry.write.proposeWithProofs([next, c0(keccak256('0xb1')), [proofCalldata(p0)], '']), 'EpochRegistryEpochSkipped')
    await send(registry.write.proposeWithProofs([epoch, commitmentOf(p1, batchStatement(receipts, rows, ours, 4, 2, a1), keccak256('0xb2')), [proofCalldata(p1)], '']))
    expect((await registry.read.skippedRecording())[0]).toBe(false)
    await send(registry.write.finalize([epoch]))
    await devnet.mine(1)
    const after = { ...c0(keccak256('0xb0')), snapshotBlock: (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n }
    await send(registry.write.proposeWithProofs([next, after, [proofCalldata(p0)], '']))
    expect(await omissionFaults(devnet.clients.public, registry.address, Number(next), keccak256('0xc0'))).toEqual([])
    await reverts(anyone.write.challengeSkip([next, epoch, deployment, k1]), 'EpochRegistryNotSkipped')
    // A recording too late to be challenged still binds: finalize itself refuses while it is left out.
    await send(distributorAt(devnet.clientsFor(devnet.accounts[2]!), registry.address).write.recordAttestation([next, deployment, k1, 1n]))
    await reverts(registry.write.finalize([next]), 'EpochRegistryAttestationUnproven')
  }, 120_000)

  it('finalizes an epoch only once each proven deployment\'s charged revenue is paid to it: a payment to another deployment does not count', async () => {
    const { devnet, registry, deployment, domain, ours, send, settled } = await registryWithKeys([{ secret: providerSecrets[0], account: (a) => a[1]! }], { settlement: true })
    const { deploy } = await import('../src/chain/contracts.ts')
    const { BurnableTestToken, TestToken } = await import('../src/chain/contracts.generated.ts')
    const { grantSettlementRole, payRevenue, setDeployment } = await import('../src/chain/settlement.ts')
    const me = devnet.accounts[0]!
    const other = keccak256('0x0e')
    await setDeployment(devnet.clients, settled!.settlement, deployment, await deploy(devnet.clients, BurnableTestToken, ['MT', 'MT', 18]))
    await setDeployment(devnet.clients, settled!.settlement, other, await deploy(devnet.clients, BurnableTestToken, ['MT2', 'MT2', 18]))
    await grantSettlementRole(devnet.clients, settled!.settlement, 'payer', me)
    await send(getContract({ abi: TestToken.abi, address: settled!.usdc, client: { public: devnet.clients.public, wallet: devnet.clients.wallet } }).write.mint([me, 10n ** 18n]))
    const a = attestBatches([receipts], ours)[0]!
    const p = await proveBatch(circuit, ZKEY, batchInput(receipts, rows, ours, 4, 2, a))
    const st = batchStatement(receipts, rows, ours, 4, 2, a)
    const snapshotBlock = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
    const root = keccak256('0x01')
    const commitment = { spendRoot: root, rewardRoot: root, totalGross: st.totalGross, totalCharged: st.totalCharged, receiptCount: st.count, manifestHash: root, domain, proofsHash: proofsHash([{ proof: p }]), configHash: keccak256('0xc0'), snapshotBlock, ledgerHash: keccak256('0x04') }
    await send(registry.write.proposeWithProofs([params.epoch, commitment, [proofCalldata(p)], '']))
    await reverts(registry.write.finalize([params.epoch]), `EpochRegistryRevenueUnpaid\\("0x0{64}", ${st.totalCharged}, 0\\)`)
    // The whole charged revenue paid, but to another deployment's waterfall: the proven deployment is still unpaid.
    await payRevenue(devnet.clients, settled!.settlement, { epoch: params.epoch, deploymentId: other, charged: st.totalCharged })
    await reverts(registry.write.finalize([params.epoch]), `EpochRegistryRevenueUnpaid\\("${deployment}", ${st.totalCharged}, 0\\)`)
    await payRevenue(devnet.clients, settled!.settlement, { epoch: params.epoch, deploymentId: deployment, charged: st.totalCharged })
    await send(registry.write.finalize([params.epoch]))
  }, 120_000)

  it('anyone revokes a proposal whose batch discounted with a stake the chain does not give, by opening its stake table', async () => {
    const { TestToken } = await import('../src/chain/contracts.generated.ts')
    const { chargedAmount, stakingDiscountBps } = await import('../src/economics/revenue.ts')
    const { devnet, registry, stakingContract, mt, configHash, domain, ours, send } = await registryWithKeys([{ secret: providerSecrets[0], account: (a) => a[1]! }])
    // The sample's staker really stakes its 50,000 MT on chain; the snapshot is taken once the stake counts.
    const staker = `0x${rows[0]!.user.toString(16).padStart(40, '0')}` as const
    const them = await devnet.actAs(staker)
    await send(getContract({ abi: TestToken.abi, address: mt, client: { wallet: them.wallet } }).write.mint([staker, rows[0]!.stake]))
    await send(getContract({ abi: TestToken.abi, address: mt, client: { wallet: them.wallet } }).write.approve([stakingContract.address, rows[0]!.stake]))
    await send(getContract({ abi: stakingContract.abi, address: stakingContract.address, client: { wallet: them.wallet } }).write.stake([rows[0]!.stake]))
    await devnet.mine(2)
    const snapshotBlock = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
    // A batch proven with another stake for the staker (60,000 MT: a larger discount), its receipts charged to match.
    const inflated = [{ ...rows[0]!, stake: 60_000n * 10n ** 18n }, rows[1]!]
    const discounted = receipts.map((r) => {
      const d = stakingDiscountBps(inflated[r.row]!.stake, params.circulating, { maxDiscountBps: params.maxDiscountBps, multiplier: params.multiplier })
      return { ...r, discountBps: d, charged: chargedAmount(r.gross, d) }
    })
    const proposal = async (rs: typeof receipts, table: typeof rows, spendRoot: `0x${string}`) => {
      const a = attestBatches([rs], ours)[0]!
      const proof = await proveBatch(circuit, ZKEY, batchInput(rs, table, ours, 4, 2, a))
      const st = batchStatement(rs, table, ours, 4, 2, a)
      const commitment = { spendRoot, rewardRoot: keccak256('0x02'), totalGross: st.totalGross, totalCharged: st.totalCharged, receiptCount: st.count, manifestHash: keccak256('0x03'), domain, proofsHash: proofsHash([{ proof }]), configHash, snapshotBlock, ledgerHash: keccak256('0x04') }
      await send(registry.write.proposeWithProofs([params.epoch, commitment, [proofCalldata(proof)], '']))
      // The epoch's proofs.json as fomo prove writes it (only what a stake-row challenge reads is filled in).
      const hex = (v: bigint, bytes: number) => `0x${v.toString(16).padStart(bytes * 2, '0')}` as `0x${string}`
      const file = {
        format: 'fomo-epoch-proofs-v4' as const,
        epoch: Number(params.epoch),
        circuit: { name: 'receipt_batch_4', receipts: 4, rows: 2, verificationKeySha256: '', testOnly: true },
        proofsHash: commitment.proofsHash,
        attestations: [],
        batches: [{ deploymentId: hex(params.deploymentId, 32), provider: hex(1n, 20), rows: st.table.map((r) => ({ ...r, user: hex(r.user, 20) })), proof }],
      }
      return { signals: proofCalldata(proof).signals, file, commitment, table: paddedTable(st.table, 2) }
    }
    const users = (table: StakeTableRow[]) => table.map((r) => r.user)
    const cells = (table: StakeTableRow[]) => table.map(stakeRowCell)
    const anyone = (await import('../src/chain/contracts.ts')).distributorAt(devnet.clientsFor(devnet.accounts[6]!), registry.address)
    const { signals: wrong, file: wrongFile, commitment: wrongCommitment, table: wrongTable } = await proposal(discounted, inflated, keccak256('0xb0'))
    // The table must be the batch's: other signals, another batch, a row changed, or a value aliased by the field.
    await reverts(anyone.write.challengeStakeRow([params.epoch, 1n, wrong, users(wrongTable), cells(wrongTable)]), 'EpochRegistryBatchUnknown')
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, wrong.map((v, i) => (i === 2 ? v + 1n : v)) as never, users(wrongTable), cells(wrongTable)]), 'EpochRegistryBatchUnknown')
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, wrong, users(wrongTable), cells(wrongTable.map((r, i) => (i === 0 ? { ...r, stake: rows[0]!.stake } : r)))]), 'EpochRegistryStakeRowsOpening')
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, wrong, users(wrongTable), cells(wrongTable.map((r, i) => (i === 0 ? { ...r, charged: r.charged - 1n } : r)))]), 'EpochRegistryStakeRowsOpening')
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, wrong, users(wrongTable).map((u, i) => (i === 1 ? u + FIELD_PRIME : u)), cells(wrongTable)]), 'EpochRegistryStakeRowsOpening')
    // A cell aliased by the field (cell + p hashes as cell) is refused: cells must be below 2^248.
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, wrong, users(wrongTable), cells(wrongTable).map((c, i) => (i === 0 ? c + FIELD_PRIME : c))]), 'EpochRegistryStakeRowsOpening')
    // What a watcher finds in proofs.json against the chain, and sends with any key.
    const { stakeRowFaults, submitStakeRowChallenge } = await import('../src/chain/challenges.ts')
    const [fault, ...more] = await stakeRowFaults(devnet.clients.public, registry.address, wrongFile, wrongCommitment)
    expect(more).toEqual([])
    expect(fault).toMatchObject({ batch: 0, user: staker, committed: inflated[0]!.stake, actual: rows[0]!.stake, users: users(wrongTable), cells: cells(wrongTable) })
    await submitStakeRowChallenge(devnet.clientsFor(devnet.accounts[6]!), registry.address, fault!)
    expect(await registry.read.hasPending()).toBe(false)
    const [event] = await registry.getEvents.EpochStakeRowChallenged({}, { fromBlock: 0n })
    expect(event?.args).toMatchObject({ epoch: params.epoch, challenger: devnet.accounts[6], batch: 0n, user: rows[0]!.user, committed: inflated[0]!.stake, actual: rows[0]!.stake })
    // The honest batch, its stakes the chain's, cannot be revoked this way.
    const right = await proposal(receipts, rows, keccak256('0xb1'))
    expect(await stakeRowFaults(devnet.clients.public, registry.address, right.file, right.commitment)).toEqual([])
    await reverts(anyone.write.challengeStakeRow([params.epoch, 0n, right.signals, users(right.table), cells(right.table)]), 'EpochRegistryStakeRowsRight')
    expect(await registry.read.hasPending()).toBe(true)
  }, 120_000)
})
