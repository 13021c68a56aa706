"""The streaming stages between a database dump and stored bytes, and back.

create:  dump bytes -> zstd -> AES-GCM frames -> SHA-256 + storage (pulled through `GeneratorReader`)
read:    storage -> SHA-256 + AES-GCM open -> zstd -> a local file the tools can read

Each stage handles one chunk at a time, so memory stays flat whatever the database's size.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator

import zstandard

from backups.conf import compression_level

Progress = Callable[[str, int], None]


def compress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zstandard.ZstdCompressor(level=compression_level()).compressobj()
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def decompress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """zstd frames back to the dump; a stream that ends mid-frame is an error, not a short file."""
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    for chunk in chunks:
        out = decompressor.decompress(chunk)
        if out:
            yield out
    if not decompressor.eof:
        raise zstandard.ZstdError("compressed stream ended early")


class Counted:
    """Passes chunks through, counting bytes and hashing them (the stored object's SHA-256)."""

    def __init__(self, chunks: Iterable[bytes], *, progress: Progress | None = None, stage: str = "") -> None:
        self._chunks = chunks
        self.size = 0
        self.sha256 = hashlib.sha256()
        self._progress = progress
        self._stage = stage

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            self.sha256.update(chunk)
            if self._progress is not None:
                self._progress(self._stage, self.size)
            yield chunk


class GeneratorReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterator of bytes, for `Storage.save` to pull from.

    Storages read from a file; making the pipeline a file lets them stream it (S3 multipart uploads,
    local writes in chunks) without the whole object ever being held or spooled.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._view:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            self._view = memoryview(self._pending)
        size = min(len(buffer), len(self._view))
        buffer[:size] = self._view[:size]
        self._view = self._view[size:]
        return size


def file_chunks(handle, size: int) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk
