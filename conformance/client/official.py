"""Adapters for the official Python SDKs (docs/contracts.md#client-adapters;
docs/protocol.md#official-sdks for their errors).

* `aliyun-python-sdk-ecs`: the old style, `AcsClient` + `RebootInstanceRequest`, `set_endpoint`
  / `set_protocol_type`; `ServerException` -> `Outcome`.
* `alibabacloud-ecs20140526`: the new SDK, signature V3 by default, or V2 with
  `signature_algorithm="v2"`; `ClientException` / `ServerException` / `ThrottlingException`
  (`.code`, `.data["Message"]`, `.request_id` or the body's `RequestId`, `.status_code`) and
  `TeaException` / `UnretryableException` (no usable response) -> `Outcome`.

Every adapter turns retries off and hands the call's timeout hint (`RebootCall.timeout_s`) to
the SDK's connect and read timeouts; without a hint the SDK keeps its own defaults
(`SDK_DEFAULT_TIMEOUTS`). The SDKs are imported
lazily: a missing one makes its adapter `AdapterUnavailable`, not an import error.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping
from typing import Any

from conformance.client.adapters import CallableAdapter
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    AdapterUnavailable,
    ClientAdapter,
    Outcome,
    RebootCall,
)

__all__ = [
    "aliyun_python_sdk_ecs_adapter",
    "aliyun_python_sdk_ecs_installed",
    "ecs20140526_adapter",
    "ecs20140526_installed",
    "ecs20140526_v2_adapter",
    "reboot_with_aliyun_python_sdk_ecs",
    "reboot_with_ecs20140526",
]


def _seconds(call: RebootCall) -> int | None:
    """The call's timeout hint in whole seconds (at least 1), or None: the SDK's default."""
    return None if call.timeout_s is None else max(1, round(call.timeout_s))


def _millis(call: RebootCall) -> int | None:
    """The call's timeout hint in milliseconds, or None: the SDK's default."""
    return None if call.timeout_s is None else max(1, round(call.timeout_s * 1000))


# The modules each SDK needs (the distribution names differ from the import names).
_ALIYUN_MODULES = ("aliyunsdkcore", "aliyunsdkecs")
_ECS20140526_MODULES = ("alibabacloud_ecs20140526", "alibabacloud_tea_openapi", "darabonba")


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def aliyun_python_sdk_ecs_installed() -> bool:
    """Can `aliyun-python-sdk-ecs` (with its core) be imported here?"""
    return not _missing(_ALIYUN_MODULES)


def ecs20140526_installed() -> bool:
    """Can `alibabacloud-ecs20140526` (with its Tea runtime) be imported here?"""
    return not _missing(_ECS20140526_MODULES)


def _require(modules: tuple[str, ...], package: str) -> None:
    missing = _missing(modules)
    if missing:
        raise AdapterUnavailable(
            f"{package} is not installed (missing {', '.join(missing)})",
            hint=f"pip install {package}",
        )


def _body_request_id(body: bytes | str | None) -> tuple[str | None, str | None]:
    """`(RequestId, None)` from a JSON success body, or `(None, why it is unusable)`."""
    if body is None:
        return None, "no body"
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"the success body is not JSON ({exc}): {text[:200]!r}"
    if not isinstance(data, dict) or not isinstance(data.get("RequestId"), str):
        return None, f"the success body has no RequestId: {text[:200]!r}"
    return data["RequestId"], None


# -- aliyun-python-sdk-core + aliyun-python-sdk-ecs (old style) --------------------------------


def reboot_with_aliyun_python_sdk_ecs(call: RebootCall) -> Outcome:
    """One RebootInstance call through `AcsClient.do_action_with_exception`."""
    from aliyunsdkcore.acs_exception import error_code
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest

    client = AcsClient(
        call.access_key_id,
        call.access_key_secret,
        call.region_id,
        auto_retry=False,
        max_retry_time=0,
        connect_timeout=_seconds(call),
        timeout=_seconds(call),
    )
    request = RebootInstanceRequest()
    request.set_endpoint(call.endpoint)
    request.set_protocol_type(call.protocol)
    request.set_InstanceId(call.instance_id)
    if call.force_stop is not None:
        request.set_ForceStop(call.force_stop)
    if call.dry_run is not None:
        request.set_DryRun(call.dry_run)
    try:
        body = client.do_action_with_exception(request)
    except ServerException as exc:
        code = exc.get_error_code()
        if code == error_code.SDK_UNKNOWN_SERVER_ERROR:
            # The SDK's own code for a body it could not read: no usable response
            # (docs/contracts.md#outcome).
            return Outcome.no_response(str(exc.get_error_msg()), exc.get_http_status())
        return Outcome.error(code, exc.get_error_msg(), exc.get_request_id(), exc.get_http_status())
    except ClientException as exc:
        return Outcome.no_response(f"{exc.get_error_code()}: {exc.get_error_msg()}")
    request_id, problem = _body_request_id(body)
    if problem is not None:
        return Outcome.no_response(problem, 200)
    return Outcome.success(request_id)


def aliyun_python_sdk_ecs_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`aliyun-python-sdk-ecs`: the old-style SDK (signature V2, POST, everything in the query)."""
    _require(_ALIYUN_MODULES, "aliyun-python-sdk-ecs")
    return CallableAdapter(
        reboot_with_aliyun_python_sdk_ecs, name="aliyun-python-sdk-ecs", timeout_s=timeout_s
    )


# -- alibabacloud-ecs20140526 (new SDK, Tea / Darabonba) ---------------------------------------


def _str_or_none(value: object) -> str | None:
    # The Tea clients format missing fields with f-strings: `None` arrives as the text "None".
    if value is None or value == "None" or value == "":
        return None
    return str(value)


def _tea_error(exc: Any) -> Outcome:
    data: Mapping[str, Any] = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
    code = _str_or_none(getattr(exc, "code", None)) or _str_or_none(data.get("Code"))
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
    message = data.get("Message") if isinstance(data.get("Message"), str) else None
    request_id = _str_or_none(data.get("RequestId")) or _str_or_none(
        getattr(exc, "request_id", None)
    )
    if code is None:
        return Outcome.no_response(str(getattr(exc, "message", exc)), status)
    return Outcome.error(code, message, request_id, status)


def reboot_with_ecs20140526(call: RebootCall, *, signature_algorithm: str | None = None) -> Outcome:
    """One RebootInstance call through `alibabacloud_ecs20140526.client.Client`."""
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import utils_models as open_api_models
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
    from darabonba.runtime import RuntimeOptions
    from Tea.exceptions import TeaException, UnretryableException

    config = open_api_models.Config(
        access_key_id=call.access_key_id,
        access_key_secret=call.access_key_secret,
        region_id=call.region_id,
        endpoint=call.endpoint,
        protocol=call.protocol,
        read_timeout=_millis(call),
        connect_timeout=_millis(call),
    )
    if signature_algorithm is not None:
        config.signature_algorithm = signature_algorithm
    client = Client(config)
    request = ecs_models.RebootInstanceRequest(
        instance_id=call.instance_id, force_stop=call.force_stop, dry_run=call.dry_run
    )
    runtime = RuntimeOptions(
        autoretry=False,
        max_attempts=0,
        read_timeout=_millis(call),
        connect_timeout=_millis(call),
    )
    try:
        response = client.reboot_instance_with_options(request, runtime)
    except AlibabaCloudException as exc:
        return _tea_error(exc)
    except UnretryableException as exc:
        inner = getattr(exc, "inner_exception", None)
        if isinstance(inner, AlibabaCloudException):
            return _tea_error(inner)
        return Outcome.no_response(f"no usable response: {inner or exc!r}")
    except TeaException as exc:
        return _tea_error(exc)
    body = getattr(response, "body", None)
    request_id = getattr(body, "request_id", None)
    if not isinstance(request_id, str) or not request_id:
        return Outcome.no_response("the success response has no RequestId", response.status_code)
    return Outcome.success(request_id)


def _ecs20140526(name: str, timeout_s: float, algorithm: str | None) -> ClientAdapter:
    _require(_ECS20140526_MODULES, "alibabacloud-ecs20140526")

    def reboot(call: RebootCall) -> Outcome:
        return reboot_with_ecs20140526(call, signature_algorithm=algorithm)

    func: Callable[[RebootCall], Outcome] = reboot
    return CallableAdapter(func, name=name, timeout_s=timeout_s)


def ecs20140526_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`alibabacloud-ecs20140526`: the new SDK with its default signature (V3)."""
    return _ecs20140526("alibabacloud-ecs20140526", timeout_s, None)


def ecs20140526_v2_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`alibabacloud-ecs20140526-v2`: the new SDK with `signature_algorithm="v2"`."""
    return _ecs20140526("alibabacloud-ecs20140526-v2", timeout_s, "v2")
