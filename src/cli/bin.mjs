#!/usr/bin/env node
// Entry point of the `fomo` command: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv.slice(2))
// Libraries may leave worker threads running (snarkjs does after proving); the command is over, so is the process.
process.stdout.write('', () => process.stderr.write('', () => process.exit()))
