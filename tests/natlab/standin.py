#!/usr/bin/env python3
"""A minimal hole-punching peer for the NAT lab, standing in for the CLI.

Protocol of the original server only (no Ack, no private endpoints):
register over UDP from the punching socket (resent every second while
waiting), one TCP request, read the one response line, then send probes to
Dest every 150 ms until one arrives from Dest. Output lines follow the CLI:
"public IP:PORT", "partner IP:PORT", "punched IP:PORT via public",
"received TEXT"; "error: REASON" and exit 1 otherwise.

  standin.py MODE --server IP:PORT --local-peer-port N --bind PORT
             [--remote IP:PEERPORT] [--timeout S] [--send TEXT] [--go FILE]

MODE is peer, client or server (server: one client). With --go FILE, after
the punch it waits for FILE to exist, then sends TEXT five times and prints
every datagram it receives for 3 s.
"""
import argparse, json, os, select, socket, sys, time


def ep(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["peer", "client", "server"])
    ap.add_argument("--server", required=True)
    ap.add_argument("--local-peer-port", type=int, required=True)
    ap.add_argument("--bind", type=int, default=0)
    ap.add_argument("--remote")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--send")
    ap.add_argument("--go")
    a = ap.parse_args()
    srv = ep(a.server)
    deadline = time.monotonic() + a.timeout
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", a.bind))
    reg = json.dumps({"PeerPort": a.local_peer_port}).encode()
    u.sendto(reg, srv)
    t = socket.create_connection(srv, timeout=a.timeout)
    req = {"LocalPeerPort": a.local_peer_port,
           "ConnectionType": a.mode.capitalize()}
    if a.mode != "server":
        rip, rpp = ep(a.remote)
        req.update(RemoteIP=rip, RemotePeerPort=rpp)
    t.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    last_reg = time.monotonic()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            print("error: no response from the rendezvous server", flush=True)
            return 1
        r, _, _ = select.select([t], [], [], min(left, 1.0))
        if r:
            d = t.recv(4096)
            if not d:
                print("error: rendezvous server closed the connection", flush=True)
                return 1
            buf += d
        if time.monotonic() - last_reg >= 1:
            u.sendto(reg, srv)
            last_reg = time.monotonic()
    resp = json.loads(buf.split(b"\n", 1)[0])
    if a.mode != "server":
        t.close()
    if resp["Error"]:
        print("error: rendezvous server: " + resp["Error"], flush=True)
        return 1
    print("public %s:%d" % (resp["SourceIP"], resp["SourcePort"]), flush=True)
    dest = (resp["DestIP"], resp["DestPort"])
    print("partner %s:%d" % dest, flush=True)
    last = 0.0
    got = False
    acked = False
    while not (got and acked):
        now = time.monotonic()
        if now >= deadline:
            print("error: no answer from %s:%d within %gs"
                  % (dest + (a.timeout,)), flush=True)
            return 1
        if now - last >= 0.15:
            u.sendto(b"probe-ack" if got else b"probe", dest)
            last = now
        r, _, _ = select.select([u], [], [], 0.05)
        if r:
            try:
                d, src = u.recvfrom(2048)
            except ConnectionRefusedError:
                continue
            if src != dest:
                continue
            if d in (b"probe", b"probe-ack"):
                got = True
                acked = acked or d == b"probe-ack"
    for _ in range(3):
        u.sendto(b"probe-ack", dest)
    print("punched %s:%d via public" % dest, flush=True)
    if a.go:
        while not os.path.exists(a.go):
            if time.monotonic() >= deadline + 30:
                print("error: never told to go", flush=True)
                return 1
            time.sleep(0.05)
    if a.send:
        for _ in range(5):
            u.sendto(("data:" + a.send).encode(), dest)
            time.sleep(0.1)
    end = time.monotonic() + 3
    seen = 0
    while time.monotonic() < end:
        r, _, _ = select.select([u], [], [], 0.1)
        if r:
            try:
                d, src = u.recvfrom(2048)
            except ConnectionRefusedError:
                continue
            if src == dest and d.startswith(b"data:"):
                seen += 1
                if seen == 1:
                    print("received " + d[5:].decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
