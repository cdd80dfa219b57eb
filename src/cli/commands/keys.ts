/**
 * The keys command: new secp256k1 keys for providers and aggregators, written owner-readable only.
 */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { getAddress } from 'viem'
import { attestationKeyOf, attestationSecret } from '../../proofs/attestation.ts'
import { addressOf, privateKeyFromRandom } from '../../receipts/sign.ts'
import type { Command } from '../command.ts'
import { checkNewOutput, writeOutput } from '../files.ts'
import { KEY_FILE_FORMAT } from '../keys.ts'

export const keysNewCommand: Command = {
  name: 'keys new',
  summary: "Creates a secp256k1 key pair for a provider or an aggregator. With --out the key goes to a file readable only by its owner and only the address and the provider's attestation key (config.json's attestationKey) are printed.",
  options: {
    out: { type: 'string', valueName: 'file', description: 'Write the key to this file (format fomo-key-v1, mode 0600); an existing file is kept unless --force' },
    force: { type: 'boolean', description: 'Replace an existing --out file (its key is lost)' },
  },
  examples: ['fomo keys new --out provider.key.json', 'fomo keys new'],
  async run({ values }, io) {
    const out = typeof values.out === 'string' ? { path: resolve(io.cwd, values.out), command: 'keys new', what: 'the key file', force: Boolean(values.force) } : undefined
    // An existing key may hold funds or a provider's identity: never replaced by accident.
    if (out) await checkNewOutput(out.path, out)
    const privateKey = privateKeyFromRandom(crypto.getRandomValues(new Uint8Array(32)))
    const address = getAddress(addressOf(privateKey))
    // A provider's attestation key (config.json's attestationKey) is derived from this key.
    const attestationKey = attestationKeyOf(attestationSecret(privateKey)).packed
    if (out && typeof values.out === 'string') {
      const text = `${JSON.stringify({ format: KEY_FILE_FORMAT, address, privateKey }, null, 2)}\n`
      await writeOutput(out.path, out, (tmp) => writeFile(tmp, text, { mode: 0o600, flag: 'wx' }))
      io.stdout(`${JSON.stringify({ address, attestationKey, keyFile: values.out })}\n`)
    } else {
      io.stdout(`${JSON.stringify({ format: KEY_FILE_FORMAT, address, privateKey }, null, 2)}\n`)
      io.stderr(`attestation key (config.json's attestationKey for this provider): ${attestationKey}\n`)
    }
  },
}
