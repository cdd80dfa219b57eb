/**
 * Strict JSON for documents read from disk or the wire: duplicate keys and numbers that lose precision are
 * errors naming the offset, so two readers can never see two different documents.
 */
import { BaseError } from './errors.ts'

export class JsonError extends BaseError {
  override name = 'JsonError'
  readonly offset: number
  /** What is wrong, without the source and offset. */
  readonly detail: string
  readonly hint: string | undefined
  constructor(source: string, message: string, offset: number, hint?: string) {
    super('JSON_INVALID', `${source}: ${message} at offset ${offset}`, hint ? { metaMessages: [hint] } : {})
    this.offset = offset
    this.detail = message
    this.hint = hint
  }
}

/**
 * Parses JSON strictly: standard JSON.parse first (fast), then a scan that
 * rejects what JSON.parse silently accepts: a key repeated in one object
 * (which value would win is exactly the ambiguity an attacker uses) and a
 * number that is not a safe integer (amounts belong in decimal strings).
 */
export function parseJsonDocument(text: string, source = 'JSON'): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const match = /position (\d+)/.exec((error as Error).message)
    throw new JsonError(source, `malformed JSON (${(error as Error).message})`, match ? Number(match[1]) : 0, 'Check the document is valid JSON.')
  }
  // Key tokens per object in document order; an object that parsed to fewer
  // keys than the text holds has a duplicate, which the slow scan then locates.
  const keyCounts = scan(text, source, undefined)
  // Objects are visited in pre-order, as their braces open in the text.
  if (!walkPreOrder(value, keyCounts)) scan(text, source, new Set())
  return value
}

function walkPreOrder(root: unknown, keyCounts: number[]): boolean {
  let k = 0
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null) continue
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i])
      continue
    }
    const keys = Object.keys(v)
    if (keys.length !== keyCounts[k++]) return false
    for (let i = keys.length - 1; i >= 0; i--) stack.push((v as Record<string, unknown>)[keys[i] as string])
  }
  return k === keyCounts.length
}

/**
 * Walks the (already valid) JSON text once: rejects unsafe numbers and
 * returns the number of key tokens of each object in the order the objects
 * open. With `keys` given it also tracks key names and throws at the first
 * duplicate, naming it.
 */
function scan(text: string, source: string, keys: Set<string> | undefined): number[] {
  const counts: number[] = []
  const stack: number[] = [] // index into counts of each open object, -1 for arrays
  const names: Array<Set<string>> = []
  let expectKey = false
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const start = i
      // Jump to the closing quote: one not preceded by an odd run of backslashes.
      let end = text.indexOf('"', i + 1)
      for (;;) {
        let slashes = 0
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++
        if (slashes % 2 === 0) break
        end = text.indexOf('"', end + 1)
      }
      i = end + 1
      if (expectKey) {
        const top = stack[stack.length - 1] as number
        counts[top] = (counts[top] as number) + 1
        expectKey = false
        if (keys) {
          const raw = text.slice(start, i)
          const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1)
          const seen = names[names.length - 1] as Set<string>
          if (seen.has(key)) throw new JsonError(source, `duplicate key ${JSON.stringify(key)}`, start, 'Each key may appear once per object.')
          seen.add(key)
        }
      }
      continue
    }
    if (c === 0x7b /* { */) {
      stack.push(counts.length)
      counts.push(0)
      if (keys) names.push(new Set())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      stack.push(-1)
    } else if (c === 0x7d || c === 0x5d) {
      if (keys && stack[stack.length - 1] !== -1) names.pop()
      stack.pop()
      expectKey = false
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== -1
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) i++
        else break
      }
      const literal = text.slice(start, i)
      if (!/^-?(0|[1-9][0-9]*)$/.test(literal) || !Number.isSafeInteger(Number(literal)))
        throw new JsonError(source, `number ${literal} is not a safe integer`, start, 'Write amounts and other large or fractional numbers as decimal strings, e.g. "2500.5".')
      continue
    }
    i++
  }
  return counts
}

/** A JSON file's bytes as fomo-kit writes them: two-space indentation and a final newline (what sealed hashes cover). */
export function jsonFileBytes(value: unknown): Uint8Array {
  let text: string
  try {
    text = JSON.stringify(value, null, 2)
  } catch (error) {
    // Past the longest string V8 holds (the ledger of a million users): the same text, written in pieces.
    if (error instanceof RangeError) return jsonFileBytesInPieces(value)
    throw error
  }
  return new TextEncoder().encode(`${text}\n`)
}

/**
 * `jsonFileBytes`'s text for a document too large for one string: the top object's members and the elements of its
 * arrays are stringified one by one (indented as JSON.stringify would) into buffers of about 4 MB. Plain JSON data only.
 */
export function jsonFileBytesInPieces(value: unknown): Uint8Array {
  const chunks: Buffer[] = []
  let pending: string[] = []
  let size = 0
  const push = (text: string) => {
    pending.push(text)
    size += text.length
    if (size >= 4 << 20) flush()
  }
  const flush = () => {
    chunks.push(Buffer.from(pending.join('')))
    pending = []
    size = 0
  }
  const write = (v: unknown, depth: number) => {
    const pad = '  '.repeat(depth)
    if (depth < 2 && Array.isArray(v) && v.length > 0) {
      push('[')
      v.forEach((item, i) => {
        push(`${i ? ',' : ''}\n${pad}  `)
        write(item === undefined || typeof item === 'function' ? null : item, depth + 1)
      })
      push(`\n${pad}]`)
    } else if (depth < 2 && typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function')
      push('{')
      entries.forEach(([k, x], i) => {
        push(`${i ? ',' : ''}\n${pad}  ${JSON.stringify(k)}: `)
        write(x, depth + 1)
      })
      push(entries.length ? `\n${pad}}` : '}')
    } else push((JSON.stringify(v, null, 2) ?? 'null').replaceAll('\n', `\n${pad}`))
  }
  write(value, 0)
  push('\n')
  flush()
  const whole = Buffer.concat(chunks)
  return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
}
