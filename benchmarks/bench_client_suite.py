"""Wall time of one client-suite run per adapter (a subprocess each, as users run it).

    python benchmarks/bench_client_suite.py [ADAPTER ...] [--examples N]

Prints one line per adapter: wall time, pytest's exit status and the requirement counts read
from the ledger (--ecs-results). Adapters that cannot run here (e.g. no Node.js) show as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADAPTERS = (
    "reference",
    "aliyun-python-sdk-ecs",
    "alibabacloud-ecs20140526",
    "alibabacloud-ecs20140526-v2",
    "node-ecs20140526",
    f"command:{sys.executable} examples/command_adapter.py",
)
_RANK = {"passed": 0, "not_verified": 1, "failed": 2}


def run(adapter: str, examples: int, workdir: Path) -> tuple[float, int, dict[str, int]]:
    """Run the suite for `adapter`; (wall seconds, exit status, verdict counts)."""
    ledger = workdir / "ledger.json"
    ledger.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite.client", "-q"]
    args += [
        "-p",
        "no:cacheprovider",
        "--ecs-results",
        str(ledger),
        "--ecs-examples",
        str(examples),
    ]
    if adapter.startswith("command:"):
        args += ["--ecs-client-command", adapter.removeprefix("command:")]
    else:
        args += ["--ecs-client", adapter]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    verdicts: dict[str, str] = {}
    if ledger.exists():
        for record in json.loads(ledger.read_text()):
            for rid in record["requirements"]:
                old, new = verdicts.get(rid, "passed"), record["outcome"]
                verdicts[rid] = new if _RANK[new] > _RANK[old] else old
    counts = {k: sum(1 for v in verdicts.values() if v == k) for k in _RANK}
    return wall, proc.returncode, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="*", default=list(DEFAULT_ADAPTERS))
    parser.add_argument("--examples", type=int, default=100, help="--ecs-examples (default 100)")
    ns = parser.parse_args()
    print(f"{'adapter':<52} {'wall s':>7} {'exit':>4}  passed failed not_verified")
    with tempfile.TemporaryDirectory() as tmp:
        for adapter in ns.adapters:
            wall, code, c = run(adapter, ns.examples, Path(tmp))
            print(
                f"{adapter[:52]:<52} {wall:7.1f} {code:>4}  "
                f"{c['passed']:>6} {c['failed']:>6} {c['not_verified']:>12}"
            )


if __name__ == "__main__":
    main()
