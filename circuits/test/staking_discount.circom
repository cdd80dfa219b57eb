pragma circom 2.1.6;

// Test harness: the discount template alone, every signal public.
include "../lib/discount.circom";

component main { public [stake, circulating, maxDiscountBps, multiplier, gross] } = StakingDiscount();
