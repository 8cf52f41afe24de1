"""A minimal ZIP writer for .xlsx packages whose unchanged parts are compressed once.

`zipfile` recompresses every member on every write; a statewide run writes the same
styles, theme and static sheets a thousand times, so `deflate` compresses them once and
`package` only stitches headers around the bytes. Plain ZIP (no ZIP64: parts and
packages stay far below 4 GB), deflate, fixed timestamp.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

LEVEL = 6
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_DEFLATE = 8
_VERSION = 20


@dataclass(frozen=True)
class Member:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream


def deflate(name: str, content: bytes | str, level: int = LEVEL) -> Member:
    raw = content.encode() if isinstance(content, str) else content
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = compressor.compress(raw) + compressor.flush()
    return Member(name.encode(), zlib.crc32(raw), len(raw), data)


def package(members: Iterable[Member]) -> bytes:
    """The ZIP archive of `members`, in order."""
    body = bytearray()
    directory = bytearray()
    count = 0
    for m in members:
        offset = len(body)
        common = (_DEFLATE, _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(m.name))
        body += struct.pack("<IHH" + "HHHIIIH" + "H", 0x04034B50, _VERSION, 0, *common, 0)
        body += m.name
        body += m.data
        directory += struct.pack(
            "<IHHH" + "HHHIIIH" + "HHHHII",
            0x02014B50,
            _VERSION,
            _VERSION,
            0,
            *common,
            0,  # extra field length
            0,  # comment length
            0,  # disk number
            0,  # internal attributes
            0,  # external attributes
            offset,
        )
        directory += m.name
        count += 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    return bytes(body + directory + end)
