/**
 * `fomo-kit/merkle`: OpenZeppelin-compatible standard Merkle trees (the same roots, proofs, multiproofs and
 * standard-v1 dumps as @openzeppelin/merkle-tree), built on worker threads past a size; and positional trees, which
 * prove where a leaf sits (so two neighbours show a key absent).
 */
export { STANDARD_TREE_FORMAT, StandardTree, TreeError, type BuildOptions, type BuildProgress, type StandardTreeDump, type ValueOrder } from './tree.ts'
export { leafEncoding, LeafValueError, type LeafEncoding, type LeafValue } from './encoding.ts'
export { MerkleProofError } from './core.ts'
export { closeWorkers } from './parallel.ts'
export { PositionalTree, PositionalTreeError, positionalDepth } from './positional.ts'
