"""scripts/package-jwks-snapshot.py, which `make lambda JWKS_SNAPSHOT_FROM=...`
runs: the snapshot lands beside `bootstrap` under the name the module's
`jwks_snapshot = "jwks-snapshot.json"` expects, a second packaging replaces
the first, and nothing else in the zip changes (the bootstrap keeps its
executable bit, or Lambda cannot start it).
"""

from __future__ import annotations

import importlib.util
import json
import stat
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "package-jwks-snapshot.py"


def load_script():
    spec = importlib.util.spec_from_file_location("package_jwks_snapshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bootstrap_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, b"\x7fELF not really")


def snapshot(path: Path, fetched_at: int) -> None:
    path.write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "abc", "kid": "k"}], "fetched_at": fetched_at}))


def test_the_snapshot_goes_beside_the_bootstrap_and_a_second_replaces_the_first(tmp_path):
    package = load_script().package
    zip_path = tmp_path / "bootstrap.zip"
    bootstrap_zip(zip_path)

    first, second = tmp_path / "first.json", tmp_path / "second.json"
    snapshot(first, 1_700_000_000)
    snapshot(second, 1_800_000_000)
    package(str(zip_path), str(first))
    package(str(zip_path), str(second))

    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert sorted(names) == ["bootstrap", "jwks-snapshot.json"]
        assert json.loads(archive.read("jwks-snapshot.json"))["fetched_at"] == 1_800_000_000
        assert archive.read("bootstrap") == b"\x7fELF not really"
        mode = archive.getinfo("bootstrap").external_attr >> 16
        assert mode & 0o111 == 0o111, oct(mode)


def test_the_name_is_the_one_the_module_documents():
    assert load_script().NAME == "jwks-snapshot.json"
    main_tf = (ROOT / "infra" / "modules" / "authorizer" / "main.tf").read_text()
    assert 'jwks_snapshot = \\"jwks-snapshot.json\\"' in main_tf
