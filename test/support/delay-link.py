#!/usr/bin/env python3
# A wire with a delay, for the NAT tests (test/support/nat-topology.ts): every frame that
# arrives on one interface leaves the other DELAY_MS later, both ways, in order. The kernel
# here has no netem; this stands in for the internet's one-way delay between a home router
# and the rest of the wan. Usage: delay-link.py IF_A IF_B DELAY_MS. Exits when an interface goes.
import heapq, select, socket, sys, time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_VNET_HDR = 15

def open_raw(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # frames come with a virtio-net header (checksum still to fill in, segmentation still to do)
    # and go out with it, so the other side's kernel finishes them as the sender's would have
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((name, 0))
    s.setblocking(False)
    return s

a, b = open_raw(sys.argv[1]), open_raw(sys.argv[2])
delay = float(sys.argv[3]) / 1000
other = {a: b, b: a}
queue, order = [], 0
sys.stdout.write('ready\n')
sys.stdout.flush()
while True:
    timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
    readable, _, _ = select.select([a, b], [], [], timeout)
    now = time.monotonic()
    for s in readable:
        while True:
            try:
                frame, address = s.recvfrom(65535)
            except BlockingIOError:
                break
            if address[2] == PACKET_OUTGOING:
                continue
            order += 1
            heapq.heappush(queue, (now + delay, order, other[s], frame))
    while queue and queue[0][0] <= time.monotonic():
        _, _, out, frame = heapq.heappop(queue)
        try:
            out.send(frame)
        except OSError:
            pass  # a frame the other end cannot take is lost, as on a real link
