"""A QR code (ISO/IEC 18004, Model 2) of a short text, drawn as SVG for a page: how the office
hands a phone its enrolment link (contract §9) with no outside library and nothing loaded from
elsewhere. Byte mode, error correction level M (15% of the symbol can be lost), versions 1-40,
the mask with the lowest penalty. Pure.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from itertools import groupby

# Level M, per version: (error correction codewords per block, [(blocks, data codewords each)]).
_BLOCKS_M: dict[int, tuple[int, list[tuple[int, int]]]] = {
    1: (10, [(1, 16)]), 2: (16, [(1, 28)]), 3: (26, [(1, 44)]), 4: (18, [(2, 32)]),
    5: (24, [(2, 43)]), 6: (16, [(4, 27)]), 7: (18, [(4, 31)]), 8: (22, [(2, 38), (2, 39)]),
    9: (22, [(3, 36), (2, 37)]), 10: (26, [(4, 43), (1, 44)]), 11: (30, [(1, 50), (4, 51)]),
    12: (22, [(6, 36), (2, 37)]), 13: (22, [(8, 37), (1, 38)]), 14: (24, [(4, 40), (5, 41)]),
    15: (24, [(5, 41), (5, 42)]), 16: (28, [(7, 45), (3, 46)]), 17: (28, [(10, 46), (1, 47)]),
    18: (26, [(9, 43), (4, 44)]), 19: (26, [(3, 44), (11, 45)]), 20: (26, [(3, 41), (13, 42)]),
    21: (26, [(17, 42)]), 22: (28, [(17, 46)]), 23: (28, [(4, 47), (14, 48)]),
    24: (28, [(6, 45), (14, 46)]), 25: (28, [(8, 47), (13, 48)]), 26: (28, [(19, 46), (4, 47)]),
    27: (28, [(22, 45), (3, 46)]), 28: (28, [(3, 45), (23, 46)]), 29: (28, [(21, 45), (7, 46)]),
    30: (28, [(19, 47), (10, 48)]), 31: (28, [(2, 46), (29, 47)]), 32: (28, [(10, 46), (23, 47)]),
    33: (28, [(14, 46), (21, 47)]), 34: (28, [(14, 46), (23, 47)]), 35: (28, [(12, 47), (26, 48)]),
    36: (28, [(6, 47), (34, 48)]), 37: (28, [(29, 46), (14, 47)]), 38: (28, [(13, 46), (32, 47)]),
    39: (28, [(40, 47), (7, 48)]), 40: (28, [(18, 47), (31, 48)]),
}  # fmt: skip
_LEVEL_M = 0b00  # the two bits level M is written as in the format information
_BYTE_MODE = 0b0100
_QUIET = 4  # light modules around the symbol, as the standard asks
# 1:1:3:1:1 with four light modules on either side, looked for with overlaps allowed.
_FINDER_LIKE = re.compile(r"(?=10111010000|00001011101)")


class TooLong(ValueError):
    """More text than the largest QR code holds at level M."""


# Reed-Solomon over GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1.

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


def _times(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator(degree: int) -> list[int]:
    """The product of (x - a^i) for i below `degree`, highest power first."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coefficient in enumerate(poly):
            nxt[j] ^= coefficient
            nxt[j + 1] ^= _times(coefficient, _EXP[i])
        poly = nxt
    return poly


def error_codewords(data: list[int], degree: int) -> list[int]:
    """The remainder of data(x) * x^degree divided by the generator."""
    generator = _generator(degree)
    remainder = [*data, *([0] * degree)]
    for index in range(len(data)):
        factor = remainder[index]
        if factor:
            for j, coefficient in enumerate(generator):
                remainder[index + j] ^= _times(coefficient, factor)
    return remainder[len(data) :]


# The symbol's layout.


def size_of(version: int) -> int:
    return 17 + 4 * version


def alignment_centres(version: int) -> list[int]:
    """Rows (and columns) of the alignment patterns' centres: 6, then evenly spaced (an even
    step) back from the far edge."""
    if version == 1:
        return []
    count = version // 7 + 2
    last = 4 * version + 10
    step = 26 if version == 32 else (4 * version + 2 * count + 1) // (2 * count - 2) * 2
    return [6, *sorted(last - step * i for i in range(count - 1))]


def _bch(value: int, generator: int, degree: int) -> int:
    """`value` followed by its BCH check bits."""
    remainder = value << degree
    top = generator.bit_length() - 1
    while remainder.bit_length() > top:
        remainder ^= generator << (remainder.bit_length() - 1 - top)
    return (value << degree) | remainder


def format_bits(mask: int) -> int:
    return _bch((_LEVEL_M << 3) | mask, 0b10100110111, 10) ^ 0b101010000010010


def version_bits(version: int) -> int:
    return _bch(version, 0b1111100100101, 12)


class _Grid:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = size_of(version)
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.fixed = [[False] * self.size for _ in range(self.size)]  # function patterns: no data here

    def set(self, row: int, col: int, dark: bool) -> None:
        self.dark[row][col] = dark
        self.fixed[row][col] = True

    def draw_patterns(self) -> None:
        n = self.size
        for i in range(n):  # timing patterns
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for row, col in ((0, 0), (0, n - 7), (n - 7, 0)):  # finders, with their light separators
            for dr in range(-1, 8):
                for dc in range(-1, 8):
                    r, c = row + dr, col + dc
                    if 0 <= r < n and 0 <= c < n:
                        ring = max(abs(dr - 3), abs(dc - 3))
                        self.set(r, c, ring in (0, 1, 3))
        centres = alignment_centres(self.version)
        corners = {(centres[0], centres[-1]), (centres[-1], centres[0]), (centres[0], centres[0])} if centres else set()
        for r in centres:
            for c in centres:
                if (r, c) in corners:
                    continue  # where a finder is
                for dr in range(-2, 3):
                    for dc in range(-2, 3):
                        self.set(r + dr, c + dc, max(abs(dr), abs(dc)) != 1)
        _format_top_left(self, format_bits(0))  # reserves their modules; drawn again once the mask is chosen
        _format_split(self, format_bits(0))
        if self.version >= 7:
            bits = version_bits(self.version)
            for i in range(18):
                dark = bool(bits >> i & 1)
                a, b = n - 11 + i % 3, i // 3
                self.set(a, b, dark)
                self.set(b, a, dark)

    def data_positions(self) -> Iterator[tuple[int, int]]:
        """Where data bits go: two-module columns from the right, up then down, skipping the
        vertical timing pattern."""
        n = self.size
        right = n - 1
        upward = True
        while right > 0:
            if right == 6:
                right = 5
            rows = range(n - 1, -1, -1) if upward else range(n)
            for row in rows:
                for col in (right, right - 1):
                    if not self.fixed[row][col]:
                        yield row, col
            upward = not upward
            right -= 2


def _format_top_left(grid: _Grid, bits: int) -> None:
    """The copy of the format information beside the top-left finder: bits 0-5 down column 8,
    then 6 and 7 around the timing pattern, then 8-14 leftwards along row 8."""
    for i in range(15):
        dark = bool(bits >> i & 1)
        if i < 6:
            grid.set(i, 8, dark)
        elif i == 6:
            grid.set(7, 8, dark)
        elif i == 7:
            grid.set(8, 8, dark)
        elif i == 8:
            grid.set(8, 7, dark)
        else:
            grid.set(8, 14 - i, dark)


def _format_split(grid: _Grid, bits: int) -> None:
    """The second copy: bits 0-7 leftwards from the right edge along row 8, bits 8-14 up from
    the bottom of column 8 (beside the dark module)."""
    n = grid.size
    for i in range(15):
        dark = bool(bits >> i & 1)
        if i < 8:
            grid.set(8, n - 1 - i, dark)
        else:
            grid.set(n - 15 + i, 8, dark)
    grid.set(n - 8, 8, True)


_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: r * c % 2 + r * c % 3 == 0,
    lambda r, c: (r * c % 2 + r * c % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + r * c % 3) % 2 == 0,
)


def penalty(dark: list[list[bool]]) -> int:
    """The standard's four penalties: runs of five or more, 2x2 blocks, finder-like patterns,
    and the balance of dark and light."""
    n = len(dark)
    rows = ["".join("1" if d else "0" for d in row) for row in dark]
    lines = [*rows, *("".join(column) for column in zip(*rows, strict=True))]
    score = 0
    for line in lines:
        for _, run in groupby(line):
            length = sum(1 for _ in run)
            if length >= 5:
                score += length - 2
        score += 40 * len(_FINDER_LIKE.findall(line))
    for upper, lower in itertools.pairwise(rows):
        for c in range(n - 1):
            if upper[c] == upper[c + 1] == lower[c] == lower[c + 1]:
                score += 3
    darks = sum(row.count("1") for row in rows)
    score += abs(darks * 20 - n * n * 10) // (n * n) * 10
    return score


def _capacity(version: int) -> int:
    return sum(count * words for count, words in _BLOCKS_M[version][1])


def _codewords(data: bytes, version: int) -> list[int]:
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend(value >> i & 1 for i in range(length - 1, -1, -1))

    put(_BYTE_MODE, 4)
    put(len(data), 8 if version < 10 else 16)
    for byte in data:
        put(byte, 8)
    room = _capacity(version) * 8
    put(0, min(4, room - len(bits)))
    put(0, -len(bits) % 8)
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    words += [pad[i % 2] for i in range(_capacity(version) - len(words))]
    degree, groups = _BLOCKS_M[version]
    blocks: list[list[int]] = []
    at = 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(words[at : at + size])
            at += size
    checks = [error_codewords(block, degree) for block in blocks]
    out: list[int] = []
    for i in range(max(len(b) for b in blocks)):
        out += [b[i] for b in blocks if i < len(b)]
    for i in range(degree):
        out += [c[i] for c in checks]
    return out


def version_for(data: bytes) -> int:
    for version in _BLOCKS_M:
        header = 4 + (8 if version < 10 else 16)
        if header + 8 * len(data) <= _capacity(version) * 8:
            return version
    raise TooLong(f"{len(data)} bytes do not fit in a QR code at level M")


def matrix(text: str) -> list[list[bool]]:
    """The modules of the QR code of `text` (UTF-8), dark as True, without the quiet zone."""
    data = text.encode()
    version = version_for(data)
    grid = _Grid(version)
    grid.draw_patterns()
    words = _codewords(data, version)
    stream = [w >> i & 1 for w in words for i in range(7, -1, -1)]
    positions = list(grid.data_positions())
    stream += [0] * (len(positions) - len(stream))  # the remainder bits
    best: list[list[bool]] | None = None
    best_score = 0
    for mask, flips in enumerate(_MASKS):
        dark = [row[:] for row in grid.dark]
        for (row, col), bit in zip(positions, stream, strict=True):
            dark[row][col] = bool(bit) != flips(row, col)
        trial = _Grid(version)
        trial.dark, trial.fixed = dark, [row[:] for row in grid.fixed]
        _format_top_left(trial, format_bits(mask))
        _format_split(trial, format_bits(mask))
        score = penalty(trial.dark)
        if best is None or score < best_score:
            best, best_score = trial.dark, score
    assert best is not None
    return best


def svg(text: str, label: str) -> str:
    """The QR code as an SVG element: one path of dark runs on a light square, scaled by CSS.
    `label` is what a screen reader says for it."""
    modules = matrix(text)
    side = len(modules) + 2 * _QUIET
    runs: list[str] = []
    for r, row in enumerate(modules):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append(f"M{start + _QUIET} {r + _QUIET}h{c - start}v1h-{c - start}z")
            else:
                c += 1
    escaped = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return (
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" role="img"'
        f' aria-label="{escaped}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>'
    )
