"""Zip and XML safety checks on an upload, done before any spreadsheet library reads it.

`open_archive` checks the zip's central directory against `IntakeLimits` without inflating
anything. `read_parts` then inflates every part itself under hard caps (a directory's declared
sizes can lie), verifies each part's size and checksum, and parses every XML part with
defusedxml, which refuses document type declarations, entities and external references
before anything is expanded or fetched. It reports what intake needs to know about the
package: content types, references to outside resources, the workbook's root element.
"""

from __future__ import annotations

import gc
import io
import itertools
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from posixpath import join, normpath
from typing import Protocol
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from validators.problems import Problem, UnreadableWorkbook, problem

KiB = 1024
MiB = 1024 * KiB

CONTENT_TYPES_PART = "[Content_Types].xml"
WORKBOOK_PART = "xl/workbook.xml"


@dataclass(frozen=True)
class IntakeLimits:
    max_upload_bytes: int = 10 * MiB
    max_entries: int = 1000
    max_total_uncompressed_bytes: int = 100 * MiB
    # Deflate cannot expand more than about 1,032 times: only runs of one byte come near it.
    # The hard caps below bound the work whatever the ratio; this names the obvious bomb.
    max_compression_ratio: float = 1000.0
    ratio_checked_above_bytes: int = 1 * MiB
    # Work per upload, not just bytes: a plan workbook holds about 20,000 XML elements.
    # Every element starts with "<" (text holds "&lt;"), so counting "<" that is not "</"
    # bounds the elements, and their nesting depth, before expat sees them.
    # The part bound also bounds nesting depth for expat, whose stack of open elements costs
    # about 125 bytes a level: 250,000 levels, 31 MB.
    max_part_elements: int = 250_000
    max_elements: int = 1_000_000
    # Parts whose facts intake records element by element, in Python: [Content_Types].xml,
    # relationships, the workbook part. They list parts, sheets and names: a few hundred.
    max_structure_elements: int = 50_000
    # CPU seconds of the reading thread, intake and reading together: a last guard behind
    # the counts. CPU time, not wall time, so that a busy machine (other processes, other
    # requests' threads) does not refuse an ordinary plan.
    max_seconds: float = 1.5


@dataclass(frozen=True)
class ZipEntry:
    name: str
    compressed_size: int
    size: int


@dataclass(frozen=True)
class _Span:
    """One zip entry and where its compressed data lies in the upload."""

    info: zipfile.ZipInfo
    start: int
    end: int


@dataclass(frozen=True)
class Archive:
    """An upload whose zip directory passed `open_archive`; nothing inflated yet."""

    data: bytes = field(repr=False)
    spans: tuple[_Span, ...]

    @property
    def entries(self) -> tuple[ZipEntry, ...]:
        return tuple(
            ZipEntry(s.info.filename, s.info.compress_size, s.info.file_size) for s in self.spans
        )

    @property
    def names(self) -> frozenset[str]:
        return frozenset(s.info.filename for s in self.spans)


def megabytes(size: int) -> str:
    return f"{size / MiB:,.1f} MB"


# ---- the zip directory -------------------------------------------------------------------

_CENTRAL_HEADER = b"PK\x01\x02"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_FLAG_ENCRYPTED = 0x1 | 0x40  # traditional or strong encryption
_FLAG_PATCHED = 0x20  # zipfile cannot read these
_FLAG_UTF8_NAME = 0x800
# zipfile raises these, and nothing else, on a hostile directory.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,
    ValueError,
    struct.error,
    EOFError,
    OSError,
    OverflowError,
)


def open_archive(data: bytes, limits: IntakeLimits) -> Archive:
    """Check the zip directory; raise UnreadableWorkbook with every problem in it."""
    # Every directory entry starts with this signature, so the count bounds the number of
    # ZipInfo objects zipfile would build: refuse before it builds 200,000 of them.
    if data.count(_CENTRAL_HEADER) > limits.max_entries:
        raise UnreadableWorkbook([problem("INTAKE_TOO_MANY_ENTRIES", limit=limits.max_entries)])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except _ZIP_ERRORS:
        raise UnreadableWorkbook([problem("INTAKE_TRUNCATED")]) from None

    problems = list(_entry_problems(infos, limits))
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed_bytes:
        problems.append(
            problem(
                "INTAKE_UNCOMPRESSED_TOO_LARGE",
                size=megabytes(total),
                limit=megabytes(limits.max_total_uncompressed_bytes),
            )
        )
    spans: list[_Span] = []
    for info in infos:
        try:
            spans.append(_locate(data, info))
        except _Refused as refused:
            problems.append(refused.problem)
    problems += _overlaps(spans)
    if problems:
        raise UnreadableWorkbook(dict.fromkeys(problems))  # each problem once
    return Archive(data, tuple(spans))


def _entry_problems(infos: list[zipfile.ZipInfo], limits: IntakeLimits) -> Iterator[Problem]:
    seen: set[str] = set()
    encrypted = False
    for info in infos:
        name = info.orig_filename
        if _unsafe_name(name):
            yield problem("INTAKE_UNSAFE_NAME", part=name)
        key = info.filename.casefold()  # part names are case-insensitive in a package
        if key in seen:
            yield problem("INTAKE_DUPLICATE_ENTRY", part=name)
        seen.add(key)
        if info.flag_bits & _FLAG_ENCRYPTED and not encrypted:
            encrypted = True
            yield problem("INTAKE_ENCRYPTED")
        if info.flag_bits & _FLAG_PATCHED:
            yield problem("INTAKE_UNSUPPORTED_ZIP", part=name, feature="patched data")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            yield problem(
                "INTAKE_UNSUPPORTED_ZIP", part=name, feature=f"compression {info.compress_type}"
            )
        if info.file_size > limits.ratio_checked_above_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                yield problem("INTAKE_COMPRESSION_RATIO", part=name, ratio=f"{ratio:,.0f}")


def _unsafe_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or ":" in name:
        return True
    if any(ord(char) < 0x20 for char in name):
        return True
    return ".." in name.split("/")


class _Refused(Exception):
    def __init__(self, found: Problem) -> None:
        super().__init__(found.message)
        self.problem = found


def _locate(data: bytes, info: zipfile.ZipInfo) -> _Span:
    """Read the entry's local header as zipfile would, and check it matches the directory."""
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise _Refused(problem("INTAKE_TRUNCATED"))
    fields = _LOCAL_HEADER.unpack_from(data, offset)
    signature, name_length, extra_length = fields[0], fields[-2], fields[-1]
    if signature != _LOCAL_SIGNATURE:
        raise _Refused(problem("INTAKE_CORRUPT", part=info.filename, reason="bad header"))
    raw_name = data[offset + _LOCAL_HEADER.size : offset + _LOCAL_HEADER.size + name_length]
    encoding = "utf-8" if info.flag_bits & _FLAG_UTF8_NAME else "cp437"
    if raw_name.decode(encoding, "replace") != info.orig_filename:
        reason = "header and index disagree"
        raise _Refused(problem("INTAKE_CORRUPT", part=info.filename, reason=reason))
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    end = start + info.compress_size
    if end > len(data):
        raise _Refused(problem("INTAKE_TRUNCATED"))
    return _Span(info, start, end)


def _overlaps(spans: list[_Span]) -> Iterator[Problem]:
    """Entries sharing data are how the densest zip bombs are built; Excel never writes them."""
    ordered = sorted(spans, key=lambda span: span.info.header_offset)
    for before, after in itertools.pairwise(ordered):
        if after.info.header_offset < before.end:
            reason = f"overlaps {before.info.filename}"
            yield problem("INTAKE_CORRUPT", part=after.info.filename, reason=reason)


# ---- the parts ---------------------------------------------------------------------------

_CHUNK = 64 * KiB


def _inflate(data: bytes, span: _Span) -> Iterator[bytes]:
    """The entry's data, inflated in chunks of at most _CHUNK bytes, whatever it declares."""
    raw = memoryview(data)[span.start : span.end]
    if span.info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(raw), _CHUNK):
            yield bytes(raw[at : at + _CHUNK])
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending: bytes | memoryview = b""
    taken = 0
    while True:
        try:
            out = inflater.decompress(pending, _CHUNK)
        except zlib.error:
            raise _Refused(
                problem("INTAKE_CORRUPT", part=span.info.filename, reason="bad compressed data")
            ) from None
        pending = inflater.unconsumed_tail
        if out:
            yield out
        if inflater.eof:
            return
        if not out and not pending:
            if taken >= len(raw):
                reason = "compressed data ends early"
                raise _Refused(problem("INTAKE_CORRUPT", part=span.info.filename, reason=reason))
            pending = raw[taken : taken + _CHUNK]
            taken += _CHUNK


class _Target(Protocol):
    def close(self) -> None: ...


class _Discard:
    """A parser target that keeps nothing: the parse only proves the part safe and sound."""

    def close(self) -> None:
        return None


class _WorkbookRoot:
    def __init__(self, facts: PackageFacts) -> None:
        self.facts = facts

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.facts.workbook_root is None:
            self.facts.workbook_root = tag
        elif _local(tag) == "sheet":
            self.facts.sheet_titles[attrib.get(_REL_ID, "")] = attrib.get("name", "")[:100]

    def close(self) -> None:
        return None


_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _extension(name: str) -> str:
    return name.rpartition("/")[2].rpartition(".")[2].casefold() if "." in name else ""


class ContentTypes:
    """[Content_Types].xml, for the parts that exist: each declaration is kept only if its
    part or extension is in the zip, so a hostile file cannot grow this beyond the entries."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = {name.casefold() for name in names}
        self._extensions = {_extension(name) for name in self._names}
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        self.repeated: set[str] = set()

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        kind = _local(tag)
        if kind == "Default":
            key = attrib.get("Extension", "").casefold()
            table, known = self.defaults, self._extensions
        elif kind == "Override":
            key = unquote(attrib.get("PartName", "")).lstrip("/").casefold()
            table, known = self.overrides, self._names
        else:
            return
        if key not in known:
            return
        if key in table:
            self.repeated.add(key)
        else:
            table[key] = attrib.get("ContentType", "").strip()

    def close(self) -> None:
        return None

    def of(self, name: str) -> str:
        key = name.casefold()
        return self.overrides.get(key) or self.defaults.get(_extension(key), "")


@dataclass(frozen=True)
class OutsideReference:
    rels_part: str
    kind: str  # the relationship type's last segment: "image", "oleObject" ...
    target: str


# Relationship types that bring in another workbook, data or code, whatever the part they
# point to is called and whatever content type it declares.
LINKING_RELATIONSHIPS = frozenset(
    kind.casefold()
    for kind in (
        "externalLink",
        "externalLinkPath",
        "connections",
        "queryTable",
        "oleObject",
        "package",
        "control",
        "activeXControl",
        "activeXControlBinary",
        "vbaProject",
        "xlMacrosheet",
        "xlIntlMacrosheet",
        "attachedTemplate",
        "frame",
    )
)


class _OutsideReferences:
    """Relationships whose target is outside the package, and relationships of a linking
    type wherever they point. Hyperlinks are ordinary content."""

    KEPT = 20  # per part: one is enough to refuse the file; the cap bounds memory

    def __init__(self, rels_part: str, facts: PackageFacts) -> None:
        self.rels_part = rels_part
        self.facts = facts
        self.kept = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if _local(tag) != "Relationship" or self.kept >= self.KEPT:
            return
        kind = attrib.get("Type", "").rstrip("/").rpartition("/")[2]
        target = attrib.get("Target", "")[:200]
        if self.rels_part == WORKBOOK_RELS and kind == "worksheet":
            path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            self.facts.sheet_parts[attrib.get("Id", "")] = path
        found = OutsideReference(self.rels_part, kind, target)
        if kind.casefold() in LINKING_RELATIONSHIPS:
            self.facts.linking_relationships.append(found)
            self.kept += 1
        elif attrib.get("TargetMode", "").casefold() == "external" and kind.casefold() != (
            "hyperlink"
        ):
            self.facts.outside_references.append(found)
            self.kept += 1

    def close(self) -> None:
        return None


_DOCTYPE = tuple("<!DOCTYPE".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))
_DOCTYPE_OVERLAP = max(len(marker) for marker in _DOCTYPE) - 1


class _CollectorTime(threading.local):
    """CPU seconds this thread has spent in the cyclic garbage collector."""

    spent = 0.0
    started: float | None = None


_collector = _CollectorTime()


def _timed_collection(phase: str, _info: dict[str, int]) -> None:
    # gc runs its callbacks in the thread whose allocation set the collection off
    if phase == "start":
        _collector.started = time.thread_time()
    elif _collector.started is not None:
        _collector.spent += time.thread_time() - _collector.started
        _collector.started = None


gc.callbacks.append(_timed_collection)


def work_clock() -> float:
    """The clock of the upload's time budget: this thread's CPU time (intake and reading run
    in the thread that validates the upload), less the time the garbage collector took.
    A collection walks every object of the process, not the upload's: in a long-lived
    process with a large heap one can take most of a second, and it would otherwise be
    charged to whichever upload's allocation set it off."""
    return time.thread_time() - _collector.spent


class _Clock:
    """The upload's time budget, shared by intake and the reader."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = work_clock() + seconds

    def check(self, part: str) -> None:
        if work_clock() > self.deadline:
            raise _Refused(problem("INTAKE_TOO_SLOW", part=part, limit=f"{self.seconds:g}"))


def count_elements(chunk: bytes) -> int:
    """At least the elements that start in `chunk` (comments and instructions count too).
    In UTF-16 "<" is two bytes, one of them "<": the count still holds."""
    return chunk.count(b"<") - chunk.count(b"</")


class _XmlCheck:
    """Feeds a part to a defusedxml parser, after a cheap scan for a document type and a
    count of its elements."""

    def __init__(
        self,
        part: str,
        target: _Target | None,
        budget: _ElementBudget,
        parse: bool = True,
        most: int | None = None,
    ) -> None:
        self.part = part
        self._tail = b""
        self._budget = budget
        self._most = most or budget.limits.max_part_elements
        self._elements = 0
        self._parser: DefusedXMLParser | None = None
        if parse:
            self._parser = DefusedXMLParser(
                target=target or _Discard(),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            )
            # ElementTree's default handler only resolves entities, forbidden here; without
            # it expat runs at C speed (five times faster on a large sheet).
            self._parser.parser.DefaultHandlerExpand = None

    def feed(self, chunk: bytes) -> None:
        window = self._tail + chunk
        if any(marker in window for marker in _DOCTYPE):
            raise _Refused(problem("INTAKE_XML_UNSAFE", part=self.part))
        self._tail = window[-_DOCTYPE_OVERLAP:]
        count = count_elements(chunk)
        self._elements += self._budget.spend(self.part, count, self._elements, self._most)
        if self._parser is not None:
            self._guarded(self._parser.feed, chunk)

    def close(self) -> None:
        if self._parser is not None:
            self._guarded(self._parser.close)

    def _guarded(self, step: Callable[..., object], *args: bytes) -> None:
        try:
            step(*args)
        except DefusedXmlException:
            raise _Refused(problem("INTAKE_XML_UNSAFE", part=self.part)) from None
        except ParseError as error:
            reason = str(error)
            raise _Refused(problem("INTAKE_XML_MALFORMED", part=self.part, reason=reason)) from None
        except (LookupError, ValueError) as error:  # an encoding Python lacks or expat refuses
            reason = f"unsupported encoding: {error}"
            raise _Refused(problem("INTAKE_XML_MALFORMED", part=self.part, reason=reason)) from None


class _ElementBudget:
    """Elements per part and per upload, counted before the parser sees them."""

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.spent = 0

    def spend(self, part: str, count: int, in_part: int, most: int) -> int:
        self.spent += count
        if in_part + count > most:
            limit = f"{most:,}"
            raise _Refused(problem("INTAKE_TOO_MANY_ELEMENTS", part=part, limit=limit))
        if self.spent > self.limits.max_elements:
            limit = f"{self.limits.max_elements:,}"
            raise _Refused(problem("INTAKE_TOO_MANY_ELEMENTS_IN_ALL", part=part, limit=limit))
        return count


def _is_vml(name: str, content_type: str) -> bool:
    # Legacy VML drawings are often not well-formed XML; scan them, do not parse them.
    return name.casefold().endswith(".vml") or "vml" in content_type.casefold()


def _is_xml(name: str, content_type: str) -> bool:
    """Whether a part is XML, as the package declares it: by its name or its content type,
    never by its bytes (a picture or printer settings may well start with "<")."""
    if name.casefold().endswith((".xml", ".rels")):
        return True
    kind = content_type.casefold().partition(";")[0].strip()
    return kind.endswith("+xml") or kind in ("application/xml", "text/xml")


@dataclass
class PackageFacts:
    """What `read_parts` learned; `problems` lists every part that failed its checks."""

    content_types: ContentTypes | None = None
    outside_references: list[OutsideReference] = field(default_factory=list)
    linking_relationships: list[OutsideReference] = field(default_factory=list)
    workbook_root: str | None = None
    heads: dict[str, bytes] = field(default_factory=dict)  # each part's first bytes
    problems: list[Problem] = field(default_factory=list)
    elements: int = 0  # counted in all XML parts
    sheet_titles: dict[str, str] = field(default_factory=dict)  # relationship id -> title
    sheet_parts: dict[str, str] = field(default_factory=dict)  # relationship id -> part

    def describe(self, part: str) -> str:
        """A part's name for messages: a sheet's part also says which sheet it is."""
        for rid, path in self.sheet_parts.items():
            if path == part and rid in self.sheet_titles:
                return f"{part} (sheet {self.sheet_titles[rid]})"
        return part


def read_parts(
    archive: Archive, limits: IntakeLimits, only: Collection[str] | None = None
) -> PackageFacts:
    """Inflate and check every part (or `only` those), [Content_Types].xml first: it says
    which parts are XML. Stops at the first part over the time or element budget: the rest
    would cost as much again."""
    facts = PackageFacts()
    spans = [s for s in archive.spans if only is None or s.info.filename in only]
    # Content types say which parts are XML; the workbook and its relationships name the
    # sheets, for messages about their parts.
    leading = (CONTENT_TYPES_PART, WORKBOOK_PART, WORKBOOK_RELS)
    first = sorted(
        (s for s in spans if s.info.filename in leading),
        key=lambda s: leading.index(s.info.filename),
    )
    rest = [s for s in spans if s.info.filename not in leading]
    names = archive.names
    clock = _Clock(limits.max_seconds)
    budget = _ElementBudget(limits)
    for span in first + rest:
        try:
            _read_part(archive.data, span, facts, names, (clock, budget))
        except _Refused as refused:
            facts.problems.append(refused.problem)
            if span.info.filename == CONTENT_TYPES_PART:
                facts.content_types = None  # half-read declarations would mislead the checks
            if refused.problem.code in _OVER_BUDGET:
                break
    facts.elements = budget.spent
    return facts


_OVER_BUDGET = {"INTAKE_TOO_SLOW", "INTAKE_TOO_MANY_ELEMENTS_IN_ALL"}


def _read_part(
    data: bytes,
    span: _Span,
    facts: PackageFacts,
    names: frozenset[str],
    budgets: tuple[_Clock, _ElementBudget],
) -> None:
    info = span.info
    name = info.filename
    clock, elements = budgets
    size = 0
    checksum = 0
    check: _XmlCheck | None = None
    started = False
    for chunk in _inflate(data, span):
        clock.check(name)
        size += len(chunk)
        # The hard cap: the directory's sizes were checked against the limits, so a part
        # that yields more than it declared is refused the moment it does.
        if size > info.file_size:
            raise _Refused(problem("INTAKE_SIZE_MISMATCH", part=name, detail="more data"))
        checksum = zlib.crc32(chunk, checksum)
        if not started:  # decided once per part, from its name and declared type
            started = True
            facts.heads[name] = chunk[:64]
            check = _check_for(name, chunk, facts, names, elements)
        if check is not None:
            check.feed(chunk)
    if size < info.file_size:
        raise _Refused(problem("INTAKE_SIZE_MISMATCH", part=name, detail="less data"))
    if checksum != info.CRC:
        raise _Refused(problem("INTAKE_CORRUPT", part=name, reason="checksum mismatch"))
    if size == 0:
        facts.heads[name] = b""
        check = _check_for(name, b"", facts, names, elements)
    if check is not None:
        check.close()


def _check_for(
    name: str, head: bytes, facts: PackageFacts, names: frozenset[str], budget: _ElementBudget
) -> _XmlCheck | None:
    """The check a part gets; structural parts also get a target that records their facts,
    and a tighter bound on their elements, each of which costs a call into Python."""
    structure = budget.limits.max_structure_elements
    if name.endswith("/") and not head:
        return None  # a folder entry
    if name == CONTENT_TYPES_PART:
        facts.content_types = ContentTypes(names)
        return _XmlCheck(name, facts.content_types, budget, most=structure)
    content_type = facts.content_types.of(name) if facts.content_types else ""
    if _is_vml(name, content_type):
        return _XmlCheck(name, None, budget, parse=False)
    if not _is_xml(name, content_type):
        return None
    if name.casefold().endswith(".rels"):
        return _XmlCheck(name, _OutsideReferences(name, facts), budget, most=structure)
    if name.casefold() == WORKBOOK_PART:
        return _XmlCheck(name, _WorkbookRoot(facts), budget, most=structure)
    return _XmlCheck(facts.describe(name), None, budget)
