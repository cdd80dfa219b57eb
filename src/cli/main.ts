/**
 * The `fomo` command: the list of commands, help, dispatch and the exit-code rule.
 */
import { BaseError } from '../base/errors.ts'
import { helpText, runCommand, UsageError, type Command, type Io } from './command.ts'

/**
 * A command as the list knows it: its one-line summary for the overview, and its module loaded only when it is run
 * or its help is asked for, so that `fomo --help` and `fomo receipt verify` load nothing else (src/cli/main.test.ts
 * checks each summary against the first sentence of its command's own).
 */
export type CommandEntry = { name: string; summary: string; load: () => Promise<Command> }

export const commands: CommandEntry[] = [
  { name: 'demo', summary: 'The main job on the embedded store, end to end: creates providers, deployments, users and stakes, signs a day of receipts (per call and batch-signed), sends them through the HTTP API, seals the epoch and writes its artifacts and receipts, deploys the distributor on an in-process EVM, publishes the epoch, waits out the timelock and claims, then prints a summary', load: () => import('./commands/aggregator.ts').then((m) => m.demoCommand) },
  { name: 'simulate', summary: 'Plans a deployment: runs a scenario through the economics engine and prints a per-epoch report', load: () => import('./commands/simulate.ts').then((m) => m.simulateCommand) },
  { name: 'init', summary: 'Creates or updates the aggregator store from a configuration file: receipt domain, epochs, tokens, platform parameters, deployments and the providers allowed to sign for each', load: () => import('./commands/aggregator.ts').then((m) => m.initCommand) },
  { name: 'inputs', summary: 'Stores an epoch\'s inputs: OpEx and the stake snapshot (circulating supply and stakes) per deployment (format fomo-epoch-inputs-v2)', load: () => import('./commands/aggregator.ts').then((m) => m.inputsCommand) },
  { name: 'serve', summary: 'Runs the aggregator HTTP service: POST /v1/receipts, POST /v1/batches, GET /v1/epochs/:n, GET /v1/epochs/:n/spend/:deployment/:user, GET /v1/rewards/:account, GET /v1/health, GET /metrics', load: () => import('./commands/aggregator.ts').then((m) => m.serveCommand) },
  { name: 'ingest', summary: 'Sends a file of signed receipts (NDJSON, a JSON array, or a batch document) to an aggregator in requests of --batch-size, retrying on network errors and 5xx', load: () => import('./commands/aggregator.ts').then((m) => m.ingestCommand) },
  { name: 'seal', summary: 'Seals an epoch: no receipt is accepted for it afterwards; computes the spend tree, rewards, the cumulative reward tree and the report, stores them with a manifest in one transaction, and writes them to --out/epoch-<n> atomically', load: () => import('./commands/aggregator.ts').then((m) => m.sealCommand) },
  { name: 'export-receipts', summary: 'Exports an epoch\'s raw signed receipts for an auditor, as NDJSON of fomo-receipt-v1 documents and whole batch documents', load: () => import('./commands/aggregator.ts').then((m) => m.exportReceiptsCommand) },
  { name: 'retention', summary: 'Moves the receipts of sealed epochs before --before out of the store once their dispute window has passed: each epoch is exported to --out/receipts-<epoch>.ndjson (the `fomo export-receipts` format; a file already there is used only when it is byte for byte the store\'s export, never replaced), the file is read back and verified against the store (every signature, counts, sums, receipt digests), and only then are its partitions dropped (--drop) or detached into tables of their own (--detach)', load: () => import('./commands/retention.ts').then((m) => m.retentionCommand) },
  { name: 'deploy', summary: 'Deploys the reward distributor (which is also the epoch registry) to a node; with --test-tokens also FLOCK and USDC test tokens; with --verifier or --test-verifier a registry that takes epochs only with valid batch proofs; with --router a revenue settlement every epoch must be paid to before it is final; with --daily-emission an epoch funding contract that moves each epoch\'s emission and vesting releases into the distributor as it is finalized', load: () => import('./commands/chain.ts').then((m) => m.deployCommand) },
  { name: 'pin', summary: 'Pins an aggregator configuration on the distributor (admin role): its config.json hash, each deployment\'s staking contract and its providers\' attestation keys (batch proofs are taken only under them)', load: () => import('./commands/chain.ts').then((m) => m.pinCommand) },
  { name: 'publish', summary: 'Proposes a sealed epoch\'s commitment (roots, totals, manifest hash, proofs hash, configuration hash and snapshot block, bound to this chain and contract) to the distributor, with the batch proofs when the registry requires them; with --finalize, makes the pending proposal final once its timelock has passed', load: () => import('./commands/chain.ts').then((m) => m.publishCommand) },
  { name: 'claim', summary: 'Claims every token an account is owed under the current reward root, in one transaction', load: () => import('./commands/chain.ts').then((m) => m.claimCommand) },
  { name: 'launch-factory', summary: 'Deploys an MT launch factory (MTLaunchFactory) with the protocol\'s fee schedule and launch fee, fixed for every launch it makes, and prints it with its graduator', load: () => import('./commands/launch.ts').then((m) => m.launchFactoryCommand) },
  { name: 'launch', summary: 'Launches a deployment\'s Model Token by RMO on a launch factory, as the key\'s account (the issuer): deploys the token (1,000,000 MT, all escrowed by the sale) and its sale, which sells S = 400,000 MT along the curve from --start-price until the raise reaches --graduation-target', load: () => import('./commands/launch.ts').then((m) => m.launchCommand) },
  { name: 'buy', summary: 'Buys MT on an active RMO sale as the key\'s account: --flock <amount> of curve input (the fees come on top), or --mt <amount> exactly (the least FLOCK buying at least that)', load: () => import('./commands/launch.ts').then((m) => m.buyCommand) },
  { name: 'graduate', summary: 'Graduates a succeeded RMO sale (anyone may send it): burns the unsold MT, splits the raise 25/25/50 (protocol FLOCK vested 180 days, staking incentives streamed by EpochFunding, liquidity), seeds the MT/FLOCK Uniswap v2 pool with the liquidity FLOCK and 200,000 MT, locks the LP tokens 48 months, vests the issuer and treasury MT over 180 days and streams the incentive reserve', load: () => import('./commands/launch.ts').then((m) => m.graduateCommand) },
  { name: 'refund', summary: 'Refunds buyers of a failed RMO sale (one that ended below its minimum raise) or a lapsed one (succeeded but not graduated within 30 days of its end) exactly their curve input; the fees they paid stay with the issuer and the treasury', load: () => import('./commands/launch.ts').then((m) => m.refundCommand) },
  { name: 'settle', summary: 'Pays a sealed epoch\'s charged revenue into the revenue settlement (payer role), per deployment: the sum of its spend leaves\' charged amounts, with the OpEx inputs.json records going to --opex-to; the settlement splits it by the waterfall at once', load: () => import('./commands/economy.ts').then((m) => m.settleCommand) },
  { name: 'buyback', summary: 'Runs the settlement\'s pending buybacks (keeper role): with --flock the FLOCK buyback (USDC -> FLOCK through the pool, to the treasury), with --deployment a deployment\'s MT buyback-and-burn (USDC -> FLOCK -> MT, burned)', load: () => import('./commands/economy.ts').then((m) => m.buybackCommand) },
  { name: 'stake', summary: 'Stakes a deployment\'s Model Token on its MTStaking contract from the key\'s account (approving it first)', load: () => import('./commands/economy.ts').then((m) => m.stakeMtCommand) },
  { name: 'unstake', summary: 'Unstakes a deployment\'s Model Token on its MTStaking contract from the key\'s account', load: () => import('./commands/economy.ts').then((m) => m.unstakeMtCommand) },
  { name: 'attest', summary: 'A provider signs its receipts of a closed epoch: for each deployment, the EdDSA-Poseidon signature (with the attestation key derived from its receipt key) over the Poseidon root of its receipts cut into the circuit\'s batches (docs/circuits.md)', load: () => import('./commands/proofs.ts').then((m) => m.attestCommand) },
  { name: 'prove', summary: 'Proves a sealed epoch: verifies its receipts (a `fomo export-receipts` file), cuts them into batches by the fixed rule of docs/circuits.md, proves each batch (Groth16) and writes proofs.json into the epoch directory', load: () => import('./commands/proofs.ts').then((m) => m.proveCommand) },
  { name: 'audit', summary: 'Re-derives a sealed epoch and checks it: every receipt signature (--receipts), the spend leaves, rewards, the reward tree, the report and manifest (recomputed with the aggregator\'s own code), every batch proof and what it binds; with --rpc, the stake snapshots inputs.json records (contract and block, from `fomo inputs --rpc`) against the chain, or those --staking with --block names instead, and with --registry the on-chain commitment', load: () => import('./commands/proofs.ts').then((m) => m.auditCommand) },
  { name: 'watch', summary: 'Follows a registry (the distributor) from a block and audits each proposed epoch as it appears: its sealed directory (--epochs DIR/epoch-<n>, else fetched from the artifacts URL the proposal names and checked against its manifest hash), its receipts when --receipts-dir holds receipts-<n>.ndjson, the pending commitment on chain and the stake snapshots inputs.json records, every spend leaf\'s stake at the committed block', load: () => import('./commands/watch.ts').then((m) => m.watchCommand) },
  { name: 'keys new', summary: 'Creates a secp256k1 key pair for a provider or an aggregator', load: () => import('./commands/keys.ts').then((m) => m.keysNewCommand) },
  { name: 'receipt sign', summary: 'Signs a usage receipt as its provider (EIP-712) and prints the signed receipt (format fomo-receipt-v1)', load: () => import('./commands/receipt.ts').then((m) => m.receiptSignCommand) },
  { name: 'receipt verify', summary: 'Verifies a signed receipt, a signed batch or one batched receipt with its proof', load: () => import('./commands/receipt.ts').then((m) => m.receiptVerifyCommand) },
  { name: 'gateway', summary: 'Runs the provider gateway: an OpenAI-compatible proxy in front of --upstream that identifies each caller (an API key from `fomo gateway keys add`, or a request signed with the user\'s Ethereum key), prices its model from --prices, applies the user\'s staking discount at the epoch\'s snapshot (--rpc or --stakes), signs a usage receipt per call or per batch, records it durably before answering and forwards it to --aggregator', load: () => import('./commands/gateway.ts').then((m) => m.gatewayCommand) },
  { name: 'gateway keys add', summary: 'Issues an API key for a user\'s calls through the gateway and prints it once: only its SHA-256 is stored, in the data directory\'s keys.json (format fomo-gateway-keys-v1, mode 0600)', load: () => import('./commands/gateway.ts').then((m) => m.gatewayKeysAddCommand) },
  { name: 'gateway keys revoke', summary: 'Revokes API keys: the key with --id, or every key of --user; a running gateway refuses them within a second (it reads keys.json again at most once a second)', load: () => import('./commands/gateway.ts').then((m) => m.gatewayKeysRevokeCommand) },
  { name: 'gateway keys list', summary: 'Lists the API keys the gateway issued: id, user, label and creation time (the keys themselves are not stored)', load: () => import('./commands/gateway.ts').then((m) => m.gatewayKeysListCommand) },
  { name: 'tree build', summary: 'Builds an OpenZeppelin-compatible standard Merkle tree and writes its standard-v1 dump, which @openzeppelin/merkle-tree\'s StandardMerkleTree.load reads', load: () => import('./commands/tree.ts').then((m) => m.treeBuildCommand) },
  { name: 'tree proof', summary: 'Prints the Merkle proof of one leaf of a standard-v1 dump (format fomo-merkle-proof-v1), by value index or by value', load: () => import('./commands/tree.ts').then((m) => m.treeProofCommand) },
  { name: 'tree verify', summary: 'Verifies a proof document (from `fomo tree proof`) against its root, or against --root', load: () => import('./commands/tree.ts').then((m) => m.treeVerifyCommand) },
]

function overview(list: readonly CommandEntry[] = commands): string {
  const width = Math.max(...list.map((c) => c.name.length)) + 2
  return [
    'fomo: verifiable AI inference usage and reward distribution for the FOMO protocol',
    '',
    'Usage: fomo <command> [options]     (fomo <command> --help for details)',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
  ].join('\n')
}

/** The overview's summary of a command: the first sentence of its own, on one line. */
export function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ')
  const end = flat.indexOf('. ')
  return end === -1 ? flat.replace(/\.$/, '') : flat.slice(0, end)
}

/**
 * The command the leading words name (longest match: "receipt verify" before "receipt") with the arguments after
 * them, or the group they name when it goes deeper than any command ("receipt", "gateway keys").
 */
function lookup(argv: readonly string[]): { command?: CommandEntry; rest: string[]; group?: string } {
  let found: { command?: CommandEntry; rest: string[]; group?: string } = { rest: [...argv] }
  for (let n = 1; n <= argv.length; n++) {
    const name = argv.slice(0, n).join(' ')
    const command = commands.find((c) => c.name === name)
    const isGroup = commands.some((c) => c.name.startsWith(`${name} `))
    if (!command && !isGroup) break
    found = command ? { command, rest: argv.slice(n) } : { command: found.command, rest: argv.slice(n), group: name }
  }
  return found
}

const groupOf = (prefix: string) => commands.filter((c) => c.name.startsWith(`${prefix} `))

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stderr.isTTY),
  }
}

/** Runs the CLI; returns the exit code (0 success, 1 failure, 2 usage error). */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const target = lookup(rest)
      io.stdout(target.group ? overview(groupOf(target.group)) : target.command ? helpText(await target.command.load()) : overview())
      return name === undefined ? 2 : 0
    }
    if (name === '--version') {
      io.stdout('fomo-kit 0.1.0\n')
      return 0
    }
    const target = lookup(argv)
    if (target.group) {
      io.stdout(overview(groupOf(target.group)))
      return target.rest[0] === '--help' || target.rest[0] === '-h' ? 0 : 2
    }
    if (target.command) return await runCommand(await target.command.load(), target.rest, io)
    throw new UsageError(`unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`)
  } catch (error) {
    if (error instanceof BaseError) {
      io.stderr(`error: ${error.message}\n`)
      return error instanceof UsageError ? 2 : 1
    }
    const system = systemErrorLine(error)
    if (system) {
      io.stderr(`error: ${system}\n`)
      return 1
    }
    io.stderr(`internal error: ${(error as Error)?.stack ?? String(error)}\n`)
    return 1
  }
}

/** What the operating system refused, as one line: what failed on which path, and what to do. */
const SYSTEM_HINTS: Record<string, string> = {
  ENOENT: 'check the path exists',
  EACCES: 'check its permissions',
  EPERM: 'check its permissions',
  EROFS: 'the file system is read-only; give a writable path',
  ENOSPC: 'the disk is full; free space and run the command again',
  EISDIR: 'give a file, not a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it exists already; give another path or --force where the command offers it',
  EMFILE: 'too many open files; raise the limit (ulimit -n)',
  EADDRINUSE: 'the port is in use; give another port',
  ECONNREFUSED: 'nothing listens there; check the address and that the server runs',
}

export function systemErrorLine(error: unknown): string | undefined {
  const e = error as (NodeJS.ErrnoException & { dest?: string }) | undefined
  if (!e || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return undefined
  const where = e.path ? ` ${e.path}${e.dest ? ` -> ${e.dest}` : ''}` : ''
  const hint = SYSTEM_HINTS[e.code]
  return `${e.syscall ?? 'system call'}${where} failed: ${e.code}${hint ? ` (${hint})` : ''}`
}
