"""The wheel ships the content under toolgym/_content and installs no top-level tools/envs."""

import subprocess
import sys
import zipfile

import pytest

from toolgym.content import bundled_root


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    root = bundled_root()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("toolgym-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"toolgym", next(t for t in top if t.endswith(".dist-info"))}
    for folder in ("tools", "envs", "tasks"):
        assert any(n.startswith(f"toolgym/_content/{folder}/") for n in names), folder
    assert "toolgym/_content/tasks/schema.json" in names
    assert not any("__pycache__" in n for n in names)
