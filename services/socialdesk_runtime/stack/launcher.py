"""``run``: bring the whole stack up, keep it up, show it, and take it down in order.

Order up: broker → PostgreSQL → topics and databases → services (each migrates its own
database at start) → wait for every ``/readyz`` → demo. Order down (Ctrl-C, SIGTERM):
demo and dashboard → services (SIGTERM, grace, SIGKILL) → PostgreSQL → broker, so that
no service loses its broker or database while it drains.

External systems: with ``KAFKA_BOOTSTRAP_SERVERS`` set, no broker is started (topics are
still created, idempotently); with every ``<SERVICE>_DATABASE_URL`` set, no PostgreSQL is
started. Nothing else changes: the services cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.live import Live
from rich.logging import RichHandler

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres
from socialdesk_runtime.kafka import create_topics, forbid_topic_auto_creation
from socialdesk_runtime.stack.broker_keeper import keep_broker_up
from socialdesk_runtime.stack.dashboard import DashboardInfo, plain_summary, render
from socialdesk_runtime.stack.demo import DemoStats, LooseConfig, Replier, replay
from socialdesk_runtime.stack.observer import StackView, observe
from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import Supervisor

__all__ = ["RunOptions", "StackStartError", "run_stack"]

_log = logging.getLogger("socialdesk_runtime.stack")


class StackStartError(RuntimeError):
    """The stack cannot start; the message says what to change."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything ``run`` takes from the command line."""

    config: Path
    state_dir: Path
    demo: bool = False
    demo_file: Path = Path("deploy/demo/messages.jsonl")
    demo_rate: float = 4.0
    demo_sla_seconds: int = 60
    demo_reply_ratio: float = 0.5
    fresh: bool = False
    durable: bool = True
    http_port_base: int = 8081
    live: bool | None = None  # None: live screen when stdout is a terminal
    summary_every_s: float = 5.0
    ready_timeout_s: float = 120.0


def _setup_logging(console: Console, log_dir: Path) -> None:
    """Launcher logs go to the terminal (above the live screen) and to ``stack.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("socialdesk_runtime")
    root.setLevel(logging.INFO)
    root.handlers.clear()
    root.addHandler(RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False))
    file_handler = logging.FileHandler(log_dir / "stack.log")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(file_handler)
    root.propagate = False


def _external_endpoints(environ: Mapping[str, str]) -> tuple[str | None, dict[str, str] | None]:
    kafka = environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
    urls = {s.name: environ.get(s.database_url_env, "") for s in STACK_SERVICES}
    given = {name for name, url in urls.items() if url}
    if given and len(given) != len(urls):
        missing = [s.database_url_env for s in STACK_SERVICES if s.name not in given]
        raise StackStartError(
            "some *_DATABASE_URL variables are set and some are not: set all of them to use an "
            f"external PostgreSQL, or none to use the embedded one (missing: {', '.join(missing)})"
        )
    return kafka, (urls if given else None)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: connections of a previous run in TIME_WAIT do not make it busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _refuse_if_running(pg_data: Path) -> None:
    """Two stacks on one data dir would corrupt it; PostgreSQL would refuse anyway, later."""
    pid_file = pg_data / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return  # stale: PostgreSQL itself cleans it up on start
    raise StackStartError(f"another stack is using {pg_data} (postgres pid {pid}); stop it first")


def run_stack(options: RunOptions, *, console: Console | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; returns the process exit code."""
    console = console or Console()
    state = options.state_dir.resolve()
    log_dir = state / "logs"
    pg_data = state / "postgres"
    if options.fresh and state.exists():
        _refuse_if_running(pg_data)
        shutil.rmtree(state)
    _setup_logging(console, log_dir)
    forbid_topic_auto_creation()  # the dashboard's observer must not make topics either

    config = LooseConfig.load(options.config)
    ext_kafka, ext_dbs = _external_endpoints(os.environ)
    ports = {svc.name: options.http_port_base + i for i, svc in enumerate(STACK_SERVICES)}
    for svc in STACK_SERVICES:  # an explicit <SVC>_HTTP_PORT in the environment wins
        if os.environ.get(svc.http_port_env, "").isdigit():
            ports[svc.name] = int(os.environ[svc.http_port_env])
    busy = [f"{name}:{port}" for name, port in ports.items() if not _port_is_free(port)]
    if busy:
        raise StackStartError(
            f"HTTP ports in use: {', '.join(busy)}. Stop whatever holds them or pass --http-port-base."
        )

    kafka: EmbeddedKafka | None = None
    postgres: EmbeddedPostgres | None = None
    supervisor: Supervisor | None = None
    try:
        if ext_kafka is None:
            kafka = EmbeddedKafka(log_path=log_dir / "tansu.log")
            kafka.start()
            bootstrap = kafka.bootstrap_servers
            _log.info("embedded Tansu broker on %s (memory storage: topics start empty)", bootstrap)
        else:
            bootstrap = ext_kafka
            asyncio.run(create_topics(bootstrap))
            _log.info("external Kafka at %s; topics ensured", bootstrap)

        if ext_dbs is None:
            _refuse_if_running(pg_data)
            postgres = EmbeddedPostgres(pg_data, durable=options.durable, log_path=log_dir / "postgres.log")
            postgres.start()
            for svc in STACK_SERVICES:
                postgres.create_database(svc.database)
            db_urls = {svc.name: postgres.url(svc.database) for svc in STACK_SERVICES}
            pg_label = f"127.0.0.1:{postgres.port} ({'durable' if options.durable else 'NOT durable'})"
            _log.info("embedded PostgreSQL on %s, data in %s", pg_label, pg_data)
        else:
            db_urls = ext_dbs
            pg_label = "external"

        config_path = options.config
        sla_note: str | None = None
        if options.demo and options.demo_sla_seconds > 0:
            config_path = state / "demo-config.yaml"
            factor = config.write_fast_sla(config_path, options.demo_sla_seconds)
            sla_note = (
                f"demo: SLA targets scaled ×{factor:.4g} (first response {options.demo_sla_seconds}s), "
                f"business hours 24/7, in {config_path}"
            )
            _log.info("%s", sla_note)

        demo_env = config.demo_env(os.environ)
        env = {**demo_env}
        if "NOTIFIER_LOCAL_SINK_PATH" not in os.environ:  # keep the "Slack" sink with the run's state
            env["NOTIFIER_LOCAL_SINK_PATH"] = str(state / "local-sink.jsonl")
        specs = service_specs(
            StackEndpoints(kafka=bootstrap, database_urls=db_urls),
            config_path=config_path,
            http_ports=ports,
            extra_env=env,
        )
        supervisor = Supervisor(specs, log_dir=log_dir)
        supervisor.start()
        _log.info("services started; logs in %s", log_dir)

        info = DashboardInfo(
            mode="embedded" if kafka is not None and postgres is not None else "external",
            kafka=bootstrap,
            postgres=pg_label,
            started_mono=time.monotonic(),
            config=str(config_path),
            log_dir=str(log_dir),
            sla_note=sla_note,
        )
        api_keys = os.environ.get(config.api_keys_env) or demo_env.get(config.api_keys_env, "")
        tokens = {
            agent: os.environ.get(var) or demo_env.get(var, "")
            for agent, var in config.agent_tokens_env().items()
        }
        _announce_desk(console, ports["assigner"], tokens)
        return asyncio.run(
            _main_loop(
                options,
                console,
                supervisor,
                info,
                ports,
                api_key=api_keys.split(",")[0].strip(),
                tokens={a: t for a, t in tokens.items() if t},
                from_beginning=ext_kafka is None,
                kafka=kafka,
            )
        )
    finally:
        if supervisor is not None:
            _log.info("stopping services")
            supervisor.stop()
        if postgres is not None:
            _log.info("stopping PostgreSQL")
            postgres.stop()
        if kafka is not None:
            _log.info("stopping Tansu")
            kafka.stop()


def _announce_desk(console: Console, port: int, tokens: Mapping[str, str]) -> None:
    """Where the agents' desk is, and a token to sign in with (demo tokens are fake values)."""
    console.print(f"[bold]Desk:[/bold] http://127.0.0.1:{port}/desk   (API: http://127.0.0.1:{port}/docs)")
    for agent, token in list(tokens.items())[:2]:
        console.print(f"  sign in as {agent} with token [cyan]{token}[/cyan]")


async def _main_loop(
    options: RunOptions,
    console: Console,
    supervisor: Supervisor,
    info: DashboardInfo,
    ports: Mapping[str, int],
    *,
    api_key: str,
    tokens: Mapping[str, str],
    from_beginning: bool,
    kafka: EmbeddedKafka | None = None,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    view = StackView()
    ready: dict[str, bool] = {}
    demo_stats = DemoStats() if options.demo else None
    replier = (
        Replier(f"http://127.0.0.1:{ports['assigner']}", tokens, demo_stats, ratio=options.demo_reply_ratio)
        if demo_stats is not None
        else None
    )

    async def watch_readiness() -> None:
        async with httpx.AsyncClient(timeout=1.0) as client:
            while not stop.is_set():
                for svc in STACK_SERVICES:
                    try:
                        r = await client.get(f"http://127.0.0.1:{ports[svc.name]}/readyz")
                        ready[svc.name] = r.status_code == 200
                    except httpx.HTTPError:
                        ready[svc.name] = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)

    async def run_demo() -> None:
        assert demo_stats is not None
        deadline = loop.time() + options.ready_timeout_s
        while not all(ready.get(svc.name) for svc in STACK_SERVICES):
            if loop.time() > deadline:
                late = [svc.name for svc in STACK_SERVICES if not ready.get(svc.name)]
                demo_stats.error(f"not ready after {options.ready_timeout_s:.0f}s: {late}; demo not started")
                _log.error("services not ready: %s; see their logs in %s", late, info.log_dir)
                return
            await asyncio.sleep(0.25)
        _log.info("all services ready; replaying %s at %.1f/s", options.demo_file, options.demo_rate)
        await replay(
            options.demo_file,
            f"http://127.0.0.1:{ports['ingest']}",
            api_key,
            demo_stats,
            rate=options.demo_rate,
            run_tag=uuid.uuid4().hex[:6],
        )
        _log.info("demo replay finished: %d posted, %d rejected", demo_stats.posted, demo_stats.rejected)

    async def observe_forever() -> None:
        while not stop.is_set():  # the broker may not be ready for groups at once; retry
            try:
                await observe(
                    info.kafka,
                    view,
                    from_beginning=from_beginning,
                    stop=stop,
                    on_event=replier.offer if replier is not None else None,
                )
            except Exception as exc:
                _log.warning("observer lost the broker (%r); retrying", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2.0)

    live = options.live if options.live is not None else console.is_terminal
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(watch_readiness()), group.create_task(observe_forever())]
        if kafka is not None:
            tasks.append(group.create_task(keep_broker_up(kafka, stop)))
        if demo_stats is not None and replier is not None:
            tasks += [group.create_task(run_demo()), group.create_task(replier.run(stop))]
        if live:
            with Live(console=console, refresh_per_second=4, screen=False, transient=False) as screen:
                while not stop.is_set():
                    statuses = supervisor.status()
                    screen.update(
                        render(
                            info,
                            view,
                            statuses,
                            lambda n: ready.get(n, False),
                            demo_stats,
                            width=console.width,
                        )
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=0.25)
        else:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=options.summary_every_s)
                console.out(plain_summary(view, supervisor.status(), demo_stats), highlight=False)
        for task in tasks:  # a replay in progress is abandoned, not finished
            task.cancel()
    _log.info("stopping (signal received)")
    return 0
