"""Request parameters: required ones, wire booleans, tolerated extras, GET/POST and placements."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from conformance.suite import strategies as S
from conformance.suite.oracle import ModelInstance
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition

BOOLEAN_TYPES = ("doc.param.ForceStop.type", "doc.param.DryRun.type")


@pytest.mark.requirement("doc.param.InstanceId.required", "protocol.param.missing")
def test_missing_required_parameter_is_refused(ecs: ServerHarness, variant: Variant) -> None:
    """Every required parameter left out: the missing-parameter error (any documented form)."""
    ids = ("doc.param.InstanceId.required", "protocol.param.missing")
    probe_id, _ = ecs.probe()
    full = ecs.reboot_params(probe_id, dry_run=True)
    for parameter in ecs.spec.required_parameters:
        if parameter.name not in full:
            continue  # Action and the common parameters are sent by the signer itself
        params = {k: v for k, v in full.items() if k != parameter.name}
        exchange = ecs.call(params, variant=variant)
        variants = ecs.spec.gateway_variants("missing_parameter", Name=parameter.name)
        ecs.expect_variant(ids, variants, exchange)
        ecs.expect_envelope_error(ids, exchange)


@pytest.mark.requirement(*BOOLEAN_TYPES, "doc.param.DryRun.value.true")
def test_any_spelling_of_true_is_a_boolean(ecs: ServerHarness) -> None:
    """Booleans are case-insensitive on the wire: every spelling of true sets DryRun (and is a
    valid ForceStop): the answer is the DryRun outcome."""
    ids = (*BOOLEAN_TYPES, "doc.param.DryRun.value.true")
    iid, expected = ecs.probe()

    @ecs.given(
        dry=S.boolean_spellings(ecs.spec, True),
        force=st.one_of(
            st.none(), S.boolean_spellings(ecs.spec, True), S.boolean_spellings(ecs.spec, False)
        ),
        variant=st.sampled_from(ecs.context.variants()),
        scale=2.0,
    )
    def run(dry: str, force: str | None, variant: Variant) -> None:
        exchange = ecs.reboot(iid, dry_run=dry, force_stop=force, variant=variant)
        ecs.expect(ids, expected, exchange, note=f"DryRun={dry!r} ForceStop={force!r}")

    run()


@pytest.mark.parametrize(
    "style",
    [
        pytest.param("capitalised", marks=pytest.mark.requirement("interop.boolean.capitalised")),
        pytest.param("lowercase", marks=pytest.mark.requirement("interop.boolean.lowercase")),
        pytest.param("uppercase", marks=pytest.mark.requirement("interop.boolean.uppercase")),
    ],
)
@pytest.mark.requirement(*BOOLEAN_TYPES)
def test_sdk_boolean_spellings(ecs: ServerHarness, style: str) -> None:
    """The spellings SDKs send (Python `True`/`False`, Node/Java `true`/`false`, and upper case):
    `DryRun=<true>` answers the DryRun outcome; `DryRun=<false>` really reboots, with
    `ForceStop=<false>` as SDKs send it explicitly."""
    ids = (*BOOLEAN_TYPES, f"interop.boolean.{style}")
    spell = {"capitalised": str.capitalize, "lowercase": str.lower, "uppercase": str.upper}[style]
    words = ecs.spec.profile.booleans
    true, false = spell(words.spelling(True)), spell(words.spelling(False))
    iid, expected = ecs.probe()
    for variant in ecs.context.variants():
        exchange = ecs.reboot(iid, dry_run=true, force_stop=false, variant=variant)
        ecs.expect(ids, expected, exchange, note=f"DryRun={true!r} ForceStop={false!r}")
    if not ecs.context.destructive_allowed:
        return
    for variant in ecs.context.variants():
        running = ecs.arrange(S.passing_condition(ecs.spec))
        exchange = ecs.reboot(running, dry_run=false, force_stop=false, variant=variant)
        expected_call, _ = ecs.oracle.reboot(ModelInstance(S.passing_condition(ecs.spec)))
        ecs.expect(ids, expected_call, exchange, note=f"DryRun={false!r} ForceStop={false!r}")


@pytest.mark.requirement(*BOOLEAN_TYPES, "protocol.param.invalid")
def test_invalid_boolean_is_refused(ecs: ServerHarness) -> None:
    """A boolean parameter with a value that is no spelling of true or false: the invalid-
    parameter error (any documented form), never a reboot."""
    ids = (*BOOLEAN_TYPES, "protocol.param.invalid")
    names = [p.name for p in ecs.spec.boolean_parameters]
    iid = ecs.not_found_id()

    @ecs.given(
        name=st.sampled_from(names),
        value=S.invalid_booleans(ecs.spec),
        variant=st.sampled_from(ecs.context.variants()),
        scale=2.0,
    )
    def run(name: str, value: str, variant: Variant) -> None:
        params = ecs.reboot_params(iid, extra={name: value})
        exchange = ecs.call(params, variant=variant)
        variants = ecs.spec.gateway_variants("invalid_parameter", Name=name)
        ecs.expect_variant(ids, variants, exchange, note=f"{name}={value!r}")

    run()


@pytest.mark.requirement("interop.params.tolerated", "interop.params.hidden")
def test_sdk_extra_parameters_are_ignored(ecs: ServerHarness) -> None:
    """Parameters SDKs add (RegionId, an empty SignatureType) and the metadata's hidden ones are
    accepted and ignored: the answer is the same as without them."""
    ids = ("interop.params.tolerated", "interop.params.hidden")
    iid, expected = ecs.probe()

    @ecs.given(
        extra=S.extra_parameters(ecs.spec),
        variant=st.sampled_from(ecs.context.variants()),
        scale=2.0,
    )
    def run(extra: dict[str, str], variant: Variant) -> None:
        exchange = ecs.call(ecs.reboot_params(iid, dry_run=True, extra=extra), variant=variant)
        ecs.expect(ids, expected, exchange, note=f"extra parameters {extra!r}")

    run()


@pytest.mark.requirement("interop.params.tolerated")
def test_unknown_parameters_are_ignored(ecs: ServerHarness) -> None:
    """Parameters no document names do not change the answer (newer clients send more)."""
    iid, expected = ecs.probe()

    @ecs.given(extra=S.unknown_parameters(ecs.spec))
    def run(extra: dict[str, str]) -> None:
        exchange = ecs.call(ecs.reboot_params(iid, dry_run=True, extra=extra))
        ecs.expect("interop.params.tolerated", expected, exchange, note=f"extra {extra!r}")

    run()


@pytest.mark.requirement("protocol.method.GET", "protocol.method.POST", "protocol.params.merged")
def test_methods_and_placements_answer_alike(ecs: ServerHarness) -> None:
    """GET, POST with a query, POST with a form body, and POST split between both: the same
    arranged condition gets the same answer, the one the document predicts."""
    ids = ("protocol.method.GET", "protocol.method.POST", "protocol.params.merged")
    shapes = [
        Variant(sig, method, placement)
        for sig in ecs.context.options.signature_versions
        for method, placement in (
            ("GET", "query"),
            ("POST", "query"),
            ("POST", "form"),
            ("POST", "split"),
        )
        if method in ecs.context.options.methods
    ]
    if not ecs.context.has_control:
        iid, expected = ecs.probe()
        for shape in shapes:
            ecs.expect(
                ids,
                expected,
                ecs.reboot(iid, dry_run=True, variant=shape),
                note=f"sent as {shape.id}",
            )
        return

    @ecs.given(condition=S.conditions(ecs.spec), scale=2.0)
    def run(condition: Condition) -> None:
        iid = ecs.arrange(condition)
        expected, _ = ecs.oracle.reboot(ModelInstance(condition), dry_run=True)
        codes = set()
        for shape in shapes:
            exchange = ecs.reboot(iid, dry_run=True, variant=shape)
            ecs.expect(ids, expected, exchange, note=f"{condition.describe()}, sent as {shape.id}")
            codes.add((exchange.status, exchange.code))
        if len(codes) > 1:
            raise ecs.fail(
                ids,
                expected="the same answer for every method and placement",
                received=f"different answers: {sorted(map(str, codes))}",
            )

    run()


@pytest.mark.requirement("interop.encoding.plus-space")
def test_plus_encoded_spaces(ecs: ServerHarness) -> None:
    """An InstanceId with spaces, written `+` on the wire (form encoding, as the new Python SDK
    does): the server decodes before verifying, so the signature matches and the id is found."""
    iid, expected = ecs.probe(id_suffix=" a b")
    shapes = [Variant(sig, "POST", "form") for sig in ecs.context.options.signature_versions]
    shapes += [Variant(sig, "GET", "query") for sig in ecs.context.options.signature_versions]
    for shape in shapes:
        if shape.method not in ecs.context.options.methods:
            continue
        exchange = ecs.reboot(iid, dry_run=True, variant=shape, plus_spaces=True)
        ecs.expect(
            "interop.encoding.plus-space",
            expected,
            exchange,
            note=f"spaces sent as '+', {shape.id}",
        )
