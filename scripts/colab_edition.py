"""The Colab edition: every chapter as a notebook that reads well in Colab, in two editions.

``_build/colab/reader/<chapter>.ipynb`` is the chapter; ``_build/colab/exercises/<chapter>.ipynb`` is
its student edition (``scripts/student_edition.py``: solutions removed, the checkers say "not
attempted"). Colab renders plain Markdown, not MyST, so:

* ``{term}`X``` becomes **X** linked to the glossary on the website;
* ``{cite:p}`key``` becomes "(Tan & Le, 2019)" linked to the paper (arXiv, DOI or URL of
  ``book/references.bib``; else the website's references page);
* ``{eq}`label``` becomes the equation's number, and the equation gets that number as a ``\\tag``;
* ``{doc}``, ``{ref}`` become links (a chapter: its notebook in the same edition on Colab);
* exercise and solution directives become headed sections;
* ``{glue:text}`` / ``{glue:md}`` / ``{glue}`` become the value from the website's build (the
  ``<chapter>.glue.json`` files myst-nb writes into ``_build/jupyter_execute``, so ``make book``
  first), and a line at the top
  says that the reader's own run prints its own numbers.

The install cell installs the package from the commit the notebook was made from
(``git rev-parse HEAD``; repository URL from ``_config.yml``), and skips when ``effnet_core`` is
already importable. The site's chapter pages link here (``book/_ext/colab_links.py``).

Usage::

    python scripts/colab_edition.py            # what `make colab` runs
"""

from __future__ import annotations

import argparse
import copy
import json
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from exercise_index import book_chapters, chapter_title
from student_edition import FENCE_OPEN, Notebook, _directive_end, _text, student_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from colab_links import colab_url, site_url  # noqa: E402

OUT = ROOT / "_build" / "colab"
EXECUTED = ROOT / "_build" / "jupyter_execute"
EDITIONS = ("reader", "exercises")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
LABELED_EQUATION = re.compile(r"\$\$(?P<body>.+?)\$\$[ \t]*\((?P<label>[\w:-]+)\)", re.S)
TARGET = re.compile(r"^\((?P<label>[\w:-]+)\)=[ \t]*$", re.M)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$")
COMMENT = re.compile(r"<!--.*?-->\n?", re.S)
GLUE_NOTE = ("*The numbers in this text come from the website's build{budget}. When you run the "
             "notebook, its cells print the numbers of your own run, which may differ a little.*")


def install_cell(repo_url: str, commit: str) -> str:
    """The first code cell: install the package at ``commit`` unless it is importable already."""
    return (
        "# Install the book's package at the commit this notebook was made from (Colab has torch).\n"
        "# Skipped where effnet_core is importable already, or with EFFNET_SKIP_INSTALL=1.\n"
        "import importlib.util\n"
        "import os\n"
        "\n"
        'if importlib.util.find_spec("effnet_core") is None and not os.environ.get("EFFNET_SKIP_INSTALL"):\n'
        f'    %pip install -q "effnet_core @ git+{repo_url}@{commit}"\n'
        "try:  # Colab draws ipywidgets 7 itself; ipywidgets 8 needs its custom widget manager\n"
        "    import ipywidgets\n"
        "    from google.colab import output\n"
        "\n"
        '    if int(ipywidgets.__version__.split(".")[0]) >= 8:\n'
        "        output.enable_custom_widget_manager()\n"
        "except ImportError:\n"
        "    pass"
    )


def glue_values(glue_json: Path) -> dict[str, dict[str, Any]]:
    """``{name: mime bundle}`` of every value a chapter glued, from myst-nb's ``<chapter>.glue.json``."""
    if not glue_json.is_file():
        return {}
    return {name: output["data"] for name, output in json.loads(glue_json.read_text()).items()}


def format_plain(text: str, spec: str) -> str:
    """A glued ``text/plain`` value formatted like myst-nb's ``{glue:text}`key:spec```."""
    from myst_nb.core.variables import format_plain_text

    return format_plain_text(text, spec)


def glossary_anchors(glossary_md: str) -> dict[str, str]:
    """``{term in lower case: HTML id}`` for the terms of the ``{glossary}`` block (Sphinx's ids)."""
    from sphinx.util.nodes import _make_id

    block = re.search(r"```\{glossary\}\n(?P<body>.*?)\n```", glossary_md, re.S)
    if not block:
        raise ValueError("book/glossary.md has no ```{glossary} block")
    terms = [line.strip() for line in block["body"].split("\n") if line.strip() and not line[0].isspace()]
    return {term.lower(): _make_id(f"term-{term}") for term in terms}


def citations(bib_path: Path) -> dict[str, tuple[str, str]]:
    """``{key: ("Tan & Le, 2019", link)}`` for every entry of the bibliography."""
    from pybtex.database import parse_file

    out = {}
    for key, entry in parse_file(str(bib_path)).entries.items():
        names = [" ".join(p.last_names) for p in entry.persons.get("author", [])]
        who = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else f"{names[0]} et al."
        fields = entry.fields
        link = (f"https://arxiv.org/abs/{fields['eprint']}" if "eprint" in fields
                else f"https://doi.org/{fields['doi']}" if "doi" in fields else fields.get("url", ""))
        out[key] = (f"{who.replace('{', '').replace('}', '')}, {fields['year']}", link)
    return out


@dataclass
class Context:
    """What converting one chapter needs: the book's links and the chapter's glued values."""

    repo_url: str
    edition: str
    glossary: dict[str, str]
    bib: dict[str, tuple[str, str]]
    titles: dict[str, str]  # doc path without suffix ("chapters/01_swish") -> page title
    glue: dict[str, dict[str, Any]]
    chapter: str = "chapters/x"
    equations: dict[str, int] = field(default_factory=dict)
    exercises: dict[str, str] = field(default_factory=dict)  # label -> title

    @property
    def site(self) -> str:
        return site_url(self.repo_url)


def _term(text: str, ctx: Context) -> str:
    match = EXPLICIT.match(text)
    shown, term = (match["text"], match["target"]) if match else (text, text)
    anchor = ctx.glossary.get(term.lower())
    if anchor is None:
        raise ValueError(f"{ctx.chapter}: {{term}} {term!r} is not in the glossary")
    return f"[**{shown}**]({ctx.site}book/glossary.html#{anchor})"


def _cite(text: str, ctx: Context) -> str:
    parts = []
    for key in (k.strip() for k in text.split(",")):
        if key not in ctx.bib:
            raise ValueError(f"{ctx.chapter}: citation {key!r} is not in book/references.bib")
        label, link = ctx.bib[key]
        parts.append(f"[{label}]({link or ctx.site + 'book/references.html'})")
    return f"({'; '.join(parts)})"


def _eq(text: str, ctx: Context) -> str:
    if text not in ctx.equations:
        raise ValueError(f"{ctx.chapter}: {{eq}} {text!r} names no labelled equation of this chapter")
    return f"({ctx.equations[text]})"


def _doc(text: str, ctx: Context) -> str:
    match = EXPLICIT.match(text)
    shown, target = (match["text"], match["target"]) if match else (None, text)
    base = "" if target.startswith("/") else posixpath.dirname(ctx.chapter)
    doc = posixpath.normpath(posixpath.join(base, target.lstrip("/")))
    if doc not in ctx.titles:
        raise ValueError(f"{ctx.chapter}: {{doc}} {target!r} is not a page of the book")
    url = (colab_url(ctx.repo_url, ctx.edition, Path(doc).name + ".ipynb") if doc.startswith("chapters/")
           else f"{ctx.site}{doc}.html")
    return f"[{shown or ctx.titles[doc]}]({url})"


def _ref(text: str, ctx: Context) -> str:
    match = EXPLICIT.match(text)
    shown, label = (match["text"], match["target"]) if match else (None, text)
    if label not in ctx.exercises:
        raise ValueError(f"{ctx.chapter}: {{ref}} {label!r} is not an exercise of this chapter")
    return f"[{shown or 'Exercise: ' + ctx.exercises[label]}](#{label})"


def _glue(role: str, text: str, ctx: Context) -> str:
    key, _, spec = text.rpartition(":") if role == "glue:text" and ":" in text else (text, "", "")
    if key not in ctx.glue:
        raise ValueError(f"{ctx.chapter}: glued value {key!r} not found in the website's build "
                         f"(run `make book` first)")
    data = ctx.glue[key]
    if role != "glue:text" and "text/markdown" in data:
        return _text(data["text/markdown"]).strip()
    if "text/plain" not in data:
        raise ValueError(f"{ctx.chapter}: glued value {key!r} has no text")
    return format_plain(_text(data["text/plain"]), spec)


ROLES: dict[str, Callable[[str, Context], str]] = {
    "term": _term, "cite:p": _cite, "cite": _cite, "eq": _eq, "doc": _doc, "ref": _ref,
    "glue:text": lambda t, c: _glue("glue:text", t, c), "glue:md": lambda t, c: _glue("glue:md", t, c),
    "glue": lambda t, c: _glue("glue", t, c), "glue:any": lambda t, c: _glue("glue", t, c),
}


def convert_roles(text: str, ctx: Context) -> str:
    """Replace every MyST role of ``text`` by plain Markdown (unknown roles are refused)."""

    def one(match: re.Match[str]) -> str:
        role = match["role"]
        if role not in ROLES:
            raise ValueError(f"{ctx.chapter}: no Colab rendering for the role {{{role}}}")
        return ROLES[role](match["text"], ctx)

    return ROLE.sub(one, text)


ADMONITIONS = ("admonition", "dropdown", "note", "tip", "hint", "important", "warning", "seealso")


def admonition(name: str, title: str, block: list[str], body: list[str], ctx: Context) -> list[str]:
    """A note box -> a quoted paragraph with a bold title; a dropdown (or ``:class: dropdown``) -> a
    ``<details>`` block that Colab shows collapsed, as the website does."""
    title = title or name.capitalize()
    inner = convert_directives("\n".join(body), ctx).strip().split("\n")
    dropdown = name == "dropdown" or any((m := OPTION.match(x)) and m["key"] == "class" and "dropdown"
                                         in m["value"] for x in block)
    if dropdown:
        return [f"<details><summary><b>{title}</b></summary>", "", *inner, "", "</details>"]
    return [f"> **{title}**", ">", *(f"> {x}" if x else ">" for x in inner)]


def convert_directives(source: str, ctx: Context) -> str:
    """Exercise and solution directives -> headed sections; labelled equations -> ``\\tag``."""
    lines, out, i = source.split("\n"), [], 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        name, end = match["name"], _directive_end(lines, i, match["fence"])
        body = [line for line in lines[i + 1:end] if not OPTION.match(line)]
        if name == "exercise":
            label = next((OPTION.match(x)["value"] for x in lines[i + 1:end] if OPTION.match(x)
                          and OPTION.match(x)["key"] == "label"), "")
            title = lines[i][match.end():].strip()
            anchor = f'<a id="{label}"></a>' if label else ""
            out += [f"### {anchor}Exercise: {title}", "", *body]
        elif name == "solution-start":
            out += ["#### Solution", *body]
        elif name == "solution-end":
            out += ["*(end of the solution)*", *body]
        elif name in ADMONITIONS:
            out += admonition(name, lines[i][match.end():].strip(), lines[i + 1:end], body, ctx)
        else:
            raise ValueError(f"{ctx.chapter}: no Colab rendering for the directive {{{name}}}")
        i = end + 1
    text = "\n".join(out)
    text = LABELED_EQUATION.sub(lambda m: f"$${m['body'].rstrip()}\n\\tag{{{ctx.equations[m['label']]}}}\n$$",
                                text)
    text = COMMENT.sub("", TARGET.sub(lambda m: f'<a id="{m["label"]}"></a>', text))
    return re.sub(r"\n{3,}", "\n\n", text)


def toc_sources() -> list[tuple[str, str]]:
    """``(doc, Markdown text)`` of every page in ``_toc.yml``, in book order."""
    docs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            docs.extend(node[k] for k in ("root", "file") if isinstance(node.get(k), str))
            for key, value in node.items():
                if key not in ("root", "file"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    out = []
    for doc in docs:
        md, nb = ROOT / f"{doc}.md", ROOT / f"{doc}.ipynb"
        if nb.is_file():
            text = "\n".join(_text(c["source"]) for c in json.loads(nb.read_text())["cells"]
                             if c["cell_type"] == "markdown")
        else:
            text = md.read_text() if md.is_file() else ""
        out.append((doc, text))
    return out


def number_equations(sources: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """``{doc: {label: number}}``: the book numbers labelled equations 1, 2, ... across all its pages
    in table-of-contents order (chapters are unnumbered, so the numbers do not restart)."""
    numbers: dict[str, dict[str, int]] = {}
    count = 0
    for doc, text in sources:
        numbers[doc] = {}
        for match in LABELED_EQUATION.finditer(text):
            count += 1
            numbers[doc][match["label"]] = count
    return numbers


def exercise_titles(nb: Notebook) -> dict[str, str]:
    """``{label: title}`` of the chapter's exercises."""
    found = re.findall(r"\{exercise\}[ \t]*(?P<title>.*)\n:label:[ \t]*(?P<label>[\w-]+)",
                       "\n".join(_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"))
    return {label: title.strip() for title, label in found}


def colab_notebook(nb: Notebook, ctx: Context, commit: str, budget: str) -> Notebook:
    """``nb`` (a chapter, or its student edition) as a Colab notebook of ``ctx.edition``.

    ``ctx.equations`` must hold the chapter's equation numbers (see :func:`number_equations`).
    """
    out = copy.deepcopy(nb)
    ctx.exercises = exercise_titles(nb)
    first_code = True
    for cell in out["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = convert_roles(convert_directives(_text(cell["source"]), ctx), ctx)
        elif cell["cell_type"] == "code":
            if first_code:
                cell["source"], first_code = install_cell(ctx.repo_url, commit), False
            cell["outputs"], cell["execution_count"] = [], None
    name = Path(ctx.chapter).name + ".ipynb"
    other = "exercises" if ctx.edition == "reader" else "reader"
    what = "the chapter" if ctx.edition == "reader" else "the exercise edition (no solutions)"
    header = (f"*Colab edition of [{ctx.titles[ctx.chapter]}]({ctx.site}{ctx.chapter}.html), {what}; "
              f"the [{other} edition]({colab_url(ctx.repo_url, other, name)}) is one click away. "
              f"Made from commit `{commit[:12]}`.*\n\n" + GLUE_NOTE.format(budget=budget))
    out["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": header})
    for cell in out["cells"]:
        cell.pop("id", None)
    out["nbformat"], out["nbformat_minor"] = 4, 4  # no cell ids needed
    out["metadata"].pop("widgets", None)
    out["metadata"]["colab"] = {"name": name, "provenance": []}
    out["metadata"]["colab_edition"] = {"source": f"{ctx.chapter}.ipynb", "edition": ctx.edition,
                                        "commit": commit}
    return out


def page_titles() -> dict[str, str]:
    """Title of every page of the book: chapters (first heading) and the Markdown pages."""
    titles = {f"chapters/{p.stem}": chapter_title(json.loads(p.read_text()))
              for p in (ROOT / "chapters").glob("*.ipynb")}
    for page in (ROOT / "book").glob("*.md"):
        heading = re.search(r"^# (.+)$", page.read_text(), re.M)
        titles[f"book/{page.stem}"] = heading[1].strip() if heading else page.stem
    return titles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: _build/colab)")
    parser.add_argument("--executed", type=Path, default=EXECUTED,
                        help="the website build's executed notebooks (default: _build/jupyter_execute)")
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo_url = config["repository"]["url"]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip()
    budget_file = ROOT / "_build" / ".budget"
    budget = f" (compute budget: {budget_file.read_text().strip()})" if budget_file.is_file() else ""
    shared = dict(repo_url=repo_url, glossary=glossary_anchors((ROOT / "book" / "glossary.md").read_text()),
                  bib=citations(ROOT / config["bibtex_bibfiles"][0]), titles=page_titles())
    equations = number_equations(toc_sources())
    for edition in EDITIONS:
        shutil.rmtree(args.out / edition, ignore_errors=True)
        (args.out / edition).mkdir(parents=True)
    for chapter in book_chapters():
        executed = args.executed / "chapters" / chapter.name
        if not executed.is_file():
            sys.exit(f"no executed {executed}: build the website first (`make book`)")
        glue = glue_values(executed.with_suffix(".glue.json"))
        nb = json.loads(chapter.read_text())
        doc = f"chapters/{chapter.stem}"
        for edition, source in (("reader", nb), ("exercises", student_notebook(nb, chapter.name))):
            ctx = Context(edition=edition, glue=glue, chapter=doc, equations=equations[doc], **shared)
            path = args.out / edition / chapter.name
            path.write_text(json.dumps(colab_notebook(source, ctx, commit, budget), indent=1,
                                       ensure_ascii=False) + "\n")
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
