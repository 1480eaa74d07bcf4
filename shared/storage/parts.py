"""Multipart arithmetic shared by both backends and the uploads route.

R2 rejects a multipart upload whose parts differ in size (except the last), S3 and R2 need every part but
the last to be at least 5 MiB, and both stop at 10,000 parts. The local backend applies the same rules so
a client that works against it also works against R2.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.storage.errors import InvalidMultipart

MIB = 1024 * 1024
S3_MIN_PART = 5 * MIB
PREFERRED_MIN_PART = 8 * MIB
MAX_PART = 5 * 1024 * MIB
MAX_PARTS = 10_000


def part_size_for(total: int) -> int:
    """The smallest part size ≥ 8 MiB (hence ≥ the 5 MiB minimum) that fits `total` in ≤ 10,000 parts."""
    if total < 0:
        raise ValueError("size must be >= 0")
    needed = -(-total // MAX_PARTS)  # ceil
    size = max(PREFERRED_MIN_PART, needed)
    if size > MAX_PART:
        raise ValueError(f"{total} bytes cannot be uploaded in {MAX_PARTS} parts of at most 5 GiB")
    return size


def part_count(total: int, part_size: int) -> int:
    return max(1, -(-total // part_size))


def part_ranges(total: int, part_size: int) -> list[tuple[int, int, int]]:
    """(part_number, offset, length) for each part: equal sizes except the last."""
    return [(n + 1, n * part_size, min(part_size, total - n * part_size)) for n in range(part_count(total, part_size))]


def check_part_sizes(sizes: Sequence[int]) -> None:
    """Raise `InvalidMultipart` unless the parts follow the R2 rules (equal but the last, ≥ 5 MiB)."""
    if not sizes:
        raise InvalidMultipart("a multipart upload needs at least one part", field="parts")
    if len(sizes) > MAX_PARTS:
        raise InvalidMultipart(f"at most {MAX_PARTS} parts", field="parts")
    head, last = sizes[:-1], sizes[-1]
    if head:
        first = head[0]
        if first < S3_MIN_PART:
            raise InvalidMultipart("every part but the last must be at least 5 MiB", field="parts")
        if any(size != first for size in head) or last > first:
            raise InvalidMultipart("parts must all be the same size except the last", field="parts")


def check_part_list(part_numbers: Sequence[int]) -> None:
    """Part numbers must be 1..N, ascending, without gaps (what R2 and S3 accept on completion)."""
    if list(part_numbers) != list(range(1, len(part_numbers) + 1)):
        raise InvalidMultipart("parts must be numbered 1..N in ascending order without gaps", field="parts")
