"""send_small_packets_at_once: TCP_NODELAY on the SSH connection's socket (a real one)."""

from __future__ import annotations

import socket
from types import SimpleNamespace

from tasks.pyinfra_helpers import send_small_packets_at_once


def _host_with(sock) -> SimpleNamespace:
    transport = SimpleNamespace(sock=sock)
    client = SimpleNamespace(get_transport=lambda: transport)
    return SimpleNamespace(connector=SimpleNamespace(client=client))


def test_the_ssh_socket_sends_small_packets_at_once():
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as sock,
    ):
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        send_small_packets_at_once(_host_with(sock))
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_other_connections_are_left_alone():
    left, right = socket.socketpair()  # a proxy command's pipe is no TCP socket
    with left, right:
        send_small_packets_at_once(_host_with(left))
    send_small_packets_at_once(SimpleNamespace(connector=SimpleNamespace()))  # @local
    send_small_packets_at_once(_host_with(None))  # not connected


def test_every_deploy_file_sets_it_when_it_prepares_a_host():
    """prepare_host() is the first call of each deploy file that acts on a host."""
    from pyinfra.context import ctx_host, ctx_state

    from tasks.actions.preflight import prepare_host
    from tests.unit.fake_host import FakeFacts, fake_state

    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as sock,
        fake_state(FakeFacts()) as (state, host),
    ):
        host.connector.client = _host_with(sock).connector.client
        with ctx_state.use(state), ctx_host.use(host):
            prepare_host()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_each_deploy_file_that_acts_on_a_host_prepares_it_first():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cloud_only = {"provision.py", "destroy.py"}  # they talk to DigitalOcean's API only
    for deploy_file in sorted(root.glob("*.py")):
        if deploy_file.name not in cloud_only:
            assert "prepare_host()" in deploy_file.read_text(), deploy_file.name
