/**
 * A small path-tracking reader for validating JSON documents: every failure
 * names the document's format, the path of the bad field and what was expected.
 */
import { SchemaError } from './errors.ts'
import { parseUnits } from './units.ts'

export class Reader {
  constructor(
    readonly format: string,
    readonly value: unknown,
    readonly path: string = '$',
  ) {}

  fail(expected: string, metaMessages?: string[]): never {
    throw new SchemaError(this.format, this.path, expected, this.value, metaMessages)
  }

  isPresent(): boolean {
    return this.value !== undefined
  }

  /** A plain object whose keys are all in `allowed`; unknown keys are an error. */
  object(allowed?: readonly string[]): Record<string, unknown> {
    const v = this.value
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('an object')
    if (allowed)
      for (const key of Object.keys(v))
        if (!allowed.includes(key))
          new Reader(this.format, key, this.child(key)).fail(`no unknown field (allowed: ${allowed.join(', ')})`)
    return v as Record<string, unknown>
  }

  field(name: string): Reader {
    const obj = this.object()
    return new Reader(this.format, Object.hasOwn(obj, name) ? obj[name] : undefined, this.child(name))
  }

  /** Each own entry of an object, for maps keyed by account or id. */
  entries(): Array<[string, Reader]> {
    return Object.entries(this.object()).map(([k, v]) => [k, new Reader(this.format, v, this.child(k))])
  }

  array(options: { min?: number; max?: number } = {}): Reader[] {
    const v = this.value
    if (!Array.isArray(v)) this.fail('an array')
    if (options.min !== undefined && v.length < options.min) this.fail(`an array of at least ${options.min} items`)
    if (options.max !== undefined && v.length > options.max) this.fail(`an array of at most ${options.max} items`)
    return v.map((item, i) => new Reader(this.format, item, `${this.path}[${i}]`))
  }

  string(pattern?: RegExp, expected = 'a string'): string {
    const v = this.value
    if (typeof v !== 'string' || (pattern && !pattern.test(v))) this.fail(expected)
    return v
  }

  literal<const T extends string>(choices: readonly T[]): T {
    const v = this.value
    if (typeof v !== 'string' || !choices.includes(v as T)) this.fail(`one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`)
    return v as T
  }

  /** A JSON integer within [min, max] (safe range), returned as bigint. */
  integer(min = 0, max = Number.MAX_SAFE_INTEGER): bigint {
    const v = this.value
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      this.fail(`an integer from ${min} to ${max}`)
    return BigInt(v)
  }

  /** A decimal string of whole tokens, converted exactly to base units. */
  units(decimals: number, token: string): bigint {
    const v = this.value
    if (typeof v !== 'string')
      this.fail(`a decimal string of ${token} (e.g. "2500.5"; JSON numbers lose precision and are refused)`)
    try {
      return parseUnits(v, decimals)
    } catch {
      return this.fail(`a non-negative decimal string of ${token} with at most ${decimals} fraction digits`)
    }
  }

  /** A decimal string of base units ("1000000"), no sign, no leading zeros. */
  baseUnits(max: bigint = (1n << 256n) - 1n): bigint {
    const v = this.value
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) this.fail('a decimal string of base units such as "1500000"')
    const n = BigInt(v)
    if (n > max) this.fail(`at most ${max}`)
    return n
  }

  private child(key: string): string {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${this.path}.${key}` : `${this.path}[${JSON.stringify(key)}]`
  }
}

/** Reads `field` if present, else returns the fallback. */
export function optional<T>(reader: Reader, read: (r: Reader) => T, fallback: T): T {
  return reader.isPresent() ? read(reader) : fallback
}
