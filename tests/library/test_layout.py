"""The package's two layers: the library stays free of the book's support code and plotting."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "effnet_core"
LIBRARY_FILES = sorted(p for p in PACKAGE.rglob("*.py") if "book" not in p.relative_to(PACKAGE).parts)
MAX_FUNCTION_LINES = 60


def test_library_imports_neither_matplotlib_nor_ipywidgets_nor_the_book():
    code = ("import sys, effnet_core, effnet_core.model, effnet_core.train; "
            "print([m for m in ('matplotlib', 'ipywidgets', 'effnet_core.book') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_book_support_does_import_its_tools():
    """The test above can fail: importing the book's plots does pull in matplotlib."""
    code = "import sys, effnet_core.book.plots.swish; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_source_knows_no_shared_folder_and_no_book(path):
    text = path.read_text()
    assert "shared/data" not in text and '"shared"' not in text
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith(("book", "effnet_core.book")), f"{path} imports the book"
            assert node.module.split(".")[0] not in ("matplotlib", "ipywidgets"), path
        if isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] not in ("matplotlib", "ipywidgets") for a in node.names), path


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_functions_are_at_most_60_lines(path):
    tree = ast.parse(path.read_text())
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions longer than {MAX_FUNCTION_LINES} lines: {long}"
