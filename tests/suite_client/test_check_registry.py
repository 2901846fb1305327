"""The client suite's request-check registry: one entry per requirement, every id in the
catalogue, problems before "not judged", and duplicates refused at registration."""

from __future__ import annotations

import pytest

from conformance.config import Credentials
from conformance.spec import load_spec
from conformance.suite.client import checks
from conformance.suite.client.recording import RecordedRequest

SPEC = load_spec()


def _request(method: str = "GET", query: bytes = b"Action=RebootInstance") -> RecordedRequest:
    return RecordedRequest(method, "/", query, (), b"")


def _context(*requests: RecordedRequest) -> checks.CheckContext:
    views = tuple(checks.view(r, SPEC) for r in requests)
    return checks.CheckContext(SPEC, Credentials("id", "secret"), (), views)


def _case(requirement: str) -> checks.CheckCase:
    return next(c for c in checks.cases(SPEC) if c.requirement == requirement)


def test_every_case_names_one_catalogue_requirement() -> None:
    ids = [c.requirement for c in checks.cases(SPEC)]
    assert len(ids) == len(set(ids))
    assert set(ids) <= {r.id for r in SPEC.requirements}
    assert {"protocol.signature.v2", "protocol.signature.v3", "doc.default.DryRun"} <= set(ids)


def test_a_requirement_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        checks.check("protocol.action.value")(lambda ctx: [])
    with pytest.raises(ValueError, match="give `over`"):
        checks.check("doc.param.{name}.nothing")(lambda ctx: [])


def test_a_check_that_cannot_judge_says_why() -> None:
    with pytest.raises(checks.NotJudged, match="never POST"):
        _case("protocol.method.POST").run(_context(_request("GET")))


def test_problems_come_before_not_judged() -> None:
    problems = _case("protocol.method.POST").run(_context(_request("PUT")))
    assert [p.received for p in problems] == ["method PUT"]


def test_a_case_judges_only_the_calls_it_names() -> None:
    from conformance import RebootCall

    case = _case("doc.param.DryRun.value.true")
    call = RebootCall("127.0.0.1:1", "i-1", "id", "secret", dry_run=True)
    assert case.judges(call)
    assert not case.judges(RebootCall("127.0.0.1:1", "i-1", "id", "secret"))


def test_a_check_that_compares_requests_names_its_key() -> None:
    """Only the nonce check compares requests with each other; its key is the nonce, from the
    parameter or (V3) the header."""
    across = {c.requirement: c.check.across for c in checks.cases(SPEC) if c.check.across}
    assert set(across) == {"protocol.nonce.unique"}
    v2 = checks.view(_request(query=b"Action=RebootInstance&SignatureNonce=abc"), SPEC)
    assert across["protocol.nonce.unique"](v2) == "abc"


def test_only_the_signature_checks_need_the_secret() -> None:
    keyed = sorted(c.requirement for c in checks.cases(SPEC) if c.check.keyed)
    assert keyed == ["protocol.signature.v2", "protocol.signature.v3"]
    v2 = checks.view(_request(query=b"AccessKeyId=AK1&Action=RebootInstance"), SPEC)
    assert checks.access_key_id(v2) == "AK1"


def test_a_boolean_never_sent_is_not_judged() -> None:
    with pytest.raises(checks.NotJudged, match="no request carries ForceStop"):
        _case("doc.param.ForceStop.type").run(_context(_request()))
    sent = _request(query=b"Action=RebootInstance&ForceStop=1")
    assert [p.received for p in _case("doc.param.ForceStop.type").run(_context(sent))] == ["'1'"]
