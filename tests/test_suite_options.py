"""The option table: one default per option, the same flags for pytest, the command line and
every argument list built from it; secrets never on a command line."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from conformance.suite.options import (
    SuiteOptions,
    click_options,
    option_args,
    pytest_command,
)


def test_argument_lists_carry_what_differs_from_the_defaults() -> None:
    values = {
        "target": "http://127.0.0.1:8080",
        "signature": "both",  # the default: left out
        "allow_destructive": True,
        "timeout_s": 2.5,
        "fixtures": Path("/f.yaml"),
        "seed": None,
    }
    assert option_args(values) == [
        "--ecs-target=http://127.0.0.1:8080",
        "--ecs-fixtures=/f.yaml",
        "--ecs-allow-destructive",
        "--ecs-timeout=2.5",
    ]


def test_secrets_and_credentials_never_appear_in_an_argument_list() -> None:
    values = {"access_key_id": "AK", "access_key_secret": "SECRET", "control_token": "TOKEN"}
    assert option_args(values) == []
    options = SuiteOptions(access_key_secret="SECRET", control_token="TOKEN")
    assert "SECRET" not in repr(options) and "TOKEN" not in repr(options)


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(KeyError, match="not suite options"):
        option_args({"no_such": 1})


def test_reproductions_repeat_the_named_options_joined_with_equals() -> None:
    # Issue 11 (10): with a space, pytest may take a path value for its rootdir.
    options = SuiteOptions(target="http://h:1", mutant=None, examples=7, method="GET")
    args = options.args("target", "mutant", "signature", "method", "examples")
    command = pytest_command("conformance.suite.server.test_x", select="test_a", args=args)
    assert shlex.split(command) == [
        "python",
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite.server.test_x",
        "-k",
        "test_a",
        "-p",
        "no:randomly",
        "--ecs-target=http://h:1",
        "--ecs-method=GET",
        "--ecs-examples=7",
    ]


def test_the_command_line_offers_each_option_where_the_table_says() -> None:
    def names(command: str) -> dict[str, str]:
        @click.command()
        def probe() -> None:
            pass

        for decorator in click_options(command):
            probe = decorator(probe)
        return {p.name: p.opts[0] for p in probe.params if p.name}

    server, client, selftest = names("server"), names("client"), names("selftest")
    assert server["timeout_s"] == "--timeout" and server["fixtures"] == "--fixtures"
    assert client["client_command"] == "--command" and "fixtures" not in client
    assert set(selftest) == {"examples", "seed"}


def test_the_session_options_take_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("ECS_CONFORMANCE_CONTROL_TOKEN", "env-token")
    defaults = {f.metadata["ecs-option"].flag: f.default for f in _option_fields()}
    options = SuiteOptions.from_pytest(defaults.__getitem__)
    assert options.credentials.access_key_id == "env-id"
    assert options.control_token == "env-token"
    assert options.timeout_s == 5.0 and options.target == "embedded"


def _option_fields() -> list:  # type: ignore[type-arg]
    import dataclasses

    return [f for f in dataclasses.fields(SuiteOptions) if "ecs-option" in f.metadata]
