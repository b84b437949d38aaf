"""``maas``: the command line (DESIGN.md section 4)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from maas.commands import analysis as analysis_cmd
from maas.commands import backup as backup_cmd
from maas.commands import keys as keys_cmd

app = typer.Typer(
    name="maas",
    help="Open MaaS trip planner: build graphs from GTFS/OSM/GBFS/GOFS, plan trips, serve the API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
export_app = typer.Typer(help="Export parts of a graph artifact.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(keys_cmd.keys_app, name="keys")
app.command("backup")(backup_cmd.backup_cmd)
app.command("restore")(backup_cmd.restore_cmd)
app.command("matrix")(analysis_cmd.matrix)
app.command("isochrone")(analysis_cmd.isochrone)
app.command("accessibility")(analysis_cmd.accessibility)

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def _progress(title: str) -> Iterator[Any]:
    """A spinner line per step of a long job, on stderr so stdout stays clean."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=False
    ) as progress:
        task = progress.add_task(title, total=None)

        def say(message: str) -> None:
            progress.update(task, description=f"{title}: {message}")

        yield say
        progress.update(task, description=f"{title}: done")


# -- synth / validate / build ----------------------------------------------------------------


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the city into.")],
    stops: Annotated[int, typer.Option(help="Number of transit stops.")] = 200,
    routes: Annotated[int | None, typer.Option(help="Number of routes (default ~stops/25).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 1,
) -> None:
    """Generate a synthetic city: GTFS + OSM + GBFS + GOFS, any size, deterministic per seed."""
    from feeds.synth import synth_city

    with _progress("synth") as say:
        city = synth_city(out_dir, stops=stops, routes=routes, seed=seed, progress=say)
    out.print(f"GTFS  {city.gtfs}\nOSM   {city.osm}\nGBFS  {city.gbfs}\nGOFS  {city.gofs}")


@app.command()
def validate(
    feeds: Annotated[list[str], typer.Argument(help="GTFS feeds: PATH or ID=PATH (zip or directory).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
    today: Annotated[str | None, typer.Option(help="Date to judge calendars against (YYYY-MM-DD).")] = None,
) -> None:
    """Quality report per feed; exit code 1 when any feed has errors."""
    from feeds.errors import FeedError
    from feeds.sources import parse_feed_arg
    from feeds.validate import validate_gtfs

    day = dt.date.fromisoformat(today) if today else None
    reports = []
    for arg in feeds:
        fid, path = parse_feed_arg(arg)
        try:
            reports.append(validate_gtfs(path, fid, today=day))
        except FeedError as e:
            raise _fail(str(e)) from None
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False) + "\n")
    else:
        for r in reports:
            out.print(f"[bold]{r.feed_id}[/] ({r.path}): grade [bold]{r.grade}[/], "
                      f"{r.errors} errors, {r.warnings} warnings, {r.infos} infos")
            out.print(r.render_table())
    if any(r.errors for r in reports):
        raise typer.Exit(1)


@app.command()
def build(
    feeds: Annotated[list[str], typer.Argument(help="GTFS feeds: PATH or ID=PATH (zip or directory).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Artifact directory to write (atomically).")],
    osm: Annotated[Path | None, typer.Option(help="OSM .pbf street network.")] = None,
    gbfs: Annotated[list[str] | None, typer.Option(help="GBFS directory or URL (repeatable).")] = None,
    gofs: Annotated[Path | None, typer.Option(help="GOFS directory.")] = None,
) -> None:
    """Build a graph artifact from feeds; prints the quality summary."""
    from feeds.errors import FeedError
    from feeds.sources import parse_feed_arg
    from routing.build import build_graph
    from routing.errors import RoutingError

    specs = [parse_feed_arg(a) for a in feeds]
    try:
        with _progress("build") as say:
            report = build_graph(specs, osm=osm, out=out_dir, progress=say, gbfs=gbfs or (),
                                 gofs=[gofs] if gofs else ())
    except (FeedError, RoutingError) as e:
        raise _fail(str(e)) from None
    _print_build(report)


def _print_build(report: Any) -> None:
    table = Table(title=f"graph {report.graph_version} -> {report.path}", show_header=False)
    for k, v in report.counts.items():
        table.add_row(k, f"{v:,}")
    table.add_row("build time", f"{report.seconds:.1f} s")
    table.add_row("peak memory", f"{report.peak_rss_mb:,.0f} MB")
    out.print(table)
    grades = {q.feed_id: q for q in report.quality}
    for f in report.feeds:
        q = grades.get(f.id)
        quality = f", quality {q.grade} ({q.errors} errors, {q.warnings} warnings)" if q else ""
        out.print(f"  feed [bold]{f.id}[/] ({f.kind}) {f.valid_from or ''} .. {f.valid_to or ''}{quality}")
    by_code: dict[tuple[str, str], int] = {}
    for n in report.notices:
        by_code[(n.severity.value, n.code)] = by_code.get((n.severity.value, n.code), 0) + 1
    for (sev, code), count in sorted(by_code.items()):
        out.print(f"  {sev:7} {code} x{count}")
    if report.unlinked_stops:
        out.print(f"  {len(report.unlinked_stops)} stops not linked to the street network "
                  f"(e.g. {', '.join(report.unlinked_stops[:3])})")


# -- plan -----------------------------------------------------------------------------------


def _load(graph: Path, engine: str) -> Any:
    from routing.engines import get_planner
    from routing.errors import RoutingError
    from routing.graph import Graph

    try:
        return get_planner(Graph.load(graph), engine)
    except RoutingError as e:
        raise _fail(str(e)) from None


class _RealtimePlanner:
    """A planner whose results carry GTFS-RT delays, cancellations and alerts (``--gtfs-rt``)."""

    def __init__(self, planner: Any, overlay: Any) -> None:
        self.inner, self.overlay, self.graph = planner, overlay, planner.graph
        self.name = getattr(planner, "name", "")

    def plan(self, request: Any) -> Any:
        return self.overlay.annotate(self.inner.plan(request))


def _with_realtime(planner: Any, specs: list[str]) -> Any:
    from routing.errors import BadRequest
    from routing.realtime import overlay_from_specs

    try:
        overlay = overlay_from_specs(specs, graph=planner.graph)
    except BadRequest as e:
        raise _fail(f"--gtfs-rt: {e.message}") from None
    overlay.refresh()
    for notice in overlay.notices:
        if notice.severity == "error":
            typer.echo(f"gtfs-rt: {notice.code}: {notice.message}", err=True)
    return _RealtimePlanner(planner, overlay)


def _request(frm: str, to: str, when: str | None, arrive_by: bool, modes: str | None, window_s: int,
             num: int, max_walk_m: float, wheelchair: bool, tz: str) -> Any:
    from zoneinfo import ZoneInfo

    from routing.plan import Place, PlanRequest, parse_modes

    if when:
        try:
            t = dt.datetime.fromisoformat(when)
        except ValueError:
            from routing.errors import BadRequest

            raise BadRequest("time", f"not an ISO 8601 time: {when!r}") from None
        if t.tzinfo is None:  # a wall-clock time means the graph's local time
            t = t.replace(tzinfo=ZoneInfo(tz))
    else:
        t = dt.datetime.now(ZoneInfo(tz))
    return PlanRequest(
        origin=Place.parse(frm, "from"), destination=Place.parse(to, "to"), time=t, arrive_by=arrive_by,
        modes=parse_modes(modes), window_s=window_s, num_itineraries=num, max_walk_m=max_walk_m,
        wheelchair=wheelchair,
    )


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in {"1", "true", "yes", "y"}


@app.command()
def plan(
    graph: Annotated[Path, typer.Option(help="Graph artifact directory.")],
    frm: Annotated[str | None, typer.Option("--from", help="LAT,LON or stop:FEED:STOP_ID")] = None,
    to: Annotated[str | None, typer.Option(help="LAT,LON or stop:FEED:STOP_ID")] = None,
    time: Annotated[str | None, typer.Option(help="ISO 8601 time (default now; no offset = graph's zone)")] = None,
    arrive_by: Annotated[bool, typer.Option("--arrive-by", help="TIME is the latest arrival.")] = False,
    modes: Annotated[str | None, typer.Option(help="Comma-separated modes (default walk,transit).")] = None,
    window_s: Annotated[int, typer.Option(help="Range query: departures within this many seconds.")] = 0,
    num: Annotated[int, typer.Option(help="Number of itineraries.")] = 5,
    max_walk_m: Annotated[float, typer.Option(help="Longest walk per access/egress.")] = 2000.0,
    wheelchair: Annotated[bool, typer.Option("--wheelchair")] = False,
    engine: Annotated[str, typer.Option(help="raptor (built-in) or r5.")] = "raptor",
    as_json: Annotated[bool, typer.Option("--json", help="JSON as the API returns it.")] = False,
    batch: Annotated[Path | None, typer.Option(help="CSV of queries: from,to,time[,arrive_by,modes].")] = None,
    gtfs_rt: Annotated[list[str] | None, typer.Option(
        "--gtfs-rt", help="GTFS-RT source FEED=PATH_OR_URL (repeatable): delays, cancellations, alerts on legs.")] = None,
) -> None:
    """Plan one trip (table or --json) or a --batch of trips (JSON lines, input order)."""
    from routing.errors import BadRequest
    from routing.plan import result_to_dict

    planner = _load(graph, engine)
    tz = planner.graph.timezone
    if gtfs_rt:
        planner = _with_realtime(planner, gtfs_rt)
    if batch is not None:
        try:
            with batch.open(newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as e:
            raise _fail(f"cannot read {batch}: {e}") from None
        if rows and not {"from", "to"} <= set(rows[0]):
            raise _fail(f"{batch}: needs columns from,to,time[,arrive_by,modes]")
        for n, row in enumerate(rows, start=1):
            try:
                req = _request(row["from"], row["to"], row.get("time") or None, _truthy(row.get("arrive_by")),
                               row.get("modes") or None, window_s, num, max_walk_m, wheelchair, tz)
                line = result_to_dict(planner.plan(req))
            except BadRequest as e:
                line = {"error": {"row": n, "field": e.field, "message": e.message}, "itineraries": []}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    if not frm or not to:
        raise _fail("--from and --to are required (or --batch)")
    try:
        req = _request(frm, to, time, arrive_by, modes, window_s, num, max_walk_m, wheelchair, tz)
    except BadRequest as e:
        raise _fail(f"--{e.field}: {e.message}") from None
    result = planner.plan(req)
    if as_json:
        sys.stdout.write(json.dumps(result_to_dict(result), indent=2, ensure_ascii=False) + "\n")
        return
    _print_result(result)


def _hm(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


def describe_itinerary(it: Any) -> str:
    """One line per itinerary in the style of OTP's raptor tests: Walk 3m ~ A ~ BUS 12 10:00 10:20 ~ B."""
    parts: list[str] = []
    for leg in it.legs:
        minutes = max(1, round((leg.end_time - leg.start_time).total_seconds() / 60))
        if leg.route is None:
            parts.append(f"{leg.mode.capitalize()} {minutes}m")
        else:
            name = leg.route.short_name or leg.route.long_name
            parts.append(f"{leg.mode.upper()} {name} {_hm(leg.start_time)} {_hm(leg.end_time)}")
        parts.append(leg.to_place.name)
    return " ~ ".join(parts[:-1]) if parts else ""


def _print_result(result: Any) -> None:
    if not result.itineraries:
        out.print(f"No itinerary found (reason: [bold]{result.reason}[/]).")
        return
    table = Table(show_lines=True)
    for col in ("#", "depart", "arrive", "duration", "transfers", "walk", "price", "legs"):
        table.add_column(col)
    for n, it in enumerate(result.itineraries, start=1):
        table.add_row(
            str(n), _hm(it.start_time), _hm(it.end_time), f"{max(1, round(it.duration_s / 60))} min", str(it.transfers),
            f"{it.walk_distance_m:,.0f} m", f"{it.price.amount:.2f} {it.price.currency}" if it.price else "-",
            describe_itinerary(it),
        )
    out.print(table)
    out.print(f"graph {result.graph_version}, {result.timing_ms.get('total', 0):.1f} ms")


@export_app.command("transfers")
def export_transfers(graph: Annotated[Path, typer.Option(help="Graph artifact directory.")]) -> None:
    """The artifact's stop-to-stop transfers as CSV from_stop_id,to_stop_id,seconds."""
    from routing.errors import RoutingError
    from routing.graph import Graph

    try:
        g = Graph.load(graph)
    except RoutingError as e:
        raise _fail(str(e)) from None
    tt = g.timetable
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["from_stop_id", "to_stop_id", "seconds"])
    for s in range(g.n_stops):
        for edge in range(int(tt.transfer_offset[s]), int(tt.transfer_offset[s + 1])):
            w.writerow([g.stop_ids[s], g.stop_ids[int(tt.transfer_target[edge])], int(tt.transfer_s[edge])])


# -- serve / demo ---------------------------------------------------------------------------------


@app.command()
def serve(
    graph: Annotated[Path | None, typer.Option(help="Graph artifact (default: MAAS_GRAPH).")] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes sharing the mmap'd artifact.")] = 1,
    gtfs_rt: Annotated[list[str] | None, typer.Option(
        "--gtfs-rt", help="GTFS-RT source FEED=PATH_OR_URL (repeatable; default: MAAS_GTFS_RT).")] = None,
) -> None:
    """Run the HTTP API."""
    from maas.serve import run_server
    from maas.settings import Settings
    from routing.errors import RoutingError

    settings = Settings() if graph is None else Settings(graph=graph)
    if gtfs_rt:
        try:
            settings = Settings(**{**settings.model_dump(exclude_unset=True), "gtfs_rt": gtfs_rt})
        except ValueError as e:
            raise _fail(f"--gtfs-rt: {e}") from None
    if settings.graph is None:  # what was last published (or restored) into the data dir
        from maas.publish.pointer import current_artifact

        settings = settings.model_copy(update={"graph": current_artifact(settings.data_dir)})
    if settings.graph is None:
        raise _fail("no graph: pass --graph DIR, set MAAS_GRAPH, or publish/restore into MAAS_DATA_DIR")
    try:
        run_server(settings, host=host, port=port, workers=workers)
    except RoutingError as e:
        raise _fail(str(e)) from None


@app.command()
def demo(
    feeds: Annotated[list[str] | None, typer.Argument(help="GTFS feeds to use instead of a synthetic city.")] = None,
    osm: Annotated[Path | None, typer.Option(help="OSM .pbf for the given feeds.")] = None,
    stops: Annotated[int, typer.Option(help="Size of the synthetic city.")] = 300,
    data_dir: Annotated[Path, typer.Option(help="Where to put the city and the graph.")] = Path("maas-data/demo"),
    port: Annotated[int, typer.Option()] = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards.")] = True,
) -> None:
    """Synthesize a city (or use FEEDS), build it, plan an example trip and serve the API."""
    from feeds.synth import synth_city
    from routing.build import build_graph

    data_dir.mkdir(parents=True, exist_ok=True)
    if feeds:
        from feeds.sources import parse_feed_arg

        specs: list[Any] = [parse_feed_arg(a) for a in feeds]
        osm_path = osm
    else:
        with _progress("synthesizing a city") as say:
            city = synth_city(data_dir / "city", stops=stops, seed=1, progress=say)
        specs, osm_path = [city.gtfs], city.osm
    sharing: dict[str, Any] = {} if feeds else {"gbfs": [city.gbfs], "gofs": [city.gofs]}  # bikes, scooters, taxis
    with _progress("building the graph") as say:
        report = build_graph(specs, osm=osm_path, out=data_dir / "graph", progress=say, **sharing)
    _print_build(report)

    from routing.engines import get_planner
    from routing.graph import Graph
    from routing.raptor import warm_up

    with _progress("compiling the engine (first run only)") as say:
        say("numba")
        warm_up()
    g = Graph.load(report.path)
    planner = get_planner(g)
    example = _demo_query(g)
    if example is not None:
        frm, to, when = example
        out.print(f"\n[bold]Example trip[/] {frm} -> {to} at {when}:")
        result = planner.plan(_request(frm, to, when, False, None, 1800, 3, 2000.0, False, g.timezone))
        _print_result(result)
        # plain print: URLs must not be wrapped by the console
        print("\nTry it yourself:")
        print(f"  maas plan --graph {report.path} --from {frm} --to {to} --time {when}")
        if serve_api:
            from urllib.parse import quote

            base = f"http://127.0.0.1:{port}"
            print(f"  curl '{base}/v1/plan?from={frm}&to={to}&time={quote(when)}'")
            if sharing:
                print(f"  curl '{base}/v1/plan?from={frm}&to={to}&time={quote(when)}"
                      "&modes=walk,transit,bikeshare,scooter,ridehail'")
            print(f"  {base}/docs (OpenAPI)   {base}/v1/stops?q=piazza   {base}/v1/health")
            print(f"  {base}/widget/demo (the embeddable trip widget)")
        sys.stdout.flush()
    if serve_api:
        try:
            from maas.serve import run_server
            from maas.settings import Settings
        except ImportError as e:  # the gateway is optional for the demo's build part
            raise _fail(f"the API server is not available: {e}") from None
        run_server(Settings(graph=report.path, data_dir=data_dir), host="127.0.0.1", port=port, workers=1)


def _demo_query(g: Any) -> tuple[str, str, str] | None:
    """Two coordinates far apart in the city, next weekday 08:00 within the feed's dates."""
    import numpy as np

    served = np.zeros(g.n_stops, dtype=bool)
    served[np.asarray(g.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)
    if idx.size < 2:
        return None
    lat, lon = np.asarray(g.stop_lat)[idx], np.asarray(g.stop_lon)[idx]
    a = int(idx[np.argmin(lat + lon)])
    b = int(idx[np.argmax(lat + lon)])
    start = g.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)  # a Tuesday in range
    from zoneinfo import ZoneInfo

    frm = f"{float(g.stop_lat[a]) + 0.001:.5f},{float(g.stop_lon[a]):.5f}"
    to = f"{float(g.stop_lat[b]) - 0.001:.5f},{float(g.stop_lon[b]):.5f}"
    when = dt.datetime.combine(day, dt.time(8, 0), tzinfo=ZoneInfo(g.timezone))
    return frm, to, when.isoformat()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
