// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

import {Vm} from "./utils/Vm.sol";
import {World} from "./utils/World.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";

/// @notice A contract that does not trust the forwarder (no `isTrustedForwarder`): called through it, it would
/// see the forwarder as its caller, so the forwarder must refuse to call it.
contract UntrustingCounter {
    uint256 public pokes;

    function poke() external {
        ++pokes;
    }
}

/// @notice Requests signed by participants that keep their own keys and relayed by an account of the gateway
/// (issue 14). Each test replays one attack of a relayer (or of anyone holding a signed request) and checks the
/// named error and that nothing was applied: the target's state and the signer's forwarder nonce unchanged.
contract ForwarderTest is World {
    /// @dev What the participant signs: OpenZeppelin's `ForwardRequest`, which carries the nonce
    /// (`ForwardRequestData`, what the relayer submits, does not: the forwarder reads it from its storage).
    struct SignedRequest {
        address from;
        address to;
        uint256 value;
        uint256 gas;
        uint256 nonce;
        uint48 deadline;
        bytes data;
    }

    bytes32 internal constant FORWARD_REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 internal constant REQUEST_GAS = 1_000_000;
    uint256 internal constant FACE = 50_000_00;

    // The world's participants are `makeAddr(name)`: their keys are `keccak256(name)`.
    uint256 internal exporterKey = uint256(keccak256("exporter"));
    uint256 internal supplierKey = uint256(keccak256("supplier"));
    uint256 internal outsiderKey = uint256(keccak256("outsider"));
    address internal relayer = makeAddr("relayer"); // the gateway's relayer: no participant, no balance

    function setUp() public {
        _deployWorld();
    }

    // ───────────────────────────── Building and signing requests ─────────────────────────────

    function _domainSeparator() internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            forwarder.eip712Domain();
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifyingContract)
        );
    }

    function _digest(SignedRequest memory request) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                FORWARD_REQUEST_TYPEHASH,
                request.from,
                request.to,
                request.value,
                request.gas,
                request.nonce,
                request.deadline,
                keccak256(request.data)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    /// @dev A request of `from` to call `to` with `data`, at `from`'s current nonce, valid for an hour.
    function _request(address from, address to, bytes memory data) internal view returns (SignedRequest memory) {
        return SignedRequest(from, to, 0, REQUEST_GAS, forwarder.nonces(from), uint48(block.timestamp + 1 hours), data);
    }

    /// @dev `request` signed with `key` (which may not be the key of `request.from`), as the relayer submits it.
    function _signed(SignedRequest memory request, uint256 key)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _digest(request));
        return ERC2771Forwarder.ForwardRequestData(
            request.from,
            request.to,
            request.value,
            request.gas,
            request.deadline,
            request.data,
            abi.encodePacked(r, s, v)
        );
    }

    /// @dev The address the forwarder recovers from `submitted`'s signature at `from`'s current nonce: the
    /// `signer` argument of `ERC2771ForwarderInvalidSigner`.
    function _recovered(ERC2771Forwarder.ForwardRequestData memory submitted) internal view returns (address) {
        SignedRequest memory seen = SignedRequest(
            submitted.from,
            submitted.to,
            submitted.value,
            submitted.gas,
            forwarder.nonces(submitted.from),
            submitted.deadline,
            submitted.data
        );
        bytes memory signature = submitted.signature;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return ecrecover(_digest(seen), v, r, s);
    }

    function _relay(ERC2771Forwarder.ForwardRequestData memory submitted) internal {
        vm.prank(relayer);
        forwarder.execute(submitted);
    }

    function _registerCall(bytes32 number, uint256 face) internal view returns (bytes memory) {
        return abi.encodeCall(
            IInvoiceRegistry.register,
            (
                importer,
                address(usd),
                number,
                face,
                uint64(block.timestamp),
                uint64(block.timestamp + 90 days),
                keccak256(abi.encode(number))
            )
        );
    }

    function _invoiceIdOf(address seller, address buyer, bytes32 number) internal view returns (uint256) {
        return uint256(invoices.invoiceKey(seller, buyer, number));
    }

    /// @dev Nothing of a refused registration applied: no invoice, no token for the seller, nonce kept.
    function _assertNotRegistered(bytes32 number, uint256 nonceBefore) internal view {
        uint256 invoiceId = _invoiceIdOf(exporter, importer, number);
        vm.assertTrue(invoices.state(invoiceId) == IInvoiceLiens.InvoiceState.None, "no invoice");
        vm.assertEq(invoices.balanceOf(exporter), 0, "no invoice token");
        vm.assertEq(forwarder.nonces(exporter), nonceBefore, "nonce not consumed");
    }

    // ───────────────────────────── A relayed request ─────────────────────────────

    function test_execute_relayedRegistrationRecordsTheSignerAsSeller() public {
        bytes32 number = invoiceNumber("FWD-", 1);
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(invoices), _registerCall(number, FACE)), exporterKey);

        vm.recordLogs();
        _relay(submitted);

        uint256 invoiceId = _invoiceIdOf(exporter, importer, number);
        IInvoiceLiens.InvoiceView memory registered = invoices.invoice(invoiceId);
        vm.assertEq(registered.seller, exporter, "the signer is the seller");
        vm.assertEq(registered.buyer, importer, "buyer as signed");
        vm.assertEq(registered.faceAmount, FACE, "face as signed");
        vm.assertTrue(registered.state == IInvoiceLiens.InvoiceState.Registered, "registered");
        vm.assertEq(invoices.balanceOf(relayer), 0, "nothing for the relayer");
        vm.assertEq(forwarder.nonces(exporter), 1, "nonce consumed");

        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory last = logs[logs.length - 1];
        vm.assertEq(last.emitter, address(forwarder), "the forwarder's event last");
        vm.assertEq(last.topics[0], ERC2771Forwarder.ExecutedForwardRequest.selector, "ExecutedForwardRequest");
        vm.assertEq(last.topics[1], bytes32(uint256(uint160(exporter))), "for the signer");
        vm.assertEq(keccak256(last.data), keccak256(abi.encode(uint256(0), true)), "nonce 0, success");
    }

    // ───────────────────────────── Signatures ─────────────────────────────

    function test_execute_failsIfSignedByAnotherKey() public {
        bytes32 number = invoiceNumber("FWD-", 2);
        ERC2771Forwarder.ForwardRequestData memory forged =
            _signed(_request(exporter, address(invoices), _registerCall(number, FACE)), outsiderKey);

        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, outsider, exporter)
        );
        _relay(forged);
        _assertNotRegistered(number, 0);
    }

    /// @dev The relayer changes one signed field before submitting: the data (a larger face amount), the target
    /// (another contract that trusts the forwarder, so that the signature is what refuses it), the gas or the
    /// deadline (later, so that the request is still live).
    function testFuzz_execute_failsIfAFieldIsModifiedAfterSigning(uint8 field, uint256 change) public {
        bytes32 number = invoiceNumber("FWD-", 3);
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(invoices), _registerCall(number, FACE)), exporterKey);
        field = uint8(bound(field, 0, 3));
        if (field == 0) {
            submitted.data = _registerCall(number, bound(change, FACE + 1, type(uint48).max));
        } else if (field == 1) {
            submitted.to = change % 2 == 0 ? address(usd) : address(financing);
        } else if (field == 2) {
            uint256 gas = bound(change, 21_000, 10_000_000);
            submitted.gas = gas == REQUEST_GAS ? gas + 1 : gas;
        } else {
            submitted.deadline = uint48(bound(change, submitted.deadline + 1, type(uint48).max));
        }
        address recovered = _recovered(submitted);
        vm.assertTrue(recovered != exporter, "another signer recovered");

        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, recovered, exporter)
        );
        _relay(submitted);
        _assertNotRegistered(number, 0);
    }

    function test_execute_failsIfAnExecutedRequestIsReplayed() public {
        bytes memory transfer = abi.encodeCall(usd.transfer, (supplier, 1_000_00));
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(usd), transfer), exporterKey);
        _relay(submitted);
        vm.assertEq(usd.balanceOf(supplier), INITIAL_BALANCE + 1_000_00, "paid once");
        vm.assertEq(forwarder.nonces(exporter), 1, "nonce consumed");

        // The signature was over nonce 0; the forwarder now checks it against nonce 1.
        address recovered = _recovered(submitted);
        vm.assertTrue(recovered != exporter, "another signer recovered");
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, recovered, exporter)
        );
        _relay(submitted);
        vm.assertEq(usd.balanceOf(supplier), INITIAL_BALANCE + 1_000_00, "not paid twice");
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE - 1_000_00, "debited once");
        vm.assertEq(forwarder.nonces(exporter), 1, "nonce unchanged by the replay");
    }

    // ───────────────────────────── Deadline and target ─────────────────────────────

    function test_execute_failsIfTheDeadlinePassed() public {
        bytes32 number = invoiceNumber("FWD-", 4);
        SignedRequest memory request = _request(exporter, address(invoices), _registerCall(number, FACE));
        ERC2771Forwarder.ForwardRequestData memory submitted = _signed(request, exporterKey);
        vm.warp(uint256(request.deadline) + 1);

        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderExpiredRequest.selector, request.deadline)
        );
        _relay(submitted);
        _assertNotRegistered(number, 0);
    }

    function test_execute_failsIfTheTargetDoesNotTrustTheForwarder() public {
        UntrustingCounter target = new UntrustingCounter();
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(target), abi.encodeCall(target.poke, ())), exporterKey);

        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2771Forwarder.ERC2771UntrustfulTarget.selector, address(target), address(forwarder)
            )
        );
        _relay(submitted);
        vm.assertEq(target.pokes(), 0, "never called");
        vm.assertEq(forwarder.nonces(exporter), 0, "nonce not consumed");
    }

    // ───────────────────────────── The inner call's revert ─────────────────────────────

    /// @dev The supplier (an active corporate, not the invoice's buyer) confirms the exporter's invoice on the
    /// importer: relayed, the refusal is the registry's own error with the same arguments as when sent directly.
    function test_execute_bubblesTheRegistryErrorOfAConfirmationByANonBuyer() public {
        uint256 invoiceId =
            _invoice(exporter, importer, invoiceNumber("FWD-", 5), FACE, uint64(block.timestamp + 90 days), false);
        bytes memory expected =
            abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryNotBuyer.selector, invoiceId, supplier);

        vm.expectRevert(expected);
        vm.prank(supplier);
        invoices.confirm(invoiceId);

        ERC2771Forwarder.ForwardRequestData memory submitted = _signed(
            _request(supplier, address(invoices), abi.encodeCall(invoices.confirm, (invoiceId))), supplierKey
        );
        vm.expectRevert(expected);
        _relay(submitted);

        vm.assertTrue(invoices.state(invoiceId) == IInvoiceLiens.InvoiceState.Registered, "not confirmed");
        vm.assertEq(forwarder.nonces(supplier), 0, "nonce not consumed");
    }

    function test_execute_bubblesTheRegistryErrorOfAZeroAmountRegistration() public {
        bytes32 number = invoiceNumber("FWD-", 6);
        bytes memory expected = abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryInvalidAmount.selector, 0);

        vm.expectRevert(expected);
        vm.prank(exporter);
        invoices.register(
            importer,
            address(usd),
            number,
            0,
            uint64(block.timestamp),
            uint64(block.timestamp + 90 days),
            keccak256(abi.encode(number))
        );

        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(invoices), _registerCall(number, 0)), exporterKey);
        vm.expectRevert(expected);
        _relay(submitted);
        _assertNotRegistered(number, 0);

        // The nonce is still 0: the same signature stays valid and is refused for the registry's reason again.
        vm.expectRevert(expected);
        _relay(submitted);
    }

    /// @dev A call that reverts without data (here: the signer asked for too little gas and the registration ran
    /// out of it) keeps OpenZeppelin's `FailedCall()`.
    function test_execute_failsWithFailedCallIfTheCallRevertsWithoutData() public {
        bytes32 number = invoiceNumber("FWD-", 7);
        SignedRequest memory request = _request(exporter, address(invoices), _registerCall(number, FACE));
        request.gas = 5_000;
        ERC2771Forwarder.ForwardRequestData memory submitted = _signed(request, exporterKey);

        vm.expectRevert(abi.encodeWithSelector(Errors.FailedCall.selector));
        _relay(submitted);
        _assertNotRegistered(number, 0);
    }

    // ───────────────────────────── Gas griefing ─────────────────────────────

    /// @dev The relayer gives the transaction enough gas for the forwarder's checks but not for the signed
    /// `gas`, so that the registration runs out of gas: OpenZeppelin's `_checkForwardedGas` then burns all the
    /// gas (`invalid()`), the whole transaction fails with no revert data and the nonce is not consumed. The
    /// same signed request then executes when relayed with enough gas.
    function test_execute_failsWhollyIfTheRelayerSendsTooLittleGas() public {
        bytes32 number = invoiceNumber("FWD-", 8);
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(invoices), _registerCall(number, FACE)), exporterKey);
        uint256 relayerGas = 100_000; // the checks and the nonce take about 40,000; the registration far more

        uint256 before = gasleft();
        vm.prank(relayer);
        (bool ok, bytes memory returned) =
            address(forwarder).call{gas: relayerGas}(abi.encodeCall(forwarder.execute, (submitted)));
        uint256 used = before - gasleft();

        vm.assertFalse(ok, "the transaction fails");
        vm.assertEq(returned.length, 0, "invalid(): no revert data");
        vm.assertGe(used, relayerGas, "all the relayer's gas burnt");
        _assertNotRegistered(number, 0);

        _relay(submitted);
        vm.assertEq(invoices.ownerOf(_invoiceIdOf(exporter, importer, number)), exporter, "executed later");
        vm.assertEq(forwarder.nonces(exporter), 1, "nonce consumed once");
    }

    /// @dev Whatever gas the relayer picks, the request either executes (registered, nonce consumed) or the
    /// transaction fails and nothing is applied: never a consumed nonce without the registration.
    function testFuzz_execute_relayerGasNeverBurnsTheNonceAlone(uint256 relayerGas) public {
        relayerGas = bound(relayerGas, 30_000, 1_200_000);
        bytes32 number = invoiceNumber("FWD-", 9);
        ERC2771Forwarder.ForwardRequestData memory submitted =
            _signed(_request(exporter, address(invoices), _registerCall(number, FACE)), exporterKey);

        vm.prank(relayer);
        (bool ok,) = address(forwarder).call{gas: relayerGas}(abi.encodeCall(forwarder.execute, (submitted)));

        uint256 invoiceId = _invoiceIdOf(exporter, importer, number);
        if (ok) {
            vm.assertEq(invoices.ownerOf(invoiceId), exporter, "registered for the signer");
            vm.assertEq(forwarder.nonces(exporter), 1, "nonce consumed");
        } else {
            _assertNotRegistered(number, 0);
        }
    }
}
