/**
 * `fomo watch`: the watcher daemon. Follows a registry, audits each proposed epoch against its sealed directory,
 * challenges a pending proposal whose stakes the chain contradicts (any key), and revokes any other failing one when
 * its key holds the guardian role (otherwise reports); one JSON line per
 * record on stdout, until SIGINT or SIGTERM (or, with --once, up to the latest block).
 */
import { resolve } from 'node:path'
import { createPublicClient, getAddress, http, isAddress, type PublicClient } from 'viem'
import { watchRegistry, type WatchRecord } from '../../audit/watch.ts'
import { ChainError } from '../../chain/contracts.ts'
import { rpcClients } from '../../chain/rpc.ts'
import { requireString, UsageError, type Command } from '../command.ts'
import { loadPrivateKey } from '../keys.ts'

const nowNs = () => BigInt(Date.now()) * 1_000_000n

export const watchCommand: Command = {
  name: 'watch',
  summary:
    'Follows a registry (the distributor) from a block and audits each proposed epoch as it appears: its sealed directory\n' +
    '(--epochs DIR/epoch-<n>, else fetched from the artifacts URL the proposal names and checked against its manifest hash),\n' +
    'its receipts when --receipts-dir holds receipts-<n>.ndjson, the pending commitment on chain and the\n' +
    'stake snapshots inputs.json records, every spend leaf\'s stake at the committed block. A pending proposal with a fault the\n' +
    'chain proves (a wrong stake in a spend leaf or a batch\'s stake rows, a recorded attestation left out, a reward, spend sum\n' +
    'or list the judge shows wrong, a spend leaf below its user\'s proven rows) is challenged with any key (--key-file or\n' +
    'FOMO_PRIVATE_KEY): no role needed. Any other\n' +
    'failure, or a directory still missing after half the timelock, is revoked while pending when the key holds GUARDIAN_ROLE;\n' +
    'otherwise, or without a key, it is reported. Writes one JSON\n' +
    'line per record (time, epoch, event, details) to stdout and runs until SIGINT or SIGTERM. With --once it processes the\n' +
    'proposals up to the latest block and exits 1 if any failed, was missing or could not be checked.',
  options: {
    rpc: { type: 'string', valueName: 'url', description: 'JSON-RPC URL of the node, e.g. http://127.0.0.1:8545' },
    'key-file': { type: 'string', valueName: 'file', description: 'Key file (fomo-key-v1 or hex): any account challenges, a guardian also revokes; default: the FOMO_PRIVATE_KEY environment variable; neither: report only' },
    registry: { type: 'string', valueName: 'address', description: 'The epoch registry (the distributor)' },
    epochs: { type: 'string', valueName: 'dir', description: 'Where the sealed epoch directories are (epoch-<n>, as fomo seal --out writes them); a proposal not there is fetched from its artifacts URL' },
    cache: { type: 'string', valueName: 'dir', description: 'Where directories fetched from artifacts URLs are kept (default: fomo-watch in the temporary directory)' },
    'reorg-depth': { type: 'string', valueName: 'n', description: 'Latest blocks read again at each poll, so a reorganisation hides no proposal (default 64)' },
    'receipts-dir': { type: 'string', valueName: 'dir', description: 'Where the receipts files are (receipts-<n>.ndjson); without it spend leaves are taken as published' },
    'from-block': { type: 'string', valueName: 'n', description: 'The first block to read proposals from (the registry\'s deployment block)' },
    interval: { type: 'string', valueName: 'seconds', description: 'Time between polls (default 15)' },
    'block-range': { type: 'string', valueName: 'n', description: 'Blocks per eth_getLogs request (default 1000)' },
    vkey: { type: 'string', valueName: 'verification_key.json', description: 'The verification key proofs must verify under (required with a key; without a key, default: the bundled test-only key)' },
    once: { type: 'boolean', description: 'Process the proposals up to the latest block, then exit' },
  },
  examples: [
    'FOMO_PRIVATE_KEY=0x<guardian> fomo watch --rpc http://127.0.0.1:8545 --registry 0x... --epochs ./epochs --receipts-dir ./receipts --from-block 123456',
    'fomo watch --rpc http://127.0.0.1:8545 --registry 0x... --epochs ./epochs --from-block 0 --once',
    'fomo watch --rpc http://127.0.0.1:8545 --registry 0x... --from-block 0   # artifacts fetched from the URL each proposal names',
  ],
  async run({ values }, io) {
    const rpc = requireString(values, 'rpc', 'watch')
    const registry = requireString(values, 'registry', 'watch')
    if (!isAddress(registry)) throw new UsageError('--registry must be an address (0x and 40 hex digits)', 'watch')
    const epochsDir = typeof values.epochs === 'string' ? resolve(io.cwd, values.epochs) : undefined
    const fromBlock = requireString(values, 'from-block', 'watch')
    if (!/^[0-9]+$/.test(fromBlock)) throw new UsageError('--from-block must be a block number', 'watch')
    const interval = typeof values.interval === 'string' ? values.interval : '15'
    // Timers hold at most 2^31 - 1 ms; a day between polls is already far past any timelock worth watching.
    if (!/^[0-9]+(\.[0-9]+)?$/.test(interval) || Number(interval) <= 0 || Number(interval) > 86_400) throw new UsageError('--interval must be a number of seconds from 0 (exclusive) to 86400', 'watch')
    const blockRange = typeof values['block-range'] === 'string' ? values['block-range'] : '1000'
    if (!/^[1-9][0-9]*$/.test(blockRange)) throw new UsageError('--block-range must be a positive number of blocks', 'watch')
    const reorgDepth = typeof values['reorg-depth'] === 'string' ? values['reorg-depth'] : '64'
    if (!/^[0-9]+$/.test(reorgDepth) || reorgDepth.length > 9) throw new UsageError('--reorg-depth must be a number of blocks (0 to 999999999)', 'watch')
    const at = (name: string) => (typeof values[name] === 'string' ? resolve(io.cwd, values[name] as string) : undefined)

    // The key, as every chain command takes it: from a file or FOMO_PRIVATE_KEY, never from an argument.
    let client: PublicClient
    let wallet
    if (typeof values['key-file'] === 'string' || io.env.FOMO_PRIVATE_KEY) {
      // A guardian checking real proofs against the bundled test key would revoke every honest proposal.
      if (typeof values.vkey !== 'string') throw new UsageError('a watcher with a key (one that may revoke) needs --vkey: the verification key the epochs\' proofs are made for', 'watch')
      const c = await rpcClients(rpc, await loadPrivateKey({ 'key-file': values['key-file'] }, io, 'watch', { keyOption: false }))
      client = c.public
      wallet = c.wallet
    } else {
      client = createPublicClient({ transport: http(rpc, { retryCount: 2 }) }) as never
      await client.getChainId().catch((error: unknown) => {
        throw new ChainError(`cannot reach the node at ${rpc}`, 'Check --rpc: a JSON-RPC URL such as http://127.0.0.1:8545.', error)
      })
      io.stderr('fomo watch: no key (--key-file or FOMO_PRIVATE_KEY): reporting only, never revoking\n')
    }

    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      const result = await watchRegistry({
        client,
        wallet,
        registry: getAddress(registry),
        epochsDir,
        cacheDir: at('cache'),
        receiptsDir: at('receipts-dir'),
        reorgDepth: BigInt(reorgDepth),
        verificationKeyPath: at('vkey'),
        fromBlock: BigInt(fromBlock),
        blockRange: BigInt(blockRange),
        intervalMs: Number(interval) * 1000,
        now: nowNs,
        log: (record: WatchRecord) => io.stdout(`${JSON.stringify(record)}\n`),
        signal: controller.signal,
        once: Boolean(values.once),
      })
      const { discrepancy, error } = result.counts
      return values.once && discrepancy + result.counts['missing-artifacts'] + error > 0 ? 1 : 0
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  },
}
