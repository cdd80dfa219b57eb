pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// Integer division with a proven quotient and remainder: num = q * den + r, 0 <= r < den.
// The quotient and remainder are computed outside the constraint system (<--) and then
// fully constrained: the equality binds them, the range checks stop field wrap-around,
// and LessThan (whose inputs are range-checked first: it does not check them itself) bounds r.
template DivMod(numBits, denBits, qBits) {
    signal input num;
    signal input den;
    signal output q;
    signal output r;

    assert(numBits <= 252 && denBits <= 252 && qBits + denBits <= 252);

    q <-- num \ den;
    r <-- num % den;
    num === q * den + r;

    _ <== Num2Bits(qBits)(q); // range check: the bits themselves are not needed
    _ <== Num2Bits(denBits)(r); // range check: the bits themselves are not needed
    _ <== Num2Bits(denBits)(den); // range check: the bits themselves are not needed
    component rLess = LessThan(denBits);
    rLess.in[0] <== r;
    rLess.in[1] <== den;
    rLess.out === 1;
}

// The staking discount and the charged amount of one receipt (docs/protocol.md):
//   discount = min(maxDiscountBps, floor(stake * multiplier * 10000 / circulating))
//   charged  = gross - floor(gross * discount / 10000)
// Every input is range-checked, so no value wraps around the field. The stake may not exceed the
// circulating supply (src/economics refuses that too), which bounds the raw discount by multiplier * 10000.
template StakingDiscount() {
    signal input stake;          // MT base units, < 2^96
    signal input circulating;    // MT base units, < 2^96
    signal input maxDiscountBps; // X, 0 .. 10000
    signal input multiplier;     // M, 1 .. 2^20 - 1
    signal input gross;          // USDC base units, < 2^64
    signal output discountBps;
    signal output charged;

    _ <== Num2Bits(96)(stake); // range check: the bits themselves are not needed
    _ <== Num2Bits(96)(circulating); // range check: the bits themselves are not needed
    _ <== Num2Bits(64)(gross); // range check: the bits themselves are not needed
    _ <== Num2Bits(20)(multiplier); // range check: the bits themselves are not needed
    component mPositive = IsZero();
    mPositive.in <== multiplier;
    mPositive.out === 0;
    _ <== Num2Bits(14)(maxDiscountBps); // range check: the bits themselves are not needed
    component xAtMost = LessEqThan(14);
    xAtMost.in[0] <== maxDiscountBps;
    xAtMost.in[1] <== 10000;
    xAtMost.out === 1;
    component stakeAtMost = LessEqThan(96);
    stakeAtMost.in[0] <== stake;
    stakeAtMost.in[1] <== circulating;
    stakeAtMost.out === 1;

    // raw = floor(stake * M * 10000 / circulating) <= M * 10000 < 2^34. No circulating supply means no
    // stake (stake <= circulating) and no discount, as in src/economics: divide by 1 then.
    component noSupply = IsZero();
    noSupply.in <== circulating;
    signal scaled;
    scaled <== stake * multiplier;
    component raw = DivMod(130, 96, 34);
    raw.num <== scaled * 10000;
    raw.den <== circulating + noSupply.out;
    _ <== raw.r; // the remainder is constrained inside DivMod; only the quotient is used

    // discount = raw < X ? raw : X
    component below = LessThan(34);
    below.in[0] <== raw.q;
    below.in[1] <== maxDiscountBps;
    discountBps <== below.out * (raw.q - maxDiscountBps) + maxDiscountBps;

    // charged = gross - floor(gross * discount / 10000); discount <= 10000 so the floor is <= gross.
    component cut = DivMod(78, 14, 64);
    cut.num <== gross * discountBps;
    cut.den <== 10000;
    _ <== cut.r; // as above
    charged <== gross - cut.q;
    _ <== Num2Bits(64)(charged); // range check: the bits themselves are not needed
}
