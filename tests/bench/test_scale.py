"""The pieces of bench/scale.py that can be checked without bringing the stack up."""

import shutil
import subprocess

import pytest

from bench.scale import haproxy_config, url_of, with_database


def test_the_scripts_urls_are_read_bare_or_named():
    assert url_of("postgres://postgres@127.0.0.1:6440/ledger\n") == (
        "postgres://postgres@127.0.0.1:6440/ledger"
    )
    printed = "noise\nDATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5450/ledger\n"
    assert url_of(printed) == "postgres://postgres@127.0.0.1:5450/ledger"


def test_the_database_of_a_url_is_replaced():
    url = "postgres://postgres@127.0.0.1:6440/ledger"
    assert with_database(url, "scale_replica") == "postgres://postgres@127.0.0.1:6440/scale_replica"
    assert with_database("postgres://u@h:1", "x") == "postgres://u@h:1/x"


def test_the_load_balancer_configuration_is_valid(tmp_path):
    """Round robin over every server, each health-checked on /healthz and given no more
    requests at once than it has workers; HAProxy itself accepts the file."""
    config = haproxy_config(tmp_path, 8100, [8101, 8102], workers=3)
    assert "balance roundrobin" in config and "uri /healthz" in config
    assert "maxconn 3" in config and "option forwardfor" in config
    assert "server app1 127.0.0.1:8101" in config and "server app2 127.0.0.1:8102" in config
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if haproxy is None:
        pytest.skip("haproxy is not installed (bench/scale.py installs it)")
    (tmp_path / "haproxy.cfg").write_text(config)
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
