"""The nbgrader source tree's autograder tests (scripts/student_edition.py, ``add_grade_cells``).

The first tests look at the source notebooks in memory: one read-only test cell per coding exercise,
after its checker cell, worth its difficulty in points, that fails unless the checker passes. The
last two run nbgrader 0.9.6 itself: ``generate_assignment`` of every chapter (the release is the
student edition plus the grade cells), then ``autograde`` of chapter 6 for three submissions (the
solutions, the stubs, the solutions with one wrong answer). nbgrader is not one of the book's
dependencies: those tests run where nbgrader is importable, or where ``NBGRADER_PYTHON`` names an
interpreter that has it (and the book's runtime dependencies); elsewhere, CI included, they are
skipped::

    python3 -m venv /tmp/nbg-venv
    /tmp/nbg-venv/bin/pip install nbgrader==0.9.6 torch numpy matplotlib tqdm ipywidgets torchinfo \\
        ipykernel
    NBGRADER_PYTHON=/tmp/nbg-venv/bin/python pytest tests/site/test_nbgrader.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import exercise_index as ei  # noqa: E402
import student_edition as se  # noqa: E402

from effnet_core.book.checkers import EXERCISES  # noqa: E402

CHAPTER = ROOT / "chapters" / "06_compound_scaling.ipynb"  # small and quick: three coding exercises
WRONG = ("coefficients_for", "    return 1.2, 1.1, 1.15  # the paper's coefficients: doubles, not triples\n")


def source_of(chapter: Path) -> dict:
    return se.nbgrader_source(json.loads(chapter.read_text()), chapter.name)


def meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def grade_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if meta(c).get("grade")]


@pytest.mark.parametrize("chapter", ei.book_chapters(), ids=lambda p: p.stem)
def test_every_coding_exercise_gets_a_locked_test_after_its_checker(chapter: Path) -> None:
    coding = [ex for ex in ei.collect([chapter]) if ex.kind == "coding"]
    nb = source_of(chapter)
    tests = grade_cells(nb)
    assert [meta(c)["grade_id"] for c in tests] == [f"{chapter.stem}-test-{ex.label}" for ex in coding]
    for ex, test in zip(coding, tests, strict=True):
        check = EXERCISES[ex.checker].__name__
        assert meta(test) | {"grade_id": "x"} == {
            "grade": True, "grade_id": "x", "locked": True, "points": ex.difficulty,
            "schema_version": 3, "solution": False,
        }
        before = "".join(nb["cells"][nb["cells"].index(test) - 1]["source"])
        answer = re.search(rf"\b{check}\((\w+)\)", before)  # the chapter's own checker call
        assert answer, f"{ex.label}: the test does not follow the cell that calls {check}"
        assert f"{check}({answer[1]}, quiet=True)" in test["source"]
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)


def test_grade_cell_passes_only_a_correct_answer_and_prints_the_verdict(capsys) -> None:
    ex = next(ex for ex in ei.collect([ROOT / "chapters" / "00_how_this_book_works.ipynb"])
              if ex.checker == "linear_params")
    cell = se.grade_cell(ex, "check_linear_params", "linear_params", "00")
    code = compile(cell["source"], "grade cell", "exec")

    def stub(n_in: int, n_out: int, bias: bool = True) -> int:
        raise NotImplementedError()

    exec(code, {"linear_params": lambda n_in, n_out, bias=True: n_in * n_out + bias * n_out})
    assert "Correct" in capsys.readouterr().out
    no_bias = lambda n_in, n_out, bias=True: n_in * n_out  # noqa: E731
    for answer, verdict in ((no_bias, "Not yet"), (stub, "Not attempted")):
        with pytest.raises(AssertionError):
            exec(code, {"linear_params": answer})
        assert verdict in capsys.readouterr().out  # the learner still reads the checker's message


def test_a_coding_exercise_whose_checker_is_never_called_is_refused() -> None:
    md = ("```{exercise} Count\n:label: ex-count\n\n"
          "<!-- kind: coding, checker: linear_params, difficulty: 1, minutes: 5 -->\n```")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": md},
                    {"cell_type": "code", "metadata": {}, "source": "check_swish(f)", "outputs": []}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(ValueError, match=r"ex-count: no code cell calls check_linear_params"):
        se.add_grade_cells(nb, "x.ipynb")


# Run by nbgrader's interpreter in the course folder: each student's score, maximum and per-test grades.
GRADES = """
import json, sys
from nbgrader.api import Gradebook

assignment, students = sys.argv[1], sys.argv[2:]
with Gradebook("sqlite:///gradebook.db") as gb:
    report = {}
    for student in students:
        sub = gb.find_submission_notebook(assignment, assignment, student)
        report[student] = {"score": sub.score, "max_score": sub.max_score,
                           "grades": {g.name: g.score for g in sub.grades}}
print(json.dumps(report))
"""


def nbgrader_python() -> str:
    """The interpreter that runs nbgrader: $NBGRADER_PYTHON, or this one if it has nbgrader."""
    python = os.environ.get("NBGRADER_PYTHON", "")
    if not python and importlib.util.find_spec("nbgrader"):
        python = sys.executable
    if not python:
        pytest.skip("nbgrader is not installed (set NBGRADER_PYTHON to an interpreter that has it)")
    return python


def run(python: str, course: Path, *args: str) -> str:
    env = os.environ | {
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}",  # nbgrader calls `alembic`
        "PYTHONPATH": str(ROOT), "EFFNET_BUDGET": "smoke", "MPLBACKEND": "Agg",
    }
    done = subprocess.run([python, *args], cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def submissions(source: dict, release: dict) -> dict[str, dict]:
    """The released notebook filled with the source's solutions (``full``), as released (``stub``), and
    ``full`` with the wrong answer :data:`WRONG` (``wrong``)."""
    solutions = {meta(c)["grade_id"]: c["source"] for c in source["cells"] if meta(c).get("solution")}
    full = json.loads(json.dumps(release))
    for cell in full["cells"]:
        if meta(cell).get("solution"):
            cell["source"] = solutions[meta(cell)["grade_id"]]
    wrong = json.loads(json.dumps(full))
    cell = next(c for c in wrong["cells"] if meta(c).get("solution") and f"def {WRONG[0]}(" in c["source"])
    cell["source"] = re.sub(r"(?ms)^\s*### BEGIN SOLUTION.*?### END SOLUTION\n?", WRONG[1], cell["source"])
    return {"full": full, "stub": release, "wrong": wrong}


def grade_summary(nb: dict) -> list[tuple]:
    """Each grade cell's id, points, lock and source."""
    return [(meta(c)["grade_id"], meta(c)["points"], meta(c)["locked"], "".join(c["source"]))
            for c in grade_cells(nb)]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """nbgrader's interpreter and a course folder where every chapter of the book is released."""
    python, course = nbgrader_python(), tmp_path_factory.mktemp("nbgrader") / "course"
    for chapter in ei.book_chapters():
        (course / "source" / chapter.stem).mkdir(parents=True)
        text = json.dumps(source_of(chapter), indent=1, ensure_ascii=False)
        (course / "source" / chapter.stem / chapter.name).write_text(text)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\nc.Execute.timeout = 300\n")
    every = "--CourseDirectory.assignment_id=*"  # all chapters in one run
    run(python, course, "-m", "nbgrader", "generate_assignment", "--force", every)
    return python, course


def test_every_chapter_releases_as_the_student_edition_plus_its_grade_cells(course: tuple[str, Path]) -> None:
    for chapter in ei.book_chapters():
        release = json.loads((course[1] / "release" / chapter.stem / chapter.name).read_text())
        assert grade_summary(release) == grade_summary(source_of(chapter))  # released as written, read-only
        student = se.student_notebook(json.loads(chapter.read_text()), chapter.name)
        kept = ["".join(c["source"]) for c in release["cells"] if not meta(c).get("grade")]
        assert kept == ["".join(c["source"]) for c in student["cells"]], chapter.name


def test_nbgrader_autogrades_solutions_stubs_and_one_wrong_answer(course: tuple[str, Path]) -> None:
    (python, course), name = course, CHAPTER.stem
    source = source_of(CHAPTER)
    release = json.loads((course / "release" / name / CHAPTER.name).read_text())
    for student, nb in submissions(source, release).items():
        (course / "submitted" / student / name).mkdir(parents=True)
        (course / "submitted" / student / name / CHAPTER.name).write_text(json.dumps(nb))
    run(python, course, "-m", "nbgrader", "autograde", name, "--force")
    report = json.loads(run(python, course, "-c", GRADES, name, "full", "stub", "wrong"))
    points = {meta(c)["grade_id"]: meta(c)["points"] for c in grade_cells(source)}
    wrong_id = next(meta(c)["grade_id"] for c in grade_cells(source) if f"{WRONG[0]}," in c["source"])
    print(json.dumps(report, indent=1))
    for student in ("full", "stub", "wrong"):
        assert report[student]["max_score"] == sum(points.values())
        assert set(report[student]["grades"]) == set(points)
    assert report["full"]["grades"] == points
    assert report["stub"]["grades"] == dict.fromkeys(points, 0)
    assert report["wrong"]["grades"] == points | {wrong_id: 0}
    assert report["wrong"]["score"] == sum(points.values()) - points[wrong_id]
    for student, verdict in (("full", "Correct"), ("stub", "Not attempted"), ("wrong", "Not yet")):
        graded = json.loads((course / "autograded" / student / name / CHAPTER.name).read_text())
        shown = {meta(c)["grade_id"]: "".join("".join(o.get("text", "")) for o in c["outputs"])
                 for c in grade_cells(graded)}  # what the learner reads in the feedback
        failed = [grade_id for grade_id, score in report[student]["grades"].items() if not score]
        assert all(verdict in shown[grade_id] for grade_id in failed or points)


def test_the_instructor_guide_shows_the_grade_cell_the_script_writes() -> None:
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    shown = re.search(r"```python\n(# Autograder test.*?)\n```", guide, re.S)
    ex = next(ex for ex in ei.collect([ROOT / "chapters" / "01_swish.ipynb"]) if ex.label == "ex-swish-exp")
    assert shown and shown[1] == se.grade_cell(ex, "check_swish", "swish_exp", "01_swish")["source"]
