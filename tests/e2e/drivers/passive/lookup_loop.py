# The loop the Python clients share (README.md): `once` prints rows 1..6 and exits; `loop` looks
# them up once, prints `warm`, then every 20 ms until killed.
import sys, time


def run(mode, lookup):
    if mode == "once":
        for i in range(1, 7):
            print("row", i, lookup(i))
        sys.exit(0)
    for i in range(1, 7):
        lookup(i)
    print("warm", flush=True)
    while True:
        for i in range(1, 7):
            lookup(i)
            time.sleep(0.02)
