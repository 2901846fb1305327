"""schemathesis (4.x) runs the generated OpenAPI description against the reference emulator.

Positive and negative data for both operations of the description (GET and POST on `/`), each
case signed with signature V2 by an auth hook when its parameters are plain values (negative
cases with lists or objects go unsigned and meet the gateway's errors, which is fine for the
check). Check: `not_a_server_error`, plus our own: every answer is a JSON or XML envelope
carrying a RequestId.
"""

from __future__ import annotations

import collections
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.emulator.state import InstanceSnapshot
from conformance.protocol.signing import signed_params_v2
from conformance.resources import spec_dir
from conformance.spec import load_spec

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402

OPENAPI = spec_dir() / "RebootInstance.openapi.yaml"
if not OPENAPI.is_file():
    pytest.skip(f"{OPENAPI} is not generated yet", allow_module_level=True)

MAX_EXAMPLES = 40
REQUEST_TIMEOUT_S = 5
SPEC = load_spec()
# The emulator's default credentials (EmulatorSettings), used by the signing hook.
CREDENTIALS = EmulatorSettings().credentials[0]
# Parameters the hook owns (docs/protocol.md#common-parameters): generated values for them are
# replaced.
_SIGNING = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce",
            "Timestamp")  # fmt: skip

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "request-timeout": REQUEST_TIMEOUT_S,
    }
)
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)


def _wire_value(value: Any) -> str | None:
    """The string `requests` puts on the wire for a scalar, None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def _plain(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        return None
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue  # requests drops it
        text = _wire_value(value)
        if not isinstance(name, str) or text is None:
            return None
        out[name] = text
    return out


@schema.auth(refresh_interval=None)
class V2SigningAuth:
    """Signs a generated case with signature V2 over its query and form body
    (docs/protocol.md#signature-v2)."""

    def get(self, case: Any, ctx: Any) -> bool:
        return True

    def set(self, case: Any, data: bool, ctx: Any) -> None:
        query = _plain(case.query)
        body = _plain(case.body) if case.media_type else {}
        if query is None or body is None or set(query) & set(body):
            return  # not representable as one signed parameter set: leave it unsigned
        merged = {k: v for k, v in {**query, **body}.items() if k not in _SIGNING}
        action = merged.pop("Action", SPEC.action)
        version = merged.pop("Version", SPEC.version)
        fmt = merged.pop("Format", None)
        signed = signed_params_v2(
            case.method.upper(),
            merged,
            action=action,
            version=version,
            access_key_id=CREDENTIALS.access_key_id,
            access_key_secret=CREDENTIALS.access_key_secret,
            fmt=fmt,
        )
        # keep body parameters in the body: the server signs the union of both
        # (docs/protocol.md#transport)
        case.query = {k: v for k, v in signed.items() if k not in body}
        if body:
            case.body = {k: v for k, v in signed.items() if k in body}


@pytest.fixture(scope="module")
def st_emulator() -> Iterator[EmbeddedEmulator]:
    with EmbeddedEmulator(EmulatorSettings(reboot_seconds=0.0), spec=SPEC) as emu:
        # the document's example id, so that positive cases reach a Running instance
        example = SPEC.openapi["paths"]["/"]["get"]["parameters"]
        instance_id = next(p["example"] for p in example if p["name"] == "InstanceId")
        emu.world.put(InstanceSnapshot(instance_id, SPEC.precondition_status))
        yield emu


@pytest.fixture(scope="module")
def seen_codes() -> collections.Counter[str]:
    return collections.Counter()


def _envelope(response: Any) -> dict[str, str]:
    ctype = response.headers.get("content-type", "")
    if isinstance(ctype, list):
        ctype = ctype[0]
    if "json" in ctype:
        data: dict[str, str] = json.loads(response.content)
        return data
    root = ET.fromstring(response.content)
    return {child.tag: child.text or "" for child in root}


@schema.parametrize()
def test_emulator_never_answers_a_server_error(
    case: Any, st_emulator: EmbeddedEmulator, seen_codes: collections.Counter[str]
) -> None:
    response = case.call(base_url=st_emulator.url.rstrip("/"), timeout=REQUEST_TIMEOUT_S)
    case.validate_response(response, checks=[not_a_server_error])
    data = _envelope(response)
    assert data.get("RequestId"), data
    seen_codes[data.get("Code") or str(response.status_code)] += 1


def test_signed_cases_reach_the_operation(seen_codes: collections.Counter[str]) -> None:
    """The signing hook works: some generated cases pass the gateway (doc-level answers)."""
    if not seen_codes:
        pytest.skip("run together with the schemathesis test (same process)")
    print("schemathesis answers:", dict(seen_codes))
    reached = {SPEC.dryrun.code, "200", *SPEC.error_codes}
    assert reached & set(seen_codes), dict(seen_codes)


def test_schema_file_is_the_loaded_spec() -> None:
    """The loaded OpenAPI file is the one load_spec() reads."""
    assert SPEC.openapi_path is not None
    assert SPEC.openapi_path.resolve() == OPENAPI.resolve()
