"""The suites' options, written once: `SuiteOptions` is the table.

Each option field of `SuiteOptions` carries its `Option` (the `--ecs-*` flag, help text, the
`ecs-conformance` commands that offer it) next to its one default. From that table come the
pytest options (`add_pytest_options`), the `SuiteOptions` of a session (`from_pytest`), the
click options of the command line (`click_options`), and the argument lists that the command
line, selftest and every reproduction command pass to a suite (`option_args`,
`SuiteOptions.args`, `pytest_command`). A new option is one field here.

    >>> option_args({"timeout_s": 2.5, "signature": "v3", "seed": None})
    ['--ecs-signature=v3', '--ecs-timeout=2.5']
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.config import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Credentials,
    control_token_from_env,
    credentials_from_env,
)
from conformance.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from hypothesis.database import ExampleDatabase

    from conformance.emulator.behaviour import Behaviour

__all__ = [
    "Option",
    "SuiteOptions",
    "add_pytest_options",
    "check_value",
    "click_options",
    "draw_seed",
    "option_args",
    "pytest_command",
]

_GROUP = ("ecs-conformance", "ECS RebootInstance conformance suite")
_KEY = "ecs-option"
_SERVER, _CLIENT, _SUITES = ("server",), ("client",), ("server", "client")
_PROXY = ("proxy",)  # the checking proxy judges with the suites' credentials and deadline
_RUN = (*_SUITES, "run")
_ALL = (*_RUN, "selftest")


# A value check: None when `value` is acceptable, else what is wrong with it (the caller names
# the flag). Checks run wherever options come in: click callbacks, the pytest plugin.
Check = Callable[[Any], "str | None"]


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be more than 0 seconds"


def _at_least_one(value: int) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            parts.port  # noqa: B018 (a port outside 0-65535 raises)
        except ValueError as exc:
            return f"is not a usable URL ({exc})"
        return None
    return "is not an http(s) URL such as http://127.0.0.1:8080"


def _target(value: str) -> str | None:
    if value == "embedded":
        return None
    problem = _http_url(value)
    return None if problem is None else f"{problem}, nor 'embedded'"


def _named(value: str, names: Sequence[str], what: str) -> str | None:
    """None when `value` is one of `names`, else what it is not, the closest name, and all."""
    if value in names:
        return None
    return f"is no {what}{did_you_mean(value, names)}; known: {', '.join(names)}"


def _mutant(value: str) -> str | None:
    from conformance.mutants import mutant_names

    return _named(value, mutant_names(), "mutant")


def _variant(value: str) -> str | None:
    from conformance.mutants.variants import variant_names

    return _named(value, variant_names(), "legitimate variant")


def _existing_file(value: Path) -> str | None:
    if value.is_file():
        return None
    return "is not a file" if value.exists() else "does not exist"


def _writable_dir(value: Path) -> str | None:
    from conformance.files import check_writable_dir

    try:
        check_writable_dir(value, what="")
    except ConfigError as exc:
        return exc.message.strip().removeprefix(str(value)).strip()
    return None


@dataclass(frozen=True)
class Option:
    """How one `SuiteOptions` field is given: `flag` to pytest, and on the `ecs-conformance`
    commands of `commands` as `--<flag without --ecs->` (or `cli`).

    `kind` converts the value (str, int, float, Path; bool for a flag). `environment` options
    (credentials, the control token) reach a suite subprocess through the environment, never on
    a command line (docs/command-line.md#credentials-and-secrets: a command line shows up in
    `ps` and in reproductions).
    `check` says what is wrong with a value (None: nothing); the command line and the plugin
    both apply it, so a bad value is a usage error before the first request.
    """

    flag: str
    help: str = ""
    kind: type = str
    choices: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    cli: str | None = None
    environment: bool = False
    check: Check | None = None

    @property
    def cli_flag(self) -> str:
        """The flag on the command line: `--timeout` for `--ecs-timeout`."""
        return self.cli or "--" + self.flag.removeprefix("--ecs-")


def _option(default: Any, flag: str, help: str = "", *, secret: bool = False, **kw: Any) -> Any:
    # A secret never shows in a repr (it still reaches the suite, through the environment).
    return field(default=default, repr=not secret, metadata={_KEY: Option(flag, help, **kw)})


@dataclass(frozen=True)
class SuiteOptions:
    """Everything the `--ecs-*` options say, built once per session (`from_pytest`)."""

    target: str = _option(
        "embedded",
        "--ecs-target",
        "server under test: 'embedded' (the reference emulator in-process) or a base URL",
        check=_target,
    )
    control: str | None = _option(
        None,
        "--ecs-control",
        "test-control base URL (docs/contracts.md#test-control) [default: URL/_conformance]",
        commands=_SERVER,
        check=_http_url,
    )
    control_token: str | None = _option(
        None,
        "--ecs-control-token",
        "bearer token of the test-control API [default: $ECS_CONFORMANCE_CONTROL_TOKEN]",
        commands=_SERVER,
        environment=True,
        secret=True,
    )
    fixtures: Path | None = _option(
        None,
        "--ecs-fixtures",
        "black-box fixtures YAML (docs/contracts.md#black-box-fixtures)",
        kind=Path,
        commands=_SERVER,
        check=_existing_file,
    )
    access_key_id: str | None = _option(
        None,
        "--ecs-access-key-id",
        "AccessKey ID [default: $ALIBABA_CLOUD_ACCESS_KEY_ID, then testid]",
        commands=(*_SUITES, *_PROXY),
        environment=True,
    )
    access_key_secret: str | None = _option(
        None,
        "--ecs-access-key-secret",
        "AccessKey secret [default: $ALIBABA_CLOUD_ACCESS_KEY_SECRET, then testsecret]",
        commands=(*_SUITES, *_PROXY),
        environment=True,
        secret=True,
    )
    signature: str = _option(
        "both",
        "--ecs-signature",
        "signature versions",
        choices=("v2", "v3", "both"),
        commands=_SERVER,
    )
    method: str = _option(
        "both", "--ecs-method", "HTTP methods", choices=("GET", "POST", "both"), commands=_SERVER
    )
    allow_destructive: bool = _option(
        False,
        "--ecs-allow-destructive",
        "send real (non-DryRun) reboots to a target that is not loopback",
        kind=bool,
        commands=_SERVER,
    )
    timeout_s: float = _option(
        5.0,
        "--ecs-timeout",
        "total time of one request (s): connect, send and the whole answer",
        kind=float,
        commands=(*_SUITES, *_PROXY),
        check=_positive,
    )
    client: str | None = _option(
        None, "--ecs-client", "client adapter: a shipped name or module:attr"
    )
    client_command: str | None = _option(
        None,
        "--ecs-client-command",
        "client adapter command (JSON on stdin/out)",
        commands=_CLIENT,
        cli="--command",
    )
    results: Path | None = _option(
        None, "--ecs-results", "write the raw test ledger (JSON) here", kind=Path
    )
    # Hypothesis examples per property (the suites scale it per test).
    examples: int = _option(
        100,
        "--ecs-examples",
        "hypothesis examples per property",
        kind=int,
        commands=_ALL,
        check=_at_least_one,
    )
    seed: int | None = _option(
        None, "--ecs-seed", "seed for generated inputs", kind=int, commands=_ALL
    )
    reboot_seconds: float | None = _option(
        None,
        "--ecs-reboot-seconds",
        "how long a reboot lasts on the target (its clock ends it), if known: lets the suite "
        "check the transient status strictly and that a reboot ends by itself",
        kind=float,
        commands=_SERVER,
        check=_positive,
    )
    mutant: str | None = _option(
        None,
        "--ecs-mutant",
        "embedded target only: serve this mutant of the reference emulator",
        commands=_SERVER,
        check=_mutant,
    )
    variant: str | None = _option(
        None,
        "--ecs-variant",
        "embedded target only: serve this legitimate variant of the reference emulator (a "
        "choice the sources allow: it must pass)",
        commands=_SERVER,
        check=_variant,
    )
    example_db: Path | None = _option(
        None,
        "--ecs-example-db",
        "hypothesis example database directory, e.g. one CI jobs share through a cache: a "
        "failure found in one job is replayed first in the next",
        kind=Path,
        commands=_RUN,
        check=_writable_dir,
    )
    # The `ecs_endpoint` fixture (conformance.proxy.fixture): pytest only.
    traffic_report: Path = _option(
        Path("reports/traffic"),
        "--ecs-traffic-report",
        "where the ecs_endpoint fixture writes the conformance report of the traffic the "
        "session's tests sent it (the four report files)",
        kind=Path,
    )
    traffic_strict: bool = _option(
        False,
        "--ecs-traffic-strict",
        "fail the session when the traffic through ecs_endpoint shows a client-side deviation",
        kind=bool,
    )
    # -- derived at the edge, not options ---------------------------------------------------
    # The access key options, else the environment, else the test credentials.
    credentials: Credentials = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
    # The mutant's fault switches or the variant's choices, resolved from its name.
    behaviour: Behaviour | None = None

    @property
    def signature_versions(self) -> tuple[str, ...]:
        return ("v2", "v3") if self.signature == "both" else (self.signature,)

    @property
    def methods(self) -> tuple[str, ...]:
        return ("GET", "POST") if self.method == "both" else (self.method,)

    @classmethod
    def from_pytest(cls, getoption: Callable[[str], Any]) -> SuiteOptions:
        """The options of a pytest session (`config.getoption`); credentials and the control
        token fall back to the environment (`conformance.config`)."""
        return cls.from_values({name: getoption(option.flag) for name, option, _ in _table()})

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SuiteOptions:
        """The options `values` give (field name -> value; the others keep their defaults),
        credentials and the control token falling back to the environment as in a session:
        what the command line checks before it starts a suite."""
        given = {name: values.get(name, default) for name, _, default in _table()}
        given["control_token"] = control_token_from_env(given["control_token"])
        credentials = credentials_from_env(given["access_key_id"], given["access_key_secret"])
        return cls(**given, credentials=credentials)

    def args(self, *names: str) -> list[str]:
        """`--ecs-x=value` for the named options that differ from their defaults (the
        reproduction commands' form: with a space pytest may take a path value for its rootdir;
        `environment` options are never shown)."""
        return option_args({n: getattr(self, n) for n in names})

    def example_database(self) -> ExampleDatabase | None:
        """hypothesis' example database under `--ecs-example-db` (in `DIR/examples`,
        hypothesis' own layout, so `--ecs-example-db .hypothesis` shares the default folder),
        or None: without it nothing is saved. Failing examples are saved there and replayed
        first by the next run; `--hypothesis-seed` (a reproduction) turns it off."""
        if self.example_db is None:
            return None
        from hypothesis.database import DirectoryBasedExampleDatabase

        return DirectoryBasedExampleDatabase(self.example_db / "examples")

    def check(self) -> None:
        """`ConfigError` naming the first option whose value its check refuses (pytest flags),
        and a mutant or variant asked of a target that is not the embedded one."""
        for name, option, default in _table():
            value = getattr(self, name)
            if value is None or value == default:
                continue
            problem = check_value(name, value)
            if problem is not None:
                raise ConfigError(f"{option.flag}={value}: {problem}")
        if self.mutant and self.variant:
            raise ConfigError(
                f"--ecs-mutant={self.mutant} and --ecs-variant={self.variant}: the embedded "
                "target serves one of them",
                hint="judge each in a run of its own",
            )
        if self.mutant and self.target != "embedded":
            raise ConfigError(
                f"a mutant is served by the embedded target only, not {self.target}",
                hint="judge 'embedded' with the mutant, or serve it yourself with "
                "`ecs-conformance emulator --mutant NAME` and judge its URL",
            )
        if self.variant and self.target != "embedded":
            raise ConfigError(
                f"a legitimate variant is served by the embedded target only, not {self.target}",
                hint="judge 'embedded' with the variant",
            )


def _table() -> Iterator[tuple[str, Option, Any]]:
    """(field name, option, default) for every option field, in declaration order."""
    for f in fields(SuiteOptions):
        option = f.metadata.get(_KEY)
        if option is not None:
            assert f.default is not MISSING
            yield f.name, option, f.default


def check_value(name: str, value: Any) -> str | None:
    """What the table's check of option `name` says is wrong with `value`, or None."""
    option = next(o for n, o, _ in _table() if n == name)
    return None if option.check is None or value is None else option.check(value)


def add_pytest_options(parser: Any) -> None:
    """Register every `--ecs-*` option in the plugin's group (`parser` is `pytest.Parser`)."""
    group = parser.getgroup(*_GROUP)
    for _, option, default in _table():
        shown = f" [default: {default}]" if default not in (None, False) else ""
        kwargs: dict[str, Any] = {"default": default, "help": option.help + shown}
        if option.kind is bool:
            kwargs["action"] = "store_true"
        elif option.kind is not str:
            kwargs["type"] = option.kind
        if option.choices:
            kwargs["choices"] = option.choices
        group.addoption(option.flag, **kwargs)


def click_options(command: str, *, defaults: Mapping[str, object] | None = None) -> list[Any]:
    """The click options of `ecs-conformance <command>`, each named after its `SuiteOptions`
    field, with the table's default (or the one `defaults` gives: selftest's example count).
    `option_args` leaves a default out, so the suite applies its own."""
    import click

    out = []
    for name, option, default in _table():
        if command not in option.commands:
            continue
        value = (defaults or {}).get(name, default)
        kwargs: dict[str, Any] = {"default": value, "help": option.help}
        if option.check is not None:
            kwargs["callback"] = _click_check(option.check)
        kwargs["show_default"] = value is not None and option.kind is not bool
        if option.kind is bool:
            kwargs["is_flag"] = True
        elif option.choices:
            kwargs["type"] = click.Choice(list(option.choices))
        elif option.kind is Path:
            kwargs["type"] = click.Path(path_type=Path, resolve_path=True)
        else:
            kwargs["type"] = option.kind
        out.append(click.option(option.cli_flag, name, **kwargs))
    return out


def _click_check(check: Check) -> Callable[[Any, Any, Any], Any]:
    def callback(ctx: Any, param: Any, value: Any) -> Any:
        import click

        problem = None if value is None else check(value)
        if problem is not None:
            raise click.BadParameter(f"{value} {problem}")
        return value

    return callback


def option_args(values: Mapping[str, object], *, joined: bool = True) -> list[str]:
    """The `--ecs-*` arguments for `values` (field name -> value): every value that is given
    and differs from its default, `--ecs-x=value` (or `--ecs-x value` when not `joined`), in
    the table's order. `environment` options never appear (they travel in the environment)."""
    out: list[str] = []
    for name, option, default in _table():
        value = values.get(name)
        if option.environment or value is None or value == default:
            continue
        if option.kind is bool:
            if value:
                out.append(option.flag)
            continue
        text = f"{value:g}" if isinstance(value, float) else str(value)
        out += [f"{option.flag}={text}"] if joined else [option.flag, text]
    unknown = set(values) - {name for name, _, _ in _table()}
    if unknown:
        raise KeyError(f"not suite options: {', '.join(sorted(unknown))}")
    return out


def pytest_command(module: str, *, select: str | None = None, args: Sequence[str] = ()) -> str:
    """The one form of every reproduction command: pytest on `module` (an importable suite
    module), the tests `select` names (`-k`), and `args`."""
    command = ["python", "-m", "pytest", "--pyargs", module]
    if select:
        command += ["-k", select]
    command += ["-p", "no:randomly", *args]
    return shlex.join(command)


def draw_seed() -> int:
    """A fresh seed for a run that was given none (the only place one is drawn)."""
    return random.SystemRandom().randrange(2**31)
