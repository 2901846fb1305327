"""Every row of the document's error table, provoked through an arranged condition (or an
injected fault); `not_verified` with the reason where the target cannot arrange it."""

from __future__ import annotations

import pytest

from conformance.spec import load_spec
from conformance.spec.model import Spec
from conformance.suite import strategies as S
from conformance.suite.oracle import ModelInstance
from conformance.suite.server.answers import STATUS_AND_CODE, error_rows_with_ids
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition, Unsupported
from conformance.targets.provisioners import describe_instance

# Profile conditions that have a requirement of their own besides the error row.
_CONDITION_REQUIREMENTS = {
    "lock_security": ("doc.lock.security",),
    "lock_financial": ("protocol.lock.financial",),
    "injected_fault": ("protocol.fault.injected",),
    "status_not_running": ("doc.state.only-running",),
}


def _rows(spec: Spec) -> list[tuple[str, str, tuple[str, ...]]]:
    """`(code, requirement id, extra ids)` for each documented error row, in table order."""
    known = {r.id for r in spec.requirements}
    condition_of = {code: name for name, code in spec.conditions.items()}
    out = []
    for row, rid in error_rows_with_ids(spec):
        if rid not in known:
            continue
        extra = _CONDITION_REQUIREMENTS.get(condition_of.get(row.code, ""), ())
        out.append((row.code, rid, tuple(i for i in extra if i in known)))
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per documented error row, marked with its requirement ids."""
    if "error_row" not in metafunc.fixturenames:
        return
    params = [
        pytest.param(
            (code, rid), id=rid, marks=pytest.mark.requirement(rid, STATUS_AND_CODE, *extra)
        )
        for code, rid, extra in _rows(load_spec())
    ]
    metafunc.parametrize("error_row", params)


def _condition_for(ecs: ServerHarness, name: str) -> Condition | None:
    running = S.passing_condition(ecs.spec)
    if name == "status_not_running":
        other = [s for s in ecs.oracle.statuses if s != running.status]
        return Condition(other[0]) if other else None
    if name.startswith("lock_"):
        reasons = [r for r, c in ecs.spec.lock_errors.items() if c == ecs.spec.conditions[name]]
        return Condition(running.status, operation_locks=(reasons[0],)) if reasons else None
    if name == "disk_not_ready":
        return Condition(running.status, disk_status=S.OTHER_DISK_STATUSES[0])
    if name == "kms_unauthorized":
        return Condition(running.status, kms_key_accessible=False)
    return None


def test_documented_error(ecs: ServerHarness, variant: Variant, error_row: tuple[str, str]) -> None:
    """The condition the code documents: that code with its documented status and one of its
    documented messages, carried both in the HTTP status and the body's Code."""
    code, rid = error_row
    ids = (rid, STATUS_AND_CODE)
    condition_of = {c: name for name, c in ecs.spec.conditions.items()}
    name = condition_of.get(code)
    dry = None if ecs.context.destructive_allowed else True
    if name is None:
        ecs.skip(f"no arrangeable condition provokes {code} (the document gives none)")
    if name == "not_found":
        exchange = ecs.reboot(ecs.not_found_id(), dry_run=dry, variant=variant)
        ecs.expect_error(ids, code, exchange)
        return
    if name == "injected_fault":
        running = S.passing_condition(ecs.spec)
        iid = ecs.arrange(running)
        ecs.inject_fault(code, 1)
        exchange = ecs.reboot(iid, dry_run=dry, variant=variant)
        ecs.expect_error(ids, code, exchange)
        view = ecs.observe(iid)
        ecs.check(
            view.status == running.status and view.reboot_count in (None, 0),
            ids,
            expected="the instance untouched by a call that failed with a fault",
            received=f"Status {view.status}, RebootCount {view.reboot_count}",
            exchange=exchange,
        )
        return
    condition = _condition_for(ecs, name)
    if condition is None:
        ecs.skip(f"the profile gives no way to arrange {name} for {code}")
    iid = ecs.arrange(condition)
    expected, _ = ecs.oracle.reboot(ModelInstance(condition), dry_run=dry)
    exchange = ecs.reboot(iid, dry_run=dry, variant=variant)
    ecs.expect(ids, expected, exchange, note=f"arranged: {condition.describe()}")
    ecs.check(
        exchange.code == code,
        ids,
        expected=f"{code} (the only condition arranged)",
        received=exchange.summary(),
        exchange=exchange,
    )


@pytest.mark.requirement("doc.lock.security")
def test_a_security_lock_shows_in_describe_instances(ecs: ServerHarness) -> None:
    """The document: an instance whose OperationLocks in the DescribeInstances response
    contains "LockReason" : "security" is locked for security reasons. An arranged security
    lock is what DescribeInstances shows (through the control API's target too, not only its
    own view)."""
    code = ecs.spec.conditions.get("lock_security")
    reasons = [r for r, c in ecs.spec.lock_errors.items() if c == code]
    if not reasons:
        ecs.skip("the spec names no security lock reason")
    reason = reasons[0]
    condition = Condition(S.passing_condition(ecs.spec).status, operation_locks=(reason,))
    iid = ecs.arrange(condition)
    if ecs.context.has_control:
        try:
            view = describe_instance(ecs.target, iid)
        except Unsupported as exc:
            ecs.skip(exc.reason)
    else:
        view = ecs.observe(iid)  # without a control API, observation is DescribeInstances
    ecs.check(
        view is not None and reason in view.operation_locks,
        "doc.lock.security",
        expected=f'DescribeInstances listing {iid} with OperationLocks "LockReason" : "{reason}"',
        received="not listed" if view is None else f"OperationLocks {list(view.operation_locks)}",
    )
