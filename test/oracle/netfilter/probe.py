#!/usr/bin/env python3
"""Listener and client for the netfilter oracle (test/oracle/netfilter.test.ts).

  probe.py listen PORTS_JSON      (in the server namespace) binds TCP and UDP on 0.0.0.0 and [::]
                                  (v6-only) for every port; UDP echoes; one thread (selectors); prints "ready" and runs until killed.
  probe.py connect PROBES_JSON    (in the client namespace) tries every probe at once: TCP connect,
                                  or a UDP datagram that must be echoed; prints one JSON line of results.
A probe is {"id", "family": 4|6, "proto", "src", "dst", "port"}; a result is "open" or "closed".
"""
import json, selectors, socket, sys, threading

TIMEOUT = 2.0

def listen(ports):
    sel = selectors.DefaultSelector()
    for port in ports:
        for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
            t = socket.socket(fam, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            t.bind((addr, port)); t.listen(64); t.setblocking(False)
            sel.register(t, selectors.EVENT_READ, 'tcp')
            u = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind((addr, port)); u.setblocking(False)
            sel.register(u, selectors.EVENT_READ, 'udp')
    print('ready', flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if key.data == 'tcp':
                    c, _ = s.accept(); c.close()
                else:
                    data, peer = s.recvfrom(2048); s.sendto(data, peer)
            except OSError:
                pass

def one(p, out):
    fam = socket.AF_INET if p['family'] == 4 else socket.AF_INET6
    kind = socket.SOCK_STREAM if p['proto'] == 'tcp' else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.settimeout(TIMEOUT)
    try:
        s.bind((p['src'], 0))
        if p['proto'] == 'tcp':
            s.connect((p['dst'], p['port']))
            out[p['id']] = 'open'
        else:
            s.connect((p['dst'], p['port']))
            s.send(b'portolan')
            out[p['id']] = 'open' if s.recv(2048) == b'portolan' else 'closed'
    except OSError:
        out[p['id']] = 'closed'
    finally:
        s.close()

def connect(probes):
    out = {}
    threads = [threading.Thread(target=one, args=(p, out)) for p in probes]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps(out), flush=True)

if __name__ == '__main__':
    arg = json.loads(open(sys.argv[2]).read())
    listen(arg) if sys.argv[1] == 'listen' else connect(arg)
