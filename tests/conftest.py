"""Shared fixtures: an isolated data directory per test, one sample build per session."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
os.umask(0o022)  # the usual default, so that file-permission tests mean the same everywhere
os.environ.setdefault("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
warnings.filterwarnings("ignore", message=".*is currently in beta.*")
warnings.filterwarnings("ignore", message=".*is currently in preview.*")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRADE_PIPELINE_DATA_DIR (and Dagster instance) for one test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(folder))
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", "sample")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_ATTEMPTS", "3")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_TIMEOUT", "5")
    # prepare_dagster_home() points DAGSTER_HOME here; monkeypatch restores it afterwards.
    monkeypatch.setenv("DAGSTER_HOME", str(folder / "dagster"))
    return folder


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample (2022–2024), every territory, built once through `trade-pipeline build` up to the
    published store (the fiches of a whole year take minutes: see `herault_fiches`)."""
    from trade_pipeline.build import build
    from trade_pipeline.settings import get_settings

    folder = tmp_path_factory.mktemp("sample_build") / "data"
    saved = {k: os.environ.get(k) for k in ("TRADE_PIPELINE_DATA_DIR", "TRADE_PIPELINE_SOURCE", "DAGSTER_HOME")}
    os.environ["TRADE_PIPELINE_DATA_DIR"] = str(folder)
    os.environ["TRADE_PIPELINE_SOURCE"] = "sample"
    try:
        build([2022, 2023, 2024], get_settings(), echo=lambda _: None, fiches=False)
        yield folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def herault_fiches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fiches of Hérault, Occitanie and France for 2024 (2023 built too, for the year-on-year
    change), from the sample, through `trade-pipeline build --departement 34`."""
    from trade_pipeline.build import build
    from trade_pipeline.settings import get_settings

    folder = tmp_path_factory.mktemp("herault_fiches") / "data"
    saved = {k: os.environ.get(k) for k in ("TRADE_PIPELINE_DATA_DIR", "TRADE_PIPELINE_SOURCE", "DAGSTER_HOME")}
    os.environ["TRADE_PIPELINE_DATA_DIR"] = str(folder)
    os.environ["TRADE_PIPELINE_SOURCE"] = "sample"
    try:
        build([2023], get_settings(), echo=lambda _: None, departements=["34"], fiches=False)
        build([2024], get_settings(), echo=lambda _: None, departements=["34"])
        yield folder
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def revised_sources(tmp_path_factory) -> tuple[Path, Path]:
    """The 2024 sample (small), and the same where Hérault's export rows changed."""
    from trade_pipeline import cli

    from .support import change_departement_rows

    root = tmp_path_factory.mktemp("revised_sources")
    first, second = root / "first", root / "second"
    assert cli.main(["sample", "--out", str(first), "--year", "2024", "--scale", "0.02"]) == 0
    assert cli.main(["sample", "--out", str(second), "--year", "2024", "--scale", "0.02"]) == 0
    for archive in second.glob("*export*.zip"):
        change_departement_rows(archive, "34", 1_000_000)
    return first, second


@pytest.fixture(scope="session")
def revised_clean_state(tmp_path_factory, revised_sources) -> tuple:
    """What a clean build of the revised source leaves: the state every recovery must reach."""
    from .support import build_in_subprocess, state

    clean = tmp_path_factory.mktemp("revised_clean") / "data"
    assert build_in_subprocess(clean, revised_sources[1]).returncode == 0
    return state(clean)
