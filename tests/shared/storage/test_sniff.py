"""Types come from the bytes, not from the name."""

from __future__ import annotations

import pytest

from shared.storage.sniff import allowed, sniff
from tests.support.samples import SAMPLES, image_bytes


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_accepted_model_format_is_recognised(name: str) -> None:
    expected = name.removesuffix("_ascii")
    assert sniff(SAMPLES[name]) == expected
    assert allowed("model_archive", sniff(SAMPLES[name]))


@pytest.mark.parametrize(("fmt", "kind"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_images_are_recognised(fmt: str, kind: str) -> None:
    assert sniff(image_bytes(fmt, (10, 10))) == kind
    assert allowed("image", kind) and not allowed("model_archive", kind)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"MZ\x90\x00 an exe",
        b"%PDF-1.7",
        b"<html><body>v 1 2 3</body></html>",
        b"hello world\nthis is text\n",
        b"#!/bin/sh\nrm -rf /\n",
        b"MM not a 3ds file at all",
        b'{"name": "package.json"}',
        b"\x1f\x8b\x08\x00 gzip",
    ],
)
def test_other_bytes_are_not_accepted(data: bytes) -> None:
    assert not allowed("model_archive", sniff(data))
    assert not allowed("image", sniff(data))


def test_obj_cut_mid_line_at_the_sniff_window_still_counts() -> None:
    body = b"v 0.123456 0.654321 0.111111\n" * 200
    assert sniff(body[:4096]) == "obj"
