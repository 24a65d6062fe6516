"""Run the chapters the way Colab would: a Colab-like runtime, an empty folder, the smoke budget.

The runtime is a virtual environment with what Colab ships (torch, numpy, matplotlib, tqdm,
ipykernel 6 and Colab's ipywidgets 7.7.1, installed first), then ``pip install .`` without extras:
nothing of the book's or the developers' tools. The script checks that installing the package left
ipywidgets at 7.7.1, registers the runtime as a Jupyter kernel, and executes every notebook given
(by default every chapter in ``chapters/`` and both editions in ``_build/colab/``), each copied alone
into an empty working directory, with ``EFFNET_BUDGET=smoke``. The notebooks are run by nbclient
from the calling interpreter (the book's environment): only the kernel lives in the runtime.

Usage::

    python scripts/colab_runtime.py --venv _build/colab-venv --jobs 2     # what `make colab-runtime` runs
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_IPYWIDGETS = "7.7.1"
KERNEL = "effnet-colab"


def colab_requirements(torch_version: str) -> list[str]:
    """What the runtime has before the package is installed (Colab's preinstalled packages)."""
    return [f"torch=={torch_version}", "numpy", "matplotlib", "tqdm", "ipykernel>=6,<7",
            f"ipywidgets=={COLAB_IPYWIDGETS}"]


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "-q", *args], check=True)


def build_runtime(venv: Path, torch_version: str) -> Path:
    """Create (or reuse) the runtime, install the package into it, check ipywidgets; return its python."""
    python = venv / "bin" / "python"
    wanted = colab_requirements(torch_version)
    stamp = venv / ".colab-requirements"
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()
    if not (python.is_file() and stamp.is_file() and stamp.read_text() == key):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        _pip(python, *wanted)
        stamp.write_text(key)
    with tempfile.TemporaryDirectory() as dist:  # build once, install twice
        subprocess.run([str(python), "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, str(ROOT)],
                       check=True)
        wheel = str(next(Path(dist).glob("*.whl")))
        _pip(python, "--force-reinstall", "--no-deps", wheel)  # this checkout's code
        _pip(python, wheel)  # its dependencies, resolved as `pip install <url>` in Colab resolves them
    version = subprocess.run([str(python), "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                             check=True, capture_output=True, text=True).stdout.strip()
    if version != COLAB_IPYWIDGETS:
        raise SystemExit(f"installing the package changed ipywidgets from {COLAB_IPYWIDGETS} to {version}: "
                         "Colab would need a restart (relax the requirement in pyproject.toml)")
    for tool in ("myst_nb", "jupyter_book", "sphinx", "pytest"):
        found = subprocess.run([str(python), "-c", f"import {tool}"], capture_output=True).returncode == 0
        if found:
            raise SystemExit(f"the Colab-like runtime must not have {tool} (book or dev tooling)")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL],
                   check=True, capture_output=True)
    print(f"runtime {venv}: ipywidgets {version}, package installed without extras")
    return python


def run_notebook(path: Path, kernel_path: str, timeout: int = 900) -> float:
    """Execute ``path`` (not modified) in an empty temporary folder; return seconds, raise on error."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["JUPYTER_PATH"] = kernel_path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the kernel uses the runtime only
    env["EFFNET_BUDGET"] = "smoke"
    env["OMP_NUM_THREADS"] = "1"  # notebooks run side by side, one core each: no oversubscription
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="colab-run-") as empty:
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                                resources={"metadata": {"path": empty}})
        client.execute(env=env)
    return time.perf_counter() - start


def default_notebooks() -> list[Path]:
    """Every chapter in ``chapters/`` and every notebook of both editions in ``_build/colab/``, the
    later chapters (the longest runs) first, so that the parallel runs end together."""
    colab = ROOT / "_build" / "colab"
    found = [*sorted((ROOT / "chapters").glob("*.ipynb")), *sorted((colab / "reader").glob("*.ipynb")),
             *sorted((colab / "exercises").glob("*.ipynb"))]
    if not any(colab.glob("*/*.ipynb")):
        raise SystemExit("no notebooks in _build/colab: run `make colab` first")
    return sorted(found, key=lambda p: p.name, reverse=True)  # later chapters run longest: start them first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/ and _build/colab/")
    parser.add_argument("--venv", type=Path, default=ROOT / "_build" / "colab-venv")
    parser.add_argument("--torch", default="2.13.0", help="torch version of the runtime")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    start = time.perf_counter()
    build_runtime(args.venv.resolve(), args.torch)
    kernel_path = str(args.venv.resolve() / "share" / "jupyter")
    failed = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(path, pool.submit(run_notebook, path, kernel_path)) for path in notebooks]
        for path, future in futures:
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            try:
                print(f"{name}: ran in {future.result():.1f} s")
            except Exception as error:  # report every notebook that fails, not only the first
                failed.append(str(name))
                print(f"{name}: FAILED\n{error}", file=sys.stderr)
    print(f"{len(notebooks) - len(failed)} of {len(notebooks)} notebooks ran in the Colab-like runtime "
          f"({time.perf_counter() - start:.0f} s in all, {args.jobs} at a time)")
    if failed:
        sys.exit(f"notebooks that failed in the Colab-like runtime: {', '.join(failed)}")


if __name__ == "__main__":
    main()
