"""What a suite run checks before its first request, so that a setup mistake reads as one
(exit 2 for usage and configuration, 3 for an unreachable target) and never as a finding.

The command line calls these before it starts a suite; the suites' conftests call them at the
end of collection, for runs started with pytest directly. Both raise the toolkit's errors
(`ConfigError`, `TargetUnreachable`), each with a hint.

* `check_server`: the fixtures file (read and checked whole), the target (a connection opens),
  the test-control API (`--ecs-control` answers the contract of
  docs/contracts.md#test-control, else the target's own `/_conformance` is used when it does,
  else the fixtures).
* `check_client`: the adapter loads (an unknown name or `module:attr` is a usage error, with
  the closest shipped name), and a command adapter passes one probe call: a plain successful
  reboot, played by the loopback server. A command that is missing, exits non-zero or prints
  no `Outcome` on that call cannot be judged at all: a usage error, not 38 failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.client.adapters import CommandAdapter
from conformance.client.contract import AdapterUnavailable, ClientAdapter
from conformance.client.registry import load_adapter
from conformance.config import Credentials
from conformance.errors import ConfigError, TargetUnreachable
from conformance.spec.model import Spec
from conformance.suite.options import SuiteOptions
from conformance.targets.http import HttpServerTarget
from conformance.targets.provisioners import ControlProvisioner, Fixtures, load_fixtures

__all__ = [
    "ServerSetup",
    "adapter_timeout",
    "check_client",
    "check_server",
    "probe_command",
    "probe_server",
]

# docs/contracts.md#client-failures: a hang is a client failure; twice the per-request
# timeout (10 s by default), which every call also carries as its timeout hint
# (RebootCall.timeout_s), leaves a client room to answer first.
_ADAPTER_TIMEOUT_FACTOR = 2
# Exit statuses of `sh -c CMD` when CMD cannot run (POSIX shell): not executable, not found.
_CANNOT_EXECUTE, _NOT_FOUND = 126, 127
_ERROR_WORDS = re.compile(r"error|not found|no such|cannot|denied|traceback", re.IGNORECASE)


@dataclass(frozen=True)
class ServerSetup:
    """How the server suite reaches a target, as the checks found it.

    `control_url` is the test-control API to use (None: the fixtures file, or nothing to
    arrange with); `notes` say what a person should know (printed, never a failure).
    """

    control_url: str | None = None
    fixtures: Fixtures | None = None
    notes: tuple[str, ...] = ()


def probe_server(
    url: str, credentials: Credentials, timeout_s: float, version: str, *, what: str, hint: str
) -> None:
    """`TargetUnreachable` (with `hint`) unless a server answers at `url`; `what` names it in
    the message ("the target", "the upstream")."""
    target = HttpServerTarget(url, credentials, timeout_s, version=version)
    try:
        problem = target.probe()
    finally:
        target.close()
    if problem is not None:
        raise TargetUnreachable(f"cannot reach {what} {url}: {problem}", hint=hint)


def check_server(options: SuiteOptions, spec: Spec) -> ServerSetup:
    """Check the fixtures file, the target and its control API; `ConfigError` or
    `TargetUnreachable` (with a hint) when the run cannot start."""
    fixtures = None
    if options.fixtures is not None:
        fixtures = load_fixtures(options.fixtures, spec.lifecycle.statuses)
    if options.target == "embedded":
        return ServerSetup(fixtures=fixtures)
    probe_server(
        options.target,
        options.credentials,
        options.timeout_s,
        spec.version,
        what="the target",
        hint="is the server running, and is this its base URL? The reference one starts "
        "with `ecs-conformance emulator`",
    )
    if options.control:
        answer = _control_answer(options.control, options)
        if answer is None:
            return ServerSetup(options.control, fixtures)
        if answer.startswith("HTTP 401"):
            raise ConfigError(
                f"the test-control API {options.control} refused the token: {answer}",
                hint="give its token with --control-token or ECS_CONFORMANCE_CONTROL_TOKEN",
            )
        if answer.startswith("HTTP"):
            raise ConfigError(
                f"{options.control} does not speak the test-control API: {answer}",
                hint="check the control URL (it ends in /_conformance on the reference "
                "emulator), or leave it out to use a fixtures file",
            )
        raise TargetUnreachable(
            f"the test-control API {options.control} does not answer "
            f"({answer.removeprefix('no answer: ')})",
            hint="is the control API running, and is this its base URL?",
        )
    if fixtures is not None:
        return ServerSetup(fixtures=fixtures)
    default = options.target.rstrip("/") + "/_conformance"
    answer = _control_answer(default, options)
    if answer is None:
        return ServerSetup(default)
    note = (
        f"no test-control API at {default} ({answer}) and no fixtures file: requirements that "
        "need an arranged instance are not verified (give --control or --fixtures)"
    )
    if answer.startswith("HTTP 401"):
        note += "; it answered 401: give its token with --control-token"
    return ServerSetup(notes=(note,))


def _control_answer(url: str, options: SuiteOptions) -> str | None:
    """None when `url` speaks the control contract, else what it did instead."""
    control = ControlProvisioner(url, token=options.control_token, timeout_s=options.timeout_s)
    try:
        return control.refusal()
    finally:
        control.close()


def adapter_timeout(options: SuiteOptions) -> float:
    """How long one adapter call may take before it is a hang (a client failure)."""
    return _ADAPTER_TIMEOUT_FACTOR * options.timeout_s


def check_client(
    options: SuiteOptions, spec: Spec, *, probe: bool = True
) -> ClientAdapter | AdapterUnavailable:
    """The session's adapter, loaded (an unknown name is a `ConfigError` with the closest
    shipped one), and a command adapter probed once (`probe_command`). A shipped adapter that
    cannot run on this machine comes back as its `AdapterUnavailable`: every requirement is
    then `not_verified` with why, as a verdict rather than an error."""
    try:
        adapter = load_adapter(
            options.client, options.client_command, timeout_s=adapter_timeout(options)
        )
    except AdapterUnavailable as exc:
        return exc
    if probe and isinstance(adapter, CommandAdapter):
        probe_command(adapter, spec, options)
    return adapter


def probe_command(adapter: CommandAdapter, spec: Spec, options: SuiteOptions) -> None:
    """One successful reboot through `adapter` on the loopback server; `ConfigError` when the
    command is missing, exits non-zero or prints no `Outcome`. What the Outcome says, and a
    hang, are left to the suite to judge."""
    from conformance.suite.client.harness import Harness
    from conformance.suite.client.scenarios import success_scenario
    from conformance.suite.client.scripted_server import LoopbackServer

    server = LoopbackServer()
    try:
        exchange = Harness(adapter, server, spec, options.credentials).run(success_scenario())
    finally:
        server.close()
    failure = exchange.failure
    if failure is None or failure.kind not in ("exit", "not-an-outcome"):
        return
    detail = _telling_line(failure.evidence.rpartition("stderr: ")[2])
    if failure.kind == "exit" and f"status {_NOT_FOUND}" in failure.message:
        hint = "the shell could not find the program: check the --command line and PATH"
    elif failure.kind == "exit" and f"status {_CANNOT_EXECUTE}" in failure.message:
        hint = "the program is not executable: check its permissions, or run it via its interpreter"
    elif failure.kind == "exit":
        hint = (
            "a command adapter exits 0 and prints one Outcome for every call, errors included "
            "(see examples/command_adapter.py)"
        )
    else:
        hint = (
            'print one Outcome as JSON on stdout, e.g. {"ok": true, "request_id": "..."} '
            "(see examples/command_adapter.py)"
        )
    raise ConfigError(
        f"the adapter command failed its probe call (a plain successful reboot): "
        f"{failure.message}" + (f"\n  stderr: {detail}" if detail else ""),
        hint=hint,
    )


def _telling_line(stderr: str) -> str:
    """The line of a failed command's stderr most likely to say why: the first that names an
    error, else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if _ERROR_WORDS.search(line):
            return line[:300]
    return lines[-1][:300] if lines else ""
