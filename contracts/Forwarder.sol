// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title Forwarder
/// @notice The ERC-2771 forwarder every tradefin contract trusts (DESIGN §9): a participant that keeps its own
/// key signs an EIP-712 `ForwardRequest` (its nonce, a deadline); any relayer (the gateway) submits it, and the
/// platform contracts read the signer as the actor with `_msgSender()`. The relayer cannot alter, replay or
/// reorder what was signed: OpenZeppelin's `ERC2771Forwarder` checks the signature, the signer's nonce and the
/// deadline, and refuses a target that does not trust it.
/// @dev Deployed first, with no owner and no settings: its EIP-712 domain is `("tradefin", "1")`.
contract Forwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("tradefin") {}
}
