"""The enrolment QR code is read back by an independent decoder (zxing-cpp) at every version,
so a wrong table, mask or placement cannot pass."""

from __future__ import annotations

import re

import pytest
import zxingcpp

from server.dispatch import qr


def read(modules: list[list[bool]], scale: int = 3, quiet: int = 4) -> list[str]:
    """What a phone's camera would read from the modules drawn black on white."""
    side = (len(modules) + 2 * quiet) * scale
    pixels = bytearray([255]) * (side * side)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = ((r + quiet) * scale + dy) * side + (c + quiet) * scale
                    pixels[start : start + scale] = b"\0" * scale
    image = memoryview(bytes(pixels)).cast("B", (side, side))
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def fullest(version: int) -> str:
    """The longest text that still fits `version`."""
    header = 4 + (8 if version < 10 else 16)
    for length in range(4000, 0, -1):
        if header + 8 * length <= qr._capacity(version) * 8:
            return "a" * length
    raise AssertionError(version)


@pytest.mark.parametrize("version", range(1, 41))
def test_every_version_reads_back(version: int) -> None:
    text = fullest(version)
    assert qr.version_for(text.encode()) == version
    modules = qr.matrix(text)
    assert len(modules) == qr.size_of(version)
    assert read(modules) == [text]


def test_the_table_fills_each_symbol_exactly() -> None:
    """Data and check codewords of every version fill its data modules (less the remainder bits)."""
    for version in range(1, 41):
        grid = qr._Grid(version)
        grid.draw_patterns()
        modules = len(list(grid.data_positions()))
        degree, groups = qr._BLOCKS_M[version]
        words = sum(count * (size + degree) for count, size in groups)
        assert words == modules // 8, version


def test_an_enrolment_link_reads_back() -> None:
    link = "https://flint.example.com/tech#token=fdt_" + "Zq3-_x" * 7 + "a"
    assert read(qr.matrix(link)) == [link]
    assert read(qr.matrix("Ünïcödé ✓")) == ["Ünïcödé ✓"]


def test_the_svg_draws_the_same_modules() -> None:
    text = "http://127.0.0.1:8000/tech#token=fdt_abc"
    modules = qr.matrix(text)
    drawn = qr.svg(text, 'Enrolment code for "Sam" <phone>')
    side = len(modules) + 8
    assert f'viewBox="0 0 {side} {side}"' in drawn
    assert 'aria-label="Enrolment code for &quot;Sam&quot; &lt;phone&gt;"' in drawn
    redrawn = [[False] * len(modules) for _ in modules]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", drawn):
        for dx in range(int(width)):
            redrawn[int(y) - 4][int(x) - 4 + dx] = True
    assert redrawn == modules


def test_too_long_is_refused() -> None:
    with pytest.raises(qr.TooLong):
        qr.matrix("a" * 3000)
