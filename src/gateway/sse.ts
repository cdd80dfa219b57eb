/**
 * Server-sent events as an OpenAI-compatible server streams them: splitting the byte stream into whole events
 * (each kept as its original text, so it passes through unchanged), and reading the events the gateway acts on: the
 * final `[DONE]` and the usage chunk `stream_options.include_usage` adds.
 */
import { usageOf } from './metering.ts'
import type { TokenUsage } from './prices.ts'

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g

/** Splits a stream's text into complete events (each with its terminating blank line), whatever the chunking. */
export class SseSplitter {
  #buffer = ''
  readonly #decoder = new TextDecoder()

  /** The events completed by this chunk. */
  push(chunk: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true })
    const events: string[] = []
    let start = 0
    BOUNDARY.lastIndex = 0
    for (let m = BOUNDARY.exec(this.#buffer); m; m = BOUNDARY.exec(this.#buffer)) {
      events.push(this.#buffer.slice(start, m.index + m[0].length))
      start = m.index + m[0].length
    }
    this.#buffer = this.#buffer.slice(start)
    return events
  }

  /** What is left after the last complete event (a stream cut short). */
  rest(): string {
    return this.#buffer + this.#decoder.decode()
  }
}

/** The joined `data:` lines of an event (undefined when it has none: a comment or a bare event name). */
export function eventData(event: string): string | undefined {
  let data: string | undefined
  for (const line of event.split(/\r\n|\n|\r/)) {
    if (!line.startsWith('data:')) continue
    const value = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5)
    data = data === undefined ? value : `${data}\n${value}`
  }
  return data
}

const HAS_USAGE = /"usage"\s*:\s*\{/

export type StreamEvent = { kind: 'done' } | { kind: 'usage'; usage: TokenUsage | undefined; usageOnly: boolean } | { kind: 'other' }

/**
 * What an event is to the gateway: `[DONE]`; a chunk carrying usage (`usageOnly` when it is the extra chunk
 * `include_usage` adds, with no choices); or anything else, passed on as it is.
 */
export function classifyEvent(event: string): StreamEvent {
  const data = eventData(event)
  if (data === undefined) return { kind: 'other' }
  if (data.trim() === '[DONE]') return { kind: 'done' }
  if (!HAS_USAGE.test(data)) return { kind: 'other' }
  let chunk: { usage?: unknown; choices?: unknown }
  try {
    chunk = JSON.parse(data) as typeof chunk
  } catch {
    return { kind: 'other' }
  }
  if (typeof chunk !== 'object' || chunk === null || chunk.usage === null || chunk.usage === undefined) return { kind: 'other' }
  return { kind: 'usage', usage: usageOf(chunk.usage), usageOnly: !Array.isArray(chunk.choices) || chunk.choices.length === 0 }
}

/** An SSE comment: conforming clients ignore it (the gateway ends a metered stream with its receipt's digest in one). */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`
}
