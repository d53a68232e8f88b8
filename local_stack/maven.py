"""Resolves a server's classpath from Maven Central with `mvn`, cached outside the repo.

The resolved classpath is remembered in a file beside the pid files, so a warm
start runs no Maven at all as long as every jar is still in the cache.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

POM = Path(__file__).with_name("pom.xml")


class MavenError(RuntimeError):
    pass


def _cached_classpath(cache_file: Path) -> str | None:
    if not cache_file.exists():
        return None
    classpath = cache_file.read_text().strip()
    jars = classpath.split(":") if classpath else []
    if jars and all(Path(jar).exists() for jar in jars):
        return classpath
    return None


def resolve_classpath(
    *, profile: str, properties: dict[str, str], maven_repo: Path, cache_file: Path
) -> str:
    if (cached := _cached_classpath(cache_file)) is not None:
        return cached
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MavenError("`mvn` is not on PATH; install Maven (apt-get install maven) to fetch the servers")
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    command = [
        mvn, "-B", "-q", "-f", str(POM), f"-P{profile}",
        f"-Dmaven.repo.local={maven_repo}",
        *(f"-D{key}={value}" for key, value in properties.items()),
        "dependency:build-classpath", f"-Dmdep.outputFile={cache_file}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not cache_file.exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise MavenError(f"mvn could not resolve the {profile} artifacts:\n{tail}")
    return cache_file.read_text().strip()
