/**
 * `fomo gateway` in a process of its own for the crash test and the benchmark, before the command is registered in
 * the CLI: node --import tsx test/gateway/child.ts <gateway options>.
 */
import { runCommand } from '../../src/cli/command.ts'
import { gatewayCommand } from '../../src/cli/commands/gateway.ts'

try {
  process.exitCode = await runCommand(gatewayCommand, process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, cwd: process.cwd(), interactive: false })
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`)
  process.exitCode = 1
}
