"""Benchmark: `aip backup create`, `restore` and `verify` on the statewide synthetic data
set (149 LEAs, 835 schools, ~110,000 rows) and 300 stored objects of 60 KB, SQLite and the
local store, against a raw copy of the same (SQLite's online backup API for the database
file, plus copying the object folder) in the same run.

Run with `python -m bench.bench_backup` from the repository root. The ratio says what the
portable, checked, signed backup costs over copying files. Prints a table and one JSON line.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from bench.common import median_seconds, print_report

RUNS = 3
OBJECTS, OBJECT_SIZE = 300, 60_000


def build(home: Path) -> None:
    """The synthetic sample loaded, and objects in the store (random bytes: synthetic)."""
    from aip_forms.bootstrap import App
    from aip_forms.data.load import load_paths
    from aip_forms.data.sample import write_sample
    from aip_forms.storage.base import sha256_hex

    sample = home.parent / "sample"
    write_sample(sample)
    with App.from_env(env(home)) as core:
        report = load_paths(core.engine, core.config, [sample])
        assert not report.problems, report.problems[:3]
        for n in range(OBJECTS):
            data = os.urandom(OBJECT_SIZE)
            core.store.put(f"bench/synthetic-{n:04d}.bin", data, sha256=sha256_hex(data))


def env(home: Path) -> dict[str, str]:
    return {"AIP_HOME": str(home), "AIP_SECRET_KEY": "bench-backup-key-0123456789abcdef"}


def main() -> None:
    from aip_forms.bootstrap import App
    from aip_forms.services.backup import create_backup, restore_backup, verify_backup

    root = Path(tempfile.mkdtemp(prefix="aip-bench-backup-"))
    try:
        source = root / "source"
        source.mkdir()
        build(source)
        core = App.from_env(env(source))
        key, counter = core.settings.secret_key, iter(range(1000))

        def ours() -> None:
            out = root / f"backup-{next(counter)}"
            create_backup(out, engine=core.engine, store=core.store, secret_key=key,
                          now=dt.datetime.now(dt.UTC))  # fmt: skip

        def raw() -> None:
            out = root / f"raw-{next(counter)}"
            out.mkdir()
            with sqlite3.connect(source / "aip.db") as src, sqlite3.connect(out / "aip.db") as dst:
                src.backup(dst)
            shutil.copytree(source / "objects", out / "objects")

        create = median_seconds(ours, RUNS)
        copy = median_seconds(raw, RUNS)
        backup = root / "backup-0"
        size = sum(p.stat().st_size for p in backup.rglob("*") if p.is_file())

        def restore() -> None:
            target = root / f"target-{next(counter)}"
            target.mkdir()
            with App.from_env(env(target)) as fresh:
                restore_backup(backup, engine=fresh.engine, store=fresh.store, secret_key=key)

        def raw_restore() -> None:
            target = root / f"rawtarget-{next(counter)}"
            shutil.copytree(root / "raw-4", target)

        restored = median_seconds(restore, RUNS, warm_up=False)
        copied_back = median_seconds(raw_restore, RUNS, warm_up=False)
        verified = median_seconds(
            lambda: verify_backup(backup, engine=core.engine, store=core.store, secret_key=key),
            RUNS,
            warm_up=False,
        )
        core.close()
        rows = [
            ("backup create", f"{create:.2f} s (raw copy {copy:.2f} s, ratio {create / copy:.1f})"),
            (
                "backup restore",
                f"{restored:.2f} s (raw copy back {copied_back:.2f} s, "
                f"ratio {restored / copied_back:.1f})",
            ),
            ("backup verify", f"{verified:.2f} s"),
            ("backup size", f"{size / 1e6:.1f} MB"),
        ]
        print_report(rows, {"create_s": create, "raw_copy_s": copy, "restore_s": restored,
                            "raw_restore_s": copied_back, "verify_s": verified,
                            "backup_bytes": size})  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
