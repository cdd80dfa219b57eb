/**
 * Request bodies of the HTTP API: a body's items (a JSON array or NDJSON) split into their JSON texts without
 * parsing them, an oversized batch refused before any receipt is parsed.
 */
import { BaseError } from '../base/errors.ts'

export class BodyError extends BaseError {
  override name = 'BodyError'
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(status === 413 ? 'TOO_LARGE' : 'BAD_REQUEST', message)
  }
}

/**
 * Splits a request body into the JSON texts of its items without parsing them:
 * a JSON array (top-level elements) or NDJSON (one document per line). Stops
 * with a 413 as soon as there are more than `maxItems`, so an oversized batch
 * is refused before any receipt is parsed.
 */
export function splitItems(body: string, maxItems: number): string[] {
  const start = skipSpace(body, 0)
  if (body.charCodeAt(start) !== 0x5b /* [ */) return splitLines(body, maxItems)
  const items: string[] = []
  let depth = 0
  let itemStart = -1
  let i = start + 1
  const n = body.length
  for (; i < n; i++) {
    const c = body.charCodeAt(i)
    if (c === 0x22) {
      // Skip the string: to the next quote not escaped by an odd run of backslashes.
      let end = body.indexOf('"', i + 1)
      for (;;) {
        if (end === -1) throw new BodyError(400, 'malformed JSON: unterminated string')
        let slashes = 0
        while (body.charCodeAt(end - 1 - slashes) === 0x5c) slashes++
        if (slashes % 2 === 0) break
        end = body.indexOf('"', end + 1)
      }
      if (itemStart === -1) itemStart = i
      i = end
      continue
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue
    if (depth === 0 && (c === 0x2c || c === 0x5d)) {
      if (itemStart === -1) {
        if (c === 0x5d && items.length === 0) break
        throw new BodyError(400, 'malformed JSON array: empty element')
      }
      items.push(body.slice(itemStart, i).trimEnd())
      if (items.length > maxItems) throw new BodyError(413, `more than ${maxItems} items in one request; send at most ${maxItems} per request`)
      itemStart = -1
      if (c === 0x5d) break
      continue
    }
    if (itemStart === -1) itemStart = i
    if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) depth--
    if (depth < 0) throw new BodyError(400, 'malformed JSON: unbalanced brackets')
  }
  if (i >= n) throw new BodyError(400, 'malformed JSON array: no closing bracket')
  if (skipSpace(body, i + 1) !== n) throw new BodyError(400, 'malformed JSON: text after the array')
  return items
}

function splitLines(body: string, maxItems: number): string[] {
  const items: string[] = []
  for (const line of body.split('\n')) {
    const t = line.trim()
    if (t === '') continue
    items.push(t)
    if (items.length > maxItems) throw new BodyError(413, `more than ${maxItems} items in one request; send at most ${maxItems} per request`)
  }
  return items
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i] as string)) i++
  return i
}
