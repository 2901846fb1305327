"""Response envelopes: success and error bodies in JSON and XML, content types, the default
format, RequestIds."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from conformance.suite import strategies as S
from conformance.suite.server import answers
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.http import Exchange


def _fmt_param(fmt: str, *ids: str) -> object:
    return pytest.param(fmt, id=fmt, marks=pytest.mark.requirement(*ids))


def _check_format(
    ecs: ServerHarness,
    ids: tuple[str, ...],
    exchange: Exchange,
    fmt: str,
    content_type_ids: tuple[str, ...] = ("protocol.content-type",),
) -> None:
    """The body is `fmt`, judged under `ids`; its Content-Type under `content_type_ids` only,
    as strictly as each of those requirements is held (`answers.content_type_verdict`)."""
    r = exchange.response
    assert r is not None
    wrong = answers.format_mismatch(r, fmt)
    if wrong is not None:
        raise ecs.fail(ids, expected=wrong.expected, received=wrong.received, exchange=exchange)
    content_type = ecs.spec.profile.formats.content_type(fmt)
    for rid in content_type_ids:
        ok, wanted = ecs.content_type_ok(rid, r.content_type, content_type)
        ecs.check(
            ok,
            rid,
            expected=f"Content-Type {wanted}",
            received=f"Content-Type {r.content_type}",
            exchange=exchange,
        )


@pytest.mark.parametrize(
    "fmt",
    [
        _fmt_param("JSON", "doc.sample.response.json", "protocol.format.json"),
        _fmt_param("XML", "doc.sample.response.xml", "protocol.format.xml"),
    ],
)
@pytest.mark.requirement(
    "protocol.envelope.success", "protocol.content-type", "doc.response.RequestId"
)
def test_success_envelope(ecs: ServerHarness, fmt: str) -> None:
    """A successful reboot in each format: HTTP 200, the documented content type, the sample
    response's shape (root element and fields) with a non-empty RequestId."""
    ids = (
        "protocol.envelope.success",
        "protocol.content-type",
        "doc.response.RequestId",
        f"doc.sample.response.{fmt.lower()}",
        f"protocol.format.{fmt.lower()}",
    )
    ecs.require_destructive()
    exchange = ecs.reboot_rebootable(ids, fmt=fmt).exchange
    _check_format(ecs, ids, exchange, fmt)
    r = exchange.response
    assert r is not None and r.data is not None
    wrong = answers.success_envelope_mismatch(ecs.spec, r, fmt)
    if wrong is not None:
        raise ecs.fail(ids, expected=wrong.expected, received=wrong.received, exchange=exchange)
    _, fields = answers.sample_shape(ecs.spec, fmt)
    ecs.extra_fields(sorted(fields), exchange, "protocol.envelope.success")


@pytest.mark.parametrize(
    "fmt",
    [
        _fmt_param("JSON", "protocol.format.json"),
        _fmt_param("XML", "protocol.format.xml", "interop.content-type.xml-exact"),
    ],
)
@pytest.mark.requirement(
    "protocol.envelope.error", "protocol.content-type", "interop.error.status-and-code"
)
def test_error_envelope(ecs: ServerHarness, fmt: str, variant: Variant) -> None:
    """An error in each format: HTTP 4xx, every documented error field, the XML root, and the
    exact content type (V3 clients read an XML error only under it)."""
    ids = (
        "protocol.envelope.error",
        "protocol.content-type",
        "interop.error.status-and-code",
        f"protocol.format.{fmt.lower()}",
    )
    exchange = ecs.reboot(ecs.not_found_id(), dry_run=True, fmt=fmt, variant=variant)
    ecs.expect_error(ids, ecs.oracle.code_not_found, exchange)
    ecs.expect_envelope_error(ids, exchange)
    exact = ("interop.content-type.xml-exact",) if fmt == "XML" else ()
    _check_format(ecs, ids, exchange, fmt, ("protocol.content-type", *exact))
    r = exchange.response
    assert r is not None
    if fmt == "XML":
        root = ecs.spec.profile.envelopes.error_xml_root
        ecs.check(
            r.xml_root == root,
            ids,
            expected=f"XML root <{root}>",
            received=f"<{r.xml_root}>",
            exchange=exchange,
        )


@pytest.mark.requirement("protocol.format.default")
def test_default_format(ecs: ServerHarness) -> None:
    """A V2 request without Format: the profile's default format (ECS answers XML)."""
    fmt = ecs.spec.profile.formats.default_v2
    exchange = ecs.reboot(ecs.not_found_id(), dry_run=True, fmt=None)
    ecs.expect_error("protocol.format.default", ecs.oracle.code_not_found, exchange)
    _check_format(ecs, ("protocol.format.default",), exchange, fmt)


@pytest.mark.requirement("protocol.format.case-insensitive")
def test_format_is_case_insensitive(ecs: ServerHarness) -> None:
    """`Format` in any letter case selects that format."""
    iid, expected = ecs.probe()

    @ecs.given(
        fmt=st.sampled_from(ecs.spec.profile.common_parameter("Format").enum).flatmap(
            lambda f: st.tuples(st.just(f), S.case_variants(f))
        ),
        scale=0.3,
    )
    def run(fmt: tuple[str, str]) -> None:
        canonical, spelled = fmt
        exchange = ecs.reboot(iid, dry_run=True, fmt=spelled)
        ecs.expect(
            "protocol.format.case-insensitive", expected, exchange, note=f"Format={spelled!r}"
        )
        _check_format(ecs, ("protocol.format.case-insensitive",), exchange, canonical)

    run()


@pytest.mark.requirement("interop.v3.json")
def test_v3_answers_json(ecs: ServerHarness) -> None:
    """A V3 request carries no Format and asks for JSON: it gets JSON."""
    if "v3" not in ecs.context.options.signature_versions:
        ecs.skip("V3 signatures are not part of this run (--ecs-signature)")
    fmt = ecs.spec.profile.formats.default_v3
    for method in ecs.context.options.methods:
        exchange = ecs.reboot(ecs.not_found_id(), dry_run=True, signature="v3", method=method)
        ecs.expect_error("interop.v3.json", ecs.oracle.code_not_found, exchange)
        _check_format(ecs, ("interop.v3.json",), exchange, fmt)


@pytest.mark.requirement("protocol.request-id.unique", "doc.response.RequestId")
def test_request_ids_are_unique(ecs: ServerHarness) -> None:
    """Every answer, success or error, carries a RequestId of its own."""
    ids = ("protocol.request-id.unique", "doc.response.RequestId")
    iid, _ = ecs.probe()
    seen: dict[str, Exchange] = {}

    @ecs.given(
        kind=st.sampled_from(["probe", "not-found", "missing", "bad-signature"]),
        variant=st.sampled_from(ecs.context.variants()),
        scale=0.5,
    )
    def run(kind: str, variant: Variant) -> None:
        from conformance.targets.http import corrupt_signature

        if kind == "probe":
            exchange = ecs.reboot(iid, dry_run=True, variant=variant)
        elif kind == "not-found":
            exchange = ecs.reboot(ecs.not_found_id(), dry_run=True, variant=variant)
        elif kind == "missing":
            exchange = ecs.reboot(None, dry_run=True, variant=variant)
        else:
            exchange = ecs.reboot(iid, dry_run=True, variant=variant, tamper=corrupt_signature)
        ecs.answered(ids, exchange)
        body = (exchange.response.data if exchange.response else None) or {}
        rid = body.get("RequestId")
        ecs.check(
            bool(rid) and isinstance(rid, str),
            ids,
            expected="a RequestId in the body",
            received=f"{rid!r}",
            exchange=exchange,
        )
        assert rid is not None
        ecs.check(
            rid not in seen,
            ids,
            expected="a RequestId never seen before",
            received=f"{rid} again",
            exchange=exchange,
        )
        seen[rid] = exchange

    run()
