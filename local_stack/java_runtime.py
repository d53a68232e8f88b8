"""Finds the JDKs on this machine and picks one per server.

OpenSearch 3.x needs Java 21+, the 2.19 line runs on Java 17; Kafka 4.x brokers
need Java 17+. We prefer the newest JDK for OpenSearch (to get 3.x) and the
oldest supported one for Kafka (its most tested runtime). Elasticsearch 7.10
(Lucene 8.7) runs on Java 11 to 17: the newest of those. Elasticsearch 8.x needs
Java 17+: the oldest of those (8.19 predates the newest JDKs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class Jdk:
    major: int
    java: Path
    version_line: str


class NoSuitableJava(RuntimeError):
    pass


def probe(java: Path) -> Jdk | None:
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first_line = (result.stderr or result.stdout).splitlines()[0] if (result.stderr or result.stdout) else ""
    match = _VERSION.search(first_line)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return Jdk(major=major, java=java, version_line=first_line.strip())


def _candidates(forced_home: Path | None) -> list[Path]:
    if forced_home is not None:
        return [forced_home / "bin" / "java"]
    found: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if on_path := shutil.which("java"):
        found.append(Path(on_path).resolve())
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        found.extend(sorted(p / "bin" / "java" for p in jvm_root.iterdir() if (p / "bin" / "java").exists()))
    unique: dict[Path, Path] = {}
    for path in found:
        if path.exists():
            unique.setdefault(path.resolve(), path)
    return list(unique.values())


def find_jdks(forced_home: Path | None = None) -> list[Jdk]:
    jdks = [jdk for path in _candidates(forced_home) if (jdk := probe(path)) is not None]
    return sorted(jdks, key=lambda jdk: jdk.major)


def _choose(jdks: list[Jdk], *, needs: str, lowest: int, highest: int = 999, newest: bool) -> Jdk:
    usable = [jdk for jdk in jdks if lowest <= jdk.major <= highest]
    if not usable:
        raise NoSuitableJava(
            f"{needs}; found: " + (", ".join(f"{j.major} at {j.java}" for j in jdks) or "no java at all")
            + ". Install one (e.g. apt-get install openjdk-17-jdk-headless) or set ORDERREPO_STACK_JAVA_HOME."
        )
    return usable[-1] if newest else usable[0]


def pick_for_opensearch(jdks: list[Jdk]) -> Jdk:
    return _choose(jdks, needs="OpenSearch needs Java 17+ (21+ for OpenSearch 3.x)", lowest=17, newest=True)


def pick_for_kafka(jdks: list[Jdk]) -> Jdk:
    return _choose(jdks, needs="Kafka 4.x needs Java 17+", lowest=17, newest=False)


def pick_for_elasticsearch(jdks: list[Jdk]) -> Jdk:
    return _choose(jdks, needs="Elasticsearch 7.10 needs Java 11 to 17", lowest=11, highest=17, newest=True)


def pick_for_elasticsearch8(jdks: list[Jdk]) -> Jdk:
    return _choose(jdks, needs="Elasticsearch 8.x needs Java 17+", lowest=17, newest=False)
