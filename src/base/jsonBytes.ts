/**
 * Locates the parts of a JSON document held as UTF-8 bytes without decoding it whole: a file past the longest
 * string V8 holds (about 512 MiB of text, e.g. the spend tree of a million users) is read member by member and
 * element by element, each part then parsed on its own (`parseJsonDocument`). Only the structure is checked here.
 */
import { JsonError, parseJsonDocument } from './json.ts'

/** A part of the document: bytes [start, end). */
export type JsonSpan = { start: number; end: number }

const SPACE = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0d]) SPACE[c] = 1
/** Bytes a number or literal (true, false, null) may start with. */
const PRIMITIVE_START = new Uint8Array(256)
for (const c of '-0123456789tfn') PRIMITIVE_START[c.charCodeAt(0)] = 1
// A byte order mark inside the document is text to refuse, as JSON.parse does, not to drop.
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true })

export class JsonBytesReader {
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {}

  fail(message: string, at: number): never {
    throw new JsonError(this.source, message, at, 'Check the document is valid JSON.')
  }

  skipSpace(i: number): number {
    const b = this.bytes
    while (i < b.length && SPACE[b[i] as number]) i++
    return i
  }

  /** The span of the whole document: one value, with nothing but space after it. */
  document(): JsonSpan {
    const whole = this.value(0)
    this.end(whole)
    return whole
  }

  /** The span of the value starting at `i` (after any space). */
  value(i: number): JsonSpan {
    const start = this.skipSpace(i)
    return { start, end: this.#valueEnd(start) }
  }

  /** The members of the object spanning `span`, by key; a key given twice is an error. */
  members(span: JsonSpan): Map<string, JsonSpan> {
    const b = this.bytes
    if (b[span.start] !== 0x7b) this.fail('expected an object', span.start)
    const out = new Map<string, JsonSpan>()
    let i = this.skipSpace(span.start + 1)
    if (b[i] === 0x7d) return out
    for (;;) {
      if (b[i] !== 0x22) this.fail('expected a key', i)
      const keyEnd = this.#stringEnd(i)
      let key: string
      try {
        key = JSON.parse(UTF8.decode(b.subarray(i, keyEnd))) as string
      } catch {
        this.fail('a key is not a valid JSON string', i)
      }
      if (out.has(key)) this.fail(`the key ${JSON.stringify(key)} is repeated`, i)
      i = this.skipSpace(keyEnd)
      if (b[i] !== 0x3a) this.fail("expected ':'", i)
      const value = this.value(i + 1)
      out.set(key, value)
      i = this.skipSpace(value.end)
      if (b[i] === 0x7d) return out
      if (b[i] !== 0x2c) this.fail("expected ',' or '}'", i)
      i = this.skipSpace(i + 1)
    }
  }

  /** Calls `each` with the span of every element of the array spanning `span`, in order; returns their count. */
  elements(span: JsonSpan, each: (element: JsonSpan, index: number) => void): number {
    const b = this.bytes
    if (b[span.start] !== 0x5b) this.fail('expected an array', span.start)
    let i = this.skipSpace(span.start + 1)
    if (b[i] === 0x5d) return 0
    for (let n = 0; ; n++) {
      const element = this.value(i)
      each(element, n)
      i = this.skipSpace(element.end)
      if (b[i] === 0x5d) return n + 1
      if (b[i] !== 0x2c) this.fail("expected ',' or ']'", i)
      i = i + 1
    }
  }

  /** The end of the whole document: only space may follow `span`. */
  end(span: JsonSpan): void {
    const i = this.skipSpace(span.end)
    if (i !== this.bytes.length) this.fail('unexpected text after the document', i)
  }

  text(span: JsonSpan): string {
    return UTF8.decode(this.bytes.subarray(span.start, span.end))
  }

  /** The part parsed strictly (`parseJsonDocument`); an error names its offset in the whole document. */
  parse(span: JsonSpan): unknown {
    try {
      return parseJsonDocument(this.text(span), this.source)
    } catch (error) {
      if (error instanceof JsonError) throw new JsonError(this.source, error.detail, span.start + error.offset, error.hint)
      throw error
    }
  }

  #valueEnd(i: number): number {
    const b = this.bytes
    const c = b[i]
    if (c === undefined) this.fail('unexpected end of the document', i)
    if (c === 0x22) return this.#stringEnd(i)
    if (c === 0x5b || c === 0x7b) {
      // Nested containers: only brackets outside strings count; their contents are checked when parsed.
      let depth = 0
      for (let k = i; k < b.length; k++) {
        const d = b[k]
        if (d === 0x22) k = this.#stringEnd(k) - 1
        else if (d === 0x5b || d === 0x7b) depth++
        else if (d === 0x5d || d === 0x7d) {
          if (--depth === 0) return k + 1
        }
      }
      this.fail('an array or object is not closed', i)
    }
    if (!PRIMITIVE_START[c]) this.fail('expected a value', i)
    let k = i
    while (k < b.length && !SPACE[b[k] as number] && b[k] !== 0x2c && b[k] !== 0x5d && b[k] !== 0x7d) k++
    return k
  }

  #stringEnd(i: number): number {
    const b = this.bytes
    for (let k = i + 1; k < b.length; k++) {
      const c = b[k]
      if (c === 0x5c) k++
      else if (c === 0x22) return k + 1
    }
    return this.fail('a string is not closed', i)
  }
}

/** Documents up to this size are decoded and parsed whole; larger ones part by part. */
const WHOLE_DOCUMENT_BYTES = 256 << 20

/**
 * Parses a JSON document from its bytes as `parseJsonDocument` does, including one past the longest string: then the
 * top object's members and the elements of its arrays are parsed one by one (what `jsonFileBytesInPieces` writes).
 */
export function parseJsonBytes(bytes: Uint8Array, source = 'JSON', wholeBytes = WHOLE_DOCUMENT_BYTES): unknown {
  if (bytes.length <= wholeBytes) return parseJsonDocument(UTF8.decode(bytes), source)
  const json = new JsonBytesReader(bytes, source)
  const whole = json.document()
  const part = (span: JsonSpan): unknown => {
    if (bytes[span.start] !== 0x5b) return json.parse(span)
    const items: unknown[] = []
    json.elements(span, (element) => void items.push(json.parse(element)))
    return items
  }
  if (bytes[whole.start] === 0x5b) return part(whole)
  return Object.fromEntries([...json.members(whole)].map(([key, span]) => [key, part(span)]))
}
