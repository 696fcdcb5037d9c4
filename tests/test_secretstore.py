"""Secret references: what a file: or env: reference may give, and what the operator is told.

A FIFO and /dev/zero are tried in a child process with a time limit and a memory cap, so that
the old behaviour (blocking in open(), reading until memory runs out) fails the test instead of
hanging it or the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor
from hawizard.render.renderer import SecretSpec
from hawizard.run.secrets import MAX_SECRET_BYTES, SecretStore

ROOT = Path(__file__).resolve().parent.parent


def spec(ref: str, kind: str = "alnum", name: str = "drbd-secret") -> SecretSpec:
    return SecretSpec(name, ref, kind, "a test secret")


def resolve(ref: str, kind: str = "alnum") -> tuple[bytes, list[str]]:
    store = SecretStore({"s": spec(ref, kind, "s")}, Redactor())
    warnings = store.resolve_all(None)
    return store.get("s"), warnings


def private(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_a_private_regular_file_is_read_and_stripped(tmp_path):
    key = private(tmp_path / "key", b"  Secret0Value  \n")
    value, warnings = resolve(f"file:{key}")
    assert value == b"Secret0Value" and warnings == []
    link = tmp_path / "link"
    link.symlink_to(key)  # a symlink to a regular file is the file (secret mounts use them)
    assert resolve(f"file:{link}")[0] == b"Secret0Value"


def test_a_binary_key_file_is_taken_as_it_is(tmp_path):
    data = os.urandom(256)
    key = private(tmp_path / "authkey", data)
    assert resolve(f"file:{key}", "bytes")[0] == data


@pytest.mark.parametrize("content, why", [(b"", "is empty"), (b" \n\t\n", "is empty")])
def test_an_empty_file_is_refused(tmp_path, content, why):
    key = private(tmp_path / "key", content)
    with pytest.raises(InputError, match=why) as exc:
        resolve(f"file:{key}")
    assert str(key) in str(exc.value)
    with pytest.raises(InputError, match=why):
        resolve(f"file:{key}", "bytes")


def test_a_short_corosync_key_is_refused(tmp_path):
    key = private(tmp_path / "authkey", b"x" * 16)
    with pytest.raises(InputError, match="128 to 4096"):
        resolve(f"file:{key}", "bytes")


def test_a_large_file_is_refused_before_it_is_read(tmp_path):
    key = tmp_path / "image"
    with open(key, "wb") as fh:
        fh.truncate(1 << 20)  # sparse: 1 MiB of zeros (the old code read it whole; keep that harmless)
    key.chmod(0o600)
    with pytest.raises(InputError, match=f"larger than {MAX_SECRET_BYTES} bytes"):
        resolve(f"file:{key}")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        resolve(f"file:{tmp_path}")


def test_a_multi_line_text_secret_is_refused(tmp_path):
    key = private(tmp_path / "key", b"first\nsecond\n")
    with pytest.raises(InputError, match="line break"):
        resolve(f"file:{key}")


@pytest.mark.parametrize("mode, who", [(0o644, "its group and all users"), (0o640, "its group"),
                                       (0o604, "all users"), (0o620, "its group")])
def test_a_file_others_can_open_gives_a_warning(tmp_path, mode, who):
    key = private(tmp_path / "key", b"Secret0Value\n", mode)
    store = SecretStore({"s": spec(f"file:{key}", name="s")}, Redactor())
    warnings = store.resolve_all(None)
    assert warnings == store.warnings and len(warnings) == 1
    (w,) = warnings
    assert str(key) in w and f"{mode:04o}" in w and who in w and "chmod 600" in w
    assert "Secret0Value" not in w
    assert store.get("s") == b"Secret0Value"  # a warning, not a refusal


def test_env_references(monkeypatch):
    monkeypatch.setenv("HAWIZARD_TEST_SECRET", "Value0From0Env")
    assert resolve("env:HAWIZARD_TEST_SECRET")[0] == b"Value0From0Env"
    monkeypatch.setenv("HAWIZARD_TEST_SECRET", "")
    with pytest.raises(InputError, match="HAWIZARD_TEST_SECRET is empty"):
        resolve("env:HAWIZARD_TEST_SECRET")
    monkeypatch.setenv("HAWIZARD_TEST_SECRET", "   ")
    with pytest.raises(InputError, match="is empty"):
        resolve("env:HAWIZARD_TEST_SECRET", "ref-only")
    monkeypatch.delenv("HAWIZARD_TEST_SECRET")
    with pytest.raises(InputError, match="not set"):
        resolve("env:HAWIZARD_TEST_SECRET")


CHILD = """
import sys
from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor
from hawizard.render.renderer import SecretSpec
from hawizard.run.secrets import SecretStore
store = SecretStore({"s": SecretSpec("s", sys.argv[1], sys.argv[2], "a test secret")}, Redactor())
try:
    store.resolve_all(None)
except InputError as exc:
    print("InputError:", exc)
    sys.exit(2)
print("resolved", len(store.get("s")))
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def resolve_in_child(ref: str, kind: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-c", CHILD, ref, kind], capture_output=True, text=True, timeout=60,
                              preexec_fn=_limit_memory, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"resolving {ref} did not finish in 60 s")


@pytest.mark.parametrize("kind", ["alnum", "bytes"])
def test_a_fifo_is_refused_without_blocking(tmp_path, kind):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    r = resolve_in_child(f"file:{fifo}", kind)
    assert r.returncode == 2 and "is a FIFO" in r.stdout and str(fifo) in r.stdout, (r.stdout, r.stderr[-1500:])


@pytest.mark.parametrize("kind", ["alnum", "bytes"])
def test_dev_zero_is_refused_without_reading(kind):
    r = resolve_in_child("file:/dev/zero", kind)
    assert r.returncode == 2 and "is a device" in r.stdout, (r.stdout, r.stderr[-1500:])
