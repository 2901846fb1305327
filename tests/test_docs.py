"""The repository carries its own documentation: nothing points outside it, every link resolves.

Two properties, over every file of the checkout (tracked, or new and not ignored):

* no file names a document that is not in the repository (the design notes, protocol notes,
  style and performance notes the project was started from, a sibling `shared` checkout, the
  text of a brief or of an issue) instead of the page of `docs/` that now says the same;
* every Markdown link to a file or heading inside the repository, and every
  `docs/<page>.md#<anchor>` written in code, messages or examples, names a file that exists and
  a heading it has.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"

# Spelled in pieces, so that this file does not match itself.
_OUTSIDE = re.compile(
    "|".join(
        [
            r"\b" + "DES" + "IGN" + r"\b",
            "ALIBABA" + "-RPC",
            "STYLE" + r"\.md",
            "PERFORMANCE" + "-NOTES",
            r"\.\./" + "shared",
            "/work/" + "shared",
            r"\bbrief " + r"item\b",
            r"\bissue " + r"text\b",
            # a bare section sign pointed into those documents (an RFC's "RFC 9110 §11.1" is fine)
            r"(?<!\d )" + "§" + r"\d",
        ]
    )
)
_SKIPPED_DIRS = {
    ".git",
    ".hypothesis",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
}
# [text](target) and [text]: target, not inside inline code.
_MD_LINK = re.compile(r"\[[^\[\]]*\]\(([^)\s]+)\)|^\[[^\]\n]+\]:\s*(\S+)", re.M)
# `docs/contracts.md#test-control` written anywhere (code, messages, examples, Markdown).
_DOCS_REF = re.compile(r"(?<![\w/.-])((?:\.\./)*docs/[\w.-]+\.md)(#[\w-]+)?")


@cache
def repository_files() -> tuple[Path, ...]:
    """Tracked files plus untracked ones git does not ignore; a plain walk without git."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        names = [n for n in out.decode("utf-8", "replace").split("\0") if n]
        files = [REPO / n for n in names]
    except (OSError, subprocess.SubprocessError):
        files = [
            p
            for p in REPO.rglob("*")
            if p.is_file() and not _SKIPPED_DIRS & set(p.relative_to(REPO).parts)
        ]
    return tuple(sorted(p for p in files if p.is_file()))


@cache
def text_of(path: Path) -> str | None:
    """The file as text, or None for binary files."""
    raw = path.read_bytes()
    if b"\0" in raw:
        return None
    return raw.decode("utf-8", "replace")


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to
    hyphens (backticks and colons vanish: `module:attr` gives `moduleattr`)."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every heading anchor of a Markdown file (repeated headings get -1, -2, ...)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    in_fence = False
    for line in (text_of(path) or "").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_fence or not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return frozenset(out)


def _markdown_files() -> list[Path]:
    return [p for p in repository_files() if p.suffix == ".md"]


def _strip_code(text: str) -> str:
    """Markdown without fenced blocks and inline code spans (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def _problem(source: Path, target: str) -> str | None:
    """Why the in-repository link `target` written in `source` does not resolve, or None."""
    path_part, _, anchor = target.partition("#")
    if path_part:
        resolved = (source.parent / path_part).resolve()
        if not resolved.is_relative_to(REPO):
            return f"{target}: points outside the repository"
        if not resolved.exists():
            return f"{target}: no such file"
    else:
        resolved = source
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"{target}: {resolved.relative_to(REPO)} has no heading #{anchor}"
    return None


def test_docs_exist() -> None:
    assert (DOCS / "README.md").is_file()
    assert len(list(DOCS.glob("*.md"))) >= 4


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    hits = []
    for path in repository_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert not hits, "point at docs/ instead:\n" + "\n".join(hits)


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_markdown_links_inside_the_repository_resolve(path: Path) -> None:
    problems = []
    for match in _MD_LINK.finditer(_strip_code(text_of(path) or "")):
        target = (match.group(1) or match.group(2) or "").strip("<>")
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        problem = _problem(path, target)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


def test_docs_references_in_code_and_messages_resolve() -> None:
    problems = []
    for path in repository_files():
        text = text_of(path)
        if text is None or path.suffix == ".md":
            continue
        for match in _DOCS_REF.finditer(text):
            page = REPO / match.group(1).lstrip("./")
            anchor = (match.group(2) or "").removeprefix("#")
            where = f"{path.relative_to(REPO)}: {match.group(0)}"
            if not page.is_file():
                problems.append(f"{where}: no such page")
            elif anchor and anchor not in anchors(page):
                problems.append(f"{where}: no heading #{anchor}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Test control", "test-control"),
        ("Python adapters: module:attr", "python-adapters-moduleattr"),
        ("Any language: --command", "any-language---command"),
        ("The main job's overview", "the-main-jobs-overview"),
        ("`spec build` and check", "spec-build-and-check"),
    ],
)
def test_slugs_follow_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor
