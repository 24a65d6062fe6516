"""The student edition and the exercise index (scripts/student_edition.py, scripts/exercise_index.py).

Unit tests run on small synthetic notebooks and on the real chapters converted in memory. Tests
marked ``book`` look at what ``make student`` built in ``_build/student`` (executed student notebooks
and the student website). Solution text is found here independently of the script (regular
expressions over each notebook's text), so a bug in the script's span handling cannot hide itself.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT, skip_or_fail
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

sys.path.insert(0, str(ROOT / "scripts"))
import exercise_index as ei  # noqa: E402
import student_edition as se  # noqa: E402

from effnet_core.book.checkers import EXERCISES, Exercise  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
BOOK = ei.book_chapters()  # the chapters in _toc.yml: those in the student edition
STUDENT = ROOT / "_build" / "student"
GATE = re.compile(r"^(?P<f>[`:]{3,})\s*\{(?P<name>solution-start|solution-end)\}.*?^(?P=f)\s*$", re.M | re.S)
SOLUTION_DIRECTIVE = re.compile(r"^(?P<f>[`:]{3,})\s*\{solution\}.*?^(?P=f)\s*$", re.M | re.S)
SYNTAX = re.compile(r"^([`:]{3,}|:[\w-]+:|### (BEGIN|END) SOLUTION)")  # fences, options, markers
REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
SELF_CHECK = re.compile(r"^(?P<f>[`:]{3,})\s*\{(admonition|dropdown)\}\s*Check your answer.*?^(?P=f)\s*$",
                        re.M | re.S)  # kept in the student edition, even inside a solution span


def cell(kind: str, source: str, **extra: object) -> dict:
    made = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        made |= {
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "old"}],
            "execution_count": 3,
        }
    return made | extra


def notebook(*cells: dict) -> dict:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def text_of(nb: dict) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"])


def words(text: str) -> str:
    """Text reduced to its words, so that Markdown, HTML markup and highlighting do not matter."""
    return " ".join(re.findall(r"\w+", re.sub(r"\{[\w:-]+\}`", "`", text).lower()))


def solution_lines(nb: dict) -> list[str]:
    """The solution-only lines of a notebook: in a marked region, in a solution directive, or in a
    gated solution span (but outside a marked cell's kept lines), and not also present (as words)
    in the rest of the notebook. Only lines of 12+ word characters count."""
    solution, outside, in_span = [], [], False
    for c in nb["cells"]:
        source = "".join(c["source"])
        if c["cell_type"] == "code":
            regions = [m[0] for m in REGION.finditer(source)]
            solution += regions if regions else [source] if in_span else []
            outside.append(REGION.sub("", source) if regions or not in_span else "")
            continue
        solution += [m[0] for m in SOLUTION_DIRECTIVE.finditer(source)]
        outside += [m[0] for m in SELF_CHECK.finditer(source)]
        source, start = SELF_CHECK.sub("", SOLUTION_DIRECTIVE.sub("", source)), 0
        for m in GATE.finditer(source):
            (solution if in_span else outside).append(source[start : m.start()])
            in_span, start = m["name"] == "solution-start", m.end()
        (solution if in_span else outside).append(source[start:])
    rest = words("\n".join(outside))
    lines = (line.strip() for text in solution for line in text.split("\n"))
    return [
        line
        for line in lines
        if not SYNTAX.match(line) and len(words(line).replace(" ", "")) >= 12 and words(line) not in rest
    ]


def html_words(page: str) -> str:
    return words(html.unescape(re.sub(r"<[^>]+>", " ", page)))


# --- the conversion, on synthetic notebooks -------------------------------------------------------

EXERCISE_MD = """Some prose.

```{exercise} Double it
:label: ex-test-double

<!-- kind: coding, checker: linear_params, difficulty: 1, minutes: 5 -->
Write `double(x)`.
```

```{solution-start} ex-test-double
:class: dropdown
```
The trick is to multiply by two, obviously enough."""

SYNTHETIC = notebook(
    cell("markdown", EXERCISE_MD),
    cell(
        "code",
        "def double(x):\n    ### BEGIN SOLUTION\n    doubled = x + x  # add x to itself\n    return doubled\n"
        "    ### END SOLUTION\n",
    ),
    cell("markdown", "Only solution prose in this cell, explaining the secret factor."),
    cell("code", "print(double(21))  # demonstration inside the solution"),
    cell("markdown", "```{solution-end}\n```\n\nNow run the checker."),
    cell("code", "check_linear_params(double)"),
    cell(
        "markdown",
        "````{solution} ex-test-double\n:class: dropdown\n\n```python\nreturn the_answer * 2\n```\n"
        "````\nAfter the solution.",
    ),
)


def test_marked_regions_become_nbgrader_stubs_with_their_indentation() -> None:
    source = (
        "class A:\n    def f(self):\n        ### BEGIN SOLUTION\n        return 1\n"
        "        ### END SOLUTION\n\n"
        "def g():\n\t### BEGIN SOLUTION\n\treturn 2\n\t### END SOLUTION\n    "
    )
    stubbed, count = se.replace_solution_regions(source)
    assert count == 2
    assert stubbed == (
        "class A:\n    def f(self):\n        # YOUR CODE HERE\n        raise NotImplementedError()\n\n"
        "def g():\n\t# YOUR CODE HERE\n\traise NotImplementedError()\n    "
    )
    compile(stubbed, "stubbed", "exec")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("    ### BEGIN SOLUTION\n    x = 1\n", "without '### END SOLUTION'"),
        ("    x = 1\n    ### END SOLUTION\n", "without '### BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
        ("    ## BEGIN SOLUTION\n    x = 1\n    ## END SOLUTION\n", "malformed"),
        ("    # BEGIN SOLUTION: x = 1\n", "malformed"),
    ],
)
def test_broken_markers_are_refused(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        se.replace_solution_regions(source)


def test_student_notebook_removes_every_kind_of_solution() -> None:
    student = se.student_notebook(SYNTHETIC, "synthetic.ipynb")
    sources = ["".join(c["source"]) for c in student["cells"]]
    assert sources[0].startswith("Some prose.") and sources[0].endswith("Write `double(x)`.\n```")
    assert sources[1] == "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert sources[2:] == ["Now run the checker.", "check_linear_params(double)", "After the solution."]
    assert all(
        c["outputs"] == [] and c["execution_count"] is None for c in student["cells"] if "outputs" in c
    )
    assert SYNTHETIC["cells"][1]["execution_count"] == 3, "the input notebook must not be modified"
    expected = {
        "doubled = x + x  # add x to itself",
        "return doubled",
        "The trick is to multiply by two, obviously enough.",
        "Only solution prose in this cell, explaining the secret factor.",
        "print(double(21))  # demonstration inside the solution",
        "return the_answer * 2",
    }
    assert set(solution_lines(SYNTHETIC)) == expected
    assert not [line for line in expected if words(line) in words(text_of(student))]


CONCEPTUAL_MD = """```{exercise} Why two?
:label: ex-test-why

<!-- kind: conceptual, difficulty: 1, minutes: 5 -->
Why does doubling need no parameter?
```

```{solution-start} ex-test-why
:class: dropdown
```

%s

The whole argument, which only the instructor edition shows in full.

```{admonition} Hidden note
:class: dropdown
An instructor's remark that stays hidden from students.
```

```{solution-end}
```"""
SELF_CHECKS = (
    "```{admonition} Check your answer\n:class: dropdown\n- The key point: the factor is fixed.\n```",
    "````{dropdown} Check your answer (after trying)\n- The key point: the factor is fixed.\n````",
    ":::{admonition} Check your answer\n:class: dropdown\n- The key point: the factor is fixed.\n:::",
)


@pytest.mark.parametrize("self_check", SELF_CHECKS)
def test_a_self_check_survives_in_the_student_edition(self_check: str) -> None:
    nb = notebook(cell("markdown", CONCEPTUAL_MD % self_check), cell("code", "check(double)"))
    text = text_of(se.student_notebook(nb, "conceptual.ipynb"))
    assert self_check in text and "Why does doubling need no parameter?" in text
    assert "The whole argument" not in text and "instructor's remark" not in text
    assert "solution-start" not in text and "solution-end" not in text
    assert solution_lines(nb) == ["The whole argument, which only the instructor edition shows in full.",
                                  "An instructor's remark that stays hidden from students."]
    assert self_check in text_of(se.nbgrader_source(nb, "conceptual.ipynb"))


def test_only_a_block_titled_check_your_answer_survives() -> None:
    other = "```{admonition} Check the units\n:class: dropdown\n- Secret units.\n```"
    student = se.student_notebook(notebook(cell("markdown", CONCEPTUAL_MD % other)), "other.ipynb")
    assert "Secret units" not in text_of(student)
    unclosed = CONCEPTUAL_MD.split("%s")[0] + "```{admonition} Check your answer\n- never closed"
    with pytest.raises(ValueError, match="never closed"):
        se.student_notebook(notebook(cell("markdown", unclosed)), "unclosed.ipynb")


@pytest.mark.parametrize("chapter", BOOK, ids=lambda p: p.stem)
def test_every_conceptual_exercise_keeps_a_self_check(chapter: Path) -> None:
    student = text_of(se.student_notebook(json.loads(chapter.read_text()), chapter.name))
    labels = [ex.label for ex in ei.collect([chapter]) if ex.kind == "conceptual"]
    parts = re.split(r"^:label: (ex-[\w-]+)$", student, flags=re.M)
    following = dict(zip(parts[1::2], parts[2::2], strict=True))  # label -> the text up to the next one
    for label in labels:
        assert SELF_CHECK.search(following[label]), f"{chapter.name}: {label} has no 'Check your answer'"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([cell("markdown", "```{solution-start} ex-a\n```\ntext")], "solution-start without solution-end"),
        ([cell("markdown", "```{solution-end}\n```")], "solution-end without solution-start"),
        (
            [cell("markdown", "```{solution-start} ex-a\n```\n```{solution-start} ex-b\n```")],
            "inside another",
        ),
        ([cell("markdown", "### BEGIN SOLUTION\nx\n### END SOLUTION")], "markdown cell"),
    ],
)
def test_broken_solution_spans_are_refused(cells: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        se.student_notebook(notebook(*cells), "broken.ipynb")


def test_nbgrader_source_keeps_markers_and_marks_solution_cells() -> None:
    source = se.nbgrader_source(SYNTHETIC, "synthetic.ipynb")
    marked = [c for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert len(marked) == 1 and "### BEGIN SOLUTION" in marked[0]["source"]
    assert marked[0]["metadata"]["nbgrader"] | {"grade_id": "x"} == {
        "grade": False,
        "grade_id": "x",
        "locked": False,
        "schema_version": 3,
        "solution": True,
    }
    assert "obviously enough" not in text_of(source)  # prose solutions are not nbgrader's business
    # what nbgrader's ClearSolutions would do to the marked cell is what the student edition does
    student = se.student_notebook(SYNTHETIC, "synthetic.ipynb")
    assert se.replace_solution_regions(marked[0]["source"])[0] == student["cells"][1]["source"]


def test_site_config_turns_execution_off_and_hides_solutions() -> None:
    config = se.site_config(
        {
            "title": "T",
            "execute": {"execute_notebooks": "cache"},
            "launch_buttons": {"colab_url": "https://colab"},
            "sphinx": {"config": {"html_static_path": ["_vendor"]}},
        }
    )
    assert config["execute"] == {"execute_notebooks": "off"}
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert "colab_url" not in config["launch_buttons"]
    assert config["sphinx"]["config"]["html_static_path"] == [str(ROOT / "_vendor")]


# --- the real chapters, converted in memory ----------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_line_survives_in_the_student_notebook(chapter: Path) -> None:
    nb = json.loads(chapter.read_text())
    student = se.student_notebook(nb, chapter.name)
    if GATE.search(text_of(nb)) or REGION.search(text_of(nb)):
        assert solution_lines(nb), f"{chapter.name} has solutions but no solution-only line was found"
    leaked = [line for line in solution_lines(nb) if words(line) in words(text_of(student))]
    assert not leaked, f"solution text left in the student edition of {chapter.name}: {leaked}"


def test_the_leak_detector_sees_through_html_and_syntax_highlighting() -> None:
    code = "".join(SYNTHETIC["cells"][1]["source"])
    page = highlight(code, PythonLexer(), HtmlFormatter()) + f"<p>{html.escape(EXERCISE_MD)}</p>"
    found = [line for line in solution_lines(SYNTHETIC) if words(line) in html_words(page)]
    assert found == [
        "The trick is to multiply by two, obviously enough.",
        "doubled = x + x  # add x to itself",
        "return doubled",
    ]


# --- the exercise index ----------------------------------------------------------------------------


def test_every_exercise_has_complete_metadata() -> None:
    problems = [p for ex in ei.collect() for p in ex.problems]
    assert not problems, "\n".join(problems)


def test_the_index_lists_every_exercise_that_exists() -> None:
    exercises = ei.collect()
    declared = [
        re.findall(r"^ {0,3}[`:]{3,}\s*\{exercise(?:-start)?\}", text_of(json.loads(p.read_text())), re.M)
        for p in ei.book_chapters()
    ]
    assert len(exercises) == sum(map(len, declared))
    labels = [ex.label for ex in exercises]
    assert len(set(labels)) == len(labels), "exercise labels must be unique"
    table = ei.render_table(exercises)  # what `make book` / `make student` write before building
    for ex in exercises:
        assert f"| {{ref}}`{ex.title} <{ex.label}>` |" in table, f"{ex.label} is missing from the index"
    assert "```{include} _exercise_table.md" in ei.render_page(exercises)
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    assert "```{include} _exercise_table.md" in guide and "```{include} _chapter_compute.md" in guide


def test_each_coding_exercise_has_a_registered_checker_that_the_chapter_calls() -> None:
    import effnet_core.book.checkers as checkers

    by_function = {name: obj.name for name, obj in vars(checkers).items() if isinstance(obj, Exercise)}
    for ex in (ex for ex in ei.collect() if ex.kind == "coding"):
        assert ex.checker in EXERCISES, f"{ex.chapter} {ex.label}: checker {ex.checker!r} is not registered"
        text = text_of(json.loads((ROOT / "chapters" / ex.chapter).read_text()))
        called = {by_function[f] for f in re.findall(r"\b(check_\w+)\(", text) if f in by_function}
        assert ex.checker in called, f"{ex.chapter} {ex.label}: no cell calls the {ex.checker!r} checker"


def test_index_metadata_problems_are_specific() -> None:
    header = "```{exercise} T"
    ex = ei._exercise("c.ipynb", "C", header, [":label: ex-t", "<!-- kind: coding, difficulty: 4 -->"])
    assert any("names its checker" in p for p in ex.problems)
    assert any("difficulty must be 1, 2 or 3, got '4'" in p for p in ex.problems)
    assert any("minutes must be a positive integer" in p for p in ex.problems)
    assert any(
        "no metadata comment" in p for p in ei._exercise("c.ipynb", "C", header, [":label: x"]).problems
    )
    good = ei._exercise(
        "c.ipynb", "C", header, [":label: ex-t", "<!-- kind: conceptual, difficulty: 2, minutes: 9 -->"]
    )
    assert (good.problems, good.difficulty, good.minutes) == ([], 2, 9)


# --- what `make student` built -------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> dict:
    """The manifest of a student edition built from the current chapters (``make student``)."""
    manifest_path = STUDENT / "manifest.json"
    if not manifest_path.is_file():
        skip_or_fail("no student edition in _build/student: run `make student`")
    manifest = json.loads(manifest_path.read_text())
    stale = [p.name for p in BOOK if manifest.get(p.name, {}).get("source_sha256") != se.sha256(p)]
    if stale or "_site" not in manifest or not all(manifest[p.name]["executed"] for p in BOOK):
        skip_or_fail(f"the student edition is stale or incomplete ({stale}): run `make student`")
    return manifest


@pytest.mark.book
@pytest.mark.parametrize("chapter", BOOK, ids=lambda p: p.stem)
def test_student_notebook_ran_and_checkers_say_not_attempted(built: dict, chapter: Path) -> None:
    given = json.loads((STUDENT / "chapters" / chapter.name).read_text())  # what students get: no outputs
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in given["cells"])
    nb = json.loads((STUDENT / "executed" / chapter.name).read_text())  # the copy that ran
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert all(
        c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()
    )
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    for ex in (ex for ex in ei.collect([chapter]) if ex.kind == "coding"):
        assert f"Not attempted ({ex.checker})" in printed, (
            f"{ex.label}: the checker did not say not attempted"
        )
        assert f"Correct ({ex.checker})" not in printed, f"{ex.label}: a stub passed its checker"


@pytest.mark.book
def test_student_site_has_no_solutions(built: dict) -> None:
    site = STUDENT / "html"
    pages = {p: p.read_text(errors="replace") for p in site.rglob("*") if p.suffix in (".html", ".ipynb")}
    index = pages[site / "book" / "exercises.html"]
    for ex in ei.collect():
        assert f'#{ex.label}"' in index, f"the exercise index page has no link to {ex.label}"
    for chapter in BOOK:
        page = site / "chapters" / f"{chapter.stem}.html"
        assert page.is_file(), f"no student page for {chapter.name}"
        assert 'class="solution' not in pages[page], f"a solution block is left on {page.name}"
    generated = [site / "book" / "exercises.html", site / "book" / "instructor_guide.html"]
    for chapter in BOOK:
        # a chapter's solutions could only show up on its own page, its downloadable notebook, or the
        # generated pages (another chapter may legitimately contain the same line of code)
        own = [site / "chapters" / f"{chapter.stem}.html", site / "_sources" / "chapters" / chapter.name]
        text = "\n".join(html_words(pages[page]) for page in own + generated)
        leaked = [line for line in solution_lines(json.loads(chapter.read_text())) if words(line) in text]
        assert not leaked, f"solution text of {chapter.name} on the student website: {leaked}"
