// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBatchVerifier} from "../IEpochRegistry.sol";

/// @title AcceptingVerifier
/// @notice TESTS ONLY: a batch verifier that accepts every proof, so a test gives a registry with a verifier any
/// public signals (proven totals per deployment) without proving them. Never deploy it as a registry's verifier.
contract AcceptingVerifier is IBatchVerifier {
    /// @inheritdoc IBatchVerifier
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[17] calldata) external pure returns (bool) {
        return true;
    }
}
