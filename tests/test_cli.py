"""The command line: exit codes and messages for people (docs/command-line.md#exit-codes), never a
traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_spec_check_passes_on_the_committed_spec(cli: CliRunner) -> None:
    result = cli.invoke(main, ["spec", "check"])
    assert result.exit_code == 0, result.output


def test_spec_build_of_a_missing_file_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(main, ["spec", "build", str(tmp_path / "nope.txt"), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope.txt" in result.output
    assert "Traceback" not in result.output


def test_spec_build_of_a_page_not_in_the_format_names_the_line(
    cli: CliRunner, tmp_path: Path
) -> None:
    page = tmp_path / "Bad.txt"
    page.write_text("A summary.\n\nRequest parameters\n\nthis is not a table header\n")
    result = cli.invoke(main, ["spec", "build", str(page), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2
    assert "Bad.txt:" in result.output
    assert "Traceback" not in result.output


def test_server_against_an_unreachable_target_exits_3(cli: CliRunner, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = cli.invoke(main, ["server", url, "--report-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "cannot reach" in result.output


def test_server_with_a_non_http_url_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(main, ["server", "ftp://example", "--report-dir", str(tmp_path)])
    assert result.exit_code == 2


def test_server_with_a_missing_fixtures_file_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(main, ["server", "embedded", "--fixtures", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "none.yaml" in result.output


def test_client_needs_exactly_one_adapter(cli: CliRunner) -> None:
    assert cli.invoke(main, ["client"]).exit_code == 2
    both = cli.invoke(main, ["client", "reference", "--command", "cat"])
    assert both.exit_code == 2
    assert "exactly one" in both.output


def test_emulator_refuses_a_public_bind_without_a_control_token(cli: CliRunner) -> None:
    result = cli.invoke(main, ["emulator", "--host", "0.0.0.0", "--port", str(_closed_port())])
    assert result.exit_code == 2
    assert "--control-token" in result.output


def test_emulator_needs_both_halves_of_a_key(cli: CliRunner) -> None:
    result = cli.invoke(main, ["emulator", "--access-key-id", "x"])
    assert result.exit_code == 2


def test_emulator_with_an_unknown_mutant_exits_2_and_lists_them(cli: CliRunner) -> None:
    result = cli.invoke(main, ["emulator", "--mutant", "no-such-mutant", "--port", "1"])
    assert result.exit_code == 2
    assert "dryrun-executes" in result.output
    assert "Traceback" not in result.output


def test_a_bad_waiver_file_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("- id: [not, a, string]\n")
    result = cli.invoke(
        main, ["server", "embedded", "--waivers", str(waivers), "--report-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
