pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/poseidon.circom";
include "./discount.circom";

// Integer division by a denominator the caller has already range-checked to denBits:
// num = q * den + r with q < 2^qBits and 0 <= r < den. q and r are hints (<--), fully constrained here.
template DivModRangedDen(qBits, denBits) {
    signal input num;
    signal input den;
    signal output q;

    assert(qBits + denBits <= 252);
    signal r;
    q <-- num \ den;
    r <-- num % den;
    num === q * den + r;
    _ <== Num2Bits(qBits)(q);   // range check
    _ <== Num2Bits(denBits)(r); // range check, so LessThan below sees in-range inputs
    component less = LessThan(denBits);
    less.in[0] <== r;
    less.in[1] <== den;
    less.out === 1;
}

// The discount of one stake row: min(X, floor(stake * M * 10000 / den)), den = circulating (or 1 without supply),
// stake <= circulating. circulating, X and M are range-checked once per batch by the caller.
template RowDiscount() {
    signal input stake;
    signal input circulating;
    signal input den;
    signal input maxDiscountBps;
    signal input multiplier;
    signal output discountBps;

    _ <== Num2Bits(96)(stake); // range check
    component atMost = LessEqThan(96);
    atMost.in[0] <== stake;
    atMost.in[1] <== circulating;
    atMost.out === 1;
    signal scaled;
    scaled <== stake * multiplier;
    component raw = DivModRangedDen(34, 96);
    raw.num <== scaled * 10000;
    raw.den <== den;
    component below = LessThan(34);
    below.in[0] <== raw.q;
    below.in[1] <== maxDiscountBps;
    discountBps <== below.out * (raw.q - maxDiscountBps) + maxDiscountBps;
}

// A batch of 1 to N receipts of one deployment and epoch (N a power of two, 2^DEPTH) with a table of K
// (user, stake) rows, for one registry (its domain); see src/proofs/statement.ts for the statement in TypeScript.
// Each row's commitment also carries the user's gross and charged within the batch, summed here, so the table opened
// against stakesCommitment shows each user's proven spend (what the spend tree must add up to).
// The batch is one leaf of its provider's attestation: the provider signed (EdDSA-Poseidon over Baby Jubjub) the
// Poseidon root of its batches' roots (a tree of depth PDEPTH) with the batch count, epoch, deployment and registry. The
// circuit checks the signature and the batch's path, and outputs the provider's key, the signed message and the
// batch's index, so the registry takes each attested batch exactly once, under a key pinned for the deployment.
template ReceiptBatch(N, K, DEPTH, PDEPTH) {
    assert(N == 2 ** DEPTH);
    // A row's spend sum is at most 2^75 (N <= 2^11 receipts of gross <= 2^64), below its 76-bit slot, so the packed
    // cell cannot carry over.
    assert(DEPTH <= 11);
    assert(K <= 256);
    assert(PDEPTH >= 1 && PDEPTH <= 32);
    // Public inputs.
    signal input epoch;
    signal input deploymentIdHi;
    signal input deploymentIdLo;
    signal input domainHi;
    signal input domainLo;
    signal input maxDiscountBps;
    signal input multiplier;
    signal input circulating;
    signal input count;
    // Private inputs.
    signal input digestHi[N];
    signal input digestLo[N];
    signal input user[N];
    signal input gross[N];
    signal input row[N];
    signal input rowUser[K];
    signal input rowStake[K];
    // The provider's attestation: its public key, signature, the batch's place in its tree and the batch count.
    signal input providerAx;
    signal input providerAy;
    signal input signatureR8x;
    signal input signatureR8y;
    signal input signatureS;
    signal input batchPath[PDEPTH];
    signal input batchPosition;
    signal input batches;
    // Public outputs.
    signal output root;
    signal output stakesCommitment;
    signal output totalGross;
    signal output totalCharged;
    signal output providerKey;
    signal output attestation;
    signal output batchIndex;
    signal output batchCount;

    // epoch and deployment are bound as public inputs; a square keeps them in the constraint system.
    signal epochSquare <== epoch * epoch;
    signal deploymentSquareHi <== deploymentIdHi * deploymentIdHi;
    signal deploymentSquareLo <== deploymentIdLo * deploymentIdLo;
    signal domainSquareHi <== domainHi * domainHi;
    signal domainSquareLo <== domainLo * domainLo;

    // Batch-wide parameters, range-checked once.
    _ <== Num2Bits(96)(circulating); // range check
    component noSupply = IsZero();
    noSupply.in <== circulating;
    signal den <== circulating + noSupply.out;
    _ <== Num2Bits(14)(maxDiscountBps); // range check
    component xAtMost = LessEqThan(14);
    xAtMost.in[0] <== maxDiscountBps;
    xAtMost.in[1] <== 10000;
    xAtMost.out === 1;
    _ <== Num2Bits(20)(multiplier); // range check
    component mZero = IsZero();
    mZero.in <== multiplier;
    mZero.out === 0;
    _ <== Num2Bits(DEPTH + 1)(count); // range check
    component countAtMost = LessEqThan(DEPTH + 1);
    countAtMost.in[0] <== count;
    countAtMost.in[1] <== N;
    countAtMost.out === 1;
    _ <== Num2Bits(DEPTH + 1)(count - 1); // range check: at least one receipt

    // The table: each row's discount.
    component rows[K];
    signal rowDiscount[K];
    for (var k = 0; k < K; k++) {
        rows[k] = RowDiscount();
        rows[k].stake <== rowStake[k];
        rows[k].circulating <== circulating;
        rows[k].den <== den;
        rows[k].maxDiscountBps <== maxDiscountBps;
        rows[k].multiplier <== multiplier;
        rowDiscount[k] <== rows[k].discountBps;
    }

    // Rows in use come first, by strictly increasing user (each user has one row, one stake); padding rows (user 0)
    // after them. A row a receipt uses holds that receipt's user, which its provider signed (an address, below
    // 2^160); from there each accepted LessThan(160) step adds at most 2^160 and there are at most K steps, far
    // below the field, so the order cannot wrap around it and no user can have a second row.
    component rowPad[K];
    component rowOrder[K];
    for (var k = 0; k < K; k++) {
        rowPad[k] = IsZero();
        rowPad[k].in <== rowUser[k];
        if (k > 0) {
            rowPad[k - 1].out * (1 - rowPad[k].out) === 0;
            rowOrder[k] = LessThan(160);
            rowOrder[k].in[0] <== rowUser[k - 1];
            rowOrder[k].in[1] <== rowUser[k];
            (1 - rowPad[k].out) * (1 - rowOrder[k].out) === 0;
        }
    }

    // Receipts.
    component active[N];
    component cut[N];
    component leafHash[N];
    signal select[N][K];
    signal selectedUser[N][K + 1];
    signal selectedDiscount[N][K + 1];
    signal rowSpend[K][N + 1];
    signal charged[N];
    signal leaf[N];
    signal grossSum[N + 1];
    signal chargedSum[N + 1];
    grossSum[0] <== 0;
    chargedSum[0] <== 0;
    for (var i = 0; i < N; i++) {
        active[i] = LessThan(DEPTH + 1);
        active[i].in[0] <== i;
        active[i].in[1] <== count;
    }
    for (var i = 0; i < N; i++) {
        // Slots below count are receipts; the others are padding and must be all zero.
        (1 - active[i].out) * digestHi[i] === 0;
        (1 - active[i].out) * digestLo[i] === 0;
        (1 - active[i].out) * user[i] === 0;
        (1 - active[i].out) * gross[i] === 0;
        (1 - active[i].out) * row[i] === 0;
        // gross >= 1 for a receipt, and < 2^64.
        _ <== Num2Bits(64)(gross[i] - active[i].out); // range check

        // One-hot selection of the receipt's row: K bits that sum to 1, the set one at index row.
        selectedUser[i][0] <== 0;
        selectedDiscount[i][0] <== 0;
        var selected = 0;
        var selectedIndex = 0;
        for (var k = 0; k < K; k++) {
            select[i][k] <-- row[i] == k ? 1 : 0;
            select[i][k] * (select[i][k] - 1) === 0;
            selected += select[i][k];
            selectedIndex += k * select[i][k];
            selectedUser[i][k + 1] <== selectedUser[i][k] + select[i][k] * rowUser[k];
            selectedDiscount[i][k + 1] <== selectedDiscount[i][k] + select[i][k] * rowDiscount[k];
        }
        selected === 1;
        selectedIndex === row[i];
        active[i].out * (user[i] - selectedUser[i][K]) === 0;

        // charged = gross - floor(gross * discount / 10000); the floor is at most gross since discount <= 10000.
        cut[i] = DivModRangedDen(64, 14);
        cut[i].num <== gross[i] * selectedDiscount[i][K];
        cut[i].den <== 10000;
        charged[i] <== gross[i] - cut[i].q;

        leafHash[i] = Poseidon(5);
        leafHash[i].inputs[0] <== digestHi[i];
        leafHash[i].inputs[1] <== digestLo[i];
        leafHash[i].inputs[2] <== user[i];
        leafHash[i].inputs[3] <== gross[i];
        leafHash[i].inputs[4] <== charged[i];
        leaf[i] <== active[i].out * leafHash[i].out;

        grossSum[i + 1] <== grossSum[i] + gross[i];
        chargedSum[i + 1] <== chargedSum[i] + charged[i];
    }
    totalGross <== grossSum[N];
    totalCharged <== chargedSum[N];

    // Each row's spend, gross * 2^76 + charged summed over the receipts that select it (padding adds 0), and the hash
    // chain of (user, stake * 2^152 + spend) an auditor opens: stake < 2^96 and each sum <= 2^75 < 2^76, so the cell packs
    // the three without overlap, below the field.
    component chain[K];
    for (var k = 0; k < K; k++) {
        rowSpend[k][0] <== 0;
        for (var i = 0; i < N; i++) rowSpend[k][i + 1] <== rowSpend[k][i] + select[i][k] * (gross[i] * 2 ** 76 + charged[i]);
        chain[k] = Poseidon(3);
        chain[k].inputs[0] <== k == 0 ? 0 : chain[k - 1].out;
        chain[k].inputs[1] <== rowUser[k];
        chain[k].inputs[2] <== rowStake[k] * 2 ** 152 + rowSpend[k][N];
    }
    stakesCommitment <== chain[K - 1].out;

    // Poseidon Merkle root over the N leaves.
    component node[N - 1];
    signal level[2 * N - 1];
    for (var i = 0; i < N; i++) level[N - 1 + i] <== leaf[i];
    for (var j = N - 2; j >= 0; j--) {
        node[j] = Poseidon(2);
        node[j].inputs[0] <== level[2 * j + 1];
        node[j].inputs[1] <== level[2 * j + 2];
        level[j] <== node[j].out;
    }
    root <== level[0];

    // The batch root's path to the provider's attested root; the batch is one of the `batches` it attested.
    _ <== Num2Bits(PDEPTH + 1)(batches); // range check
    component positionBits = Num2Bits(PDEPTH);
    positionBits.in <== batchPosition;
    component inAttested = LessThan(PDEPTH + 1);
    inAttested.in[0] <== batchPosition;
    inAttested.in[1] <== batches;
    inAttested.out === 1;
    component pathNode[PDEPTH];
    signal pathLevel[PDEPTH + 1];
    signal pathSwap[PDEPTH];
    pathLevel[0] <== root;
    for (var j = 0; j < PDEPTH; j++) {
        // bit 0: this node is the left child; bit 1: the right one.
        pathSwap[j] <== positionBits.out[j] * (batchPath[j] - pathLevel[j]);
        pathNode[j] = Poseidon(2);
        pathNode[j].inputs[0] <== pathLevel[j] + pathSwap[j];
        pathNode[j].inputs[1] <== batchPath[j] - pathSwap[j];
        pathLevel[j + 1] <== pathNode[j].out;
    }

    // The signed message binds the attested root to its batch count, epoch, deployment and registry.
    component message = Poseidon(7);
    message.inputs[0] <== pathLevel[PDEPTH];
    message.inputs[1] <== batches;
    message.inputs[2] <== epoch;
    message.inputs[3] <== deploymentIdHi;
    message.inputs[4] <== deploymentIdLo;
    message.inputs[5] <== domainHi;
    message.inputs[6] <== domainLo;
    component signature = EdDSAPoseidonVerifier();
    signature.enabled <== 1;
    signature.Ax <== providerAx;
    signature.Ay <== providerAy;
    signature.S <== signatureS;
    signature.R8x <== signatureR8x;
    signature.R8y <== signatureR8y;
    signature.M <== message.out;
    component key = Poseidon(2);
    key.inputs[0] <== providerAx;
    key.inputs[1] <== providerAy;
    providerKey <== key.out;
    attestation <== message.out;
    batchIndex <== batchPosition;
    batchCount <== batches;
}
