// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {World} from "./utils/World.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice Drives the settlement token and the registry with bounded, always-valid calls.
/// @dev `fail_on_revert = true`: every action either makes a call that must succeed, or makes a call
/// whose outcome it predicts and catches. The handler records, at the moment of each call, whether the
/// parties were active; the invariants then compare what happened with what the rules allow:
/// - `wrongSuccesses`: a transfer, mint or burn succeeded although a party was inactive (must stay 0);
/// - `wrongRefusals`: one was refused although every party was active and funded (must stay 0);
/// - `frozenBalance`: each frozen participant's balance at the moment it was frozen.
contract SettlementTokenHandler is Test {
    ParticipantRegistry internal immutable registry;
    SettlementToken internal immutable usd;
    address internal immutable regulator;

    address[] internal _banks;
    address[] internal _corporates;
    address[] internal _holders; // every address that may ever hold a balance
    address internal immutable spender; // a registered instrument moving money under allowances

    uint256 public wrongSuccesses;
    uint256 public wrongRefusals;
    uint256 public transfersSettled;
    uint256 public transfersRefused;
    mapping(address account => uint256) public frozenBalance;

    constructor(
        ParticipantRegistry registry_,
        SettlementToken usd_,
        address regulator_,
        address[] memory banks,
        address[] memory corporates,
        address outsider,
        address instrument
    ) {
        registry = registry_;
        usd = usd_;
        regulator = regulator_;
        _banks = banks;
        _corporates = corporates;
        spender = instrument;
        for (uint256 i; i < banks.length; ++i) _holders.push(banks[i]);
        for (uint256 i; i < corporates.length; ++i) _holders.push(corporates[i]);
        _holders.push(outsider);
        _holders.push(spender);
    }

    function holders() external view returns (address[] memory) {
        return _holders;
    }

    // ───────────────────────────── Money ─────────────────────────────

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        (address from, address to) = (_holder(fromSeed), _holder(toSeed));
        amount = bound(amount, 0, usd.balanceOf(from));
        bool allowed = registry.isActive(from) && registry.isActive(to);

        vm.prank(from);
        try usd.transfer(to, amount) {
            _settled(allowed);
        } catch {
            _refused(allowed);
        }
    }

    function transferWithPurpose(uint256 fromSeed, uint256 toSeed, uint256 amount, bytes4 purposeCode) external {
        (address from, address to) = (_holder(fromSeed), _holder(toSeed));
        amount = bound(amount, 0, usd.balanceOf(from));
        bool allowed = registry.isActive(from) && registry.isActive(to);

        vm.prank(from);
        try usd.transferWithPurpose(to, amount, purposeCode, keccak256(abi.encode(amount))) {
            _settled(allowed);
        } catch {
            _refused(allowed);
        }
    }

    /// @dev `from` approves the instrument (approval needs no active party), which then pays `to`; the
    /// instrument is a participant the regulator may freeze like any other, so it must be active too.
    function transferFromWithPurpose(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        (address from, address to) = (_holder(fromSeed), _holder(toSeed));
        amount = bound(amount, 0, usd.balanceOf(from));
        vm.prank(from);
        usd.approve(spender, amount);
        bool allowed = registry.isActive(spender) && registry.isActive(from) && registry.isActive(to);

        vm.prank(spender);
        try usd.transferFromWithPurpose(from, to, amount, "GDDS", keccak256("invoice")) {
            _settled(allowed);
        } catch {
            _refused(allowed);
        }
    }

    /// @dev A participant (bank, corporate or the instrument, possibly frozen or KYC-lapsed) spends an allowance `from`
    /// gave it, alternating `transferFrom` and `transferFromWithPurpose`: the spender must be active too.
    function transferFromByParticipant(uint256 spenderSeed, uint256 fromSeed, uint256 toSeed, uint256 amount)
        external
    {
        address payer = _participant(spenderSeed);
        (address from, address to) = (_holder(fromSeed), _holder(toSeed));
        amount = bound(amount, 0, usd.balanceOf(from));
        vm.prank(from);
        usd.approve(payer, amount);
        bool allowed = registry.isActive(payer) && registry.isActive(from) && registry.isActive(to);

        vm.prank(payer);
        if (amount % 2 == 0) {
            try usd.transferFrom(from, to, amount) {
                _settled(allowed);
            } catch {
                _refused(allowed);
            }
        } else {
            try usd.transferFromWithPurpose(from, to, amount, "GDDS", keccak256("invoice")) {
                _settled(allowed);
            } catch {
                _refused(allowed);
            }
        }
    }

    function mint(uint256 bankSeed, uint256 toSeed, uint256 amount) external {
        (address bank, address to) = (_bank(bankSeed), _holder(toSeed));
        amount = bound(amount, 1, 1e15);
        bool allowed = registry.isActive(bank) && registry.isActive(to);

        vm.prank(bank);
        try usd.mint(to, amount, keccak256("deposit")) {
            _settled(allowed);
        } catch {
            _refused(allowed);
        }
    }

    function burn(uint256 bankSeed, uint256 amount) external {
        address bank = _bank(bankSeed);
        uint256 balance = usd.balanceOf(bank);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        bool allowed = registry.isActive(bank);

        vm.prank(bank);
        try usd.burn(amount, keccak256("withdrawal")) {
            _settled(allowed);
        } catch {
            _refused(allowed);
        }
    }

    // ───────────────────────────── Supervision and KYC ─────────────────────────────

    function freeze(uint256 seed) external {
        address account = _participant(seed);
        if (registry.participant(account).frozen) return;
        frozenBalance[account] = usd.balanceOf(account);
        vm.prank(regulator);
        registry.freezeParticipant(account, keccak256("AML"));
    }

    function unfreeze(uint256 seed) external {
        address account = _participant(seed);
        if (!registry.participant(account).frozen) return;
        vm.prank(regulator);
        registry.unfreezeParticipant(account, keccak256("cleared"));
    }

    function approveKyc(uint256 corporateSeed, uint256 bankSeed, uint256 validFor) external {
        (address corporate, address bank) = (_corporate(corporateSeed), _bank(bankSeed));
        if (!registry.isActive(bank)) return; // a frozen bank may not attest
        vm.prank(bank);
        registry.attestKyc(
            corporate,
            IParticipantRegistry.KycStatus.Approved,
            uint48(block.timestamp + bound(validFor, 1, 60 days)),
            keccak256("kyc")
        );
    }

    /// @dev A bank revokes its own attestation (KYC belongs to the bank that attested it): the corporate
    /// stays KYC-valid while another bank's approval stands.
    function revokeKyc(uint256 corporateSeed, uint256 bankSeed) external {
        (address corporate, address bank) = (_corporate(corporateSeed), _bank(bankSeed));
        if (!registry.isActive(bank)) return; // a frozen bank may not attest
        vm.prank(bank);
        registry.attestKyc(corporate, IParticipantRegistry.KycStatus.Revoked, 0, keccak256("revoked"));
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 10 days));
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    function _settled(bool allowed) private {
        ++transfersSettled;
        if (!allowed) ++wrongSuccesses;
    }

    function _refused(bool allowed) private {
        ++transfersRefused;
        if (allowed) ++wrongRefusals;
    }

    function _holder(uint256 seed) private view returns (address) {
        return _holders[seed % _holders.length];
    }

    function _bank(uint256 seed) private view returns (address) {
        return _banks[seed % _banks.length];
    }

    function _corporate(uint256 seed) private view returns (address) {
        return _corporates[seed % _corporates.length];
    }

    /// @dev Banks, corporates and the instrument (never the regulator: regulators cannot be frozen).
    function _participant(uint256 seed) private view returns (address) {
        seed %= _banks.length + _corporates.length + 1;
        if (seed == _banks.length + _corporates.length) return spender;
        return seed < _banks.length ? _banks[seed] : _corporates[seed - _banks.length];
    }
}

/// @notice The settlement token's invariants (issue 2): supply equals the sum of balances; no transfer
/// ever involves an inactive party (sender, receiver, or the spender under an allowance, an instrument
/// contract included); a frozen participant's balance never changes while it is frozen.
contract SettlementTokenInvariantTest is World {
    SettlementTokenHandler internal handler;

    function setUp() public {
        _deployWorld();
        address[] memory banks = new address[](2);
        (banks[0], banks[1]) = (bankCn, bankUs);
        address[] memory corporates = new address[](4);
        (corporates[0], corporates[1], corporates[2], corporates[3]) = (exporter, supplier, importer, buyerDe);
        address instrument = makeAddr("instrument");
        _register(instrument, IParticipantRegistry.ParticipantKind.Instrument, "SG");
        handler = new SettlementTokenHandler(registry, usd, regulator, banks, corporates, outsider, instrument);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = SettlementTokenHandler.transfer.selector;
        selectors[1] = SettlementTokenHandler.transferWithPurpose.selector;
        selectors[2] = SettlementTokenHandler.transferFromWithPurpose.selector;
        selectors[3] = SettlementTokenHandler.mint.selector;
        selectors[4] = SettlementTokenHandler.burn.selector;
        selectors[5] = SettlementTokenHandler.freeze.selector;
        selectors[6] = SettlementTokenHandler.unfreeze.selector;
        selectors[7] = SettlementTokenHandler.approveKyc.selector;
        selectors[8] = SettlementTokenHandler.revokeKyc.selector;
        selectors[9] = SettlementTokenHandler.warp.selector;
        selectors[10] = SettlementTokenHandler.transferFromByParticipant.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every rule of the settlement token below, checked after each call of one campaign (forge runs
    /// one campaign per invariant function: one function checks them all for the price of one).
    function invariant_settlementTokenRules() public view {
        _totalSupplyEqualsSumOfBalances();
        _noTransferInvolvesInactiveParty();
        _activePartiesAreNeverRefused();
        _frozenBalanceNeverChanges();
    }

    function _totalSupplyEqualsSumOfBalances() internal view {
        address[] memory holders = handler.holders();
        uint256 sum;
        for (uint256 i; i < holders.length; ++i) sum += usd.balanceOf(holders[i]);
        vm.assertEq(usd.totalSupply(), sum, "total supply == sum of balances");
    }

    function _noTransferInvolvesInactiveParty() internal view {
        vm.assertEq(handler.wrongSuccesses(), 0, "a transfer with an inactive party succeeded");
    }

    function _activePartiesAreNeverRefused() internal view {
        vm.assertEq(handler.wrongRefusals(), 0, "a transfer between active parties was refused");
    }

    function _frozenBalanceNeverChanges() internal view {
        address[] memory holders = handler.holders();
        for (uint256 i; i < holders.length; ++i) {
            address account = holders[i];
            if (registry.participant(account).frozen) {
                vm.assertEq(usd.balanceOf(account), handler.frozenBalance(account), "frozen balance changed");
            }
        }
    }
}
