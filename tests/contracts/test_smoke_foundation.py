def test_world_is_active(registry, usd, exporter, importer, bank_cn):
    assert registry.isActive(exporter.address)
    assert registry.isActive(importer.address)
    assert usd.balanceOf(exporter.address) == 10_000_000_00
    assert usd.decimals() == 2
