/**
 * Who is calling: a per-user API key the gateway issued (only its SHA-256 is stored, in a key store of format
 * fomo-gateway-keys-v1), or a request signed with the user's Ethereum key (EIP-191 over the request, its provider, a
 * timestamp and a nonce, so a signed request cannot be replayed or sent to another provider). Both sides of signing
 * are here: the gateway's check and the client's headers.
 */
import { createHash } from 'node:crypto'
import { getAddress, recoverMessageAddress } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { Reader } from '../base/reader.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import { GatewayError } from './errors.ts'

export const KEY_STORE_FORMAT = 'fomo-gateway-keys-v1'

/** A key the gateway issued: its user, the SHA-256 of the key (never the key), a label and when it was made. */
export type KeyEntry = { id: string; user: Hex; sha256: Hex; label: string; created: number }

const KEY_PREFIX = 'fomo_'

/** A new API key from 32 random bytes (pass crypto.getRandomValues output). */
export function newApiKey(random: Uint8Array): string {
  if (random.length < 32) throw new RangeError('an API key needs 32 random bytes')
  return `${KEY_PREFIX}${Buffer.from(random).toString('base64url')}`
}

export function apiKeyHash(key: string): Hex {
  return `0x${createHash('sha256').update(key).digest('hex')}`
}

/** The entry of a new key: its id is the first 8 bytes of its hash (safe to show, useless to call with). */
export function keyEntry(key: string, user: Hex, label: string, created: number): KeyEntry {
  const sha256 = apiKeyHash(key)
  return { id: `key_${sha256.slice(2, 18)}`, user: user.toLowerCase() as Hex, sha256, label, created }
}

export function readKeyStore(document: unknown): KeyEntry[] {
  const r = new Reader(KEY_STORE_FORMAT, document)
  r.object(['format', 'keys'])
  r.field('format').literal([KEY_STORE_FORMAT])
  const seen = new Set<string>()
  return r.field('keys').array().map((k) => {
    k.object(['id', 'user', 'sha256', 'label', 'created'])
    const entry: KeyEntry = {
      id: k.field('id').string(/^key_[0-9a-f]{16}$/, 'a key id such as "key_0123456789abcdef"'),
      user: readAddress(k.field('user')),
      sha256: readBytes32(k.field('sha256')),
      label: k.field('label').string(/^.{0,200}$/, 'a label of at most 200 characters'),
      created: Number(k.field('created').integer()),
    }
    if (seen.has(entry.sha256)) k.field('sha256').fail('a key hash not listed before')
    seen.add(entry.sha256)
    return entry
  })
}

export function keyStoreJson(keys: readonly KeyEntry[]): Record<string, unknown> {
  return { format: KEY_STORE_FORMAT, keys: keys.map((k) => ({ id: k.id, user: getAddress(k.user), sha256: k.sha256, label: k.label, created: k.created })) }
}

/** The users of the issued keys, by key hash. */
export class KeyRing {
  readonly #users = new Map<string, Hex>()
  /** Keys already matched, so a caller's key is hashed once, not on every call. */
  readonly #known = new Map<string, Hex>()

  constructor(entries: readonly KeyEntry[]) {
    for (const e of entries) this.#users.set(e.sha256, e.user)
  }

  get size(): number {
    return this.#users.size
  }

  userOf(key: string): Hex | undefined {
    const known = this.#known.get(key)
    if (known) return known
    const user = this.#users.get(apiKeyHash(key))
    if (user && this.#known.size < 100_000) this.#known.set(key, user)
    return user
  }
}

/** The headers of a signed request. */
export const SIGNED_HEADERS = { address: 'fomo-address', timestamp: 'fomo-timestamp', nonce: 'fomo-nonce', signature: 'fomo-signature' } as const

export type SignedRequest = { provider: Hex; method: string; path: string; body: Uint8Array | string; timestamp: number; nonce: string }

/** The EIP-191 message a user signs for one request: it names the provider, the request, its body's hash, a time and a nonce. */
export function signedRequestMessage(r: SignedRequest): string {
  const bodyHash = createHash('sha256').update(r.body).digest('hex')
  return ['FOMO gateway request', `provider: ${r.provider.toLowerCase()}`, `${r.method.toUpperCase()} ${r.path}`, `body sha256: 0x${bodyHash}`, `timestamp: ${r.timestamp}`, `nonce: ${r.nonce}`].join('\n')
}

/** The headers a client adds to sign a request with `signMessage` (a viem account's, or a wallet's personal_sign). */
export async function signedRequestHeaders(address: Hex, signMessage: (args: { message: string }) => Promise<Hex>, r: SignedRequest): Promise<Record<string, string>> {
  return {
    [SIGNED_HEADERS.address]: getAddress(address),
    [SIGNED_HEADERS.timestamp]: String(r.timestamp),
    [SIGNED_HEADERS.nonce]: r.nonce,
    [SIGNED_HEADERS.signature]: await signMessage({ message: signedRequestMessage(r) }),
  }
}

/**
 * A fetch that signs every request for `provider` with `account` (for the OpenAI client's `fetch` option). `now`
 * gives unix seconds; nonces are random unless `nonce` is given.
 */
export function signingFetch(options: {
  account: { address: Hex; signMessage: (args: { message: string }) => Promise<Hex> }
  provider: Hex
  now?: () => number
  nonce?: () => string
  fetch?: typeof fetch
}): typeof fetch {
  const base = options.fetch ?? fetch
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const nonce = options.nonce ?? (() => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex'))
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const body = typeof init?.body === 'string' ? init.body : ''
    const headers = new Headers(init?.headers)
    const signed = await signedRequestHeaders(options.account.address, (a) => options.account.signMessage(a), {
      provider: options.provider,
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      body,
      timestamp: now(),
      nonce: nonce(),
    })
    for (const [k, v] of Object.entries(signed)) headers.set(k, v)
    return base(input, { ...init, headers })
  }
}

const NONCE = /^[A-Za-z0-9_-]{16,128}$/
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * Checks signed requests: the signature recovers to the named address, the timestamp is within `windowSeconds` of
 * the clock and not before the gateway started (nonces are kept in memory only, so a restart must not reopen earlier
 * requests to replay), and the nonce was not used by that address within the window.
 */
export class SignedRequestChecker {
  readonly #seen = new Map<string, number>()
  #inserts = 0

  constructor(
    readonly provider: Hex,
    readonly windowSeconds: number,
    /** Unix seconds the gateway started at. */
    readonly startedAt: number,
  ) {}

  async check(headers: Record<string, string | string[] | undefined>, method: string, path: string, body: Uint8Array, now: number): Promise<Hex> {
    const get = (name: string) => {
      const v = headers[name]
      return typeof v === 'string' ? v : undefined
    }
    const address = get(SIGNED_HEADERS.address)
    const timestampText = get(SIGNED_HEADERS.timestamp)
    const nonce = get(SIGNED_HEADERS.nonce)
    const signature = get(SIGNED_HEADERS.signature)
    if (!address || !ADDRESS.test(address)) throw unauthorized(`${SIGNED_HEADERS.address} must be the signer's 0x address`)
    if (!timestampText || !/^[0-9]{1,12}$/.test(timestampText)) throw unauthorized(`${SIGNED_HEADERS.timestamp} must be unix seconds`)
    if (!nonce || !NONCE.test(nonce)) throw unauthorized(`${SIGNED_HEADERS.nonce} must be 16 to 128 characters of [A-Za-z0-9_-]`)
    if (!signature || !SIGNATURE.test(signature)) throw unauthorized(`${SIGNED_HEADERS.signature} must be a 65-byte 0x-hex signature`)
    const timestamp = Number(timestampText)
    if (Math.abs(now - timestamp) > this.windowSeconds) throw unauthorized(`the request was signed at ${timestamp}, more than ${this.windowSeconds} s from the gateway's clock (${now}); sign it again`)
    if (timestamp < this.startedAt) throw unauthorized('the request was signed before the gateway started; sign it again')
    const user = address.toLowerCase() as Hex
    const key = `${user}/${nonce}`
    if (this.#seen.has(key)) throw unauthorized('this nonce was already used: a signed request is accepted once')
    const message = signedRequestMessage({ provider: this.provider, method, path, body, timestamp, nonce })
    let signer: string
    try {
      signer = (await recoverMessageAddress({ message, signature: signature as Hex })).toLowerCase()
    } catch {
      throw unauthorized('the signature recovers no address')
    }
    if (signer !== user) throw unauthorized(`the signature is not by ${getAddress(user)} over this request for provider ${getAddress(this.provider)}`)
    // Checked again after the await: two requests with one nonce may both have passed the first check.
    if (this.#seen.has(key)) throw unauthorized('this nonce was already used: a signed request is accepted once')
    this.#remember(key, timestamp + this.windowSeconds, now)
    return user
  }

  #remember(key: string, expires: number, now: number): void {
    this.#seen.set(key, expires)
    if (++this.#inserts % 1024 === 0) for (const [k, until] of this.#seen) if (until < now) this.#seen.delete(k)
  }
}

export function unauthorized(message: string): GatewayError {
  return new GatewayError(401, 'invalid_request_error', 'invalid_api_key', message)
}
