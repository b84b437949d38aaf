"""``maas backup --to DIR`` and ``maas restore --from DIR`` (see :mod:`maas.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)  # paths in messages stay whole


def _settings(data_dir: Path | None) -> object:
    from maas.settings import Settings

    return Settings() if data_dir is None else Settings(data_dir=data_dir)


def backup_cmd(
    to: Annotated[Path, typer.Option("--to", help="New (or empty) directory to write the backup into.")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Default: MAAS_DATA_DIR.")] = None,
) -> None:
    """Back up artifacts, uploaded feeds and the catalog, with a sha256 of every file."""
    from maas.backup import backup
    from maas.catalog import Database, OperatorError
    from maas.settings import Settings

    settings = _settings(data_dir)
    assert isinstance(settings, Settings)
    try:
        db = Database.open(settings.data_dir, settings.database_url)
        try:
            summary = backup(db, to)
        finally:
            db.dispose()
    except OperatorError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(1) from None
    err.print(f"backup of graph {summary.graph_version} in {summary.path}: {summary.files} files, "
              f"{summary.bytes / 1e6:,.1f} MB, catalog as {summary.database}")


def restore_cmd(
    frm: Annotated[Path, typer.Option("--from", help="A directory written by `maas backup`.")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Empty data dir (default: MAAS_DATA_DIR).")] = None,
) -> None:
    """Verify a backup (every checksum) and restore it into an empty data dir / catalog."""
    from maas.backup import restore
    from maas.catalog import OperatorError
    from maas.settings import Settings

    settings = _settings(data_dir)
    assert isinstance(settings, Settings)
    try:
        summary = restore(frm, settings.data_dir, settings.database_url)
    except OperatorError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(1) from None
    err.print(f"restored graph {summary.graph_version} ({summary.files} files verified) into {settings.data_dir}")
