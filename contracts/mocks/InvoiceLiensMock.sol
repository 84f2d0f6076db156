// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvoiceLiens} from "../interfaces/IInvoiceLiens.sol";

/// @title InvoiceLiensMock
/// @notice TEST ONLY. A stand-in for the invoice registry's lien interface, so that the payable
/// certificates can be tested before (and independently of) the real `InvoiceRegistry`. Anyone may
/// write an invoice; one instrument, set at construction or by `setInstrument`, may take and release
/// liens, with the same errors and events as the real registry. Never deployed by the platform scripts.
contract InvoiceLiensMock is IInvoiceLiens {
    mapping(uint256 invoiceId => InvoiceView) private _invoices;
    address public instrument;

    function setInstrument(address instrument_) external {
        instrument = instrument_;
    }

    /// @notice Writes invoice `invoiceId` as given (test set-up).
    function setInvoice(uint256 invoiceId, InvoiceView calldata v) external {
        _invoices[invoiceId] = v;
    }

    function takeLien(uint256 invoiceId, address financier) external {
        if (msg.sender != instrument) revert InvoiceRegistryUnauthorizedInstrument(msg.sender);
        InvoiceView storage v = _invoices[invoiceId];
        if (v.lienInstrument != address(0)) {
            revert InvoiceRegistryLienAlreadyHeld(invoiceId, v.lienInstrument, v.lienFinancier);
        }
        v.lienInstrument = msg.sender;
        v.lienFinancier = financier;
        v.state = InvoiceState.Financed;
        emit LienTaken(invoiceId, msg.sender, financier);
    }

    function releaseLien(uint256 invoiceId) external {
        InvoiceView storage v = _invoices[invoiceId];
        if (v.lienInstrument != msg.sender) revert InvoiceRegistryNoLien(invoiceId, msg.sender);
        address financier = v.lienFinancier;
        v.lienInstrument = address(0);
        v.lienFinancier = address(0);
        v.state = InvoiceState.Confirmed;
        emit LienReleased(invoiceId, msg.sender, financier);
    }

    function invoice(uint256 invoiceId) external view returns (InvoiceView memory) {
        return _invoices[invoiceId];
    }
}
