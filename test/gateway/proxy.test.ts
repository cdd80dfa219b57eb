/**
 * The gateway as OpenAI clients see it, through the official `openai` package: chat (whole and streamed),
 * completions, embeddings and models pass unchanged apart from what the gateway adds, each metered call carries a
 * receipt that verifies and prices the call exactly; upstream errors and timeouts, an abandoned stream, bad keys,
 * unknown models, oversized bodies, signed requests (and their replay), batch signing and the key commands.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import OpenAI, { APIError } from 'openai'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Hex } from '../../src/base/bytes.ts'
import { chargedAmount } from '../../src/economics/revenue.ts'
import { runCommand } from '../../src/cli/command.ts'
import { gatewayCommand, gatewayKeysListCommand, gatewayKeysRevokeCommand } from '../../src/cli/commands/gateway.ts'
import { signingFetch } from '../../src/gateway/identity.ts'
import { inputsFileStakes } from '../../src/gateway/discounts.ts'
import { grossAmount } from '../../src/gateway/prices.ts'
import { verifyBatchedReceipt } from '../../src/receipts/batchVerify.ts'
import { addressOf } from '../../src/receipts/sign.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { PROVIDER_KEYS, worldConfig } from '../aggregator/world.ts'
import { startStubUpstream, type StubUpstream } from '../../src/gateway/stubUpstream.ts'
import { addKey, bufferIo, CHAT_MODEL, gatewayFiles, directClient, DISCOUNT_BPS, EMBED_MODEL, OTHER_USER, PRICES, PROVIDER_KEY, STAKES_JSON, startGateway, until, USER, USER_KEY, type TestGateway } from './world.ts'

const config = worldConfig()
const verifier = new ReceiptVerifier({ domain: config.domain })
const messages = [{ role: 'user' as const, content: 'what is the price of a call' }]

let upstream: StubUpstream
let gw: TestGateway
beforeAll(async () => {
  upstream = await startStubUpstream()
  gw = await startGateway(upstream, { timeoutMs: 400, maxBodyBytes: 64 * 1024 })
})
afterAll(async () => {
  await gw?.close()
  await upstream?.close()
})

/** The caller's signed receipt, fetched from the gateway with the OpenAI client, verified. */
async function receiptOf(client: OpenAI, id: string) {
  const document = await client.get<Record<string, unknown>>(`/receipts/${id}`)
  return { document, ...verifier.verify(document) }
}

function expectPriced(receipt: { inputTokens: number; outputTokens: number; grossAmount: bigint; discountBps: number; chargedAmount: bigint; user: Hex; provider: Hex }, usage: { prompt_tokens: number; completion_tokens?: number }, model = CHAT_MODEL) {
  expect(receipt.inputTokens).toBe(usage.prompt_tokens)
  expect(receipt.outputTokens).toBe(usage.completion_tokens ?? 0)
  const gross = grossAmount(PRICES.get(model)!, { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens ?? 0 })
  expect(receipt.grossAmount).toBe(gross)
  expect(receipt.discountBps).toBe(DISCOUNT_BPS)
  expect(receipt.chargedAmount).toBe(chargedAmount(gross, BigInt(DISCOUNT_BPS)))
  expect(receipt.user).toBe(USER)
  expect(receipt.provider).toBe(addressOf(PROVIDER_KEY))
}

const counter = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
const metrics = async () => (await fetch(`${gw.url}/metrics`)).text()

describe('calls pass unchanged and carry a receipt', () => {
  it('chat completion: the answer is the upstream\'s, its receipt verifies and prices the usage exactly', async () => {
    const direct = await directClient(upstream).chat.completions.create({ model: CHAT_MODEL, messages })
    const { data, response } = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages }).withResponse()
    expect({ ...data, id: '', created: 0 }).toEqual({ ...direct, id: '', created: 0 })
    const digest = response.headers.get('fomo-receipt-digest')!
    expect(digest).toMatch(/^0x[0-9a-f]{64}$/)
    const { receipt, digest: verified, document } = await receiptOf(gw.client(), digest)
    expect(document.format).toBe('fomo-receipt-v1')
    expect(verified).toBe(digest)
    expect(receipt.requestId).toBe(response.headers.get('fomo-request-id'))
    expectPriced(receipt, data.usage!)
    // The body reached the upstream as sent, without the caller's key.
    const seen = upstream.requests.at(-1)!
    expect(seen.body).toEqual({ model: CHAT_MODEL, messages })
    expect(seen.headers.authorization).toBeUndefined()
  })

  it('streamed chat: chunks pass as they come, the usage chunk the gateway asked for is not shown, the receipt is fetched by request id', async () => {
    const { data: stream, response } = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages, stream: true }).withResponse()
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true)
    const text = chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')
    const direct = await directClient(upstream).chat.completions.create({ model: CHAT_MODEL, messages })
    expect(text).toBe(direct.choices[0]!.message.content)
    // The gateway asked the upstream for usage on the caller's behalf.
    expect(upstream.requests.at(-2)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    const { receipt } = await receiptOf(gw.client(), response.headers.get('fomo-request-id')!)
    expectPriced(receipt, direct.usage!)
  })

  it('streamed chat with include_usage: the caller gets its usage chunk, and the same usage is receipted', async () => {
    const stream = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages, stream: true, stream_options: { include_usage: true } }).withResponse()
    let usage
    for await (const chunk of stream.data) if (chunk.usage) usage = chunk.usage
    expect(usage).toBeDefined()
    const { receipt } = await receiptOf(gw.client(), stream.response.headers.get('fomo-request-id')!)
    expectPriced(receipt, usage!)
  })

  it('the end of a metered stream names its receipt in an SSE comment, which clients skip', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: CHAT_MODEL, messages, stream: true }) })
    const text = await res.text()
    const comment = /^: fomo-receipt-digest (0x[0-9a-f]{64})\n\ndata: \[DONE\]\n\n$/m.exec(text.slice(text.lastIndexOf('\n\n: ') + 2))
    expect(comment).not.toBeNull()
    expect((await receiptOf(gw.client(), comment![1]!)).receipt.requestId).toBe(res.headers.get('fomo-request-id'))
  })

  it('completions and embeddings are metered the same way; embeddings have no output tokens', async () => {
    const completion = await gw.client().completions.create({ model: CHAT_MODEL, prompt: 'say something' }).withResponse()
    expect(completion.data.choices[0]!.text).toBe((await directClient(upstream).completions.create({ model: CHAT_MODEL, prompt: 'say something' })).choices[0]!.text)
    expectPriced((await receiptOf(gw.client(), completion.response.headers.get('fomo-receipt-digest')!)).receipt, completion.data.usage!)

    // The client asks for base64 and decodes it: what comes through must be the upstream's bytes.
    const embedding = await gw.client().embeddings.create({ model: EMBED_MODEL, input: ['one two three', 'four'] }).withResponse()
    const direct = await directClient(upstream).embeddings.create({ model: EMBED_MODEL, input: ['one two three', 'four'] })
    expect(embedding.data.data).toEqual(direct.data)
    const { receipt } = await receiptOf(gw.client(), embedding.response.headers.get('fomo-receipt-digest')!)
    expectPriced(receipt, embedding.data.usage, EMBED_MODEL)
    expect(receipt.outputTokens).toBe(0)
  })

  it('models: the upstream\'s list, unchanged', async () => {
    const models = []
    for await (const m of gw.client().models.list()) models.push(m)
    const direct = []
    for await (const m of directClient(upstream).models.list()) direct.push(m)
    expect(models).toEqual(direct)
  })

  it('a receipt is served only to its own user', async () => {
    const { response } = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages }).withResponse()
    const other = gw.client({ apiKey: await addKey(gw.dataDir, OTHER_USER) })
    const refused = await other.get(`/receipts/${response.headers.get('fomo-receipt-digest')}`).catch((e: APIError) => e)
    expect(refused).toBeInstanceOf(APIError)
    expect((refused as APIError).status).toBe(404)
    expect((refused as APIError).code).toBe('receipt_not_found')
  })
})

describe('failures as OpenAI clients expect them', () => {
  it('an upstream 500 passes with its status and body, and is not billed', async () => {
    const before = counter(await metrics(), 'fomo_gateway_receipts_total{mode="call"}')
    upstream.knobs.failStatus = 500
    try {
      const error = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(APIError)
      expect(error).toMatchObject({ status: 500, code: 'test_failure', type: 'server_error' })
    } finally {
      upstream.knobs.failStatus = undefined
    }
    expect(counter(await metrics(), 'fomo_gateway_receipts_total{mode="call"}')).toBe(before)
  })

  it('an upstream that does not answer in time is a 504 in OpenAI\'s shape', async () => {
    upstream.knobs.delayMs = 1500
    try {
      const error = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(APIError)
      expect(error).toMatchObject({ status: 504, code: 'upstream_timeout', type: 'server_error', error: { message: expect.stringContaining('did not answer within 400 ms'), param: null } })
    } finally {
      upstream.knobs.delayMs = 0
    }
  })

  it('a caller abandoning a stream cuts the upstream call, and the call is not billed', async () => {
    const before = await metrics()
    upstream.knobs.chunkDelayMs = 50
    try {
      const controller = new AbortController()
      const stream = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages, stream: true }, { signal: controller.signal })
      const abandoned = upstream.abandoned
      let n = 0
      // The client ends the iteration quietly when its own signal aborts it.
      for await (const _ of stream) if (++n === 2) controller.abort()
      expect(n).toBe(2)
      await until(() => upstream.abandoned === abandoned + 1, 5000, 'the upstream to see the stream cut')
    } finally {
      upstream.knobs.chunkDelayMs = 0
    }
    await until(async () => counter(await metrics(), 'fomo_gateway_unbilled_total{reason="cancelled"}') === counter(before, 'fomo_gateway_unbilled_total{reason="cancelled"}') + 1, 5000, 'the cancelled call to be counted')
    expect(counter(await metrics(), 'fomo_gateway_receipts_total{mode="call"}')).toBe(counter(before, 'fomo_gateway_receipts_total{mode="call"}'))
  })

  it('a `stream` or `stream_options` of another type is a 400 before any upstream call (an upstream could stream unmetered)', async () => {
    const calls = upstream.requests.length
    for (const extra of [{ stream: 1 }, { stream: 'true' }, { stream: true, stream_options: 'include_usage' }]) {
      const answer = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: CHAT_MODEL, messages, ...extra }),
      })
      expect(answer.status, JSON.stringify(extra)).toBe(400)
      expect(await answer.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_type' } })
    }
    expect(upstream.requests.length).toBe(calls)
  })

  it('a caller gone while its call was being priced is not billed, and the upstream is never called', async () => {
    let release = () => {}
    const held = new Promise<void>((r) => (release = r))
    const snapshots = inputsFileStakes(async () => STAKES_JSON, config)
    // The first discount lookup of the epoch waits (as an RPC snapshot search can) until the caller has gone.
    const slow = await startGateway(upstream, { stakes: async (epoch) => (await held, snapshots(epoch)) })
    try {
      const calls = upstream.requests.length
      const body = JSON.stringify({ model: CHAT_MODEL, messages })
      const req = request(`${slow.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${slow.apiKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } })
      req.on('error', () => {})
      req.end(body)
      // Time for the body to arrive and the lookup to start waiting; then the caller hangs up.
      await new Promise((r) => setTimeout(r, 150))
      req.destroy()
      await new Promise((r) => setTimeout(r, 50))
      release()
      const text = async () => (await fetch(`${slow.url}/metrics`)).text()
      await until(async () => counter(await text(), 'fomo_gateway_unbilled_total{reason="cancelled"}') === 1, 5000, 'the call to be counted as cancelled')
      expect(counter(await text(), 'fomo_gateway_receipts_total{mode="call"}')).toBe(0)
      expect(upstream.requests.length).toBe(calls)
    } finally {
      release()
      await slow.close()
    }
  })

  it('a bad API key is a 401 (invalid_api_key) and never reaches the upstream', async () => {
    const calls = upstream.requests.length
    const error = await gw.client({ apiKey: 'fomo_not-a-key' }).chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error', param: null })
    expect(upstream.requests.length).toBe(calls)
  })

  it('an unknown model is a 404 (model_not_found) before any upstream call', async () => {
    const calls = upstream.requests.length
    const error = await gw.client().chat.completions.create({ model: 'unpriced-model', messages }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' })
    expect(upstream.requests.length).toBe(calls)
  })

  it('a body over the limit is a 413 (request_too_large)', async () => {
    const calls = upstream.requests.length
    const error = await gw.client().chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 413, code: 'request_too_large' })
    expect(upstream.requests.length).toBe(calls)
  })
})

describe('identity by signature', () => {
  const account = privateKeyToAccount(USER_KEY)
  const provider = addressOf(PROVIDER_KEY)

  it('a request signed with the user\'s Ethereum key (EIP-191) is receipted to that user', async () => {
    const client = gw.client({ apiKey: 'unused', fetch: signingFetch({ account, provider }) })
    const { data, response } = await client.chat.completions.create({ model: CHAT_MODEL, messages }).withResponse()
    expectPriced((await receiptOf(client, response.headers.get('fomo-receipt-digest')!)).receipt, data.usage!)
  })

  it('a signed request is accepted once, and only by the provider it names', async () => {
    let captured: { url: string; init: RequestInit } | undefined
    const capture: typeof fetch = async (input, init) => {
      captured = { url: String(input), init: init! }
      return fetch(input, init)
    }
    const client = gw.client({ apiKey: 'unused', fetch: signingFetch({ account, provider, fetch: capture }) })
    await client.chat.completions.create({ model: CHAT_MODEL, messages })
    const replay = await fetch(captured!.url, captured!.init)
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: { code: 'invalid_api_key', message: expect.stringContaining('nonce was already used') } })

    const elsewhere = gw.client({ apiKey: 'unused', fetch: signingFetch({ account, provider: OTHER_USER }) })
    const error = await elsewhere.chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' })
  })

  it('a signature too far from the gateway\'s clock is refused', async () => {
    const client = gw.client({ apiKey: 'unused', fetch: signingFetch({ account, provider, now: () => Math.floor(Date.now() / 1000) - 3600 }) })
    const error = await client.chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 401, error: { message: expect.stringContaining('more than 300 s from the gateway') } })
  })
})

describe('keys and batch signing', () => {
  it('keys add stores only the hash of a key; keys list shows it; a running gateway takes a new key at once', async () => {
    const key = await addKey(gw.dataDir, OTHER_USER, 'late')
    const file = await readFile(join(gw.dataDir, 'keys.json'), 'utf8')
    expect(JSON.parse(file).format).toBe('fomo-gateway-keys-v1')
    expect(file).not.toContain(key)
    const io = bufferIo()
    expect(await runCommand(gatewayKeysListCommand, ['--data-dir', gw.dataDir], io)).toBe(0)
    expect(io.out.join('')).toContain('"label":"late"')
    const { response } = await gw.client({ apiKey: key }).chat.completions.create({ model: CHAT_MODEL, messages }).withResponse()
    const { receipt } = await receiptOf(gw.client({ apiKey: key }), response.headers.get('fomo-receipt-digest')!)
    expect(receipt.user).toBe(OTHER_USER)
  })

  it('keys revoke: a running gateway refuses a revoked key within a second; other keys go on working', async () => {
    const key = await addKey(gw.dataDir, OTHER_USER, 'to revoke')
    await gw.client({ apiKey: key }).chat.completions.create({ model: CHAT_MODEL, messages })
    const id = JSON.parse(await readFile(join(gw.dataDir, 'keys.json'), 'utf8')).keys.find((k: { label: string }) => k.label === 'to revoke').id as string
    const io = bufferIo()
    expect(await runCommand(gatewayKeysRevokeCommand, ['--id', id, '--data-dir', gw.dataDir], io)).toBe(0)
    expect(JSON.parse(io.out.join(''))).toMatchObject({ revoked: id, label: 'to revoke' })
    await new Promise((r) => setTimeout(r, 1_100))
    const error = await gw.client({ apiKey: key }).chat.completions.create({ model: CHAT_MODEL, messages }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' })
    await gw.client().chat.completions.create({ model: CHAT_MODEL, messages })
    // Revoking what is not there says so.
    await expect(runCommand(gatewayKeysRevokeCommand, ['--id', id, '--data-dir', gw.dataDir], bufferIo())).rejects.toThrow(/no key with id key_[0-9a-f]{16} in .*keys\.json/)
  })

  it('batch signing: the receipt is on disk before the answer, signed in the interval\'s batch, and served with its inclusion proof', async () => {
    const batched = await startGateway(upstream, { signing: { kind: 'batch', intervalMs: 300, maxReceipts: 1000 } })
    try {
      const calls = await Promise.all(Array.from({ length: 5 }, () => batched.client().chat.completions.create({ model: CHAT_MODEL, messages }).withResponse()))
      const digest = calls[0]!.response.headers.get('fomo-receipt-digest')!
      const early = await fetch(`${batched.url}/v1/receipts/${digest}`, { headers: { authorization: `Bearer ${batched.apiKey}` } })
      expect(early.status).toBe(202)
      await until(() => batched.service.queue.unsignedCount === 0, 5000, 'the batch to be signed')
      for (const { data, response } of calls) {
        const document = await batched.client().get(`/receipts/${response.headers.get('fomo-receipt-digest')}`)
        expect((document as { format: string }).format).toBe('fomo-batched-receipt-v1')
        const { receipt, digest: d } = verifyBatchedReceipt(verifier, document)
        expect(d).toBe(response.headers.get('fomo-receipt-digest'))
        expectPriced(receipt, data.usage!)
      }
    } finally {
      await batched.close()
    }
  })

  it('/metrics counts requests, tokens and USDC in the Prometheus text format', async () => {
    const text = await metrics()
    expect(text).toContain('# TYPE fomo_gateway_requests_total counter')
    expect(counter(text, 'fomo_gateway_requests_total{route="/v1/chat/completions",status="200"}')).toBeGreaterThan(0)
    expect(counter(text, 'fomo_gateway_tokens_total{model="test-chat",kind="input"}')).toBeGreaterThan(0)
    expect(counter(text, 'fomo_gateway_usdc_total{model="test-chat",amount="gross"}')).toBeGreaterThan(counter(text, 'fomo_gateway_usdc_total{model="test-chat",amount="charged"}'))
    expect(text).toMatch(/^fomo_gateway_queue_backlog_bytes \d+$/m)
  })
})

describe('starting the gateway', () => {
  it('refuses prices for a deployment its key may not sign for, and bad options, before serving', async () => {
    const files = await gatewayFiles()
    const io = bufferIo()
    // Provider 1 is listed for deployment B only; the prices are for deployment A.
    await writeFile(join(files.dir, 'provider.key'), PROVIDER_KEYS[1]!)
    await expect(runCommand(gatewayCommand, [...files.args, '--upstream', upstream.url], io)).rejects.toThrow(/is not allowed to sign for deployment/)
    await expect(runCommand(gatewayCommand, [...files.args, '--upstream', upstream.url, '--sign', 'sometimes'], io)).rejects.toThrow(/--sign must be call or batch/)
    await expect(runCommand(gatewayCommand, [...files.args, '--upstream', upstream.url, '--sign', 'batch', '--batch-max', '100000'], io)).rejects.toThrow(/--batch-max must be at most 40,000 \(a batch document takes up to about 210 bytes/)
    await expect(runCommand(gatewayCommand, [...files.args, '--upstream', upstream.url, '--rpc', 'http://127.0.0.1:1', '--stakes', 'x.json'], io)).rejects.toThrow(/--rpc or --stakes, not both/)
  })
})
