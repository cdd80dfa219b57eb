import { BaseError } from '../errors/base.ts'
import { helpText, runCommand, UsageError, type Command, type Io } from './command.ts'
import { simulateCommand } from './commands/simulate.ts'

export const commands: Command[] = [simulateCommand]

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  return [
    'fomo: verifiable AI inference usage and reward distribution for the FOMO protocol',
    '',
    'Usage: fomo <command> [options]     (fomo <command> --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${(c.summary.split('\n')[0] as string).replace(/\s+\S*$/, '')}...`),
    '',
  ].join('\n')
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
      const target = commands.find((c) => c.name === rest[0])
      io.stdout(target ? helpText(target) : overview())
      return name === undefined ? 2 : 0
    }
    if (name === '--version') {
      io.stdout('fomo-kit 0.1.0\n')
      return 0
    }
    const command = commands.find((c) => c.name === name)
    if (!command) throw new UsageError(`unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`)
    return await runCommand(command, rest, io)
  } catch (error) {
    if (error instanceof BaseError) {
      io.stderr(`error: ${error.message}\n`)
      return error instanceof UsageError ? 2 : 1
    }
    io.stderr(`internal error: ${(error as Error)?.stack ?? String(error)}\n`)
    return 1
  }
}
