"""The embedded synthetic sample: DGDDI-format annual zips generated deterministically.

« Données fictives de démonstration » — the rows are invented. Only their structure follows the
real files (docs/source-format.md): headerless 10-field `;` lines, one export and one import file
per year, zipped with the real DGDDI label files; all 101 DGDDI département codes (with `20`,
`9A`–`9E`, `99`), the partner codes `NA`, `QU`, `EU`, heavy-tailed values, four quarters and
aircraft cells above 2^31 €. The 2024 totals reproduce the published figures of the national
fiche exactly at 0.1 M€ (Hérault, Occitanie, France), so the demo can be checked against print.

Everything is a function of a fixed seed (the rows: sample_model.py): the same call gives the same
bytes, so the raw file's sha256 (its data version) does not change between runs.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from trade_pipeline.ingestion.dgddi_files import FLOW_NAMES
from trade_pipeline.ingestion.sample_model import LATEST_VINTAGES, SEED, generate_latest_rows, generate_rows
from trade_pipeline.lib.nomenclature import PACKAGED_LABEL_FILES
from trade_pipeline.lib.provenance import SYNTHETIC_LABEL
from trade_pipeline.tables import FILE_COLUMNS


@dataclass(frozen=True)
class SampleFile:
    name: str
    data: bytes


def data_file_bytes(frame: pd.DataFrame) -> bytes:
    """Rows → headerless `;`-separated DGDDI text (LF line endings)."""
    table = pa.Table.from_pandas(frame.astype({c: "string" for c in FILE_COLUMNS[:8]}), preserve_index=False)
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False, delimiter=";",
                                                                   quoting_style="none"))
    return sink.getvalue()


#: What marks the sample's files wherever they are copied: the `LISEZ-MOI.txt` inside its zips and
#: beside the text files `sample --txt` writes holds this line; a source whose files carry it is
#: synthetic (ingestion/sources.py), and its fiches keep the « données fictives » banner.
SAMPLE_MARKER = "ÉCHANTILLON SYNTHÉTIQUE trade_pipeline"
README_NAME = "LISEZ-MOI.txt"

_README = """LISEZ-MOI — ÉCHANTILLON SYNTHÉTIQUE trade_pipeline

Ces fichiers contiennent des {label} générées par trade_pipeline
(graine {seed}). Ils suivent exactement le format des fichiers annuels régionaux de la DGDDI
(10 champs séparés par « ; », sans ligne d'en-tête) mais leurs valeurs sont inventées.
Seuls les totaux 2024 de l'Hérault, de l'Occitanie et de la France reproduisent les chiffres
publiés par la fiche nationale « indicateurs clés : commerce extérieur ».

Les fichiers de libellés (Libelle_*.txt, Departement_region.txt) sont ceux publiés par la DGDDI
(Licence Ouverte 2.0 — Source : DGDDI).
"""


def _zip_bytes(year: int, flow: str, data: bytes) -> bytes:
    folder = f"Regional-{year}-{FLOW_NAMES[flow]}"
    stamp = (year + 1, 2, 1, 0, 0, 0)  # fixed: same bytes on every run
    return _zipped(folder, f"Region_{year}_{FLOW_NAMES[flow].capitalize()}.txt", data, stamp)


def _zipped(folder: str, data_name: str, data: bytes, stamp: tuple[int, ...]) -> bytes:
    members = [(f"{folder}/{data_name}", data), (f"{folder}/{README_NAME}", _readme())]
    reference = resources.files("trade_pipeline") / "reference"
    members += [(f"{folder}/{name}", (reference / name).read_bytes()) for name in PACKAGED_LABEL_FILES.values()]
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, content, compresslevel=6)
    return sink.getvalue()


def _readme() -> bytes:
    return _README.format(label=SYNTHETIC_LABEL, seed=SEED).encode("utf-8")


def is_sample_file(path: Path) -> bool:
    """Whether a file comes from the sample: a zip holding the marked LISEZ-MOI.txt, or a text
    file with the marked LISEZ-MOI.txt beside it."""
    marker = SAMPLE_MARKER.encode("utf-8")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return any(info.filename.rsplit("/", 1)[-1] == README_NAME and info.file_size < 100_000
                           and marker in archive.read(info) for info in archive.infolist())
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError):
            return False  # a damaged zip is not the sample: the archive check names the damage
    beside = path.parent / README_NAME
    return beside.is_file() and beside.stat().st_size < 100_000 and marker in beside.read_bytes()


def sample_zip_name(year: int, flow: str) -> str:
    return f"{year + 1}02-Regional-{year}-{FLOW_NAMES[flow]}.zip"


def sample_files(year: int, scale: float = 1.0) -> list[SampleFile]:
    """The two zips of one year, as DGDDI would publish them (export, import)."""
    return [SampleFile(sample_zip_name(year, flow), _zip_bytes(year, flow, data_file_bytes(generate_rows(year, flow, scale))))
            for flow in ("E", "I")]


def latest_zip_name(vintage: str, flow: str) -> str:
    """DGDDI's name for it is not known (docs/latest-quarters.md); the national one's pattern."""
    return f"{vintage}-stat-regional-ce-{FLOW_NAMES[flow]}.zip"


def write_latest_sample(out: Path, vintage: str, scale: float = 1.0) -> list[Path]:
    """Write one synthetic latest publication into `out`: its two zips."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for item in sample_latest_files(scale):
        if item.name.startswith(f"{vintage}-"):
            (out / item.name).write_bytes(item.data)
            written.append(out / item.name)
    return written


@lru_cache(maxsize=1)
def sample_latest_files(scale: float = 1.0) -> tuple[SampleFile, ...]:
    """The synthetic latest publications after 2024 (sample_model.LATEST_VINTAGES), two zips each
    (kept: the same bytes on every call, and a build of the sample asks for them every time)."""
    files = []
    for vintage in LATEST_VINTAGES:
        stamp = (int(vintage[:4]), int(vintage[4:]), 10, 0, 0, 0)
        for flow in ("E", "I"):
            data = data_file_bytes(generate_latest_rows(vintage, flow, scale))
            content = _zipped(f"stat-regional-ce-{FLOW_NAMES[flow]}", f"REGIONAL_CPF4PAYS{flow}.txt", data, stamp)
            files.append(SampleFile(latest_zip_name(vintage, flow), content))
    return tuple(files)


def write_sample(out: Path, year: int, scale: float = 1.0, as_text: bool = False) -> list[Path]:
    """Write one year of the sample into `out`: the two zips, or the text files and labels."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if not as_text:
        for item in sample_files(year, scale):
            path = out / item.name
            path.write_bytes(item.data)
            written.append(path)
        return written
    marker = out / README_NAME  # the text files' mark: they come from the sample
    marker.write_bytes(_readme())
    written.append(marker)
    for flow in ("E", "I"):
        path = out / f"Region_{year}_{FLOW_NAMES[flow].capitalize()}.txt"
        path.write_bytes(data_file_bytes(generate_rows(year, flow, scale)))
        written.append(path)
    reference = resources.files("trade_pipeline") / "reference"
    for name in PACKAGED_LABEL_FILES.values():
        path = out / name
        path.write_bytes((reference / name).read_bytes())
        written.append(path)
    return written
