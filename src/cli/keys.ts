/**
 * Private keys for commands: from a key file (fomo-key-v1 or hex), an argument, or FOMO_PRIVATE_KEY.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Reader } from '../base/reader.ts'
import { parseJsonDocument } from '../base/json.ts'
import { UsageError, type Io } from './command.ts'

export const KEY_FILE_FORMAT = 'fomo-key-v1'
const KEY = /^0x[0-9a-fA-F]{64}$/

/**
 * A private key from, in order: `--key-file` (a fomo-key-v1 JSON or a bare hex
 * file), `--key`, or the FOMO_PRIVATE_KEY environment variable.
 */
export async function loadPrivateKey(values: Record<string, unknown>, io: Io, command: string): Promise<`0x${string}`> {
  const file = values['key-file']
  if (typeof file === 'string') {
    const text = (await readFile(resolve(io.cwd, file), 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read key file ${file}: ${e.code ?? e.message}`, command)
    })).trim()
    if (KEY.test(text)) return text as `0x${string}`
    const r = new Reader(KEY_FILE_FORMAT, parseJsonDocument(text, file))
    r.object(['format', 'address', 'privateKey'])
    r.field('format').literal([KEY_FILE_FORMAT])
    return r.field('privateKey').string(KEY, 'a 32-byte 0x-prefixed hex private key') as `0x${string}`
  }
  const key = typeof values.key === 'string' ? values.key : io.env.FOMO_PRIVATE_KEY
  if (!key) throw new UsageError('no private key: give --key-file FILE, --key HEX or set FOMO_PRIVATE_KEY', command)
  if (!KEY.test(key)) throw new UsageError('the private key must be 32 bytes of 0x-prefixed hex', command)
  return key as `0x${string}`
}
