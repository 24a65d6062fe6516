"""The book platform: chapters, _config.yml, _toc.yml and environment.yml agree with each other,
and (marker ``book``) the built site has every page, its offline assets, and no CDN."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from conftest import ROOT
from packaging.requirements import Requirement

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
REPO_URL = CONFIG["repository"]["url"]
# A URL (absolute or protocol-relative) whose host names a CDN; base64 data never matches (no dots).
CDN = re.compile(r"(?:https?:)?//(?:[\w-]+\.)*[\w-]*(?:cdn|unpkg|jsdelivr)[\w-]*(?:\.[\w-]+)+", re.I)


def install_cell(repo_url: str) -> str:
    """The exact first code cell of every chapter (see /work/notes/install_cell.md)."""
    return (
        "# Colab only: install the book's package (Colab already has torch).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "effnet_core @ git+{repo_url}"'
    )


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def toc_files(node: object) -> list[str]:
    """Every ``file:``/``root:`` entry of ``_toc.yml``, in order."""
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    if isinstance(node, dict):
        own = [node[k] for k in ("root", "file") if k in node]
        return own + [f for k, v in node.items() if k not in ("root", "file") for f in toc_files(v)]
    return []


def chapter_id(path: Path) -> str:
    return path.stem


# --- chapters ----------------------------------------------------------------------------------


def test_there_are_chapters():
    assert (ROOT / "chapters" / "00_how_this_book_works.ipynb") in CHAPTERS


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_first_code_cell_is_the_colab_install_cell(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    source = "".join(code[0]["source"])
    got = "\n".join(line.rstrip() for line in source.strip().splitlines())
    assert got == install_cell(REPO_URL), (
        f"{path.name}: the first code cell must be exactly\n{install_cell(REPO_URL)}\n"
        f"(built from repository.url in _config.yml), got\n{source}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_notebook_is_committed_clean(path):
    nb = load(path)
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3"
    assert "widgets" not in nb["metadata"], "saved widget state is an output: clear it"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {i} of {path.name} has outputs"
            assert cell["execution_count"] is None, f"cell {i} of {path.name} has an execution count"


def test_toc_lists_exactly_the_chapters_in_file_name_order():
    listed = [f for f in toc_files(TOC) if f.startswith("chapters/")]
    on_disk = [f"chapters/{p.stem}" for p in CHAPTERS]
    assert sorted(set(on_disk) - set(listed)) == [], "chapters missing from _toc.yml"
    assert sorted(set(listed) - set(on_disk)) == [], "_toc.yml lists chapters that do not exist"
    assert listed == sorted(listed), "chapters in _toc.yml must be ordered by file name"


def test_every_toc_entry_exists():
    for entry in toc_files(TOC):
        found = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{entry}{ext}").is_file()]
        assert found, f"_toc.yml entry {entry!r} has no .md or .ipynb file"


# --- configuration -----------------------------------------------------------------------------


def test_config_has_the_book_settings():
    assert CONFIG["author"] == "The EfficientNet Book Team"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["timeout"] == 600
    assert execute["raise_on_error"] is True and execute["allow_errors"] is False
    extensions = CONFIG["sphinx"]["config"]["extensions"]
    for needed in ("myst_nb", "sphinx_exercise", "sphinx_togglebutton", "sphinxcontrib.bibtex"):
        assert needed in extensions
    assert "sphinx_thebe" not in extensions, "sphinx_thebe loads thebe from a CDN"
    for pattern in (".venv", "_build", "_vendor", "node_modules"):
        assert pattern in CONFIG["exclude_patterns"]
    for bib in CONFIG["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()


def test_references_bib_has_the_papers_with_correct_years():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "book" / "references.bib")).entries
    expected_years = {
        "tan2019efficientnet": 2019, "tan2021efficientnetv2": 2021, "tan2019mnasnet": 2019,
        "hu2018squeeze": 2018, "ramachandran2017searching": 2017, "sandler2018mobilenetv2": 2018,
        "touvron2019fixing": 2019, "cubuk2020randaugment": 2020, "zhang2018mixup": 2018,
        "huang2016deep": 2016, "howard2017mobilenets": 2017, "he2016deep": 2016,
    }
    assert sorted(set(expected_years) - set(entries)) == []
    for key, year in expected_years.items():
        entry = entries[key]
        assert int(entry.fields["year"]) == year, key
        assert entry.fields.get("title") and entry.persons.get("author"), key
    assert str(entries["tan2019efficientnet"].persons["author"][0]) == "Tan, Mingxing"
    assert str(entries["hu2018squeeze"].persons["author"][0]) == "Hu, Jie"


def test_glossary_defines_the_core_terms():
    text = (ROOT / "book" / "glossary.md").read_text()
    assert "```{glossary}" in text
    for term in ("MBConv", "Depthwise convolution", "Squeeze-and-Excitation", "Compound scaling",
                 "Stochastic depth", "MACs", "FLOPs", "Progressive learning", "FixRes"):
        assert re.search(rf"^{re.escape(term)}$", text, re.MULTILINE), term


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = {"pytorch": "torch"}  # conda-forge name -> PyPI name
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        name, spec = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()
        if name not in ("python", "pip"):
            conda[conda_names.get(name, name)] = spec.replace(" ", "")
    wanted = {(r := Requirement(d)).name: str(r.specifier) for d in pyproject["dependencies"]}
    assert conda == wanted, "environment.yml's conda dependencies must mirror pyproject.toml's"
    extras = sorted(pyproject["optional-dependencies"])
    assert f"-e .[{','.join(extras)}]" in pip, f"environment.yml must pip-install -e .[{','.join(extras)}]"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace(" ", "") == "python" + pyproject["requires-python"]


# --- the offline-asset fetcher -----------------------------------------------------------------


def fetcher():
    spec = importlib.util.spec_from_file_location("fetch_assets", ROOT / "scripts" / "fetch_assets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_fetcher_checks_the_sha512():
    fa = fetcher()
    good = "sha512-" + base64.b64encode(hashlib.sha512(b"mathjax").digest()).decode()
    fa.verify(b"mathjax", good, "x")
    with pytest.raises(ValueError, match="checksum mismatch"):
        fa.verify(b"tampered", good, "x")
    with pytest.raises(ValueError, match="sha512"):
        fa.verify(b"mathjax", "sha1-abc", "x")


def test_fetcher_pins_every_asset():
    for asset in fetcher().ASSETS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", asset.version), asset.name
        assert asset.integrity.startswith("sha512-") and len(asset.integrity) == 95, asset.name
        assert asset.tarball_url.endswith(f"-{asset.version}.tgz")


# --- the built site (after `make book` / `make site`) ------------------------------------------


@pytest.mark.book
def test_site_has_index_and_one_page_per_chapter(site):
    assert (site / "index.html").is_file()
    for path in CHAPTERS:
        assert (site / "chapters" / f"{path.stem}.html").is_file(), f"no page for {path.name}"
    for page in ("book/glossary.html", "book/references.html", "book/how_to_use.html",
                 "book/instructor_guide.html", "search.html", "searchindex.js"):
        assert (site / page).is_file(), page


@pytest.mark.book
def test_site_uses_no_cdn(site):
    offenders = {}
    for html in site.rglob("*.html"):
        found = CDN.findall(html.read_text(errors="replace"))
        if found:
            offenders[str(html.relative_to(site))] = sorted(set(found))
    assert offenders == {}


@pytest.mark.book
def test_mathjax_and_widget_scripts_are_local_and_present(site):
    page = (site / "chapters" / "00_how_this_book_works.html").read_text()
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    local = [s.split("?")[0] for s in scripts if "://" not in s]
    for needed in ("mathjax/es5/tex-mml-chtml.js", "requirejs/require.js", "html-manager/dist/embed-amd.js"):
        assert any(s.endswith(f"_static/{needed}") for s in local), f"{needed} not loaded"
    for src in local:
        assert (site / "chapters" / src).resolve().is_file(), f"missing script {src}"
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    assert state, "no saved widget state: the slider cannot render without a kernel"
    assert json.loads(state.group(1))["state"], "the saved widget state is empty"


@pytest.mark.book
def test_every_chapter_page_has_colab_and_download_links(site):
    owner_repo = REPO_URL.removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    for path in CHAPTERS:
        html = site / "chapters" / f"{path.stem}.html"
        assert html.is_file(), f"no page for {path.name} (is it in _toc.yml?)"
        page = html.read_text()
        colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/chapters/{path.name}"
        assert colab in page, f"{path.name}: no Colab link {colab}"
        assert f"_sources/chapters/{path.name}" in page, f"{path.name}: no .ipynb download"
        assert (site / "_sources" / "chapters" / path.name).is_file()


@pytest.mark.book
def test_references_page_lists_the_papers(site):
    page = (site / "book" / "references.html").read_text().lower()
    for title in ("efficientnet: rethinking model scaling", "efficientnetv2: smaller models",
                  "squeeze-and-excitation networks", "deep networks with stochastic depth"):
        assert title in page


def test_compute_table_says_where_each_time_comes_from():
    script = ROOT / "scripts" / "measure_chapters.py"
    spec = importlib.util.spec_from_file_location("measure_chapters", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    alone = {"seconds": 90.0, "timed_out": False, "load_before": 0.4}
    built = {"seconds": 90.0, "timed_out": False, "load_before": None, "source": "make book"}
    assert module._cell(alone, "min") == "1.5 min (load 0)"
    assert module._cell(built, "min") == "1.5 min (load unknown, in make book)"
    assert module._cell({**alone, "timed_out": True}, "s").startswith("> 90.0 s: a cell passed")
    assert module._cell(None, "min") == "not measured"
