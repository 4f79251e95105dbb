#!/usr/bin/env python3
# The loss-and-delay half of a shaped link (shaped-link.ts): this kernel has no
# netem, so two tun devices are bridged here in userspace. Every IP packet one
# tun hands us is dropped with probability `loss` (seeded, so runs repeat) or
# written to the other tun `delay` ms later, in order. The tun devices are not
# persistent: they vanish when this process exits, however it exits.
#
#   shaped-link-relay.py NAME_A NAME_B SEED
#
# Prints "ready" once both devices exist. Reads commands on stdin, one a line:
#   loss 0.02     drop 2% of packets from now on (both directions)
#   delay 20      hold every packet 20 ms (one way; both directions)
#   stats         print "stats FORWARDED DROPPED" (packets, both directions)
# Ends when stdin closes or a device goes away.
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    name_a, name_b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tun_a, tun_b = open_tun(name_a), open_tun(name_b)
    other = {tun_a: tun_b, tun_b: tun_a}
    chance = random.Random(seed)
    loss, delay = 0.0, 0.0
    forwarded = dropped = 0
    # (due time, arrival order, destination fd, packet): a constant delay keeps the order.
    pending = []
    order = 0
    stdin = sys.stdin.fileno()
    print('ready', flush=True)
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([tun_a, tun_b, stdin], [], [], timeout)
        for fd in readable:
            if fd == stdin:
                line = sys.stdin.readline()
                if line == '':
                    return
                words = line.split()
                if words[:1] == ['loss']:
                    loss = float(words[1])
                elif words[:1] == ['delay']:
                    delay = float(words[1]) / 1000
                elif words[:1] == ['stats']:
                    print(f'stats {forwarded} {dropped}', flush=True)
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    return  # the device is gone (its namespace was removed): the link is over
                if loss > 0 and chance.random() < loss:
                    dropped += 1
                    continue
                order += 1
                heapq.heappush(pending, (time.monotonic() + delay, order, other[fd], packet))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, destination, packet = heapq.heappop(pending)
            try:
                os.write(destination, packet)
                forwarded += 1
            except OSError:
                pass  # the device is not up yet or its queue is full: the packet is lost, as on a wire


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
