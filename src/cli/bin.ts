#!/usr/bin/env node
// Entry point of the `fomo` command, run built (dist/cli/bin.js); from the sources: node --import tsx src/cli/bin.ts.
import { main } from './main.ts'

process.exitCode = await main(process.argv.slice(2))
// Libraries may leave worker threads running (snarkjs does after proving); the command is over, so is the process.
process.stdout.write('', () => process.stderr.write('', () => process.exit()))
