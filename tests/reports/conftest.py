"""Fixtures of the report tests; the builders live in report_builders.py."""

from __future__ import annotations

import pytest
from report_builders import build_mixed_report

from conformance.reports.model import RunReport


@pytest.fixture
def mixed_report() -> RunReport:
    """A report with every verdict (non-conformant: two unwaived failures)."""
    return build_mixed_report()
