"""The Slither gate reads Slither's JSON report, keeps what is ours, and fails only at the gate."""

from __future__ import annotations

from typing import Any

from tools.slither_check import Finding, gate, parse_findings, print_findings


def detector(check: str, impact: str, *files: str) -> dict[str, Any]:
    return {
        "check": check,
        "impact": impact,
        "confidence": "Medium",
        "description": f"{check} in {', '.join(files)}\n\tdetail line",
        "elements": [{"type": "function", "source_mapping": {"filename_relative": f}} for f in files],
    }


REPORT = {
    "success": True,
    "error": None,
    "results": {
        "detectors": [
            detector("arbitrary-send-eth", "High", "contracts/Vault.sol"),
            detector("reentrancy-no-eth", "Medium", "contracts/Vault.sol", "contracts/Vault.sol"),
            detector("timestamp", "Low", "contracts/ParticipantRegistry.sol"),
            detector("suicidal", "High", "contracts/.cache/openzeppelin/5.7.0/Foo.sol"),
            detector("suicidal", "High", "node_modules/@openzeppelin/contracts/Foo.sol"),
        ]
    },
}


def test_parse_findings_reads_check_impact_and_distinct_files():
    findings = parse_findings(REPORT)

    assert [(f.check, f.impact) for f in findings][:3] == [
        ("arbitrary-send-eth", "High"), ("reentrancy-no-eth", "Medium"), ("timestamp", "Low"),
    ]
    assert findings[1].files == ("contracts/Vault.sol",)


def test_gate_fails_on_high_in_our_contracts_only():
    failing = gate(parse_findings(REPORT), "high")

    assert [(f.check, f.files) for f in failing] == [("arbitrary-send-eth", ("contracts/Vault.sol",))]


def test_gate_can_be_tightened_to_medium_and_low():
    findings = parse_findings(REPORT)

    assert {f.check for f in gate(findings, "medium")} == {"arbitrary-send-eth", "reentrancy-no-eth"}
    assert {f.check for f in gate(findings, "low")} == {"arbitrary-send-eth", "reentrancy-no-eth", "timestamp"}


def test_dependency_copies_are_not_ours():
    ape_copy = Finding("suicidal", "High", "High", "", ("contracts/.cache/openzeppelin/5.7.0/Foo.sol",))
    assert not ape_copy.in_our_contracts


def test_empty_report_passes_and_prints_every_severity(capsys):
    findings = parse_findings({"success": True, "error": None, "results": {}})

    assert gate(findings, "high") == []
    print_findings(findings)
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "High", "Medium", "Low", "Informational", "Optimization",
    ]
