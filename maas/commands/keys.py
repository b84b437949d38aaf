"""``maas keys create --scope S... [--name N]`` / ``maas keys revoke ID`` / ``maas keys list``.

The catalog is the one the server uses (``MAAS_DATA_DIR`` / ``MAAS_DATABASE_URL``). The token is
printed once, on stdout alone (so ``KEY=$(maas keys create ...)`` works); it is not stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

keys_app = typer.Typer(help="API keys: create (the secret is printed once), revoke, list.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)  # paths in messages stay whole

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data dir (default: MAAS_DATA_DIR).")]


def open_catalog(data_dir: Path | None) -> object:
    from maas.catalog import CatalogError, Database
    from maas.settings import Settings

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    try:
        return Database.open(settings.data_dir, settings.database_url)
    except CatalogError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(2) from None


@keys_app.command("create")
def create(
    scope: Annotated[list[str], typer.Option("--scope", help="admin, feeds:write:FEED_ID or widget:ORIGIN (repeatable).")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    rate_per_s: Annotated[float | None, typer.Option(help="Requests a second (default MAAS_KEY_RATE_PER_S).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key; prints its token once (stdout) and its id (stderr)."""
    from maas.catalog import Database
    from maas.identity.keys import create_key
    from maas.identity.scopes import ScopeError

    db = open_catalog(data_dir)
    assert isinstance(db, Database)
    try:
        principal, token = create_key(db, scope, name=name, rate_per_s=rate_per_s, actor="cli")
    except ScopeError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    err.print(f"key [bold]{principal.key_id}[/] ({', '.join(principal.scopes)}); the secret is shown only now:")
    print(token)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (kXXXXXXXXXX).")], data_dir: DataDir = None) -> None:
    """Revoke a key: it stops working within seconds on every worker."""
    from maas.catalog import Database, NotFound
    from maas.identity.keys import revoke_key

    db = open_catalog(data_dir)
    assert isinstance(db, Database)
    try:
        revoke_key(db, key_id, actor="cli")
    except NotFound as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    err.print(f"key {key_id} revoked")


@keys_app.command("list")
def list_(data_dir: DataDir = None) -> None:
    """Keys with their scopes (never the secrets)."""
    from maas.catalog import Database
    from maas.identity.keys import list_keys

    db = open_catalog(data_dir)
    assert isinstance(db, Database)
    try:
        keys = list_keys(db)
    finally:
        db.dispose()
    table = Table("id", "name", "scopes", "created", "revoked")
    for k in keys:
        table.add_row(k.id, k.name, " ".join(k.scopes), k.created_at.isoformat(timespec="seconds"),
                      k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")
    Console().print(table)
