"""Issue 12 finding "The keys file and the README agree about who is onboarded": after `make run`, the keys file
holds keys for the demo world, registered on the chain, and for the tier suppliers that `scripts/demo.py`
registers, marked as not registered yet; nothing else. README.md says exactly that."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from test_platform_supervision import ROOT, Platform

from app.demo_world import DEMO_WORLD, SUPPLIERS
from app.runner import REGISTERED_BY_DEMO, REGISTERED_BY_MAKE_RUN


def _participant(platform: Platform, key: str, address: str) -> int:
    request = urllib.request.Request(f"{platform.gateway_url}/v1/participants/{address}",
                                     headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_keys_file_marks_who_make_run_registered_and_who_the_demo_registers(made_run):
    platform = made_run
    keys = json.loads((platform.data_dir / "gateway-api-keys.json").read_text())
    demo_world = {p.role for p in DEMO_WORLD}
    assert set(keys) == demo_world | set(SUPPLIERS)  # no key for exporter2 or anyone else
    operator_key = keys["operator"]["api_key"]
    for role, entry in keys.items():
        status = _participant(platform, operator_key, entry["address"])
        if role in demo_world:
            assert entry["onboarding"] == REGISTERED_BY_MAKE_RUN and status == 200, (role, status)
        else:
            assert entry["onboarding"] == REGISTERED_BY_DEMO and status == 404, (role, status)
    printed = "".join(platform.output)
    assert all(entry["api_key"] in printed for entry in keys.values())

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert '"onboarding": "registered, KYC\'d and funded by make run"' in readme
    assert "`supplier1`–`3`" in readme and "registered and KYC'd through the API by `scripts/demo.py` on its " \
        "first run" in readme and "No other keys are written." in readme
