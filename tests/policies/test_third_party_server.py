"""toolgym's OpenAI client against a server toolgym did not write: ``transformers serve``.

Runs on CPU, offline, on the local SmolLM2 folder that ``models.load_tokenizer`` converts.
Skipped only when the serving extra (``transformers[serving]``: fastapi, uvicorn, openai) is absent.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from toolgym.llm.client import OpenAIClient
from toolgym.llm.config import OpenAIConfig

_MISSING = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(_MISSING),
        reason=f"transformers serving extra not installed (missing {_MISSING}); "
        "pip install -e '.[thirdparty-server]'",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hf_server() -> Iterator[tuple[str, str]]:
    """Start ``transformers serve`` on a free loopback port; yield (base_url, model); always kill it."""
    from toolgym.llm import models

    models.load_tokenizer("smollm2-135m")  # makes sure the converted folder exists
    folder = str(models._smollm2_folder())
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or "transformers"
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.Popen(
        [exe, "serve", folder, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                pytest.fail(f"transformers serve exited early (rc={proc.returncode}): {err}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve not healthy within 120 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", folder
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_text_completion_with_seed(hf_server: tuple[str, str]) -> None:
    base_url, model = hf_server
    cfg = OpenAIConfig(base_url=base_url, model=model, max_tokens=8, seed=1, api_key="x")
    with OpenAIClient(cfg) as client:
        out = client.complete_sync([{"role": "user", "content": "Say hello."}], seed=1)
        again = client.complete_sync([{"role": "user", "content": "Say hello."}], seed=1)
    assert out.text.strip(), out
    assert out.completion_tokens > 0
    assert out.finish_reason in {"stop", "length"}
    assert out.text == again.text  # temperature 0: deterministic
