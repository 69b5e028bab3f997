"""Debian's chromium, headless, for the status page's tests: the DOM after the page loaded, and a
screenshot whose pixels are read back (a minimal PNG reader: a blank page cannot pass)."""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/bootstrap.sh")
    return found


def _argv(profile: Path) -> list[str]:
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1200,900"]


def dump_dom(url: str, profile: Path) -> str:
    done = subprocess.run([*_argv(profile), "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, out: Path, profile: Path) -> Path:
    done = subprocess.run([*_argv(profile), f"--screenshot={out}", url], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0 and out.is_file(), done.stderr[-2000:]
    return out


def pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit, non-interlaced PNG (what chromium writes),
    decoded once per file (decoding in Python takes seconds)."""
    return _decoded(str(png), png.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _decoded(path: str, mtime_ns: int) -> tuple[int, int, list[bytes]]:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    bpp = 4 if colour == 6 else 3
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r) if bpp == 3 else bytes(b for i, b in enumerate(r) if i % 4 != 3) for r in rows]


def dark_pixels(png: Path, region: tuple[int, int, int, int] | None = None) -> int:
    """Pixels darker than mid-grey (text) in `region` (x0, y0, x1, y1), else the whole image."""
    width, height, rows = pixels(png)
    x0, y0, x1, y1 = region or (0, 0, width, height)
    count = 0
    for row in rows[y0:y1]:
        for x in range(x0, min(x1, width)):
            r, g, b = row[3 * x:3 * x + 3]
            if r + g + b < 3 * 110:
                count += 1
    return count



def pixels_of(png: Path, colour: tuple[int, int, int]) -> int:
    """Pixels of exactly `colour` in the image: a style's background or border (chromium paints a
    CSS colour as it is), which only a page rendered with its stylesheet has."""
    pattern = bytes(colour)
    return sum(row.count(pattern) for row in _decoded(str(png), png.stat().st_mtime_ns)[2])
