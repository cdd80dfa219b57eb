/**
 * `fomo-kit/proofs`: Groth16 batch proofs of an epoch's discounts and totals. Providers' attestations, the batching
 * plan, proving an epoch, verifying a proof, and the proofs and circuit-key files.
 */
export {
  ATTESTATION_DEPTH,
  attestationJson,
  attestProvider,
  PROVIDER_ATTESTATION_FORMAT,
  readAttestation,
  verifyAttestation,
  type ProviderAttestation,
} from './attestation.ts'
export { planBatches, type PlannedBatch } from './plan.ts'
export { proofsHash, proveEpoch } from './prove.ts'
export { BATCH_PROOF_FORMAT, ProofError, readBatchProof, readVerificationKey, verifyBatchProof, type BatchProof } from './groth16.ts'
export {
  CIRCUIT_KEYS_FORMAT,
  EPOCH_PROOFS_FORMAT,
  epochProofsJson,
  loadCircuitKeys,
  readCircuitKeys,
  readEpochProofs,
  readProofsFile,
  TEST_CIRCUIT_KEYS,
  type CircuitKeys,
  type EpochProofs,
  type ProvenBatch,
} from './files.ts'
