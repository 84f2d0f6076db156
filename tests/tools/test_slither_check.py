"""The Slither gate reads Slither's JSON report, keeps what is ours, fails at High and Medium by default, and
refuses an exclusion in our contracts that does not say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools import slither_check
from tools.slither_check import Finding, exclusions, gate, parse_findings, print_findings, slither_env, unexplained


def detector(check: str, impact: str, *files: str) -> dict[str, Any]:
    return {
        "check": check,
        "impact": impact,
        "confidence": "Medium",
        "description": f"{check} in {', '.join(files)}\n\tdetail line",
        "elements": [{"type": "function", "source_mapping": {"filename_relative": f, "lines": [12, 13, 14]}}
                     for f in files],
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


def test_findings_say_where_they_are():
    findings = parse_findings(REPORT)
    assert findings[0].location == "contracts/Vault.sol#L12-L14"
    marked = {**detector("timestamp", "Low", "contracts/A.sol"), "first_markdown_element": "contracts/A.sol#L7-L9"}
    assert parse_findings({"results": {"detectors": [marked]}})[0].location == "contracts/A.sol#L7-L9"


CONTRACT = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
contract Vault {
    function a() external {
        // A settlement token returns true or reverts.
        // slither-disable-next-line unused-return
        token.transfer(x, 1);
        // slither-disable-next-line timestamp: calendar dates, seconds of drift cannot matter
        if (block.timestamp > t) return;
        uint256 y = 1;
        // slither-disable-next-line timestamp
        if (block.timestamp > y) return;
        // slither-disable-next-line timestamp,incorrect-equality
        // slither-disable-next-line unused-return
        token.transfer(x, 2);
    }
    ///   the few seconds a proposer can shift cannot matter, hence the `slither-disable-next-line timestamp` notes
}
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "contracts" / "libraries").mkdir(parents=True)
    (tmp_path / "contracts" / "Vault.sol").write_text(CONTRACT)
    (tmp_path / "contracts" / "libraries" / "Lib.sol").write_text("// a reason\n// slither-disable-next-line all\n")
    ape_copy = tmp_path / "contracts" / ".cache" / "openzeppelin"
    ape_copy.mkdir(parents=True)
    (ape_copy / "Foo.sol").write_text("x;\n// slither-disable-next-line reentrancy-eth\n")
    return tmp_path


def test_exclusions_are_read_with_their_reasons(tmp_path):
    found = {(e.file, e.line): e for e in exclusions(_project(tmp_path))}
    assert sorted(found) == [("contracts/Vault.sol", 6), ("contracts/Vault.sol", 8), ("contracts/Vault.sol", 11),
                             ("contracts/Vault.sol", 13), ("contracts/Vault.sol", 14),
                             ("contracts/libraries/Lib.sol", 2)], "Ape's dependency copy and prose are not ours"
    assert found[("contracts/Vault.sol", 6)].reason == "A settlement token returns true or reverts."
    assert found[("contracts/Vault.sol", 8)].reason == "calendar dates, seconds of drift cannot matter"
    assert found[("contracts/Vault.sol", 13)].detectors == ("timestamp", "incorrect-equality")


def test_an_exclusion_without_a_reason_is_refused(tmp_path):
    silent = unexplained(exclusions(_project(tmp_path)))
    # Line 11 follows code; line 14 follows another directive, whose line is no reason for it.
    assert [(e.file, e.line) for e in silent] == [("contracts/Vault.sol", 11), ("contracts/Vault.sol", 13),
                                                 ("contracts/Vault.sol", 14)]
    assert str(silent[0]) == "contracts/Vault.sol:11: slither-disable (timestamp)"


def test_medium_fails_by_default_and_silent_exclusions_fail_the_gate(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    monkeypatch.setattr(slither_check, "use_project_toolchain", lambda: root)
    monkeypatch.setattr(slither_check, "check_solc_shim", lambda root: None)
    medium_only = {"success": True, "error": None, "results": {"detectors": [
        detector("reentrancy-no-eth", "Medium", "contracts/Vault.sol")]}}
    monkeypatch.setattr(slither_check, "run_slither", lambda root, out: medium_only)
    assert slither_check.main([]) == 1
    out = capsys.readouterr().out
    assert "1 finding(s) of severity medium or above" in out
    assert "exclusion without a reason at contracts/Vault.sol:11" in out

    explained = (CONTRACT.replace("// slither-disable-next-line timestamp\n", "")
                 .replace("// slither-disable-next-line timestamp,incorrect-equality\n", "// Our own token.\n"))
    (root / "contracts" / "Vault.sol").write_text(explained)
    monkeypatch.setattr(slither_check, "run_slither", lambda root, out: {"success": True, "results": {}})
    assert slither_check.main([]) == 0
    assert "ok: no finding of severity medium or above" in capsys.readouterr().out
    monkeypatch.setattr(slither_check, "run_slither", lambda root, out: medium_only)
    assert slither_check.main(["--fail-on", "high"]) == 0


def test_slither_builds_apart_from_forge_test(tmp_path):
    env = slither_env(tmp_path)
    assert env["FOUNDRY_OUT"] == str(tmp_path / ".cache" / "slither" / "out")
    assert env["FOUNDRY_CACHE_PATH"] == str(tmp_path / ".cache" / "slither" / "cache")
    assert ".forge" not in env["FOUNDRY_OUT"]


@pytest.mark.parametrize("line", ["// slither-disable-next-line timestamp", "   //slither-disable-line unused-return",
                                  "// slither-disable-start reentrancy-no-eth"])
def test_every_directive_form_is_an_exclusion(tmp_path, line):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "X.sol").write_text(f"x;\n{line}\n")
    (found,) = exclusions(tmp_path)
    assert found.line == 2 and not found.reason
