import { BaseError } from '../errors/base.ts'

export class JsonError extends BaseError {
  override name = 'JsonError'
  readonly offset: number
  constructor(source: string, message: string, offset: number, hint?: string) {
    super('JSON_INVALID', `${source}: ${message} at offset ${offset}`, hint ? { metaMessages: [hint] } : {})
    this.offset = offset
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
  scanStrict(text, source)
  return value
}

/** Walks the (already valid) JSON text once, tracking the keys of each open object. */
function scanStrict(text: string, source: string): void {
  const stack: Array<Set<string> | null> = []
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
      const backslash = text.indexOf('\\', start + 1)
      const hasEscape = backslash !== -1 && backslash < end
      const top = stack[stack.length - 1]
      if (expectKey && top) {
        const raw = text.slice(start, i)
        const key = hasEscape ? (JSON.parse(raw) as string) : raw.slice(1, -1)
        if (top.has(key))
          throw new JsonError(source, `duplicate key ${JSON.stringify(key)}`, start, 'Each key may appear once per object.')
        top.add(key)
        expectKey = false
      }
      continue
    }
    if (c === 0x7b /* { */) {
      stack.push(new Set())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      stack.push(null)
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop()
      expectKey = false
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0
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
}
