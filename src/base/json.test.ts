/**
 * Strict JSON parsing: duplicate keys, lone surrogates and oversized numbers refused with the offset named.
 */
import { describe, expect, it } from 'vitest'
import { JsonError, parseJsonDocument } from './json.ts'

describe('strict JSON', () => {
  it('parses ordinary documents', () => {
    expect(parseJsonDocument('{"a":[1,"x",{"b":null}],"c":"\\"q\\"","d":-5}')).toEqual({ a: [1, 'x', { b: null }], c: '"q"', d: -5 })
  })

  it.each([
    ['{"a":1,"a":2}', 'duplicate key "a"'],
    ['[{"x":{"y":1,"y":1}}]', 'duplicate key "y"'],
    ['{"a":1,"\\u0061":2}', 'duplicate key "a"'],
    ['{"amount":9007199254740993}', 'not a safe integer'],
    ['{"amount":1.5}', 'not a safe integer'],
    ['{"amount":1e3}', 'not a safe integer'],
    ['{"a":', 'malformed JSON'],
  ])('rejects %s', (text, message) => {
    expect(() => parseJsonDocument(text)).toThrow(JsonError)
    expect(() => parseJsonDocument(text)).toThrow(message)
  })

  it('allows the same key in sibling objects and key-like strings in arrays', () => {
    expect(parseJsonDocument('[{"a":1},{"a":2},"a","a"]')).toEqual([{ a: 1 }, { a: 2 }, 'a', 'a'])
    expect(parseJsonDocument('{"a":"a","b":["a","a"]}')).toEqual({ a: 'a', b: ['a', 'a'] })
  })
})
