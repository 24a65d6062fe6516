"""Sphinx extension: every chapter page links to its two Colab editions, under the page title.

The Colab notebooks are written by ``scripts/colab_edition.py`` (``make colab``) and published on
the ``colab`` branch of the repository set once in ``_config.yml`` (``repository.url``); the links
point there: ``reader/<chapter>.ipynb`` ("Open in Colab") and ``exercises/<chapter>.ipynb``
("Exercises in Colab"). The URL helpers here are shared with the script.
"""

from __future__ import annotations

import re
from typing import Any

COLAB_BRANCH = "colab"
EDITIONS = {"reader": "Open in Colab", "exercises": "Exercises in Colab"}
_GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)/?")


def owner_repo(repo_url: str) -> tuple[str, str]:
    """``("owner", "repo")`` of a ``https://github.com/owner/repo`` URL."""
    match = _GITHUB.fullmatch(repo_url or "")
    if not match:
        raise ValueError(f"repository url must look like https://github.com/<owner>/<repo>, got {repo_url!r}")
    return match["owner"], match["repo"]


def colab_url(repo_url: str, edition: str, notebook: str) -> str:
    """The Colab address of ``notebook`` (a file name) in ``edition`` ("reader" or "exercises")."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {sorted(EDITIONS)}, got {edition!r}")
    owner, repo = owner_repo(repo_url)
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{COLAB_BRANCH}/{edition}/{notebook}"


def site_url(repo_url: str) -> str:
    """The website's address on GitHub Pages, ending with a slash."""
    owner, repo = owner_repo(repo_url)
    return f"https://{owner}.github.io/{repo}/"


def links_html(repo_url: str, notebook: str) -> str:
    """The HTML paragraph with both Colab links of ``notebook``."""
    links = " · ".join(
        f'<a class="colab-link colab-{edition}" href="{colab_url(repo_url, edition, notebook)}" '
        f'target="_blank" rel="noopener">{text}</a>'
        for edition, text in EDITIONS.items()
    )
    return f'<p class="colab-links">{links}</p>'


def _add_links(app: Any, doctree: Any, docname: str) -> None:
    from docutils import nodes

    if not docname.startswith("chapters/"):
        return
    repo_url = app.config.html_theme_options.get("repository_url", "")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    raw = nodes.raw("", links_html(repo_url, docname.removeprefix("chapters/") + ".ipynb"), format="html")
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, raw)


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-resolved", _add_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
