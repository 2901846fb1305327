"""The generated OpenAPI read by real consumers: a published client generator and a request
validator, besides the spec validator.

* openapi-python-client generates a client from the committed spec: its ForceStop and DryRun
  parameters are bools, its InstanceId a str.
* openapi-core validates the requests that official SDKs really sent (the recorded vectors of
  tests/protocol/signature-vectors.json) against the spec, and unmarshals their booleans to
  bools; requests the document forbids are refused.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import resources
from conformance.protocol.wire import merge_params, parse_urlencoded
from conformance.spec import load_spec

OPENAPI = resources.spec_dir() / "RebootInstance.openapi.yaml"
VECTORS = Path(__file__).resolve().parent.parent / "protocol" / "signature-vectors.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return data


# -- a generated client -------------------------------------------------------------------------
def _snake(name: str) -> str:
    """openapi-python-client's Python name for a parameter or an operation (`ForceStop` ->
    `force_stop`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The `RebootInstanceGet` module openapi-python-client writes for the committed spec."""
    pytest.importorskip("openapi_python_client")
    root = tmp_path_factory.mktemp("client")
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")  # no formatter run on the output
    package = "reboot_client"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(OPENAPI),
            "--output-path",
            str(root / package),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        module = f"{package}.api.default.{_snake(load_spec().action)}_get"
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(root))


def test_a_generated_client_takes_booleans_as_bools(generated_client: Any) -> None:
    spec = load_spec()
    hints = typing.get_type_hints(generated_client.sync_detailed)
    assert spec.boolean_parameters
    for p in spec.boolean_parameters:
        assert hints[_snake(p.name)] == bool | generated_client.Unset, (p.name, hints)
    assert hints[_snake(spec.instance_parameter.name)] is str


def test_a_generated_client_defaults_booleans_as_the_document(generated_client: Any) -> None:
    spec = load_spec()
    signature = inspect.signature(generated_client.sync_detailed)
    for p in spec.boolean_parameters:
        assert p.default is not None
        assert signature.parameters[_snake(p.name)].default is (p.default == "true")


# -- a request validator ------------------------------------------------------------------------
def _recorded() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return list(data["recorded"])


def _parameters(vector: dict[str, Any]) -> dict[str, str]:
    """The request's parameter set as a server reads it: query and form body merged (the
    profile's api.merged_parameters); a V3 request carries Action and Version in headers."""
    request = vector["request"]
    query = parse_urlencoded(request["raw_query"].encode())
    body = parse_urlencoded((request.get("body") or "").encode())
    params = dict(merge_params(query, body))
    headers = {str(k).lower(): str(v) for k, v in request["headers"]}
    if vector["signature_version"] == "v3":
        params.setdefault("Action", headers["x-acs-action"])
        params.setdefault("Version", headers["x-acs-version"])
    return params


@pytest.fixture(scope="module")
def validator(document: dict[str, Any]) -> Any:
    openapi_core = pytest.importorskip("openapi_core")
    return openapi_core.OpenAPI.from_dict(document)


def _request(document: dict[str, Any], method: str, params: dict[str, str]) -> Any:
    from openapi_core.testing import MockRequest

    host = str(document["servers"][0]["url"]).rstrip("/")
    return MockRequest(host, method, "/", args=params)


@pytest.mark.parametrize("vector", _recorded(), ids=lambda v: str(v["name"]))
@pytest.mark.parametrize("method", ["get", "post"])
def test_recorded_sdk_requests_are_valid(
    validator: Any, document: dict[str, Any], vector: dict[str, Any], method: str
) -> None:
    params = _parameters(vector)
    result = validator.unmarshal_request(_request(document, method, params))
    assert not result.errors, result.errors
    query = result.parameters.query
    for p in load_spec().boolean_parameters:
        if p.name in params:
            # the SDKs' `True` and `true` both arrive as the bool the document means
            assert query[p.name] is (params[p.name].lower() == "true"), (p.name, params[p.name])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"ForceStop": "maybe"}, id="boolean-maybe"),
        pytest.param({"DryRun": ""}, id="boolean-empty"),
        pytest.param({"Version": "2013-01-01"}, id="other-version"),
        pytest.param({"Action": "StopInstance"}, id="other-action"),
        pytest.param({"Format": "yaml"}, id="unknown-format"),
        pytest.param({"Timestamp": "2026-11-27T14:06:15.123Z"}, id="timestamp-fraction"),
        pytest.param({"InstanceId": None}, id="instance-id-missing"),
    ],
)
def test_requests_the_document_forbids_are_refused(
    validator: Any, document: dict[str, Any], change: dict[str, str | None]
) -> None:
    params = _parameters(_recorded()[0])
    for name, value in change.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    result = validator.unmarshal_request(_request(document, "get", params))
    assert result.errors, f"accepted {change}"
