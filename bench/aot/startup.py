#!/usr/bin/python3
"""Process start -> exit (after the first prediction is printed): wall-clock milliseconds of N runs of a command,
run back to back; prints the median and the fastest. bench/aot.sh calls it for the AOT binary, the JIT run and PyTorch.
   startup.py NAME RUNS -- COMMAND ARGS...
"""
import statistics
import subprocess
import sys
import time

name, runs = sys.argv[1], int(sys.argv[2])
cmd = sys.argv[sys.argv.index("--") + 1:]
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
ms = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ms.append((time.perf_counter() - t0) * 1000)
print(f"{name}: start -> first prediction (process exit) median {statistics.median(ms):.1f} ms, fastest {min(ms):.1f} ms over {runs} runs")
