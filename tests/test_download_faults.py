"""Network faults against a local HTTP server: success after retries, or a clear error naming the
URL and the cause — and never a partial file in the download directory."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

import pytest

from trade_pipeline.ingestion.download import DownloadError, discover_year, download
from trade_pipeline.settings import Settings

from .support import (
    LocalServer,
    html_answer,
    listing_page,
    reset_answer,
    serve_then,
    slow_answer,
    status_answer,
    truncated_answer,
    year_zip,
    zip_answer,
)

ZIP = year_zip(2024, "E")
NAME = "202502-Regional-2024-export.zip"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", http_timeout_s=0.5, http_attempts=3, http_backoff_s=0.01)


@pytest.fixture
def staging(tmp_path) -> Path:
    folder = tmp_path / "staging"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


GOOD = zip_answer(ZIP)
TOO_SLOW = slow_answer(ZIP, 1.5)  # longer than the 0.5 s read timeout
TRUNCATED = truncated_answer(ZIP)


@pytest.mark.parametrize("fault", [status_answer(500), status_answer(503), status_answer(429), TOO_SLOW, reset_answer,
                                   TRUNCATED],
                         ids=["HTTP 500", "HTTP 503", "HTTP 429", "timeout", "connection reset", "truncated body"])
def test_transient_faults_are_retried_until_success(settings, staging, fault):
    with LocalServer() as server:
        serve_then(server, f"/fichiers/{NAME}", [fault, fault], GOOD)
        got = download(server.url + f"/fichiers/{NAME}", staging, settings)
        assert server.hits[f"/fichiers/{NAME}"] == 3
    assert got.path.read_bytes() == ZIP and got.sha256 == hashlib.sha256(ZIP).hexdigest()
    assert leftovers(staging) == [NAME]


@pytest.mark.parametrize(("fault", "cause"), [
    (status_answer(500), "HTTP 500"), (TOO_SLOW, "ReadTimeout"), (reset_answer, "reset"),
    (TRUNCATED, "without sending complete message body"),
], ids=["HTTP 500", "timeout", "connection reset", "truncated body"])
def test_persistent_faults_give_up_naming_url_and_cause(settings, staging, fault, cause):
    with LocalServer() as server:
        url = server.url + f"/fichiers/{NAME}"
        serve_then(server, f"/fichiers/{NAME}", [], fault)
        with pytest.raises(DownloadError) as raised:
            download(url, staging, settings)
        assert server.hits[f"/fichiers/{NAME}"] == settings.http_attempts
    message = str(raised.value)
    assert url in message and "after 3 attempt(s)" in message
    assert cause.lower() in message.lower(), message
    assert leftovers(staging) == []


@pytest.mark.parametrize(("fault", "cause"), [
    (status_answer(404), "HTTP 404 Not Found"), (status_answer(403), "HTTP 403 Forbidden"),
    (html_answer, "expected a zip, received an HTML page (text/html)"),
], ids=["404", "403", "HTML instead of zip"])
def test_final_faults_fail_at_once(settings, staging, fault, cause):
    with LocalServer() as server:
        url = server.url + f"/fichiers/{NAME}"
        serve_then(server, f"/fichiers/{NAME}", [], fault)
        with pytest.raises(DownloadError, match=re.escape(cause)) as raised:
            download(url, staging, settings)
        assert server.hits[f"/fichiers/{NAME}"] == 1  # not worth retrying
    assert url in str(raised.value)
    assert leftovers(staging) == []


def test_listing_page_whose_layout_changed(settings):
    with LocalServer() as server:
        url = server.url + "/site_fr/telechargement/telechargement_SGBD.asp"
        server.serve_bytes("/site_fr/telechargement/telechargement_SGBD.asp",
                           b"<html><body><a href='/nouveau/portail'>Nos donnees</a>"
                           b"<script>load('bases.json')</script></body></html>", content_type="text/html")
        with pytest.raises(DownloadError) as raised:
            discover_year(url, 2024, settings)
    message = str(raised.value)
    assert url in message and "the page layout may have changed" in message
    assert "Set TRADE_PIPELINE_SOURCE to a zip URL or a local directory instead" in message


def test_listing_without_the_requested_year_says_which_years_it_has(settings):
    with LocalServer() as server:
        url = server.url + "/listing"
        server.serve_bytes("/listing", listing_page(["/f/202402-Regional-2023-export.zip",
                                                     "/f/202402-Regional-2023-import.zip"]), "text/html")
        with pytest.raises(DownloadError, match=r"no export zip for 2024 on the listing page \(years listed: 2023\)"):
            discover_year(url, 2024, settings)


def test_unreachable_server_names_the_url(settings, staging):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/fichiers/{NAME}"
    with pytest.raises(DownloadError, match="ConnectError") as raised:
        download(url, staging, settings)
    assert url in str(raised.value)
    assert leftovers(staging) == []
