"""Fetch the JavaScript the static site needs (MathJax, require.js, the ipywidgets HTML manager).

The book must render with no network (a classroom without internet, an archived copy), so these
files are served from the built site instead of a CDN. They are not committed: this script
downloads each npm tarball at a pinned version, checks it against the sha512 ``integrity`` the
npm registry publishes for that version (``npm view PKG@VER dist.integrity``), and unpacks the
files we need into ``_vendor/`` (git-ignored), which ``_config.yml`` lists as a Sphinx static path.

Usage: ``python scripts/fetch_assets.py [--dest _vendor] [--force]``. A stamp file records what
was unpacked, so a second run with unchanged pins does nothing.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Asset:
    """One npm package at a pinned version, and which of its files to unpack where."""

    name: str
    version: str
    integrity: str  # "sha512-<base64>", as published by the registry
    keep: tuple[str, ...]  # path prefixes inside the tarball's "package/" folder
    dest: str  # folder under the vendor directory

    @property
    def tarball_url(self) -> str:
        basename = self.name.split("/")[-1]
        return f"{REGISTRY}/{self.name}/-/{basename}-{self.version}.tgz"


ASSETS = (
    Asset(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        keep=("es5/",),
        dest="mathjax",
    ),
    Asset(
        name="requirejs",
        version="2.3.7",
        integrity="sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
        keep=("require.js",),
        dest="requirejs",
    ),
    Asset(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        # embed-amd.js bundles base, controls and output widgets; the rest are its fonts.
        keep=("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot",
              "dist/*.svg"),
        dest="html-manager",
    ),
)


def verify(data: bytes, integrity: str, what: str) -> None:
    """Raise ValueError unless ``data`` matches the Subresource-Integrity string ``integrity``."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise ValueError(f"integrity for {what} must be sha512-..., got {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise ValueError(f"checksum mismatch for {what}: expected {expected}, got {actual}")


def wanted(member: str, keep: tuple[str, ...]) -> bool:
    """Whether a tarball path (relative to ``package/``) matches a ``keep`` prefix or glob."""
    return any(
        member.startswith(p) if p.endswith("/") else fnmatch.fnmatchcase(member, p) for p in keep
    )


def unpack(asset: Asset, data: bytes, dest: Path) -> int:
    """Unpack the kept files of ``asset`` into ``dest``; return how many were written."""
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            rel = member.name[len("package/") :]
            if ".." in Path(rel).parts or not wanted(rel, asset.keep):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())
            count += 1
    if count == 0:
        what = f"{asset.name}@{asset.version}"
        raise ValueError(f"nothing unpacked from {what}: check its keep={asset.keep}")
    return count


def fetch(dest: Path, force: bool = False) -> None:
    """Download, verify and unpack every pinned asset into ``dest`` (skip if already done)."""
    stamp = dest / ".fetched.json"
    manifest = json.dumps([asdict(a) for a in ASSETS], sort_keys=True)
    if not force and stamp.exists() and stamp.read_text() == manifest:
        print(f"offline assets already in {dest} (pinned versions unchanged)")
        return
    if dest.exists():
        shutil.rmtree(dest)
    for asset in ASSETS:
        with urllib.request.urlopen(asset.tarball_url, timeout=120) as response:
            data = response.read()
        verify(data, asset.integrity, f"{asset.name}@{asset.version}")
        n = unpack(asset, data, dest / asset.dest)
        print(f"{asset.name}@{asset.version}: sha512 ok, {n} files -> {dest / asset.dest}")
    stamp.write_text(manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "_vendor", help="output folder")
    parser.add_argument("--force", action="store_true", help="download again even if up to date")
    args = parser.parse_args(argv)
    fetch(args.dest, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
