"""FX quotes scale the rate by each token's own `decimals()` (issue 12: "FX conversion assumes 2 decimals for
any currency the demo table lacks": a JPY token, 0 decimals, was quoted 100× off).

Replayed on the real chain: a JPY settlement token with 0 decimals is deployed next to the test world (by
`outsider`, whose nonce no gateway owns), and a gateway whose deployment includes it signs USD→JPY and
JPY→USD quotes for bank_cn. The gateway process has its own data folder (no API key of the session's
gateway is touched) and sends nothing: a quote is signed off chain.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from gateway_world import GatewayProcess, settings_for

RATE_SCALE = 10**18


@pytest.fixture(scope="module")
def jpy_gateway(world, tmp_path_factory):
    from ape import accounts, project

    from app.runner import derive_private_keys, prepare_access
    from scripts._common import TEST_ROLES, accounts_by_role, currency_code

    outsider = accounts_by_role(accounts.test_accounts)["outsider"]
    jpy = outsider.deploy(project.SettlementToken, "tradefin JPY deposit", currency_code("JPY"), 0,
                          world.addresses["ParticipantRegistry"], world.addresses["Forwarder"])
    data_dir = tmp_path_factory.mktemp("jpy-gateway")
    (data_dir / "deployments").mkdir()
    recorded = json.loads((world.data_dir / "deployments" / f"{world.chain_id}.json").read_text())
    recorded["contracts"] = recorded["contracts"] | {"SettlementTokenJPY": str(jpy.address)}
    (data_dir / "deployments" / f"{world.chain_id}.json").write_text(json.dumps(recorded))
    env = world.env(TRADEFIN_DATA_DIR=str(data_dir), TRADEFIN_INDEXER_ENABLED="false")
    issued = prepare_access(settings_for(env), {"bank_cn": derive_private_keys(TEST_ROLES)["bank_cn"]},
                            print_keys=False)
    with GatewayProcess(env, log_path=data_dir / "gateway.log") as process:
        yield process, {"Authorization": f"Bearer {issued['bank_cn']['api_key']}"}


@pytest.mark.parametrize("base,quote,rate,expected", [
    ("USD", "JPY", "150", Decimal(150) * RATE_SCALE / 100),        # 1 cent → 1.5 yen
    ("JPY", "USD", "0.0066", Decimal("0.0066") * RATE_SCALE * 100),  # 1 yen → 0.66 cents
    ("USD", "CNY", "7.1", Decimal("7.1") * RATE_SCALE),             # both 2 decimals: unchanged
])
def test_a_quote_scales_the_rate_by_each_tokens_own_decimals(jpy_gateway, world, base, quote, rate, expected):
    process, auth = jpy_gateway
    r = httpx.post(process.url + "/v1/fx-quotes", headers=auth, timeout=30, json={
        "payer": world.roles["exporter"], "base_currency": base, "quote_currency": quote, "rate": rate,
        "max_base_amount": 100_000})
    assert r.status_code == 201, r.text
    assert r.json()["quote"]["rate"] == str(int(expected)), r.json()
