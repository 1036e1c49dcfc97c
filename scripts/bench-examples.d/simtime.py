"""Splits each run's wall time into the client's part and the simulator's (scripts/bench-examples).

Usage: simtime.py --sim-pid PID [-n RUNS] [--pin CPU] --vs 'CMD_B' -- CMD_A ...

Runs A and B in turn (A B A B ..., after one uncounted run of each) and, per run, reads:
- wall: time.monotonic around start..reap;
- client CPU: user + sys of the reaped child (os.wait4);
- simulator CPU: the CPU time all threads of process PID spent meanwhile, from
  /proc/PID/task/*/schedstat (nanoseconds; the simulator serves no one else). On one core of
  its own, a run cannot take less wall time than this: it is the floor no client beats for
  the same calls;
- client side: wall - simulator CPU (the client's own start, work and exit, plus the
  latencies between the two).
Prints the medians of each, the ratios A/B of each median, and the best ratio A could reach
if its client side took no time at all (A's simulator CPU over B's wall).
"""
import argparse, os, shlex, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--sim-pid", type=int, required=True)
ap.add_argument("-n", type=int, default=20)
ap.add_argument("--pin", default=None)
ap.add_argument("--vs", required=True)
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd_a = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
cmd_b = shlex.split(a.vs)
cpus = {int(c) for c in a.pin.split(",")} if a.pin else None


def sim_ns():
    total = 0
    base = f"/proc/{a.sim_pid}/task"
    for t in os.listdir(base):
        try:
            with open(f"{base}/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total


def run(cmd):
    s0 = sim_ns()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL,
                         preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    sim = (sim_ns() - s0) / 1e9
    if status != 0:
        sys.exit(f"{cmd[0]} failed (status {status})")
    return {"wall": wall, "client cpu": ru.ru_utime + ru.ru_stime, "sim cpu": sim,
            "client side": wall - sim}


run(cmd_a)
run(cmd_b)
rows = {"A": [], "B": []}
for _ in range(a.n):
    rows["A"].append(run(cmd_a))
    rows["B"].append(run(cmd_b))
med = {s: {k: statistics.median(r[k] for r in rows[s]) for k in rows[s][0]} for s in rows}
print(f"medians of {a.n} runs, ms      {'A':>8} {'B':>8} {'A/B':>6}")
for k in med["A"]:
    ratio = med["A"][k] / med["B"][k] if med["B"][k] else float("nan")
    print(f"{k:<26} {med['A'][k] * 1e3:8.2f} {med['B'][k] * 1e3:8.2f} {ratio:6.2f}")
print(f"best A/B wall with no client-side time: {med['A']['sim cpu'] / med['B']['wall']:.2f}")
