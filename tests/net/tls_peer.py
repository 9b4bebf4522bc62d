#!/usr/bin/python3
"""A TLS peer written with Python's ssl module, for tls_transport_test.

  tls_peer.py server CERT KEY [--tls12] [--alpn P1,P2]
      Listens on 127.0.0.1 (any port), prints "port N", accepts one
      connection, echoes what it receives until the client's close_notify,
      answers with its own, then prints "echoed N sni=NAME alpn=P version=V".

  tls_peer.py client PORT CAFILE HOSTNAME SIZE [--alpn P1,P2]
      Connects, verifies the server as HOSTNAME against CAFILE, sends SIZE
      bytes (the pattern in pattern()), reads SIZE bytes back, checks them,
      sends close_notify and waits for the server's, then prints
      "ok N alpn=P version=V".

Errors go to stderr with exit status 1.
"""
import socket
import ssl
import sys


def pattern(n):
    """The bytes both sides agree on: i * 7 mod 251 (no period of 256)."""
    block = bytes((i * 7) % 251 for i in range(251))
    return (block * (n // 251 + 1))[:n]


def option(args, name):
    if name in args:
        return args[args.index(name) + 1]
    return None


def serve(args):
    certfile, keyfile = args[0], args[1]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if "--tls12" in args:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    alpn = option(args, "--alpn")
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    seen = {}

    def sni(sslobj, name, context):
        seen["sni"] = name

    ctx.sni_callback = sni
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print("port", listener.getsockname()[1], flush=True)
        raw, _ = listener.accept()
        with ctx.wrap_socket(raw, server_side=True) as conn:
            total = 0
            while True:
                data = conn.recv(65536)
                if not data:
                    break  # close_notify
                conn.sendall(data)
                total += len(data)
            facts = "alpn=%s version=%s" % (conn.selected_alpn_protocol(), conn.version())
            conn.unwrap()
            print("echoed", total, "sni=%s" % seen.get("sni"), facts, flush=True)


def connect(args):
    port, cafile, hostname, size = int(args[0]), args[1], args[2], int(args[3])
    ctx = ssl.create_default_context(cafile=cafile)
    alpn = option(args, "--alpn")
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    payload = pattern(size)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=hostname) as conn:
            conn.sendall(payload)
            got = bytearray()
            while len(got) < size:
                data = conn.recv(65536)
                if not data:
                    break
                got += data
            if bytes(got) != payload:
                sys.exit("echo differs: got %d bytes, sent %d" % (len(got), size))
            facts = "alpn=%s version=%s" % (conn.selected_alpn_protocol(), conn.version())
            conn.unwrap()
            print("ok", len(got), facts, flush=True)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    try:
        if mode == "server":
            serve(args)
        else:
            connect(args)
    except Exception as e:  # the test prints stderr when it fails
        sys.exit("%s: %r" % (mode, e))


if __name__ == "__main__":
    main()
