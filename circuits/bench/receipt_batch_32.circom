pragma circom 2.1.6;

// Benchmark size: 32 receipts, 4 stake rows (npm run bench -- --only=zk).
include "../lib/batch.circom";

component main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(32, 4, 5, 16);
