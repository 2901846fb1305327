"""The spec pipeline: document page + protocol profile -> OpenAPI 3.1 + requirement catalogue.

`parse_document`/`read_document` read a vendor page, `build_spec`/`check_spec` generate or verify
the committed files, `load_spec` gives the runtime view (`Spec`) every other part reads.
"""

from __future__ import annotations

from conformance.spec.build import BuildResult, CheckResult, build_spec, check_spec
from conformance.spec.document import parse_document, read_document
from conformance.spec.loader import load_spec

__all__ = [
    "BuildResult",
    "CheckResult",
    "build_spec",
    "check_spec",
    "load_spec",
    "parse_document",
    "read_document",
]
