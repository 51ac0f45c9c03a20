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
