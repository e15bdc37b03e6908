#!/usr/bin/env python3
"""Kernel oracle stand-in: opens the listening sockets a program opens, with the socket options it
sets, in order; all or nothing. Used for programs that cannot run in the test's namespace (systemd-resolved).

    python3 sockets.py '[{"protocol": "udp", "family": "ipv4", "address": "127.0.0.53", "port": 53,
                          "reuseaddr": true, "bindToDevice": "lo", "freebind": false}, ...]'

Prints one JSON line: {"status": "ok"} once every socket is bound (TCP ones listening), then waits
for SIGTERM; or {"status": "eaddrinuse" | "error", "detail": ...} and exits, closing what it opened.
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
            fd.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if s.get("v6only", True) else 0)
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
    opened = []
    for s in specs:
        where = "%s:%d/%s" % ("[%s]" % s["address"] if s["family"] == "ipv6" else s["address"], s["port"], s["protocol"])
        try:
            opened.append(open_one(s))
        except OSError as e:
            for fd in opened:
                fd.close()
            status = "eaddrinuse" if e.errno == 98 else "error"
            print(json.dumps({"status": status, "detail": "bind %s: %s" % (where, e.strerror)}), flush=True)
            return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"status": "ok"}), flush=True)
    signal.pause()


main()
