/**
 * `fomo prove` and `fomo audit`: proving a sealed epoch from its receipts (proofs.json), and re-deriving and
 * checking a sealed epoch, its proofs and, optionally, its on-chain commitment and stake snapshot.
 */
import { access, constants, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { getAddress, isAddress } from 'viem'
import { readConfig } from '../../epoch/config.ts'
import { readEpochInputs } from '../../epoch/inputs.ts'
import { auditEpoch } from '../../audit/audit.ts'
import { AuditDiscrepancy } from '../../audit/discrepancy.ts'
import { readSealedEpoch } from '../../epoch/directory.ts'
import { epochReceiptOf } from '../../epoch/spend.ts'
import { parseJsonDocument } from '../../base/json.ts'
import { attestationJson, attestationKeyOf, attestationSecret, attestProvider, readAttestation, type ProviderAttestation } from '../../proofs/attestation.ts'
import { epochProofsJson, loadCircuitKeys, readCircuitKeys, TEST_CIRCUIT_KEYS } from '../../proofs/files.ts'
import { planBatches } from '../../proofs/plan.ts'
import { proveEpoch } from '../../proofs/prove.ts'
import { readReceiptsText } from '../../receipts/file.ts'
import { distributorDomain } from '../../epoch/rewards.ts'
import { addressOf } from '../../receipts/sign.ts'
import type { Hex } from '../../base/bytes.ts'
import { loadPrivateKey } from '../keys.ts'
import { ProviderRegistry } from '../../receipts/registry.ts'
import { ReceiptVerifier } from '../../receipts/verify.ts'
import { InputError } from '../../base/errors.ts'
import { parseBlockNumber, parseStakingPair, requireString, UsageError, type Command, type Io } from '../command.ts'
import { checkNewOutput, writeFileAtomic, writeOutput } from '../files.ts'
import { progress } from '../progress.ts'

async function readText(path: string, what: string, command: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${what} ${path}: ${e.code ?? e.message}`, command)
  })
}

function epochDirectory(positionals: string[], io: Io, command: string): string {
  if (positionals.length !== 1) throw new UsageError('expected the sealed epoch directory (epoch-<n>)', command)
  return resolve(io.cwd, positionals[0]!)
}

/** Reads attestation files: each line (or the whole file) a fomo-provider-attestation-v1 document. */
async function readAttestationFiles(paths: readonly string[], io: Io): Promise<ProviderAttestation[]> {
  const out: ProviderAttestation[] = []
  for (const path of paths) {
    const text = await readText(resolve(io.cwd, path), 'attestations', 'prove')
    for (const [i, line] of text.split('\n').entries()) if (line.trim()) out.push(readAttestation(parseJsonDocument(line, `${path} line ${i + 1}`)))
  }
  return out
}

export const attestCommand: Command = {
  name: 'attest',
  summary:
    "A provider signs its receipts of a closed epoch: for each deployment, the EdDSA-Poseidon signature (with the attestation key\n" +
    "derived from its receipt key) over the Poseidon root of its receipts cut into the circuit's batches (docs/circuits.md).\n" +
    'The aggregator proves only attested receipts (fomo prove --attestations). Give the receipts the provider itself signed.\n' +
    "With --rpc it also records each attestation on the registry (the receipts' verifying contract) from the provider's account:\n" +
    'every proposal of the epoch must then prove all of its batches, and anyone revokes one that leaves it out (challengeOmission).',
  options: {
    receipts: { type: 'string', valueName: 'file.ndjson', description: "The provider's receipts (receipts or batches, one per line)" },
    epoch: { type: 'string', valueName: 'n', description: 'The epoch to attest' },
    config: { type: 'string', valueName: 'config.json', description: "The aggregator's configuration (its receipt domain and providers)" },
    'key-file': { type: 'string', valueName: 'file', description: "The provider's key file (fomo keys new)" },
    key: { type: 'string', valueName: 'hex', description: "The provider's private key (or FOMO_PRIVATE_KEY)" },
    keys: { type: 'string', valueName: 'circuit.json', description: 'The circuit whose batches are attested (default: the bundled test circuit)' },
    out: { type: 'string', valueName: 'file.ndjson', description: 'Where to write the attestations, one per deployment and line; an existing file is kept unless --force' },
    force: { type: 'boolean', description: 'Replace an existing --out file' },
    rpc: { type: 'string', valueName: 'url', description: "Also record the attestations on the registry through this node, from the provider's account (it pays the gas)" },
  },
  examples: [
    'fomo attest --receipts mine-20415.ndjson --epoch 20415 --config config.json --key-file provider.key.json --out attest-20415.ndjson',
    'fomo attest --receipts mine-20415.ndjson --epoch 20415 --config config.json --key-file provider.key.json --out attest-20415.ndjson --rpc http://127.0.0.1:8545',
  ],
  async run({ values }, io) {
    // An existing --out is refused before any work.
    const output = { command: 'attest', what: 'the attestation file', force: Boolean(values.force) }
    const outPath = resolve(io.cwd, requireString(values, 'out', 'attest'))
    await checkNewOutput(outPath, output)
    const config = readConfig(parseJsonDocument(await readText(resolve(io.cwd, requireString(values, 'config', 'attest')), 'the configuration', 'attest'), 'config.json'))
    const epochText = requireString(values, 'epoch', 'attest')
    if (!/^(0|[1-9][0-9]{0,9})$/.test(epochText)) throw new UsageError('--epoch must be an epoch number', 'attest')
    const epoch = Number(epochText)
    const privateKey = await loadPrivateKey(values, io, 'attest')
    const provider = addressOf(privateKey).toLowerCase() as Hex
    const text = await readText(resolve(io.cwd, requireString(values, 'receipts', 'attest')), 'receipts', 'attest')
    const { receipts } = readReceiptsText(text, new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) }))
    const ofEpoch = receipts.filter((r) => r.receipt.epoch === epoch && r.receipt.provider.toLowerCase() === provider).map(epochReceiptOf)
    if (ofEpoch.length === 0) throw new InputError(`the file holds no receipt of provider ${provider} for epoch ${epoch}`, 'Check --receipts, --epoch and that the key is the provider\'s.')
    const keys = await readCircuitKeys(typeof values.keys === 'string' ? resolve(io.cwd, values.keys) : TEST_CIRCUIT_KEYS)
    const secret = attestationSecret(privateKey)
    // The registry the receipts are for (their EIP-712 verifying contract): the attestation is good there only.
    const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
    const attestations = attestProvider({ epoch, domain, provider, receipts: ofEpoch, circuit: { receipts: keys.receipts, rows: keys.rows }, secret })
    await writeOutput(outPath, output, (tmp) => writeFile(tmp, attestations.map((a) => `${JSON.stringify(attestationJson(a))}\n`).join('')))
    // Written first: the file is what the aggregator proves from, whether or not recording succeeds.
    const recorded: Array<string | null> = []
    if (typeof values.rpc === 'string') {
      const { rpcClients } = await import('../../chain/rpc.ts')
      const { recordAttestation } = await import('../../chain/attestations.ts')
      const clients = await rpcClients(values.rpc, privateKey)
      for (const a of attestations) recorded.push((await recordAttestation(clients, getAddress(config.domain.verifyingContract), a)).hash)
    }
    io.stdout(
      `${JSON.stringify({
        epoch,
        provider,
        key: attestationKeyOf(secret).packed,
        attestations: attestations.map((a, i) => ({ deploymentId: a.deploymentId, receipts: a.receipts, batches: a.batches, ...(recorded.length > 0 ? { recorded: recorded[i] ?? 'already' } : {}) })),
        file: requireString(values, 'out', 'attest'),
      })}\n`,
    )
  },
}

export const proveCommand: Command = {
  name: 'prove',
  summary:
    "Proves a sealed epoch: verifies its receipts (a `fomo export-receipts` file), cuts them into batches by the fixed rule of\n" +
    'docs/circuits.md, proves each batch (Groth16) and writes proofs.json into the epoch directory. `fomo publish` then commits\n' +
    'the proofs hash on chain. Each provider\'s receipts must be attested by it (fomo attest). Without --keys it uses the bundled\n' +
    'TEST-ONLY keys of the 4-receipt circuit.',
  positionals: '<epoch-dir>',
  options: {
    receipts: { type: 'string', valueName: 'file.ndjson', description: 'The epoch\'s receipts (fomo export-receipts)' },
    attestations: { type: 'string', valueName: 'file.ndjson', multiple: true, description: "The providers' attestations of the epoch (fomo attest; repeat per file)" },
    keys: { type: 'string', valueName: 'circuit.json', description: 'Circuit keys (format fomo-circuit-keys-v1; default: the bundled test-only keys)' },
  },
  examples: ['fomo prove ./epochs/epoch-20415 --receipts receipts-20415.ndjson --attestations attest-20415.ndjson', 'fomo prove ./epochs/epoch-20415 --receipts r.ndjson --attestations a.ndjson --attestations b.ndjson --keys /keys/receipt_batch_256.json'],
  async run({ values, positionals }, io) {
    const dir = epochDirectory(positionals, io, 'prove')
    const sealed = await readSealedEpoch(dir)
    const config = readConfig(parseJsonDocument(await readText(join(dir, 'config.json'), 'the configuration', 'prove'), 'config.json'))
    const inputs = readEpochInputs(parseJsonDocument(await readText(join(dir, 'inputs.json'), 'the epoch inputs', 'prove'), 'inputs.json'), config)
    const text = await readText(resolve(io.cwd, requireString(values, 'receipts', 'prove')), 'receipts', 'prove')
    const { receipts } = readReceiptsText(text, new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) }))
    const wrong = receipts.find((r) => r.receipt.epoch !== sealed.epoch)
    if (wrong) throw new InputError(`the receipt on line ${wrong.line} is for epoch ${wrong.receipt.epoch}; the directory holds epoch ${sealed.epoch}`, 'Give the receipts of the sealed epoch only (fomo export-receipts --epoch).')
    if (BigInt(receipts.length) !== sealed.totals.receipts)
      throw new InputError(`the file holds ${receipts.length} distinct receipts; the sealed epoch counts ${sealed.totals.receipts}`, 'Give every receipt the epoch counted (fomo export-receipts --epoch).')
    const keys = await loadCircuitKeys(typeof values.keys === 'string' ? resolve(io.cwd, values.keys) : TEST_CIRCUIT_KEYS)
    if (keys.testOnly) io.stderr(`warning: ${keys.name} keys are TEST-ONLY (a ceremony with public entropy); give --keys for proofs that mean anything\n`)
    const attestations = await readAttestationFiles((values.attestations as string[] | undefined) ?? [], io)
    const plan = planBatches(sealed.epoch, config, inputs.deployments, receipts.map(epochReceiptOf), keys.receipts, keys.rows, attestations)
    const started = performance.now()
    const bar = progress(io, 'prove')
    const proofs = await proveEpoch(sealed.epoch, plan, keys, (done, total) => bar.update(done, total))
    bar.done()
    await writeFileAtomic(join(dir, 'proofs.json'), epochProofsJson(proofs))
    io.stdout(`${JSON.stringify({ epoch: sealed.epoch, circuit: keys.name, receipts: receipts.length, batches: proofs.batches.length, proofsHash: proofs.proofsHash, seconds: Number(((performance.now() - started) / 1000).toFixed(1)), file: join(dir, 'proofs.json') })}\n`)
    // snarkjs keeps worker threads alive; the CLI ends when the command does.
  },
}

export const auditCommand: Command = {
  name: 'audit',
  summary:
    'Re-derives a sealed epoch and checks it: every receipt signature (--receipts), the spend leaves, rewards, the reward tree, the\n' +
    'report and manifest (recomputed with the aggregator\'s own code), every batch proof and what it binds; with --rpc, the stake\n' +
    'snapshots inputs.json records (contract and block, from `fomo inputs --rpc`) against the chain, or those --staking with --block\n' +
    'names instead, and with --registry the on-chain commitment.\n' +
    'Exits 1 naming the first discrepancy (which receipt, leaf or number; expected and found).',
  positionals: '<epoch-dir>',
  options: {
    receipts: { type: 'string', valueName: 'file.ndjson', description: 'The epoch\'s receipts (fomo export-receipts); without it spend leaves are taken as published' },
    rpc: { type: 'string', valueName: 'url', description: 'JSON-RPC URL of a node, to check the stake snapshots inputs.json records (and the commitment with --registry)' },
    staking: { type: 'string', valueName: 'id=address', multiple: true, description: 'Instead of the recorded sources: a deployment and its MTStaking contract (repeat per deployment)' },
    block: { type: 'string', valueName: 'n', description: 'The stake snapshot block (with --staking)' },
    registry: { type: 'string', valueName: 'address', description: 'The epoch registry (the distributor) on that node' },
    vkey: { type: 'string', valueName: 'verification_key.json', description: 'The verification key proofs must verify under (default: the bundled test-only key)' },
    previous: { type: 'string', valueName: 'dir', description: 'The previous epoch\'s directory (default: the sibling the manifest names)' },
    timings: { type: 'boolean', description: 'Print where the time went (seconds per phase, as JSON) on stderr' },
  },
  examples: ['fomo audit ./epochs/epoch-20415 --receipts receipts-20415.ndjson', 'fomo audit ./epochs/epoch-20415 --rpc http://127.0.0.1:8545 --registry 0x...', 'fomo audit ./epochs/epoch-20415 --rpc http://127.0.0.1:8545', 'fomo audit ./epochs/epoch-20415 --rpc http://127.0.0.1:8545 --block 123456 --staking 0x<deployment>=0x<staking>'],
  async run({ values, positionals }, io) {
    const dir = epochDirectory(positionals, io, 'audit')
    const pairs = (values.staking as string[] | undefined) ?? []
    if (typeof values.rpc !== 'string' && (typeof values.registry === 'string' || pairs.length > 0)) throw new UsageError('--registry and --staking need --rpc (a JSON-RPC URL)', 'audit')
    if ((pairs.length > 0) !== (typeof values.block === 'string')) throw new UsageError('--staking and --block go together', 'audit')
    let chain
    let stakes
    if (typeof values.rpc === 'string') {
      const { createPublicClient, http } = await import('viem')
      const client = createPublicClient({ transport: http(values.rpc, { retryCount: 2 }) }) as never
      if (typeof values.registry === 'string') {
        if (!isAddress(values.registry)) throw new UsageError('--registry must be an address (0x and 40 hex digits)', 'audit')
        chain = { client, registry: getAddress(values.registry) }
      }
      // Without --staking, the snapshot sources inputs.json records (fomo inputs --rpc) are checked.
      const block = pairs.length > 0 ? parseBlockNumber(values.block as string, 'audit') : 0n
      const contracts = pairs.map((pair) => {
        const { deploymentId, staking } = parseStakingPair(pair, 'audit')
        return { deploymentId, staking: getAddress(staking), block }
      })
      stakes = { client, contracts: contracts.length > 0 ? contracts : undefined }
    }
    const at = (name: string) => (typeof values[name] === 'string' ? resolve(io.cwd, values[name] as string) : undefined)
    const receiptsPath = at('receipts')
    // Streamed by the auditor: only checked here, so a missing file is a usage error as before.
    if (receiptsPath) await access(receiptsPath, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read receipts ${receiptsPath}: ${e.code ?? e.message}`, 'audit')
    })
    try {
      const result = await auditEpoch({
        dir,
        receiptsPath,
        verificationKeyPath: at('vkey'),
        previousDir: at('previous'),
        chain,
        stakes,
        onCheck: (line) => io.stdout(`ok       ${line}\n`),
      })
      for (const w of result.warnings) io.stdout(`warning  ${w}\n`)
      io.stdout(`epoch ${result.epoch}: audit passed\n`)
      if (values.timings) io.stderr(`${JSON.stringify({ seconds: result.seconds })}\n`)
      return 0
    } catch (error) {
      if (!(error instanceof AuditDiscrepancy)) throw error
      io.stdout(`DISCREPANCY (${error.kind}) ${error.shortMessage}\n`)
      io.stderr(`fomo audit: epoch directory ${dir} failed: ${error.kind}: ${error.shortMessage}\n`)
      return 1
    }
  },
}
