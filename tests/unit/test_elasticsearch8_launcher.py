"""The Elasticsearch 8 launcher's file work: where the node lives, the unpacked build, its config (no server)."""

from __future__ import annotations

import dataclasses
import stat
import zipfile
from pathlib import Path

import pytest

from local_stack import elasticsearch8
from settings import StackSettings


def test_the_node_lives_in_the_stack_home_unless_root_whose_home_the_service_user_cannot_enter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = StackSettings(home=tmp_path / "home")
    monkeypatch.setattr(elasticsearch8.os, "geteuid", lambda: 1000)
    assert elasticsearch8.node_dir(settings) == tmp_path / "home" / "elasticsearch8"
    monkeypatch.setattr(elasticsearch8.os, "geteuid", lambda: 0)
    as_root = elasticsearch8.node_dir(settings)
    assert as_root.parent == Path("/var/lib/orderrepo-es") and len(as_root.name) == 12
    assert as_root != elasticsearch8.node_dir(StackSettings(home=tmp_path / "other"))  # one node per stack home
    assert elasticsearch8.node_dir(StackSettings(home=tmp_path, elasticsearch8_dir=tmp_path / "x")) == tmp_path / "x"
    monkeypatch.setattr(elasticsearch8.os, "geteuid", lambda: 1000)
    assert elasticsearch8.service_user(settings) is None  # not root: the node runs as us


def _archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, mode in (("elasticsearch-8.0.0/bin/elasticsearch", 0o755), ("elasticsearch-8.0.0/lib/a.jar", 0o600),
                           ("elasticsearch-8.0.0/config/jvm.options", 0o644),
                           ("elasticsearch-8.0.0/config/log4j2.properties", 0o644)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, "x")
    return path


def test_the_build_is_unpacked_once_readable_by_the_service_user_with_its_launcher_executable(tmp_path: Path) -> None:
    es_home = elasticsearch8._unpacked(_archive(tmp_path / "es.zip"), tmp_path / "dist", "8.0.0")
    assert stat.S_IMODE((es_home / "bin" / "elasticsearch").stat().st_mode) == 0o755
    assert stat.S_IMODE((es_home / "lib" / "a.jar").stat().st_mode) == 0o644  # 0600 in the zip, read by another user
    (es_home / "lib" / "a.jar").write_text("kept")
    assert elasticsearch8._unpacked(tmp_path / "gone.zip", tmp_path / "dist", "8.0.0") == es_home  # no second unpack
    assert (es_home / "lib" / "a.jar").read_text() == "kept"


def test_the_config_is_single_node_loopback_without_security_on_the_configured_ports(tmp_path: Path) -> None:
    es_home = elasticsearch8._unpacked(_archive(tmp_path / "es.zip"), tmp_path / "dist", "8.0.0")
    settings = StackSettings(home=tmp_path, elasticsearch8_http_port=28299, elasticsearch8_transport_port=28298,
                             elasticsearch8_heap="300m")
    node = dataclasses.replace(elasticsearch8.single_node(settings), base=tmp_path / "node")
    elasticsearch8._write_config(node, es_home, heap=settings.elasticsearch8_heap)
    config = dict(line.split(": ", 1) for line in (tmp_path / "node/config/elasticsearch.yml").read_text().splitlines())
    assert {key: config[key] for key in ("network.host", "http.port", "transport.port", "discovery.type",
                                          "xpack.security.enabled", "path.data")} == {
        "network.host": "127.0.0.1", "http.port": "28299", "transport.port": "28298", "discovery.type": "single-node",
        "xpack.security.enabled": "false", "path.data": str(tmp_path / "node" / "data")}
    assert (tmp_path / "node/config/jvm.options.d/heap.options").read_text() == "-Xms300m\n-Xmx300m\n"
    assert all((tmp_path / "node" / part).is_dir() for part in ("data", "logs", "tmp"))


def test_the_data_tier_cluster_nodes_have_their_roles_seeds_and_ports(tmp_path: Path) -> None:
    from local_stack import elasticsearch8_tiers as tiers

    settings = StackSettings(home=tmp_path, elasticsearch8_dir=tmp_path / "es")
    specs = [tiers._spec(settings, node, tiers.Ports(http=28220, transport=28320)) for node in tiers.NODES]
    assert [(s.server, s.base, s.http_port, s.transport_port) for s in specs] == [
        ("elasticsearch8-hot-1", tmp_path / "es" / "elasticsearch8-hot-1", 28220, 28320),
        ("elasticsearch8-warm-1", tmp_path / "es" / "elasticsearch8-warm-1", 28221, 28321)]
    hot, warm = (dict(line.split(": ", 1) for line in s.cluster_lines) for s in specs)
    assert (hot["node.roles"], warm["node.roles"]) == ("[master, data_hot, data_content]", "[data_warm]")
    assert hot["discovery.seed_hosts"] == warm["discovery.seed_hosts"] == '["127.0.0.1:28320", "127.0.0.1:28321"]'
    assert hot["cluster.initial_master_nodes"] == '["hot-1"]' and hot["cluster.name"] == warm["cluster.name"]
