/**
 * The `fomo` command: the list of commands, help, dispatch and the exit-code rule.
 */
import { BaseError } from '../base/errors.ts'
import { helpText, runCommand, UsageError, type Command, type Io } from './command.ts'
import { demoCommand, exportReceiptsCommand, ingestCommand, initCommand, inputsCommand, sealCommand, serveCommand } from './commands/aggregator.ts'
import { claimCommand, deployCommand, pinCommand, publishCommand } from './commands/chain.ts'
import { buybackCommand, settleCommand, stakeMtCommand, unstakeMtCommand } from './commands/economy.ts'
import { keysNewCommand } from './commands/keys.ts'
import { buyCommand, graduateCommand, launchCommand, launchFactoryCommand, refundCommand } from './commands/launch.ts'
import { attestCommand, auditCommand, proveCommand } from './commands/proofs.ts'
import { receiptSignCommand, receiptVerifyCommand } from './commands/receipt.ts'
import { simulateCommand } from './commands/simulate.ts'
import { treeBuildCommand, treeProofCommand, treeVerifyCommand } from './commands/tree.ts'
import { watchCommand } from './commands/watch.ts'

export const commands: Command[] = [
  demoCommand,
  simulateCommand,
  initCommand,
  inputsCommand,
  serveCommand,
  ingestCommand,
  sealCommand,
  exportReceiptsCommand,
  deployCommand,
  pinCommand,
  publishCommand,
  claimCommand,
  launchFactoryCommand,
  launchCommand,
  buyCommand,
  graduateCommand,
  refundCommand,
  settleCommand,
  buybackCommand,
  stakeMtCommand,
  unstakeMtCommand,
  attestCommand,
  proveCommand,
  auditCommand,
  watchCommand,
  keysNewCommand,
  receiptSignCommand,
  receiptVerifyCommand,
  treeBuildCommand,
  treeProofCommand,
  treeVerifyCommand,
]

function overview(list: Command[] = commands): string {
  const width = Math.max(...list.map((c) => c.name.length)) + 2
  return [
    'fomo: verifiable AI inference usage and reward distribution for the FOMO protocol',
    '',
    'Usage: fomo <command> [options]     (fomo <command> --help for details)',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}${firstSentence(c.summary)}`),
    '',
  ].join('\n')
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ')
  const end = flat.indexOf('. ')
  return end === -1 ? flat.replace(/\.$/, '') : flat.slice(0, end)
}

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
      const target = commands.find((c) => c.name === rest.slice(0, 2).join(' ')) ?? commands.find((c) => c.name === rest[0])
      io.stdout(target ? helpText(target) : overview())
      return name === undefined ? 2 : 0
    }
    if (name === '--version') {
      io.stdout('fomo-kit 0.1.0\n')
      return 0
    }
    // Two-word commands ("receipt sign") first, then one-word ones.
    const pair = commands.find((c) => c.name === `${name} ${rest[0]}`)
    if (pair) return await runCommand(pair, rest.slice(1), io)
    const command = commands.find((c) => c.name === name)
    if (command) return await runCommand(command, rest, io)
    const group = commands.filter((c) => c.name.startsWith(`${name} `))
    if (group.length > 0) {
      io.stdout(overview(group))
      return rest[0] === '--help' || rest[0] === '-h' ? 0 : 2
    }
    throw new UsageError(`unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`)
  } catch (error) {
    if (error instanceof BaseError) {
      io.stderr(`error: ${error.message}\n`)
      return error instanceof UsageError ? 2 : 1
    }
    io.stderr(`internal error: ${(error as Error)?.stack ?? String(error)}\n`)
    return 1
  }
}
