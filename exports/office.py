"""A long-lived LibreOffice, driven over UNO: PDFs without paying start-up per document.

`UnoConverter` starts `soffice --headless --accept=pipe,...` with a fresh temporary
profile and a small worker script (`uno_worker.py`) run by the system Python, which has
python3-uno. Documents are sent one by one as the caller's iterable yields them, so a
packet's next plan renders here while LibreOffice converts the previous one there.

Opened as a context manager it stays up between `convert` calls (a web process can keep
one); otherwise each call starts and stops its own. A document that fails, a worker that
dies or a time limit that passes ends the server; what is left is converted by the batch
`LibreOfficeConverter` (fresh profile) before giving up.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType

from aip_forms.errors import InvalidInput
from exports.pdf import (
    MISSING_MESSAGE,
    SOFFICE_FLAGS,
    ConversionFailed,
    ConverterMissing,
    LibreOfficeConverter,
    PdfConverter,
    end_process_group,
    find_soffice,
)

SYSTEM_PYTHON = "/usr/bin/python3"
WORKER = Path(__file__).with_name("uno_worker.py")
QUIT_WAIT = 10.0  # seconds LibreOffice gets to quit before it is killed


@cache
def uno_available(python: str = SYSTEM_PYTHON) -> bool:
    """Whether the system Python can import uno (python3-uno is installed)."""
    if not Path(python).exists():
        return False
    probe = subprocess.run(
        [python, "-c", "import uno"], capture_output=True, timeout=30, check=False
    )
    return probe.returncode == 0


class _Server:
    """One soffice and its worker, until `close`."""

    def __init__(self, binary: str, python: str, start_timeout: float) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="aip-uno-"))
        pipe = f"aip_{os.getpid()}_{secrets.token_hex(6)}"
        env = {**os.environ, "HOME": str(self.dir), "SAL_USE_VCLPLUGIN": "svp"}
        self.office = subprocess.Popen(
            [
                binary,
                f"-env:UserInstallation={(self.dir / 'profile').as_uri()}",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
                *SOFFICE_FLAGS,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=self.dir,
        )
        self.worker = subprocess.Popen(
            [python, "-I", str(WORKER), pipe, str(start_timeout)],  # -I: no project on path
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            cwd=self.dir,
        )
        self.answers: queue.Queue[dict[str, object] | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.start_timeout = start_timeout
        self.ready: bool | None = None

    def _read(self) -> None:
        assert self.worker.stdout is not None
        try:
            for line in self.worker.stdout:
                try:
                    self.answers.put(json.loads(line))
                except ValueError:
                    continue
        except (OSError, ValueError):  # the pipe closed under us: the server is closing
            pass
        self.answers.put(None)  # the worker is gone

    def wait_ready(self) -> None:
        if self.ready:
            return
        answer = self.next_answer(self.start_timeout + 5)
        self.ready = bool(answer.get("ready"))
        if not self.ready:
            raise ConversionFailed(f"LibreOffice did not start: {answer.get('error')}")

    def send(self, source: Path, target: Path) -> None:
        assert self.worker.stdin is not None
        try:
            self.worker.stdin.write(json.dumps({"src": str(source), "dst": str(target)}) + "\n")
            self.worker.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ConversionFailed("the LibreOffice worker stopped") from exc

    def next_answer(self, timeout: float) -> dict[str, object]:
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty as exc:
            raise ConversionFailed(f"LibreOffice timed out after {timeout:.0f} s") from exc
        if answer is None:
            raise ConversionFailed("the LibreOffice worker stopped")
        return answer

    def close(self) -> None:
        """Ask LibreOffice to quit (the worker does at the end of its input), then make
        sure: kill what is left of both process groups and remove the profile."""
        if self.worker.stdin is not None:
            with contextlib.suppress(OSError):
                self.worker.stdin.close()
        for process in (self.worker, self.office):
            if self.ready:  # a worker that never connected cannot ask LibreOffice to quit
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=QUIT_WAIT)
            end_process_group(process)
        self.reader.join(timeout=10)  # it ends at the worker's end of output
        if self.worker.stdout is not None:
            self.worker.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class UnoConverter:
    """PDF conversion through one running LibreOffice (see the module docstring)."""

    binary: str | None = None
    python: str = SYSTEM_PYTHON
    start_timeout: float = 60.0
    per_document: float = 60.0
    fallback: LibreOfficeConverter = field(default_factory=LibreOfficeConverter)
    _server: _Server | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _kept: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.fallback.binary is None:
            self.fallback.binary = self.binary

    def program(self) -> str:
        binary = self.binary or find_soffice()
        if not binary or not Path(binary).exists():
            raise ConverterMissing(MISSING_MESSAGE)
        return binary

    def __enter__(self) -> UnoConverter:
        self._kept = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._kept = False
        self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _running(self) -> _Server:
        if self._server is None:
            self._server = _Server(self.program(), self.python, self.start_timeout)
        return self._server

    def convert(self, sources: Iterable[Path], out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            try:
                return self._convert(sources, out_dir)
            finally:
                if not self._kept:
                    self.close()

    def _convert(self, sources: Iterable[Path], out_dir: Path) -> list[Path]:
        targets: list[Path] = []
        originals: list[Path] = []
        done: set[int] = set()
        failed: ConversionFailed | None = None
        server: _Server | None = self._running()
        sent = 0
        for source in sources:  # rendering the next source overlaps this conversion
            originals.append(source)
            target = (out_dir / f"{source.stem}.pdf").resolve()
            targets.append(target)
            if server is None:
                continue
            try:
                server.send(source.resolve(), target)
                sent += 1
                while not server.answers.empty():  # collect what is finished already
                    self._collect(server, done, sent, timeout=0.0)
            except ConversionFailed as exc:
                failed, server = exc, None
                self.close()
        started = time.monotonic()
        while server is not None and len(done) < sent:
            try:
                self._collect(server, done, sent, timeout=self._patience(started, sent))
            except ConversionFailed as exc:
                failed, server = exc, None
                self.close()
        left = [i for i in range(len(targets)) if i not in done or not targets[i].exists()]
        if left:
            self.close()  # a server that failed once is not trusted again
            try:
                results = self.fallback.convert([originals[i] for i in left], out_dir)
            except ConversionFailed as exc:
                raise ConversionFailed(f"{exc} (first attempt: {failed})") from exc
            for i, result in zip(left, results, strict=True):
                targets[i] = result
        return targets

    def _patience(self, started: float, sent: int) -> float:
        return max(
            1.0, self.start_timeout + self.per_document * sent - (time.monotonic() - started)
        )

    def _collect(self, server: _Server, done: set[int], sent: int, timeout: float) -> None:
        if server.ready is None:
            server.wait_ready()
            if server.answers.empty() and timeout == 0.0:
                return
        answer = server.next_answer(timeout if timeout > 0 else 0.001)
        index = len(done)
        if not answer.get("ok"):
            raise ConversionFailed(
                f"LibreOffice could not convert a document: {answer.get('error')}"
            )
        done.add(index)


def converter_named(choice: str, soffice: str | None = None) -> PdfConverter:
    """The converter AIP_PDF_CONVERTER names: "uno" (a long-lived LibreOffice, the default
    when python3-uno is installed) or "batch" (one soffice run per batch of documents);
    `soffice` (AIP_SOFFICE) is the LibreOffice program when it is not the one on the PATH."""
    choice = choice.strip().lower()
    if choice not in ("", "uno", "batch"):
        raise InvalidInput(f"AIP_PDF_CONVERTER must be uno or batch, not {choice!r}")
    if choice == "batch" or (choice != "uno" and not uno_available()):
        return LibreOfficeConverter(binary=soffice or None)
    return UnoConverter(binary=soffice or None)
