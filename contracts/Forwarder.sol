// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

/// @title Forwarder
/// @notice The ERC-2771 forwarder every tradefin contract trusts (DESIGN §9): a participant that keeps its own
/// key signs an EIP-712 `ForwardRequest` (its nonce, a deadline); any relayer (the gateway) submits it, and the
/// platform contracts read the signer as the actor with `_msgSender()`. The relayer cannot alter, replay or
/// reorder what was signed: OpenZeppelin's `ERC2771Forwarder` checks the signature, the signer's nonce and the
/// deadline, and refuses a target that does not trust it.
///
/// **One change to OpenZeppelin (issue 14):** `execute` reverts with the forwarded call's own revert data
/// (e.g. `InvoiceRegistryUnexpectedState(...)`) instead of `Errors.FailedCall()`, so a relayed write is refused
/// exactly as the same write sent directly; only a call that reverted without data still answers `FailedCall()`.
/// The data bubbled is whatever the target returned: a target is a contract that trusts this forwarder (checked
/// before the call), i.e. a platform contract, whose errors the gateway decodes with the platform ABIs.
/// `executeBatch` is OpenZeppelin's, unchanged (the gateway relays single requests).
/// @dev Deployed first, with no owner and no settings: its EIP-712 domain is `("tradefin", "1")`.
contract Forwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("tradefin") {}

    /// @notice Executes `request` on behalf of its signer (OpenZeppelin's checks: trusted target, deadline,
    /// signature over the signer's current nonce, forwarded gas). When the forwarded call reverts, this reverts
    /// with the call's own revert data (`Errors.FailedCall()` if it had none), so the relayer sees the platform's
    /// named error. The signer's nonce is not consumed then: `_execute` uses it, but the whole call reverts.
    /// @dev Same as OpenZeppelin 5.7 but for the revert data. `msg.value` must equal `request.value`
    /// (`ERC2771ForwarderMismatchedValue`), as in the original.
    function execute(ForwardRequestData calldata request) public payable override {
        if (msg.value != request.value) {
            revert ERC2771ForwarderMismatchedValue(request.value, msg.value);
        }
        if (!_execute(request, true)) {
            // The return data buffer still holds the forwarded call's revert data: in OpenZeppelin 5.7's
            // `_execute`, the forwarded `call` is the last external call. After it come only `gas()`,
            // `_checkForwardedGas` (pure) and `emit ExecutedForwardRequest` (a log); the `isTrustedForwarder`
            // staticcall and the signature recovery (ecrecover precompile) happen before it, in `_validate`.
            // slither-disable-next-line assembly: bubbles the forwarded call's revert data, read at once
            assembly ("memory-safe") {
                let size := returndatasize()
                if size {
                    let ptr := mload(0x40)
                    returndatacopy(ptr, 0, size)
                    revert(ptr, size)
                }
            }
            revert Errors.FailedCall();
        }
    }
}
