/**
 * Strict JSON parsing: duplicate keys, lone surrogates and oversized numbers refused with the offset named.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { JsonError, jsonFileBytes, jsonFileBytesInPieces, parseJsonDocument } from './json.ts'
import { parseJsonBytes } from './jsonBytes.ts'

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

describe('documents past the longest string', () => {
  // Safe integers only: fomo-kit documents hold no other numbers (parseJsonDocument refuses them).
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.maxSafeInteger()),
    array: fc.array(tie('any'), { maxLength: 4 }),
    object: fc.dictionary(fc.string({ maxLength: 6 }), tie('any'), { maxKeys: 4 }),
    any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
  })).any

  it('jsonFileBytesInPieces writes the bytes jsonFileBytes writes', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(Buffer.from(jsonFileBytesInPieces(v)).toString()).toBe(Buffer.from(jsonFileBytes(v)).toString())
      }),
      { numRuns: 500 },
    )
  })

  it('parseJsonBytes part by part reads what parseJsonDocument reads, and refuses repeated keys at any depth', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 5 }), (doc) => {
        const bytes = jsonFileBytes(doc)
        expect(parseJsonBytes(bytes, 'doc.json', 0)).toEqual(parseJsonDocument(new TextDecoder().decode(bytes)))
      }),
      { numRuns: 300 },
    )
    const enc = (t: string) => new TextEncoder().encode(t)
    expect(() => parseJsonBytes(enc('{"a":[1,2],"a":[3]}'), 'doc.json', 0)).toThrow(/doc\.json: the key "a" is repeated at offset 11/)
    expect(() => parseJsonBytes(enc('{"spend":[{"x":1},{"y":1,"y":2}]}'), 'doc.json', 0)).toThrow(/doc\.json: duplicate key "y" at offset 25/)
    expect(() => parseJsonBytes(enc('{"spend":[1,2'), 'doc.json', 0)).toThrow(JsonError)
  })
})
