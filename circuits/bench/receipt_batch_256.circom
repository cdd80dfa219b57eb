pragma circom 2.1.6;

// Benchmark size: 256 receipts, 32 stake rows (npm run bench -- --only=zk).
include "../lib/batch.circom";

component main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(256, 32, 8, 16);
