/**
 * A stub OpenAI-compatible server, for tests, benchmarks and the demo only (it serves no model): small and
 * deterministic, it answers chat completions (streamed and not, `stream_options.include_usage` honoured as OpenAI
 * does), completions, embeddings (float and base64) and models, with `usage` counted as whitespace-separated words.
 * A reply is a greeting then the last message's words, cut to `max_tokens` and padded to `min_tokens` (vLLM's
 * parameter), so a caller can ask for an exact usage. Knobs make it fail (a status and an OpenAI error body), answer
 * slowly, pause between stream chunks, or leave usage out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The models the stub lists at GET /v1/models (it answers any model name). */
export const STUB_MODELS = ['test-chat', 'test-embed', 'unpriced-model']

export type StubKnobs = {
  /** Answer every request with this status and an OpenAI error body. */
  failStatus?: number | undefined
  /** Wait this long before answering (headers included). */
  delayMs: number
  /** Wait this long between stream chunks. */
  chunkDelayMs: number
  /** Leave `usage` out of answers. */
  omitUsage: boolean
}

export type StubUpstream = {
  /** The OpenAI base URL, ending in /v1. */
  url: string
  knobs: StubKnobs
  /** Every request received: path and parsed body (when recording). */
  requests: Array<{ path: string; body: Record<string, unknown> | undefined; headers: IncomingMessage['headers'] }>
  /** Streams the client abandoned before their end. */
  abandoned: number
  close(): Promise<void>
}

const words = (text: string) => text.split(/\s+/).filter(Boolean)

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : '')).join(' ')
  return ''
}

/** The deterministic reply: a greeting, then the last message's words, cut to max_tokens, padded to min_tokens. */
function reply(prompt: string, maxTokens: unknown, minTokens: unknown): string[] {
  const out = ['Hello', 'from', 'the', 'test', 'upstream:', ...words(prompt)]
  if (typeof minTokens === 'number' && Number.isSafeInteger(minTokens) && minTokens > out.length) out.push(...Array.from({ length: Math.min(minTokens, 1_000_000) - out.length }, () => 'more'))
  return typeof maxTokens === 'number' ? out.slice(0, Math.max(1, maxTokens)) : out
}

/** Starts the stub on 127.0.0.1 (`port` 0 or absent: an ephemeral one); `record` (default true) keeps every request in `requests`. */
export async function startStubUpstream(options: { record?: boolean; port?: number } = {}): Promise<StubUpstream> {
  const record = options.record ?? true
  const knobs: StubKnobs = { delayMs: 0, chunkDelayMs: 0, omitUsage: false }
  const state: StubUpstream = { url: '', knobs, requests: [], abandoned: 0, close: async () => undefined }
  let created = 1_700_000_000

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = (req.url ?? '').split('?')[0]!
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined
    if (record) state.requests.push({ path, body, headers: req.headers })
    if (knobs.delayMs > 0) await new Promise((r) => setTimeout(r, knobs.delayMs))
    if (res.destroyed) return
    if (knobs.failStatus) return json(res, knobs.failStatus, { error: { message: 'The test upstream failed on purpose.', type: 'server_error', param: null, code: 'test_failure' } })
    if (path === '/v1/models' && req.method === 'GET') return json(res, 200, { object: 'list', data: STUB_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'test' })) })
    if (req.method !== 'POST' || !body) return json(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } })
    const model = String(body.model)
    const id = `test-${++created}`
    if (path === '/v1/embeddings') {
      const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input)]
      const tokens = inputs.reduce((n, t) => n + words(t).length, 0)
      const data = inputs.map((t, index) => {
        const vector = Array.from({ length: 8 }, (_, k) => ((t.length + k) % 7) / 7)
        return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector }
      })
      return json(res, 200, { object: 'list', data, model, ...(knobs.omitUsage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }) })
    }
    const chat = path === '/v1/chat/completions'
    if (!chat && path !== '/v1/completions') return json(res, 404, { error: { message: `no route POST ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } })
    const messages = chat ? ((body.messages as Array<{ content: unknown }>) ?? []) : []
    const prompt = chat ? messages.map((m) => textOf(m.content)).join(' ') : textOf(body.prompt)
    const promptTokens = words(prompt).length
    const out = reply(chat ? textOf(messages.at(-1)?.content) : prompt, body.max_tokens, body.min_tokens)
    const usage = { prompt_tokens: promptTokens, completion_tokens: out.length, total_tokens: promptTokens + out.length }
    const object = chat ? 'chat.completion' : 'text_completion'
    if (body.stream !== true) {
      const choice = chat ? { index: 0, message: { role: 'assistant', content: out.join(' ') }, finish_reason: 'stop', logprobs: null } : { index: 0, text: out.join(' '), finish_reason: 'stop', logprobs: null }
      return json(res, 200, { id, object, created, model, choices: [choice], ...(knobs.omitUsage ? {} : { usage }) })
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true && !knobs.omitUsage
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    const chunkObject = chat ? 'chat.completion.chunk' : 'text_completion'
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${JSON.stringify({ id, object: chunkObject, created, model, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`)
    for (const [i, word] of out.entries()) {
      if (res.destroyed) {
        state.abandoned++
        return
      }
      const text = i === 0 ? word : ` ${word}`
      send([chat ? { index: 0, delta: i === 0 ? { role: 'assistant', content: text } : { content: text }, finish_reason: null } : { index: 0, text, finish_reason: null }])
      if (knobs.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, knobs.chunkDelayMs))
    }
    if (res.destroyed) {
      state.abandoned++
      return
    }
    send([chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' }])
    if (includeUsage) send([], { usage })
    res.end('data: [DONE]\n\n')
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: Error) => json(res, 500, { error: { message: error.message, type: 'server_error', param: null, code: null } }))
    })
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  state.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return state
}
