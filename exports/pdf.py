"""PDF conversion behind a small interface, with LibreOffice (headless) as the adapter.

`PdfConverter.convert(sources, out_dir)` turns .docx files into PDFs. The LibreOffice
adapter converts a whole list in one `soffice` run, so a packet of thirty plans pays
LibreOffice's start-up once (or once per worker, `workers` runs side by side). Each run
has its own temporary profile and directory (removed afterwards), a time limit, its own
process group (killed when the run ends, so no soffice is left behind) and retries with a
fresh profile for the documents that did not come out. LibreOffice's failures stop here:
callers see `ConverterMissing` or `ConversionFailed`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aip_forms.errors import Unavailable

APT_PACKAGES = "libreoffice-writer-nogui fonts-liberation fonts-dejavu-core"
MISSING_MESSAGE = (
    "LibreOffice is needed to make PDFs and was not found (no soffice on PATH). "
    f"Install it with: apt-get install --no-install-recommends {APT_PACKAGES} "
    "(or run `make setup`), or set AIP_SOFFICE to the soffice program."
)


class ConverterMissing(Unavailable, RuntimeError):
    """The converter program is not installed."""


class ConversionFailed(Unavailable, RuntimeError):
    """Some documents could not be converted."""


class PdfConverter(Protocol):
    def convert(self, sources: Iterable[Path], out_dir: Path) -> list[Path]:
        """One PDF per source, in order, written to `out_dir` as <source stem>.pdf.

        `sources` may be a generator that renders each document as it is asked for: a
        converter that can start before the last one exists does so."""
        ...


def find_soffice() -> str | None:
    """LibreOffice on the PATH (AIP_SOFFICE, read by the composition root, overrides it)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass
class LibreOfficeConverter:
    """soffice --headless --convert-to pdf, many files per run."""

    binary: str | None = None
    timeout: float = 90.0  # seconds per run, plus `per_document` for each file in it
    per_document: float = 15.0
    retries: int = 1
    workers: int = 1

    def program(self) -> str:
        binary = self.binary or find_soffice()
        if not binary or not Path(binary).exists():
            raise ConverterMissing(MISSING_MESSAGE)
        return binary

    def convert(self, sources: Iterable[Path], out_dir: Path) -> list[Path]:
        binary = self.program()
        sources = list(sources)
        out_dir.mkdir(parents=True, exist_ok=True)
        if not sources:
            return []
        with tempfile.TemporaryDirectory(prefix="aip-pdf-") as tmp:
            work = Path(tmp)
            inputs = work / "in"
            inputs.mkdir()
            # Copies under plain unique names: no name clashes in the output directory,
            # and no caller-chosen path ever reaches soffice's command line.
            staged = []
            for i, source in enumerate(sources):
                copy = inputs / f"doc{i:05d}{source.suffix.lower() or '.docx'}"
                shutil.copyfile(source, copy)
                staged.append(copy)
            results = self._convert_staged(binary, staged, work)
            outputs = []
            for source, result in zip(sources, results, strict=True):
                target = out_dir / f"{source.stem}.pdf"
                shutil.move(result, target)
                outputs.append(target)
            return outputs

    def _convert_staged(self, binary: str, staged: list[Path], work: Path) -> list[Path]:
        workers = max(1, min(self.workers, len(staged)))
        parts = [staged[i::workers] for i in range(workers)]
        if workers == 1:
            self._convert_part(binary, parts[0], work / "w0")
        else:
            with ThreadPoolExecutor(workers) as pool:
                futures = [
                    pool.submit(self._convert_part, binary, part, work / f"w{i}")
                    for i, part in enumerate(parts)
                ]
                for future in futures:
                    future.result()
        return [_output_of(path) for path in staged]

    def _convert_part(self, binary: str, files: list[Path], work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        pending = list(files)
        errors: list[str] = []
        for attempt in range(self.retries + 1):
            profile = work / f"profile{attempt}"  # fresh: a broken profile is not reused
            error = _run_soffice(
                binary,
                pending,
                profile,
                self.timeout + self.per_document * len(pending),
            )
            shutil.rmtree(profile, ignore_errors=True)
            if error:
                errors.append(error)
            pending = [f for f in pending if not _output_of(f).exists()]
            if not pending:
                return
        names = ", ".join(f.name for f in pending[:5])
        detail = errors[-1] if errors else "no PDF was written"
        raise ConversionFailed(
            f"LibreOffice did not convert {len(pending)} document(s) ({names}) after "
            f"{self.retries + 1} attempt(s): {detail}"
        )


def _output_of(source: Path) -> Path:
    return source.parent.parent / "out" / f"{source.stem}.pdf"


# How aip-forms always starts LibreOffice: no window, no start centre, no recovery, no lock.
SOFFICE_FLAGS = (
    "--headless",
    "--invisible",
    "--nologo",
    "--norestore",
    "--nodefault",
    "--nolockcheck",
)


# Tagged PDF (PDF/UA structure: headings, tables, figures with their alternative text), the
# document's title in the viewer's title bar; LibreOffice 7.4+ reads filter options as JSON.
PDF_OPTIONS = {
    "UseTaggedPDF": {"type": "boolean", "value": "true"},
    "DisplayPDFDocumentTitle": {"type": "boolean", "value": "true"},
    "ExportBookmarks": {"type": "boolean", "value": "true"},
}
PDF_FILTER = "pdf:writer_pdf_Export:" + json.dumps(PDF_OPTIONS, separators=(",", ":"))


def _run_soffice(binary: str, files: list[Path], profile: Path, timeout: float) -> str | None:
    """One soffice run; returns an error text, or None when it exited cleanly."""
    out = files[0].parent.parent / "out"
    out.mkdir(exist_ok=True)
    command = [
        binary,
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        *SOFFICE_FLAGS,
        "--convert-to",
        PDF_FILTER,
        "--outdir",
        str(out),
        *map(str, files),
    ]
    env = {**os.environ, "HOME": str(profile.parent), "SAL_USE_VCLPLUGIN": "svp"}
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=profile.parent,
        )
    except OSError as exc:
        if not Path(binary).exists():
            raise ConverterMissing(MISSING_MESSAGE) from exc
        raise ConversionFailed(f"cannot start LibreOffice: {exc.strerror}") from exc
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end_process_group(process)
        process.communicate()
        return f"timed out after {timeout:.0f} s"
    finally:
        end_process_group(process)
    if process.returncode != 0:
        text = output.decode(errors="replace").strip().splitlines()
        return f"exit code {process.returncode}: {' '.join(text[-3:])}"
    return None


def end_process_group(process: subprocess.Popen[Any], wait: float = 10.0) -> None:
    """Kill `process` and whatever it left in its group (soffice.bin outlives oosplash),
    reap it, and wait (at most `wait` seconds) until the group is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=wait)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)
