pragma circom 2.1.6;

// Benchmark size: 64 receipts, 8 stake rows (npm run bench -- --only=zk).
include "../lib/batch.circom";

component main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(64, 8, 6, 16);
