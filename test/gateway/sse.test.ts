/**
 * Server-sent events as the gateway relays them: whatever the chunking (a multi-byte character or a CRLF split across
 * chunks), the events come out whole and unchanged, and the usage chunk and `[DONE]` are recognised.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifyEvent, eventData, SseSplitter } from '../../src/gateway/sse.ts'

const chunk = (i: number, text: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text }, finish_reason: null }], usage: null, i })}`
const usage = `data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } })}`

describe('SSE relaying', () => {
  it('splits any chunking of a stream into its events, unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 8 }), fc.constantFrom('\n\n', '\r\n\r\n'), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (texts, separator, cuts) => {
        const events = [...texts.map((t, i) => `${chunk(i, t)}${separator}`), `${usage}${separator}`, `data: [DONE]${separator}`]
        const bytes = Buffer.from(events.join(''))
        const splitter = new SseSplitter()
        const out: string[] = []
        let at = 0
        for (let k = 0; at < bytes.length; k++) {
          const size = cuts[k % cuts.length]!
          out.push(...splitter.push(bytes.subarray(at, at + size)))
          at += size
        }
        expect(out).toEqual(events)
        expect(splitter.rest()).toBe('')
        expect(out.map((e) => classifyEvent(e).kind)).toEqual([...texts.map(() => 'other'), 'usage', 'done'])
        expect(classifyEvent(out.at(-2)!)).toEqual({ kind: 'usage', usage: { inputTokens: 5, outputTokens: 7 }, usageOnly: true })
      }),
    )
  })

  it('reads multi-line data and comments as SSE does', () => {
    expect(eventData('event: x\ndata: a\ndata:b\n\n')).toBe('a\nb')
    expect(eventData(': a comment\n\n')).toBeUndefined()
    expect(classifyEvent(': fomo-receipt-digest 0x00\n\n')).toEqual({ kind: 'other' })
    // A chunk with both content and usage (servers that report usage on every chunk) is shown, not stripped.
    expect(classifyEvent(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {} }], usage: { prompt_tokens: 1, completion_tokens: 2 } })}\n\n`)).toMatchObject({ kind: 'usage', usageOnly: false })
  })
})
