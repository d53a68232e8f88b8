"""A private PostgreSQL cluster for benchmarks: found or installed, initdb'd, started on loopback.

The server binaries come from the Debian layout (/usr/lib/postgresql/<ver>/bin). As
root they are installed with apt-get if missing. initdb refuses to run as root, so
a root caller runs every server command as the `postgres` system user (created by
the Debian package; created here if it is missing) through `runuser`. The cluster
listens on 127.0.0.1 only (no Unix socket), with trust auth for loopback only.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

DEBIAN_ROOT = Path("/usr/lib/postgresql")
DEFAULT_PORT = 15432
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
DATABASE = "orders_bench"
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "80",  # 32 benchmark clients + loaders + admin
    "shared_buffers": "'256MB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "effective_cache_size": "'1GB'",
    # Bulk load: tables created in the COPY's own transaction skip WAL with wal_level=minimal.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "'2GB'",
    "synchronous_commit": "off",
    # Per-call latency is what is compared: JIT compilation would add tens of ms to aggregates.
    "jit": "off",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be found or installed here; the message says what to do."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin holding initdb, pg_ctl and postgres; else PATH."""
    if DEBIAN_ROOT.is_dir():
        for version_dir in sorted(DEBIAN_ROOT.iterdir(), key=_version_key, reverse=True):
            bin_dir = version_dir / "bin"
            if all((bin_dir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
                return bin_dir
    initdb = shutil.which("initdb")
    if initdb:
        bin_dir = Path(initdb).resolve().parent
        if (bin_dir / "pg_ctl").is_file() and (bin_dir / "postgres").is_file():
            return bin_dir
    return None


def _has_pg_trgm(bin_dir: Path) -> bool:
    try:
        share = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        share = str(Path("/usr/share/postgresql") / bin_dir.parent.name)
    return (Path(share) / "extension" / "pg_trgm.control").is_file()


def ensure_postgres_installed() -> Path:
    """The server's bin dir; installs Debian `postgresql` + `postgresql-contrib` as root if needed."""
    bin_dir = find_bin_dir()
    if bin_dir is not None and _has_pg_trgm(bin_dir):
        return bin_dir
    if os.geteuid() != 0:
        missing = "the pg_trgm extension (postgresql-contrib)" if bin_dir else "the PostgreSQL server"
        raise PostgresUnavailable(
            f"{missing} is not installed and this process is not root, so it cannot install it. "
            "Install it (Debian/Ubuntu: `sudo apt-get install postgresql postgresql-contrib`), "
            "or run as root to have it installed automatically."
        )
    if shutil.which("apt-get") is None:
        raise PostgresUnavailable("PostgreSQL is not installed and apt-get is not available to install it; "
                                  "install the PostgreSQL server and its contrib extensions, then retry.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "postgresql", "postgresql-contrib"]):
        print(f"[postgres] running: {' '.join(command)}", flush=True)
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresUnavailable(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stderr[-2000:]}")
    bin_dir = find_bin_dir()
    if bin_dir is None or not _has_pg_trgm(bin_dir):
        raise PostgresUnavailable(f"apt-get installed postgresql but no server with pg_trgm was found under {DEBIAN_ROOT}")
    print(f"[postgres] installed; server binaries in {bin_dir}", flush=True)
    return bin_dir


def default_data_dir() -> Path:
    """Outside the repo. Root's home is not readable by the service user, so root uses /var/tmp."""
    if os.geteuid() == 0:
        return Path("/var/tmp/orderrepo/bench-pg")
    return Path.home() / ".cache" / "orderrepo" / "bench-pg"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        print(f"[postgres] creating system user {SERVICE_USER!r}", flush=True)
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                       check=True)
        return pwd.getpwnam(SERVICE_USER)


class PostgresServer:
    """A private cluster in `data_dir` on 127.0.0.1:`port`; a context manager that starts and stops it.

    An existing cluster in `data_dir` (from an earlier run) is reused as it is, so a
    loaded benchmark database survives between runs; `fresh=True` re-creates it.
    """

    def __init__(self, data_dir: Path | str | None = None, *, port: int = DEFAULT_PORT,
                 bin_dir: Path | None = None, fresh: bool = False, start_timeout: int = 60) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.port = port
        self.bin_dir = bin_dir
        self.fresh = fresh
        self.start_timeout = start_timeout
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._run_as: list[str] = []
        self._started = False

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={DATABASE} connect_timeout=10"

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres connect_timeout=10"

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        self.bin_dir = self.bin_dir or ensure_postgres_installed()
        if self.fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self._prepare_user_and_dirs()
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb()
        self._write_settings()
        if self._pg_ctl("status", check=False).returncode == 0:
            raise PostgresUnavailable(f"a server is already running on {self.data_dir}; stop it first "
                                      f"({self.bin_dir / 'pg_ctl'} stop -D {self.data_dir})")
        if _port_in_use(self.port):
            raise PostgresUnavailable(f"127.0.0.1:{self.port} is already in use; pass another port")
        print(f"[postgres] starting {self.data_dir} on 127.0.0.1:{self.port} (log {self.log_file})", flush=True)
        result = self._pg_ctl("start", "-w", "-t", str(self.start_timeout), "-l", str(self.log_file), check=False)
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed ({result.returncode}): {result.stderr}\n{tail}")
        self._started = True
        self._ensure_database()

    def stop(self) -> None:
        if not self._started:
            return
        print(f"[postgres] stopping {self.data_dir}", flush=True)
        self._pg_ctl("stop", "-m", "fast", "-w", check=False)
        self._started = False

    # -- helpers -----------------------------------------------------------------------------
    def _prepare_user_and_dirs(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            self._run_as = []
            return
        user = _ensure_service_user()
        self._run_as = ["runuser", "-u", SERVICE_USER, "--"]
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        for path in (self.data_dir, self.log_file):
            if path == self.log_file:
                path.touch(exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)
        probe = subprocess.run([*self._run_as, "test", "-w", str(self.data_dir)], capture_output=True)
        if probe.returncode != 0:
            raise PostgresUnavailable(
                f"user {SERVICE_USER!r} cannot reach {self.data_dir} (a parent directory is not traversable "
                "by other users, e.g. /root or pytest's /tmp/pytest-of-root); choose a directory under "
                "/var/tmp or tempfile.gettempdir()"
            )

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bin_dir is not None
        command = [*self._run_as, str(self.bin_dir / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
        if check and result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(command)} failed ({result.returncode}):\n"
                                      f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
        return result

    def _pg_ctl(self, action: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run("pg_ctl", action, "-D", str(self.data_dir), *args, check=check)

    def _initdb(self) -> None:
        print(f"[postgres] initdb {self.data_dir}", flush=True)
        self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8",
                  "--auth-local=trust", "--auth-host=trust")

    def _write_settings(self) -> None:
        settings = {**SETTINGS, "port": str(self.port)}
        conf = "\n".join(f"{name} = {value}" for name, value in settings.items())
        # postgresql.auto.conf is read last, so these win over postgresql.conf; rewritten on every start.
        auto = self.data_dir / "postgresql.auto.conf"
        auto.write_text("# written by bench.pg.server on every start\n" + conf + "\n")
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text("# loopback only, trust (private benchmark cluster)\n"
                       "host all all 127.0.0.1/32 trust\n")
        if self._run_as:
            user = pwd.getpwnam(SERVICE_USER)
            for path in (auto, hba):
                os.chown(path, user.pw_uid, user.pw_gid)

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8'")
