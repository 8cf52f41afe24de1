"""Backup files encrypted at rest: AES-256-GCM under AIP_BACKUP_KEY (threat 10 of
docs/threat-model.md: a stolen backup folder).

An encrypted file is `nonce || ciphertext || tag`: a fresh random 12-byte nonce per file
(never reused under one key: 2**-96 per pair of files), then the GCM ciphertext with its
16-byte tag. The associated data is the file's path inside the backup ("tables/plan.jsonl",
"objects/<key>"), so a file moved to another path, or changed by one bit, does not decrypt.
Each file is encrypted in one call: objects are at most 10 MB, a table file is held in
memory whole while it is encrypted or decrypted (tens of MB for a state).

The manifest names the cipher and a key check (an HMAC of a constant under the key, which
tells nothing of the key), so a backup made with another key is refused as that, not as
damage. The key itself is never written, logged or shown.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from aip_forms.errors import Corrupt

ENCRYPTION = "AES-256-GCM"
NONCE_BYTES = 12
TAG_BYTES = 16


@dataclass(frozen=True)
class FileCipher:
    """Encrypts and decrypts the files of one backup with one 32-byte key."""

    key: bytes = field(repr=False)

    @property
    def key_check(self) -> str:
        return hmac.new(self.key, b"aip-backup-key-check", "sha256").hexdigest()[:32]

    def encrypt(self, name: str, data: bytes) -> bytes:
        """`data`, to be stored at `name` inside the backup."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(nonce, data, name.encode())

    def decrypt(self, name: str, sealed: bytes, where: Path) -> bytes:
        """The plaintext of the file read from `name` (at `where` on disk); Corrupt when it
        was changed, cut short, or written for another path."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise Corrupt(f"{where}: too short to be an encrypted backup file")
        try:
            return AESGCM(self.key).decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], name.encode()
            )
        except InvalidTag:
            raise Corrupt(
                f"{where}: does not decrypt ({ENCRYPTION}): the file was changed, or moved "
                f"from another place in the backup (it should be {name})"
            ) from None
