# SPDX-License-Identifier: BSD-2-Clause
# proc_cpu.py - CPU time (clock ticks) of the process trees rooted at the
# given PIDs, for make bench-mail: for every process in a tree,
# utime + stime + cutime + cstime from /proc/PID/stat.  A child that has
# exited and been reaped is in its parent's cutime/cstime, a live one is
# counted itself, so the difference of two readings is the CPU the whole
# tree used in between (Postfix's master reaps its smtpd, cleanup, qmgr,
# smtp ... children; threads are part of their process).
#
# usage: python3 proc_cpu.py PID...   prints one integer per PID (ticks)
import os
import sys


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # fields after comm: state(0) ppid(1) ... utime(11) stime(12)
    # cutime(13) cstime(14)
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def main():
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat(d)
            if st is not None:
                procs[int(d)] = st
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out = []
    for root in (int(p) for p in sys.argv[1:]):
        total, todo = 0, [root]
        while todo:
            p = todo.pop()
            if p in procs:
                total += procs[p][1]
                todo.extend(children.get(p, []))
        out.append(str(total))
    print(" ".join(out))


main()
