"""Splits each run's wall time into the client's part and the simulator's (scripts/bench-examples).

Usage: simtime.py --sim-pid PID [-n RUNS] [--pin CPU] --vs 'CMD_B' -- CMD_A ...

--pin pins this timer itself, and so the programs it starts (they inherit it), rather than
each child after its fork: Python then starts a child with vfork+exec, whereas a pinning
preexec_fn forks the whole interpreter and runs Python code in the child before exec, which
adds about 1 ms of wall and CPU to every run of either program (measured: a hello-world in
2.0 ms that way, 1.0 ms pinned beforehand, 0.8 ms under perf stat).

Runs A and B n times each after one uncounted run of each, in the order A B B A A B B A ...
(so that anything the simulator does every other call, such as its garbage collection after
a big reply, falls on both sides alike rather than always on the same one) and, per run, reads:
- wall: time.monotonic around start..reap;
- client CPU: user + sys of the reaped child (os.wait4);
- simulator CPU: the CPU time all threads of process PID spent meanwhile, from
  /proc/PID/task/*/schedstat (nanoseconds; the simulator serves no one else). On one core of
  its own, a run cannot take less wall time than this: it is the floor no client beats for
  the same calls;
- client side: wall - simulator CPU (the client's own start, work and exit, plus the
  latencies between the two).
Prints the medians of each, the ratios A/B of each median, the simulator CPU's means (its
garbage collection makes it bimodal for big replies), and the best ratio A could reach if
its client side took no time at all (A's mean simulator CPU over B's median wall).
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
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    sim = (sim_ns() - s0) / 1e9
    if status != 0:
        sys.exit(f"{cmd[0]} failed (status {status})")
    return {"wall": wall, "client cpu": ru.ru_utime + ru.ru_stime, "sim cpu": sim,
            "client side": wall - sim}


if cpus:
    os.sched_setaffinity(0, cpus)
run(cmd_a)
run(cmd_b)
rows = {"A": [], "B": []}
for i in range(a.n):
    order = ["A", "B"] if i % 2 == 0 else ["B", "A"]
    for side in order:
        rows[side].append(run(cmd_a if side == "A" else cmd_b))
med = {s: {k: statistics.median(r[k] for r in rows[s]) for k in rows[s][0]} for s in rows}
print(f"medians of {a.n} runs, ms      {'A':>8} {'B':>8} {'A/B':>6}")
for k in med["A"]:
    ratio = med["A"][k] / med["B"][k] if med["B"][k] else float("nan")
    print(f"{k:<26} {med['A'][k] * 1e3:8.2f} {med['B'][k] * 1e3:8.2f} {ratio:6.2f}")
mean = {s: statistics.mean(r["sim cpu"] for r in rows[s]) for s in rows}
print(f"{'sim cpu, means':<26} {mean['A'] * 1e3:8.2f} {mean['B'] * 1e3:8.2f} "
      f"{mean['A'] / mean['B'] if mean['B'] else float('nan'):6.2f}")
print(f"best A/B wall with no client-side time: {mean['A'] / med['B']['wall']:.2f}")
