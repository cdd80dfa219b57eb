/**
 * The one error base of fomo-kit. `shortMessage` says what went wrong, `details`
 * carries the offending value, `metaMessages` say what to do next.
 */
export type BaseErrorParameters = {
  details?: string | undefined
  metaMessages?: string[] | undefined
  cause?: unknown
}

export class BaseError extends Error {
  override name = 'BaseError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly metaMessages: string[]
  /** Stable machine-readable code, e.g. `SCENARIO_INVALID`. */
  readonly code: string

  constructor(code: string, shortMessage: string, parameters: BaseErrorParameters = {}) {
    const lines = [shortMessage]
    if (parameters.metaMessages?.length) lines.push('', ...parameters.metaMessages)
    if (parameters.details) lines.push('', `Details: ${parameters.details}`)
    super(lines.join('\n'), parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = parameters.details
    this.metaMessages = parameters.metaMessages ?? []
  }
}

/** A value given by a caller is outside what a formula accepts. */
export class InvalidParameterError extends BaseError {
  override name = 'InvalidParameterError'
  constructor(parameter: string, expected: string, got: unknown) {
    super('INVALID_PARAMETER', `${parameter}: expected ${expected}, got ${describe(got)}`)
  }
}

/** A document read from disk or the wire does not match its format. */
export class SchemaError extends BaseError {
  override name = 'SchemaError'
  readonly path: string
  constructor(format: string, path: string, expected: string, got: unknown, metaMessages?: string[]) {
    super('SCHEMA_INVALID', `${format}: ${path}: expected ${expected}, got ${describe(got)}`, { metaMessages })
    this.path = path
  }
}

/** A value for a message: JSON-like, shortened; integers as decimals (never a BigInt literal like `0n`). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  try {
    const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
    if (text === undefined) return String(value)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return String(value)
  }
}

/** An input file holds a bad record; the message names the file and line. */
export class InputError extends BaseError {
  override name = 'InputError'
  constructor(message: string, hint?: string) {
    super('INPUT_INVALID', message, hint ? { metaMessages: [hint] } : {})
  }
}
