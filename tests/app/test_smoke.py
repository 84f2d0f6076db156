def test_health_reports_chain_ready(http, world):
    body = http.get("/health").json()
    assert body["chain_ready"] is True
    # the 11 keyed roles and any custodial key an earlier test created through this gateway are its signers; the
    # folder may also hold keys this gateway never loaded (the relayers of other tests' gateways on this world)
    keystores = len(list((world.data_dir / "keystores").glob("0x*.json")))
    assert 11 <= body["signers"] <= keystores


def test_payment_lands_and_answers_decoded_event(api, world):
    r = api.post("exporter", "/v1/payments", json={"currency": "USD", "to": world.roles["importer"], "amount": 1234,
                                                    "purpose_code": "GDDS", "reference": "INV-1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["result"]["amount"] == 1234
    assert body["result"]["cross_border"] is True
    assert body["tx_hash"].startswith("0x")
