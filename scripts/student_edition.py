"""The student edition: chapter notebooks and a website with the exercise solutions removed.

For every chapter notebook in ``_toc.yml`` (the instructor edition, with solutions):

* code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes ``# YOUR CODE HERE`` +
  ``raise NotImplementedError()`` at the marker's indentation -- exactly what nbgrader's
  ``generate_assignment`` writes, so the checkers report "not attempted";
* everything inside a gated ``{solution-start}`` ... ``{solution-end}`` span is removed (the prose, and
  code cells without markers), as is every ``{solution}`` directive -- except a self-check: an
  ``{admonition}`` or ``{dropdown}`` titled "Check your answer" (the key points of a conceptual
  exercise, collapsed) is kept wherever it stands, so the student can check an attempt, as on Kaggle Learn;
* outputs and execution counts are cleared.

The student notebooks go to ``_build/student/chapters/`` (no outputs: these are what students get).
``--execute`` runs a copy of each top to bottom with ``EFFNET_BUDGET=smoke`` (from the ``chapters/``
folder, like the real build) into ``_build/student/executed/``; ``--site`` builds the student website
from those executed copies (no re-execution) with sphinx-exercise's ``hide_solutions`` on;
``--nbgrader`` writes an nbgrader "source" tree (markers kept, solution cells tagged) for
``nbgrader generate_assignment``.

Why strip the spans instead of relying on ``hide_solutions``: in sphinx-exercise 1.2.1 that option
drops only the ``solution-start`` node; the cells up to ``solution-end`` would stay on the page, and
the orphaned ``solution-end`` node crashes the HTML writer (NotImplementedError, tried on chapter 0).

Usage::

    python scripts/student_edition.py                          # all chapters -> _build/student/chapters
    python scripts/student_edition.py --execute --site --nbgrader   # what `make student` runs
    python scripts/student_edition.py chapters/01_swish.ipynb --execute   # check one chapter

Teaching kit; explained in book/instructor_guide.md, conventions in the chapter-writer notes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from exercise_index import Exercise, book_chapters, cell_exercises

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
OUT = ROOT / "_build" / "student"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's default Python stub
POINTS = {1: 1, 2: 2, 3: 3}  # an autograder test's points by the exercise's difficulty (★ to ★★★)
MARKER_WORDS = re.compile(r"\b(BEGIN|END) SOLUTION\b")
FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w-]+)\}")
SELF_CHECK = re.compile(r"^ {0,3}(`{3,}|:{3,})\s*\{(admonition|dropdown)\}\s*Check your answer\b")
Notebook = dict[str, Any]


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _where(name: str, index: int) -> str:
    return f"{name}, cell {index}"


def replace_solution_regions(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each marked solution region of a code cell by the stub; return the new source and count.

    A marker is a line that reads exactly ``### BEGIN SOLUTION`` / ``### END SOLUTION`` once stripped
    (nbgrader's rule); any other line mentioning BEGIN/END SOLUTION is refused, since it would leak.
    """
    out: list[str] = []
    inside, count = False, 0
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{where}: nested {BEGIN!r}")
            inside, count = True, count + 1
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUB)
        elif stripped == END:
            if not inside:
                raise ValueError(f"{where}: {END!r} without {BEGIN!r}")
            inside = False
        elif MARKER_WORDS.search(line) and not inside:
            raise ValueError(f"{where}: malformed solution marker {stripped!r}; write exactly {BEGIN!r}")
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN!r} without {END!r}")
    return "\n".join(out), count


def _directive_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the directive opened at ``start`` with ``fence``."""
    closing = re.compile(re.escape(fence[0]) + f"{{{len(fence)},}}")
    for i in range(start + 1, len(lines)):
        if closing.fullmatch(lines[i].strip()):
            return i
    raise ValueError(f"directive opened with {fence} on line {start + 1} is never closed")


def strip_solution_markdown(source: str, in_span: bool, where: str = "cell") -> tuple[str, bool]:
    """Remove solution directives and gated solution spans from one markdown cell; keep self-checks.

    ``in_span`` says whether the cell starts inside a ``solution-start``/``solution-end`` span;
    the returned flag says whether it ends inside one.
    """
    lines, kept, i = source.split("\n"), [], 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if in_span and SELF_CHECK.match(lines[i]):  # a self-check stays, even inside a solution span
            end = _directive_end(lines, i, match["fence"])
            kept.extend(lines[i : end + 1])
            i = end + 1
            continue
        name = match["name"] if match else None
        if name in ("solution", "solution-start", "solution-end"):
            end = _directive_end(lines, i, match["fence"])
            if name == "solution-start":
                if in_span:
                    raise ValueError(f"{where}: solution-start inside another solution span")
                in_span = True
            elif name == "solution-end":
                if not in_span:
                    raise ValueError(f"{where}: solution-end without solution-start")
                in_span = False
            i = end + 1
            continue
        if not in_span:
            kept.append(lines[i])
        i += 1
    return "\n".join(kept).strip("\n"), in_span


def _convert(nb: Notebook, name: str, *, stub: bool) -> Notebook:
    """Drop the solution spans of ``nb`` and clear outputs; ``stub`` replaces marked regions too,
    otherwise the cells with markers are tagged as nbgrader solution cells and keep their markers."""
    converted = copy.deepcopy(nb)
    cells, in_span = [], False
    for index, cell in enumerate(converted["cells"]):
        where = _where(name, index)
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            if MARKER_WORDS.search(source):
                raise ValueError(f"{where}: solution markers in a markdown cell; use a solution directive")
            source, in_span = strip_solution_markdown(source, in_span, where)
            if not source.strip():
                continue
        elif cell["cell_type"] == "code":
            stubbed, count = replace_solution_regions(source, where)
            if in_span and not count:
                continue  # an unmarked code cell inside a solution span is solution
            if stub:
                source = stubbed
            elif count:
                cell["metadata"]["nbgrader"] = {
                    "grade": False, "grade_id": f"{Path(name).stem}-cell-{index}", "locked": False,
                    "schema_version": 3, "solution": True,
                }
            cell["outputs"], cell["execution_count"] = [], None
        elif in_span:
            continue
        cell["source"] = source
        cells.append(cell)
    if in_span:
        raise ValueError(f"{name}: solution-start without solution-end")
    converted["cells"] = cells
    converted["metadata"].pop("widgets", None)
    return converted


def student_notebook(nb: Notebook, name: str = "notebook") -> Notebook:
    """Return the student edition of ``nb`` (a notebook as parsed JSON); ``nb`` is not modified."""
    return _convert(nb, name, stub=True)


def nbgrader_source(nb: Notebook, name: str = "notebook") -> Notebook:
    """The notebook ready for ``nbgrader generate_assignment``: solution prose removed, markers kept.

    Cells with markers get nbgrader's "autograded answer" metadata (``solution: true``); nbgrader
    itself then replaces the marked regions with the same stub as :func:`student_notebook`. Every
    coding exercise gets a read-only autograder test after its checker cell (:func:`add_grade_cells`).
    """
    return add_grade_cells(_convert(nb, name, stub=False), name)


def grade_cell(exercise: Exercise, check: str, answer: str, stem: str) -> dict[str, Any]:
    """nbgrader's "autograder tests" cell for ``exercise``: calls the checker function ``check`` on
    the learner's ``answer``, prints its verdict and fails unless it passed; read-only, worth
    :data:`POINTS` of the exercise's difficulty."""
    points = POINTS[exercise.difficulty]
    grade_id = f"{stem}-test-{exercise.label}"
    source = "\n".join([
        f"# Autograder test (read-only): {exercise.label}, {points} point{'s' * (points != 1)}.",
        f"from effnet_core.book.checkers import {check}",
        "",
        f"_grade = {check}({answer}, quiet=True)",
        "print(_grade)",
        'assert _grade, "not passed yet: the checker\'s message is printed above"',
    ])
    metadata = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                "schema_version": 3, "solution": False}
    return {"cell_type": "code", "execution_count": None, "id": grade_id[-64:],
            "metadata": {"nbgrader": metadata}, "outputs": [], "source": source}


def _checker_call(cells: list[dict[str, Any]], check: str, where: str) -> tuple[int, str]:
    """Index of the first code cell of ``cells`` that calls ``check(answer)``, and the answer's name;
    the search stops at the next exercise."""
    call = re.compile(rf"\b{re.escape(check)}\(\s*([A-Za-z_]\w*)\s*\)")
    for index, cell in enumerate(cells):
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown" and cell_exercises(source, where):
            break
        match = call.search(source) if cell["cell_type"] == "code" else None
        if match:
            return index, match[1]
    raise ValueError(f"{where}: no code cell calls {check}(<answer>) before the next exercise")


def add_grade_cells(nb: Notebook, name: str = "notebook") -> Notebook:
    """Insert an autograder test (:func:`grade_cell`) after the checker cell of every coding exercise
    of ``nb`` (an nbgrader source notebook); ``nb`` is modified and returned."""
    from effnet_core.book.checkers import EXERCISES

    cells, stem = nb["cells"], Path(name).stem
    for index in range(len(cells) - 1, -1, -1):  # backwards: insertions leave earlier indices alone
        if cells[index]["cell_type"] != "markdown":
            continue
        for exercise in reversed(cell_exercises(_text(cells[index]["source"]), name)):
            where = f"{name}: exercise {exercise.label}"
            if exercise.kind != "coding":
                continue
            if exercise.problems or exercise.checker not in EXERCISES:
                raise ValueError(f"{where}: needs valid metadata and a registered checker, got "
                                 f"{exercise.checker!r} ({'; '.join(exercise.problems) or 'unknown'})")
            check = EXERCISES[exercise.checker].__name__
            offset, answer = _checker_call(cells[index + 1 :], check, where)
            cells.insert(index + offset + 2, grade_cell(exercise, check, answer, stem))
    return nb


def sha256(path: Path) -> str:
    """Hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_student(chapter: Path, dest: Path) -> Path:
    """Write the student edition of ``chapter`` into the folder ``dest``; return its path."""
    nb = json.loads(chapter.read_text())
    student = student_notebook(nb, chapter.name)
    student["metadata"]["student_edition"] = {"source": chapter.name, "source_sha256": sha256(chapter)}
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / chapter.name
    out.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n")
    return out


def execute(notebook: Path, budget: str = "smoke", timeout: int = 600) -> float:
    """Run ``notebook`` in place, top to bottom, from ``chapters/`` with ``EFFNET_BUDGET=budget``.

    Returns the wall time in seconds; any cell error raises (nbclient's CellExecutionError).
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    old = os.environ.get("EFFNET_BUDGET")
    os.environ["EFFNET_BUDGET"] = budget
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(CHAPTERS)}},
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop("EFFNET_BUDGET")
        else:
            os.environ["EFFNET_BUDGET"] = old
    seconds = time.perf_counter() - start
    nbformat.write(nb, notebook)
    return seconds


def site_config(config: dict[str, Any]) -> dict[str, Any]:
    """The book's ``_config.yml`` turned into the student website's: no execution, no solutions."""
    config = copy.deepcopy(config)
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    config["execute"] = {"execute_notebooks": "off"}  # the student notebooks are executed already
    config.setdefault("launch_buttons", {}).pop("colab_url", None)  # Colab would open the solutions
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["hide_solutions"] = True
    sphinx["html_static_path"] = [str(ROOT / p) for p in sphinx.get("html_static_path", [])]
    return config


def build_site(student_chapters: Path, html: Path, toc: str) -> float:
    """Build the student website into ``html`` from the executed student notebooks and the table of
    contents ``toc`` (the text of ``_toc.yml`` when the chapters were read); return seconds."""
    src = html.parent / "book_src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    shutil.copytree(ROOT / "book", src / "book")
    (src / "_toc.yml").write_text(toc)
    shutil.copytree(student_chapters, src / "chapters")
    config = site_config(yaml.safe_load((ROOT / "_config.yml").read_text()))
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    start = time.perf_counter()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(src), "-W", "--keep-going", "-q"], check=True)
    shutil.rmtree(html, ignore_errors=True)
    shutil.move(src / "_build" / "html", html)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapters (default: those in _toc.yml)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: _build/student)")
    parser.add_argument("--execute", action="store_true", help="run each student notebook (smoke budget)")
    parser.add_argument("--site", action="store_true", help="build the student website (needs --execute)")
    parser.add_argument("--nbgrader", action="store_true", help="also write an nbgrader source tree")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at the same time (default 1)")
    args = parser.parse_args(argv)
    if args.site and not args.execute:
        parser.error("--site builds from executed notebooks: add --execute")
    toc = (ROOT / "_toc.yml").read_text()  # read once: chapters may be added while this runs
    notebooks = args.notebooks or book_chapters()
    chapters_out, executed_out = args.out / "chapters", args.out / "executed"
    manifest_path = args.out / "manifest.json"
    manifest: dict[str, dict[str, Any]] = {}
    if args.notebooks and manifest_path.exists():  # converting some chapters: keep the others' entries
        manifest = json.loads(manifest_path.read_text())
    elif not args.notebooks:
        shutil.rmtree(chapters_out, ignore_errors=True)
        shutil.rmtree(executed_out, ignore_errors=True)
    runs = []
    for chapter in notebooks:
        student = write_student(chapter, chapters_out)
        manifest[chapter.name] = {"source_sha256": sha256(chapter), "executed": False}
        print(f"wrote {student.relative_to(ROOT)}")
        if args.execute:
            executed_out.mkdir(parents=True, exist_ok=True)
            runs.append(shutil.copy(student, executed_out / chapter.name))
        if args.nbgrader:
            dest = args.out / "nbgrader" / "source" / chapter.stem / chapter.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            nb = nbgrader_source(json.loads(chapter.read_text()), chapter.name)
            dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    start, failed = time.perf_counter(), []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for path, future in [(path, pool.submit(execute, path)) for path in runs]:
            try:
                seconds = future.result()
            except Exception as error:  # report every broken chapter, not only the first
                failed.append(path.name)
                print(f"{path.relative_to(ROOT)}: FAILED\n{error}", file=sys.stderr)
                continue
            manifest[path.name] |= {"executed": True, "smoke_seconds": round(seconds, 1)}
            print(f"{path.relative_to(ROOT)}: ran in {seconds:.1f} s (smoke budget)")
    if runs:
        manifest["_execute"] = {"wall_seconds": round(time.perf_counter() - start, 1), "jobs": args.jobs}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    if failed:
        sys.exit(f"student notebooks that did not run top to bottom: {', '.join(failed)}")
    if args.site:
        seconds = build_site(executed_out, args.out / "html", toc)
        manifest["_site"] = {"build_seconds": round(seconds, 1)}
        print(f"student website: {(args.out / 'html' / 'index.html').relative_to(ROOT)} ({seconds:.0f} s)")
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
