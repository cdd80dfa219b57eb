/**
 * The gateway's typed errors: each carries the HTTP status and the OpenAI error fields (`type`, `code`, `param`) it is
 * answered with, so a caller's OpenAI client sees the shapes it already knows.
 */
import { BaseError } from '../base/errors.ts'

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export type OpenAiErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } }

/** A refused or failed call, answered with `status` and an OpenAI error body. */
export class GatewayError extends BaseError {
  override name = 'GatewayError'
  constructor(
    readonly status: number,
    readonly type: 'invalid_request_error' | 'server_error',
    code: string,
    message: string,
    readonly param: string | null = null,
    /** Seconds after which retrying may succeed (a Retry-After header). */
    readonly retryAfter?: number,
  ) {
    super(code, message)
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.shortMessage, type: this.type, param: this.param, code: this.code } }
  }
}

/** A gateway file or option is wrong: the gateway refuses to start. */
export class GatewayConfigError extends BaseError {
  override name = 'GatewayConfigError'
  constructor(message: string, hint?: string) {
    super('GATEWAY_CONFIG', message, hint ? { metaMessages: [hint] } : {})
  }
}

/** The durable receipt queue cannot be read or written. */
export class QueueError extends BaseError {
  override name = 'QueueError'
  constructor(message: string, hint?: string) {
    super('GATEWAY_QUEUE', message, hint ? { metaMessages: [hint] } : {})
  }
}
