"""Gas of the foundation: settlement token mint and transfers."""

from __future__ import annotations

from scripts._common import purpose_code, text_hash

BUDGETS: dict[str, int] = {}


def measure(platform, roles, chain) -> dict[str, int]:
    usd = platform["SettlementTokenUSD"]
    bank, exporter, importer = roles["bank_us"], roles["exporter"], roles["importer"]
    mint = usd.mint(importer.address, 1_000_00, text_hash("bench:mint"), sender=bank)
    domestic = usd.transfer(roles["supplier1"].address, 1_00, sender=exporter)
    cross = usd.transferWithPurpose(exporter.address, 5_000_00, purpose_code("GDDS"), text_hash("bench:inv-1"),
                                    sender=importer)
    return {
        "token_mint": mint.gas_used,
        "token_transfer_domestic": domestic.gas_used,
        "token_transfer_cross_border": cross.gas_used,
    }
