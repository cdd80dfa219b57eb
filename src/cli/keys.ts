/**
 * Private keys for commands: from a key file (fomo-key-v1 or hex), an argument, or FOMO_PRIVATE_KEY.
 */
import { resolve } from 'node:path'
import { Reader } from '../base/reader.ts'
import { parseJsonDocument } from '../base/json.ts'
import { UsageError, type Io } from './command.ts'
import { readInputFile } from './files.ts'

export const KEY_FILE_FORMAT = 'fomo-key-v1'
const KEY = /^0x[0-9a-fA-F]{64}$/
/** The order of secp256k1's group: a private key is an integer from 1 to n - 1. */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** Where a command takes its key from: `--key` only where it offers that option (chain commands refuse it). */
export type KeySources = { keyOption?: boolean }

/** Checks a key's text: 32 bytes of 0x-hex, and a valid secp256k1 scalar (not zero, below the curve order). */
function checkKey(text: string, where: string, command: string): `0x${string}` {
  if (!KEY.test(text)) {
    const hex = text.replace(/^0x/, '')
    const bad = /[^0-9a-fA-F]/.exec(hex)
    const problem = bad ? `has a character that is not hex (${JSON.stringify(bad[0])} at position ${bad.index + (text.startsWith('0x') ? 2 : 0)})` : `has ${hex.length} hex digits`
    throw new UsageError(`${where} ${problem}; a private key is 0x and 64 hex digits`, command)
  }
  const k = BigInt(text)
  if (k === 0n || k >= CURVE_ORDER) throw new UsageError(`${where} is ${k === 0n ? 'zero' : 'not below the secp256k1 curve order'}, not a valid private key; create one with \`fomo keys new\``, command)
  return text as `0x${string}`
}

/**
 * A private key from, in order: `--key-file` (a fomo-key-v1 JSON or a bare hex
 * file), `--key` (where the command offers it), or the FOMO_PRIVATE_KEY environment variable.
 */
export async function loadPrivateKey(values: Record<string, unknown>, io: Io, command: string, sources: KeySources = { keyOption: true }): Promise<`0x${string}`> {
  const file = values['key-file']
  if (typeof file === 'string') {
    const path = resolve(io.cwd, file)
    const text = (await readInputFile(file, io.cwd, 'key file', command)).trim()
    // A file that is not JSON is a bare hex key: name what is wrong with the hex, not the JSON.
    if (!text.startsWith('{')) return checkKey(text, `the key file ${path}`, command)
    const r = new Reader(KEY_FILE_FORMAT, parseJsonDocument(text, path))
    r.object(['format', 'address', 'privateKey'])
    r.field('format').literal([KEY_FILE_FORMAT])
    return checkKey(r.field('privateKey').string(), `privateKey in ${path}`, command)
  }
  const fromOption = sources.keyOption !== false && typeof values.key === 'string'
  const key = fromOption ? (values.key as string) : io.env.FOMO_PRIVATE_KEY
  if (!key) throw new UsageError(`no private key: give --key-file FILE${sources.keyOption === false ? '' : ', --key HEX'} or set FOMO_PRIVATE_KEY`, command)
  return checkKey(key, fromOption ? '--key' : 'FOMO_PRIVATE_KEY', command)
}
