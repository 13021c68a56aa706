"""Streamed authenticated encryption of backups (AES-256-GCM in chunks, the STREAM construction).

A whole database never sits in memory: plaintext is cut into `chunk_bytes()` pieces and each is sealed on
its own. What makes the stream safe, not just each piece:

- a header, `CVBK`, the format version, the key id (first 8 hex digits of the key's SHA-256, so a wrong
  key is named, not guessed at) and a random 7-byte nonce prefix; the header is associated data of every
  chunk, so it cannot be edited;
- the nonce of chunk i is prefix || i (4 bytes) || last-flag (1 byte): chunks cannot be reordered,
  dropped or repeated, and the final chunk is marked, so a truncated object never decrypts as complete.

Frames are `chunk_bytes() + 16` bytes (the GCM tag) except the last, so the reader needs no lengths.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backups.conf import key_id_of
from backups.errors import BackupCorrupt, WrongBackupKey

MAGIC = b"CVBK"
VERSION = 1
TAG_BYTES = 16
# magic, version, key id (8 ascii hex), nonce prefix (7), plaintext chunk size (4)
HEADER = struct.Struct(">4sB8s7sI")
MAX_CHUNKS = 2**32


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def encrypt_stream(chunks: Iterable[bytes], *, key: bytes, chunk_size: int) -> Iterator[bytes]:
    """Header, then one sealed frame per `chunk_size` of plaintext; the last frame is flagged."""
    aead = AESGCM(key)
    prefix = os.urandom(7)
    header = HEADER.pack(MAGIC, VERSION, key_id_of(key).encode(), prefix, chunk_size)
    yield header
    buffer = bytearray()
    index = 0
    for piece in chunks:
        buffer += piece
        # Keep at least one byte back: only the stream's end knows which chunk is the last.
        while len(buffer) > chunk_size:
            yield aead.encrypt(_nonce(prefix, index, False), bytes(buffer[:chunk_size]), header)
            del buffer[:chunk_size]
            index += 1
            if index >= MAX_CHUNKS:
                raise ValueError("backup too large for one stream")
    yield aead.encrypt(_nonce(prefix, index, True), bytes(buffer), header)


def read_header(header: bytes, *, key: bytes) -> tuple[bytes, int]:
    if len(header) < HEADER.size:
        raise BackupCorrupt("The backup is truncated: its header is incomplete.")
    magic, version, key_id, prefix, chunk_size = HEADER.unpack(header[: HEADER.size])
    if magic != MAGIC:
        raise BackupCorrupt("This is not a CryptoVault backup (its header is wrong).")
    if version != VERSION:
        raise BackupCorrupt(f"Backup format version {version} is not one this version reads ({VERSION}).")
    if key_id.decode(errors="replace") != key_id_of(key):
        raise WrongBackupKey(
            f"This backup was encrypted with key {key_id.decode(errors='replace')}, but BACKUP_ENCRYPTION_KEY "
            f"is key {key_id_of(key)}: set the key it was made with."
        )
    if not 0 < chunk_size <= 64 * 1024 * 1024:
        raise BackupCorrupt("The backup's header names an impossible chunk size.")
    return prefix, chunk_size


def decrypt_stream(read, *, key: bytes) -> Iterator[bytes]:
    """Plaintext chunks from a `read(n)` callable; raises BackupCorrupt/WrongBackupKey on any doubt.

    The caller must consume the whole iterator before trusting anything: the last check (a final
    chunk was seen) happens at the end.
    """
    header = _read_exactly(read, HEADER.size)
    prefix, chunk_size = read_header(header, key=key)
    aead = AESGCM(key)
    frame_size = chunk_size + TAG_BYTES
    index = 0
    frame = _read_exactly(read, frame_size)
    while True:
        if len(frame) < TAG_BYTES:
            raise BackupCorrupt("The backup is truncated: its last chunk is missing.")
        following = _read_exactly(read, frame_size) if len(frame) == frame_size else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(prefix, index, last), frame, header)
        except InvalidTag:
            if last:
                raise BackupCorrupt(
                    "The backup is truncated or altered: its final chunk does not authenticate."
                ) from None
            raise BackupCorrupt(f"The backup was altered: chunk {index} does not authenticate.") from None
        yield plain
        if last:
            return
        frame = following
        index += 1


def _read_exactly(read, size: int) -> bytes:
    parts = []
    remaining = size
    while remaining:
        part = read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)
