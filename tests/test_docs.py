"""The documentation stands alone and tells the truth about the API.

- Every relative link in README.md and docs/*.md (and every Markdown file named in backticks by
  its path) resolves to a file inside the repository, and a link's `#anchor` to a heading of
  that file: a reader who clones the project has nothing outside it.
- docs/API.md and the served OpenAPI schema list the same operations, so the guide and the
  schema cannot drift apart: a route added to one and not the other fails here.
"""

import os
import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GUIDE = ROOT / "docs" / "API.md"

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target)
CODE_PATH = re.compile(r"`([^`\s]*/[^`\s]*\.md)`")  # `docs/EXPORTS.md`, `../shared/API.md`
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, …

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OPERATION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^\s`?#),]*)")
# The schema and its interactive docs are routes the schema does not describe (it would
# describe itself); the guide documents them all the same.
NOT_IN_SCHEMA = {("GET", "/api/v1/schema/"), ("GET", "/api/v1/docs/")}


def prose(path: Path) -> str:
    """The file without its fenced code blocks (examples are not links)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchors(path: Path) -> set[str]:
    """The heading anchors a Markdown renderer gives the file (GitHub's rule: lower case,
    punctuation dropped, spaces to hyphens, repeats numbered -1, -2, …)."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(prose(path)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def broken_references(document: Path) -> list[str]:
    text = prose(document)
    problems = []
    for target in LINK.findall(text):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.is_relative_to(ROOT) or not linked.exists():
            problems.append(f"{document.name}: link {target!r} names no file in the repository")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{document.name}: link {target!r} names no heading of {linked.name}")
    for named in CODE_PATH.findall(text):
        candidates = [(ROOT / named).resolve(), (document.parent / named).resolve()]
        if not any(c.is_relative_to(ROOT) and c.exists() for c in candidates):
            problems.append(f"{document.name}: `{named}` is not a file in the repository")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_reference_resolves_inside_the_repository(document):
    assert broken_references(document) == []


def test_the_link_check_catches_references_leaving_the_repository(tmp_path):
    # Guards the check itself: what it must report, and what it must let through.
    guide = os.path.relpath(GUIDE, tmp_path)
    readme = os.path.relpath(ROOT / "README.md", tmp_path)
    document = tmp_path / "probe.md"
    document.write_text(
        f"See [the contract](../shared/API.md), `../shared/API.md`, [a]({guide}#nowhere),\n"
        f"but [b]({guide}#getting-started) and [c]({readme}) are fine.\n"
        "```\n[not a link](../example.md)\n```\n",
        encoding="utf-8",
    )
    problems = broken_references(document)
    assert len(problems) == 3, problems
    assert all("../shared/API.md" in p or "#nowhere" in p for p in problems), problems


def normalise(path: str) -> str:
    """`/programs/{id}/rate-cards/{card_id}/` → `/programs/{}/rate-cards/{}/`: the guide may
    name path parameters as it likes."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), normalise(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }


def guide_operations() -> set[tuple[str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    return {(method, normalise(path)) for method, path in OPERATION.findall(text)}


def test_every_schema_operation_is_in_the_guide():
    missing = schema_operations() - guide_operations()
    assert not missing, f"in the schema, not in docs/API.md: {sorted(missing)}"


def test_every_operation_in_the_guide_is_in_the_schema():
    schema = schema_operations()
    assert len(schema) >= 30  # the generator saw the API's routes
    unknown = guide_operations() - schema - NOT_IN_SCHEMA
    assert not unknown, f"in docs/API.md, not in the schema: {sorted(unknown)}"
