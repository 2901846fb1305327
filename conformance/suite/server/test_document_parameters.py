"""The document's request parameter table, row by row: the Action row (required, a String
naming the operation), InstanceId as a String, the optional flags, and the sample request."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.protocol.signing import sign_v2
from conformance.suite import strategies as S
from conformance.suite.oracle import Expected
from conformance.suite.server.harness import ServerHarness
from conformance.targets.base import Condition
from conformance.targets.http import PreparedRequest

ACTION = ("doc.param.Action.required", "protocol.param.missing")
STRINGS = ("doc.param.Action.type", "doc.param.InstanceId.type")
OPTIONAL = ("doc.param.ForceStop.optional", "doc.param.DryRun.optional")


def _resigned_without(name: str, secret: str) -> Callable[[PreparedRequest], None]:
    """A tamper that drops `name` and signs the rest again (V2, everything in the query), so
    the server sees a well-signed request that lacks one required parameter."""

    def tamper(request: PreparedRequest) -> None:
        params = {k: v for k, v in request.query if k not in (name, "Signature")}
        request.query = [*params.items(), ("Signature", sign_v2(request.method, params, secret))]

    return tamper


@pytest.mark.requirement(*ACTION)
def test_missing_action_is_refused(ecs: ServerHarness) -> None:
    """The Action row is required: a well-signed request without it gets the missing-parameter
    error (any documented form) in an error envelope, never a success."""
    iid, _ = ecs.probe()
    secret = ecs.target.credentials.access_key_secret
    variants = ecs.spec.gateway_variants("missing_parameter", Name="Action")
    for method in ecs.context.options.methods:
        exchange = ecs.call(
            ecs.reboot_params(iid, dry_run=True),
            signature="v2",
            method=method,
            placement="query",
            tamper=_resigned_without("Action", secret),
        )
        ecs.expect_variant(ACTION, variants, exchange, note=f"{method} without Action")
        ecs.expect_envelope_error(ACTION, exchange)


@pytest.mark.requirement(*STRINGS)
def test_string_parameters_take_any_text(ecs: ServerHarness) -> None:
    """Action and InstanceId are Strings: an id made of any characters (spaces, `*`, `~`, `+`,
    `/`, `%`, `&`, `=`, non-ASCII) is taken as an id, never refused as malformed: an unknown
    one is simply not found, with the operation named by its String Action."""
    expected = Expected("error", frozenset({ecs.oracle.code_not_found}))

    @ecs.given(instance_id=S.not_found_ids())
    def run(instance_id: str) -> None:
        exchange = ecs.reboot(instance_id, dry_run=True)
        ecs.expect(STRINGS, expected, exchange, note=f"InstanceId {instance_id!r}")

    run()


@pytest.mark.requirement(*OPTIONAL)
def test_optional_flags_may_be_left_out(ecs: ServerHarness) -> None:
    """ForceStop and DryRun are optional: leaving them out is never a missing-parameter error.
    Without ForceStop, a DryRun of a rebootable instance passes; without DryRun, an unknown id
    is not found (no instance is touched either way)."""
    iid, passes = ecs.probe()
    exchange = ecs.reboot(iid, force_stop=None, dry_run=True)
    ecs.expect(OPTIONAL, passes, exchange, note="ForceStop left out")
    unknown = ecs.not_found_id()
    exchange = ecs.reboot(unknown, force_stop=None, dry_run=None)
    not_found = Expected("error", frozenset({ecs.oracle.code_not_found}))
    ecs.expect(OPTIONAL, not_found, exchange, note="ForceStop and DryRun left out")


@pytest.mark.requirement("doc.sample.request")
def test_the_documents_sample_request(ecs: ServerHarness) -> None:
    """The document's sample request, its parameters as printed (the signer adds the common
    ones), sent as a DryRun: with a control API its instance is arranged rebootable and the
    DryRun passes; elsewhere its masked id names no instance and is not found."""
    sample = ecs.spec.sample_request_params()
    instance = ecs.spec.instance_parameter.name
    if instance not in sample:
        ecs.skip("the document has no sample request naming an instance")
    params = {k: v for k, v in sample.items() if k != "Action"}
    params.update(ecs.reboot_params(None, dry_run=True))
    provisioner = ecs.context.provisioner
    if ecs.context.has_control:
        provisioner.arrange(Condition(ecs.spec.precondition_status), instance_id=params[instance])
        expected = Expected("dryrun")
    else:
        expected = Expected("error", frozenset({ecs.oracle.code_not_found}))
    exchange = ecs.call(params)
    ecs.expect("doc.sample.request", expected, exchange, note="the sample request, as a DryRun")
