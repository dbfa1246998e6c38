#!/usr/bin/env python3
"""Write a proxyd config with N routes, for measuring route lookup cost.

    gen_routes.py N PORT > rules.conf

Routes are what a big office file looks like: mostly NO_PROXY-style
domain lists (indexed), a few regex and CIDR routes (tested in order for
every request), all before a last route that takes what the benchmark
sends (127.0.0.1).  N=1 gives just that last route.
"""
import sys


def main():
    n, port = int(sys.argv[1]), int(sys.argv[2])
    print("[proxyd]\nlisten = 127.0.0.1:%d\nconnect_ports = 1-65535\n"
          "max_clients = 100000\n" % port)
    for i in range(n - 1):
        print("[route r%d]" % i)
        if i % 100 == 7:
            print("regex = ^http://[^/]*\\.internal%d\\.example/" % i)
        elif i % 100 == 42:
            print("hosts = 10.%d.0.0/16" % (i % 256))
        else:
            print("hosts = svc%d.example.com, .corp%d.example.net, "
                  "git%d.example.org:8443" % (i, i, i))
        print("upstream = direct\n")
    print("[route bench]\nhosts = 127.0.0.1\nupstream = direct")


if __name__ == "__main__":
    main()
