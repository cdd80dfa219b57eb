pragma circom 2.1.6;

// Test size: 4 receipts, 2 stake rows, provider trees of depth 16 (ATTESTATION_DEPTH).
include "../lib/batch.circom";

component main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(4, 2, 2, 16);
