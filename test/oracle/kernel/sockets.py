#!/usr/bin/env python3
"""Kernel oracle stand-in: opens the listening sockets a program opens, with the socket options it
sets, in order. Used for programs that cannot run in the test's namespace (systemd-resolved, systemd's
.socket units). Sockets of one "group" stand or fall together: when one cannot bind, the group's
sockets are closed and the rest of the group is skipped; other groups go on (resolved keeps its extra
listeners when its stubs fail; a .socket unit is one group). A socket without a group is its own.

    python3 sockets.py '[{"protocol": "udp", "family": "ipv4", "address": "127.0.0.53", "port": 53,
                          "reuseaddr": true, "bindToDevice": "lo", "freebind": false}, ...]'

Prints one JSON line once every socket is tried: {"status": "ok"} when all bound (TCP ones listening),
else {"status": "eaddrinuse" | "error", "detail": ...} for the first that did not; then holds what
bound until SIGTERM (or exits at once when nothing bound).
"""
import json
import signal
import socket
import sys

IP_PKTINFO = 8
IP_RECVTTL = 12
IP_FREEBIND = 15
IPV6_RECVPKTINFO = 49
IPV6_FREEBIND = 78
SO_BINDTODEVICE = 25


def open_one(s):
    family = socket.AF_INET6 if s["family"] == "ipv6" else socket.AF_INET
    kind = socket.SOCK_STREAM if s["protocol"] == "tcp" else socket.SOCK_DGRAM
    fd = socket.socket(family, kind)
    try:
        if s.get("reuseaddr"):
            fd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if s.get("reuseport"):
            fd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET:
            fd.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            fd.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
            if s.get("freebind"):
                fd.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        else:
            # Only when the program sets it: otherwise net.ipv6.bindv6only decides (0 in a fresh namespace).
            if s.get("v6only") is not None:
                fd.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if s["v6only"] else 0)
            fd.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            if s.get("freebind"):
                fd.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        if s.get("bindToDevice"):
            fd.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, s["bindToDevice"].encode())
        fd.bind((s["address"], s["port"]))
        if kind == socket.SOCK_STREAM:
            fd.listen(128)
        return fd
    except BaseException:
        fd.close()
        raise


def main():
    specs = json.loads(sys.argv[1])
    opened = []  # (group, fd)
    failed_groups = set()
    first_failure = None
    for i, s in enumerate(specs):
        group = s.get("group") or "socket %d" % i
        if group in failed_groups:
            continue
        where = "%s:%d/%s" % ("[%s]" % s["address"] if s["family"] == "ipv6" else s["address"], s["port"], s["protocol"])
        try:
            opened.append((group, open_one(s)))
        except OSError as e:
            failed_groups.add(group)
            for g, fd in opened:
                if g == group:
                    fd.close()
            opened = [(g, fd) for g, fd in opened if g != group]
            if first_failure is None:
                first_failure = {"status": "eaddrinuse" if e.errno == 98 else "error", "detail": "bind %s: %s" % (where, e.strerror)}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps(first_failure or {"status": "ok"}), flush=True)
    if opened:
        signal.pause()

main()
