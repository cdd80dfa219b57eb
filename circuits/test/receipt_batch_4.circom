pragma circom 2.1.6;

// Test size: 4 receipts, 2 stake rows.
include "../lib/batch.circom";

component main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(4, 2, 2);
