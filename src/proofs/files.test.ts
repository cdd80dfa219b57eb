/** Reading a proofs document (files.ts): each malformed field is named. */
import { describe, expect, it } from 'vitest'
import { readEpochProofs } from './files.ts'

describe('readEpochProofs', () => {
  it('names the bad field of a malformed proofs document', () => {
    expect(() => readEpochProofs({ format: 'fomo-epoch-proofs-v0' })).toThrow(/fomo-epoch-proofs-v4: \$\.format: expected one of "fomo-epoch-proofs-v4"/)
    const base = { format: 'fomo-epoch-proofs-v4', epoch: 1, circuit: { name: 'c', receipts: 4, rows: 2, verificationKeySha256: 'a'.repeat(64), testOnly: true }, proofsHash: `0x${'b'.repeat(64)}`, attestations: [], batches: [] }
    expect(readEpochProofs(base).batches).toEqual([])
    expect(() => readEpochProofs({ ...base, extra: 1 })).toThrow(/\$\.extra: expected no unknown field/)
    expect(() => readEpochProofs({ ...base, circuit: { ...base.circuit, testOnly: 'yes' } })).toThrow(/\$\.circuit\.testOnly: expected true or false/)
    expect(() => readEpochProofs({ ...base, batches: [{ deploymentId: '0x12', provider: '0x12', rows: [], proof: {} }] })).toThrow(/\$\.batches\[0\]\.deploymentId/)
    expect(() => readEpochProofs({ ...base, attestations: [{ format: 'fomo-provider-attestation-v1' }] })).toThrow(/fomo-provider-attestation-v1: \$\.attestations\[0\]\.\w+: expected/)
  })
})
