"""Operation handlers: a verified `RpcRequest` in, response fields out, or `ApiError` raised.

Every code, HTTP status and message comes from the `Spec` (the document's error table, the
profile's gateway errors, conditions and DryRun outcome); nothing of the document is typed here.
Handlers never see a signature: `protocol.gateway` verified it (signature code exists once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from conformance.emulator.behaviour import Behaviour
from conformance.emulator.state import InstanceSnapshot, RebootResult, World
from conformance.protocol.envelopes import ApiError
from conformance.protocol.gateway import RpcRequest
from conformance.spec.model import Spec

__all__ = ["DESCRIBE_ACTION", "Operations"]

# docs/protocol.md#observing-instances: the read call through which black-box targets are observed.
DESCRIBE_ACTION = "DescribeInstances"
_MAX_PAGE_SIZE = 100
_DEFAULT_PAGE_SIZE = 10

Fields = dict[str, Any]
Handler = Callable[[RpcRequest, str], Fields]


class Operations:
    """The emulator's operations (RebootInstance and DescribeInstances) over one `World`.

    `handle(request, request_id)` applies a queued fault first (docs/contracts.md#faults: after
    authentication and Action lookup, before parameter and state checks), then dispatches.
    """

    def __init__(self, spec: Spec, world: World, behaviour: Behaviour | None = None) -> None:
        self.spec = spec
        self.world = world
        self.behaviour = behaviour or Behaviour()
        self.handlers: dict[str, Handler] = {
            spec.action: self.reboot_instance,
            DESCRIBE_ACTION: self.describe_instances,
        }
        # the gateway's Action lookup: action -> API version
        self.actions: dict[str, str] = {name: spec.version for name in self.handlers}
        self._fault_errors = self._build_fault_errors(spec, self._message)
        self._internal_code = spec.conditions["injected_fault"]
        # refusal -> (status, code, message) as the reference answers it
        # (docs/contracts.md#how-arranged-state-maps-to-documented-errors)
        self._refusals = {
            result: self._documented(spec.conditions[result.value])
            for result in RebootResult
            if result.refused
        }
        # the spellings a server accepts: the Boolean schemas' x-wire-booleans
        self._booleans = spec.profile.booleans
        self._bool_defaults = {
            p.name: bool(self._booleans.parse(p.default or "")) for p in spec.boolean_parameters
        }
        self._required = tuple(p.name for p in spec.required_parameters)
        self._instance_param = spec.instance_parameter.name
        self._force_param = spec.force_parameter.name
        self._dry_run_param = spec.dry_run_parameter.name

    # -- faults ------------------------------------------------------------------------------
    @staticmethod
    def _build_fault_errors(
        spec: Spec, message: Callable[[str], str]
    ) -> dict[str, tuple[int, str, str]]:
        """Allowed fault codes (docs/contracts.md#faults): the document's 5xx codes plus the
        profile's `injectable_faults.extra_codes`, each with its status and message."""
        out: dict[str, tuple[int, str, str]] = {}
        for row in spec.errors:
            if row.http_status >= 500 and row.code not in out:
                out[row.code] = (row.http_status, row.code, message(row.code))
        for code in spec.profile.injectable_fault_codes:
            if code in out:
                continue
            try:
                out[code] = (spec.error_status(code), code, message(code))
                continue
            except KeyError:
                pass
            for variants in spec.gateway_errors.values():
                variant = next((v for v in variants if v.code == code), None)
                if variant is not None:
                    out[code] = (variant.http_status, variant.code, variant.emulator_message)
                    break
        return out

    @property
    def fault_codes(self) -> tuple[str, ...]:
        """The codes the control API may inject."""
        return tuple(self._fault_errors)

    def fault_error(self, code: str) -> ApiError:
        """The documented error for an injected fault code."""
        status, code, message = self._fault_errors[code]
        return ApiError(status, code, message)

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, request: RpcRequest, request_id: str) -> Fields:
        """Answer one verified request: success fields, or raise `ApiError`."""
        code = self.world.take_fault(request.action)  # lock-free when nothing is queued
        if code is not None:
            raise self.fault_error(code)
        return self.handlers[request.action](request, request_id)

    # -- shared parameter checks (docs/protocol.md: common parameters, gateway errors) -------
    def _documented(self, code: str) -> tuple[int, str, str]:
        return self.spec.error_status(code), code, self._message(code)

    def _message(self, code: str) -> str:
        """The document's message for `code`: the first static row's, or with
        `later_document_messages` the last row's (a `%s` filled in)."""
        if not self.behaviour.later_document_messages:
            return self.spec.error_message(code)
        row = self.spec.error_rows(code)[-1]
        return row.message.replace("%s", _DYNAMIC_FILLER)

    def _gateway(self, situation: str, **fields: str) -> ApiError:
        return ApiError.from_variant(self.spec.gateway_error(situation, **fields))

    def _missing(self, name: str) -> ApiError:
        if self.behaviour.missing_parameter_500:
            return ApiError(*self._documented(self._internal_code))
        return self._gateway("missing_parameter", Name=name)

    def _boolean(self, params: Mapping[str, str], name: str) -> bool:
        value = params.get(name)
        behaviour = self.behaviour
        if value is None:
            if name == self._force_param and behaviour.force_stop_default_true:
                return True
            return self._bool_defaults.get(name, False)
        booleans = self._booleans
        if behaviour.lenient_booleans:
            return value.lower() == booleans.spelling(True)
        if behaviour.case_sensitive_booleans:
            parsed = {booleans.spelling(True): True, booleans.spelling(False): False}.get(value)
        else:
            parsed = booleans.parse(value)
        if parsed is None:
            raise self._gateway("invalid_parameter", Name=name)
        return parsed

    # -- RebootInstance ----------------------------------------------------------------------
    def reboot_instance(self, request: RpcRequest, request_id: str) -> Fields:
        """RebootInstance: parameters, then the world's atomic check-and-reboot."""
        params = request.api_params
        for name in self._required:
            if not params.get(name):
                raise self._missing(name)
        flags = {name: self._boolean(params, name) for name in self._bool_defaults}
        force_stop = flags.get(self._force_param, False)
        dry_run = flags.get(self._dry_run_param, False)
        behaviour = self.behaviour
        if dry_run and behaviour.dryrun_before_validation:
            return self._dry_run_passed(request_id)
        if behaviour.force_stop_ignored:
            force_stop = False
        result = self.world.reboot(
            params[self._instance_param],
            force_stop=force_stop,
            dry_run=dry_run,
            behaviour=behaviour,
        )
        if result is RebootResult.REBOOTED:
            return {"RequestId": request_id}
        if result is RebootResult.DRY_RUN_PASSED:
            return self._dry_run_passed(request_id)
        if result is RebootResult.LOCK_FINANCIAL and behaviour.financial_as_security:
            result = RebootResult.LOCK_SECURITY
        status, code, message = self._refusals[result]
        if result is RebootResult.NOT_FOUND and behaviour.not_found_http_status is not None:
            status = behaviour.not_found_http_status
        raise ApiError(status, code, message)

    def _dry_run_passed(self, request_id: str) -> Fields:
        # docs/protocol.md#dryrun: a DryRun that passes answers the DryRunOperation error.
        if self.behaviour.dryrun_success_http_200:
            return {"RequestId": request_id}
        dry = self.spec.dryrun
        raise ApiError(dry.http_status, dry.code, dry.message)

    # -- DescribeInstances -------------------------------------------------------------------
    def _positive_int(self, params: Mapping[str, str], name: str, default: int, top: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= top:
            raise self._gateway("invalid_parameter", Name=name)
        return int(raw)

    def describe_instances(self, request: RpcRequest, request_id: str) -> Fields:
        """DescribeInstances (docs/protocol.md#observing-instances): InstanceIds as a JSON array
        string, paged."""
        params = request.api_params
        ids: list[str] | None = None
        raw_ids = params.get("InstanceIds")
        if raw_ids:
            try:
                decoded = json.loads(raw_ids)
            except ValueError:
                decoded = None
            if not isinstance(decoded, list) or not all(isinstance(i, str) for i in decoded):
                raise self._gateway("invalid_parameter", Name="InstanceIds")
            ids = decoded
        page = self._positive_int(params, "PageNumber", 1, 2**31 - 1)
        size = self._positive_int(params, "PageSize", _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)
        total, views = self.world.describe(ids, page, size)
        return {
            "RequestId": request_id,
            "TotalCount": total,
            "PageNumber": page,
            "PageSize": size,
            "Instances": {
                "Instance": [
                    _describe_view(v, hide_locks=self.behaviour.describe_hides_locks) for v in views
                ]
            },
        }


# What this emulator puts in a document message's `%s` (any text is one the document allows).
_DYNAMIC_FILLER = "The operation is not supported in the current state of the instance."


def _describe_view(view: InstanceSnapshot, *, hide_locks: bool = False) -> Fields:
    locks = () if hide_locks else view.operation_locks
    return {
        "InstanceId": view.instance_id,
        "Status": view.status,
        "OperationLocks": {"LockReason": [{"LockReason": r} for r in locks]},
    }
