/**
 * The upstream OpenAI-compatible server: requests to it over kept-alive connections, and the headers that pass
 * between caller and upstream (hop-by-hop headers, the caller's credentials and compression stay on their own side).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { GatewayConfigError } from './errors.ts'

/** Headers that belong to one connection, never forwarded (RFC 9110 7.6.1), and those the gateway sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length'])

export class Upstream {
  readonly base: URL
  readonly #agent: HttpAgent
  readonly #request: typeof httpRequest

  /** `url` is the upstream's OpenAI base URL, e.g. http://127.0.0.1:8000/v1 (the gateway's /v1/x goes to <url>/x). */
  constructor(
    url: string,
    readonly apiKey: string | undefined,
    readonly timeoutMs: number,
  ) {
    let base: URL
    try {
      base = new URL(url)
    } catch {
      throw new GatewayConfigError(`upstream URL ${JSON.stringify(url)} is not a URL`, 'Give the upstream\'s OpenAI base URL, e.g. http://127.0.0.1:8000/v1.')
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new GatewayConfigError(`upstream URL ${url}: only http and https are supported`)
    this.base = base
    const https = base.protocol === 'https:'
    this.#agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 1024 }) : new HttpAgent({ keepAlive: true, maxSockets: 1024 })
    this.#request = (https ? httpsRequest : httpRequest) as typeof httpRequest
  }

  /** A request for the gateway path `/v1/<rest>` (with its query), carrying the caller's headers as `upstreamHeaders` makes them. */
  request(method: string, gatewayPath: string, headers: OutgoingHttpHeaders): ClientRequest {
    const path = `${this.base.pathname.replace(/\/$/, '')}${gatewayPath.replace(/^\/v1/, '')}`
    return this.#request({ protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, method, path, headers, agent: this.#agent })
  }

  /**
   * The caller's headers as sent upstream: without hop-by-hop headers, its credentials (the gateway's own) and the
   * gateway's fomo-* headers, asking for an uncompressed answer (the gateway reads its usage), with the upstream's key.
   */
  upstreamHeaders(incoming: IncomingHttpHeaders, bodyLength: number | undefined): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {}
    for (const name in incoming) {
      const value = incoming[name]
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'authorization' && name !== 'accept-encoding' && !name.startsWith('fomo-')) out[name] = value
    }
    out['accept-encoding'] = 'identity'
    if (bodyLength !== undefined) out['content-length'] = bodyLength
    if (this.apiKey) out.authorization = `Bearer ${this.apiKey}`
    return out
  }

  close(): void {
    this.#agent.destroy()
  }
}

/** The upstream's response headers as passed to the caller: without hop-by-hop headers (the body's length is set again). */
export function callerHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const name in incoming) {
    const value = incoming[name]
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  }
  return out
}
