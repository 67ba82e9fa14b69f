#!/usr/bin/env python3
"""Turns the raw results of bench/run.sh, bench/sched.sh and
bench/escape_cost.sh into the benchmark report: a table on stdout, and in
the report directory report.md, raw.tsv (every run's value), summary.tsv
(the table) and the data files bench/report.gp draws its charts from.
Called by bench/report.sh:

  report.py <build-dir> <report-dir> <meta-file> <chart-data-dir>

The meta file has key=value lines from report.sh (runs, loads, timings,
exit statuses). Python 3 standard library only.
"""
import os
import platform
import re
import subprocess
import sys

build, report_dir, meta_file, chart_dir = sys.argv[1:5]
bench = os.path.join(build, "bench")
sched = os.path.join(bench, "sched")
escape = os.path.join(bench, "escape")

meta = {}
with open(meta_file) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v


# ---------------------------------------------------------------- raw data

def read_values(path, field=1):
    """The numbers of one benchmark, one per run: the field after the label
    (run.sh's files) or the only field (sched.sh's and escape_cost.sh's)."""
    values = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) > field:
                    try:
                        values.append(float(parts[field]))
                    except ValueError:
                        pass
    return values


def failed(key):
    """How many runs of a sched.sh key failed (its <key>.failed file)."""
    path = os.path.join(sched, key + ".failed")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for _ in f)


series = {}  # name -> (unit, values, note)


def add(name, path, unit, field=0, scale=1.0, key=None):
    values = [v * scale for v in read_values(path, field)]
    note = ""
    if key and failed(key):
        note = f"{key} failed in {failed(key)} run(s)"
    series[name] = (unit, values, note)


# run.sh: "fib <ns per fib(35)> ...", "growth <ns per byte> ..."
add("fib/goroutine", os.path.join(bench, "fib_goroutine.txt"), "ms", 1, 1e-6)
add("fib/plain", os.path.join(bench, "fib_plain.txt"), "ms", 1, 1e-6)
add("fib/go", os.path.join(bench, "fib_go.txt"), "ms", 1, 1e-6)
add("growth/goroutine", os.path.join(bench, "growth.txt"), "ns/B", 1)
add("growth/go", os.path.join(bench, "growth_go.txt"), "ns/B", 1)
# sched.sh: one number per line in <key>.<label>.txt
for procs in (1, 2):
    for name in ("spawn", "pingpong", "yield", "parked"):
        unit = "B" if name == "parked" else "ns"
        for side in ("ours", "go"):
            key = f"{name}_{side}_{procs}"
            add(f"{name}/{'goroutine' if side == 'ours' else 'go'}/{procs}P",
                os.path.join(sched, f"{key}.{name}.txt"), unit, key=key)
        if name != "parked":
            key = f"{name}_threads_{procs}"
            add(f"{name}/threads/{procs}P",
                os.path.join(sched, f"{key}.{name}_threads.txt"), unit, key=key)
    add(f"parked_stack/goroutine/{procs}P",
        os.path.join(sched, f"parked_ours_{procs}.parked_stack.txt"), "B",
        key=f"parked_ours_{procs}")
add("parked/threads", os.path.join(sched, "parked_threads.parked_threads.txt"),
    "B", key="parked_threads")
# escape_cost.sh: seconds per run in <lib>.<program>.<variant>
programs = ["oniguruma/testc", "oniguruma/testu", "libxml2/testapi",
            "libxml2/testlimits", "libxml2/testdict"]
for prog in programs:
    lib, t = prog.split("/")
    for v in ("reference", "goroutine", "noescape"):
        add(f"{prog}/{v}", os.path.join(escape, f"{lib}.{t}.{v}"), "s")


def stats(name):
    """(min, median) as the shell scripts compute them (the lower median
    for an even count), or None when there is no value."""
    values = sorted(series.get(name, ("", [], ""))[1])
    if not values:
        return None
    return values[0], values[(len(values) + 1) // 2 - 1]


# ---------------------------------------------------------------- the table

def fmt(x, unit):
    if x is None:
        return "n/a"
    if unit == "s":
        return f"{x:.3f}" if x >= 1 else f"{x:.4f}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def cell(name):
    s = stats(name)
    if s is None:
        return "n/a"
    unit = series[name][0]
    return f"{fmt(s[0], unit)} ({fmt(s[1], unit)})"


def ratio(a, b):
    sa, sb = stats(a), stats(b)
    if sa is None or sb is None or sb[0] == 0 or sb[1] == 0:
        return None
    return sa[0] / sb[0], sa[1] / sb[1]


def rfmt(r):
    if r is None:
        return ""
    def one(x):
        return f"{x:.3f}x" if x < 10 else f"{x:.0f}x"
    return f"{one(r[0])} ({one(r[1])})"


# A row: the label, the unit, the series of ours, Go, threads and the
# uninstrumented build (None where there is none), and the goals: a list of
# (text, test) with test(min ratios dict, our min) -> True/False/None.
rows = []


def row(section, label, unit, ours, go=None, threads=None, plain=None,
        goals=(), extra=None):
    rows.append(dict(section=section, label=label, unit=unit, ours=ours,
                     go=go, threads=threads, plain=plain, goals=list(goals),
                     extra=extra))


def goal_ratio(which, limit):
    def test(r, ours_min):
        x = r.get(which)
        return None if x is None else x[0] <= limit
    return test


def goal_abs(limit):
    def test(r, ours_min):
        return None if ours_min is None else ours_min <= limit
    return test


S1 = "Call cost and stack growth (bench/run.sh)"
row(S1, "fib(35), both calls kept", "ms", "fib/goroutine", go="fib/go",
    plain="fib/plain",
    goals=[("<= 1.03x plain", goal_ratio("plain", 1.03))])
row(S1, "stack growth, per byte copied", "ns/B", "growth/goroutine",
    go="growth/go", goals=[("<= 1.0x Go", goal_ratio("go", 1.0))])
S2 = "Scheduler (bench/sched.sh)"
for procs in (1, 2):
    row(S2, f"spawn+run+join, {procs} P, per goroutine/thread", "ns",
        f"spawn/goroutine/{procs}P", go=f"spawn/go/{procs}P",
        threads=f"spawn/threads/{procs}P",
        goals=[("<= 0.15x Go", goal_ratio("go", 0.15))])
for procs in (1, 2):
    row(S2, f"ping-pong round trip, {procs} P", "ns",
        f"pingpong/goroutine/{procs}P", go=f"pingpong/go/{procs}P",
        threads=f"pingpong/threads/{procs}P",
        goals=[("<= 0.25x Go", goal_ratio("go", 0.25))])
row(S2, "yield, 1 P, per switch", "ns", "yield/goroutine/1P",
    go="yield/go/1P", threads="yield/threads/1P",
    goals=[("<= 0.2x Go", goal_ratio("go", 0.2))])
row(S2, "yield, 2 P, per yield", "ns", "yield/goroutine/2P",
    go="yield/go/2P", threads="yield/threads/2P")
for procs in (1, 2):
    row(S2, f"RSS per parked goroutine/thread, {procs} P", "B",
        f"parked/goroutine/{procs}P", go=f"parked/go/{procs}P",
        threads="parked/threads",
        goals=[("<= 1,000 B", goal_abs(1000)),
               ("<= 0.37x Go", goal_ratio("go", 0.37)),
               ("<= 0.125x threads", goal_ratio("threads", 0.125))])
S3 = "Real-world programs, plugin vs plain clang -O2 (bench/escape_cost.sh)"
for prog in programs:
    row(S3, f"{prog}, process wall clock", "s", f"{prog}/goroutine",
        plain=f"{prog}/reference", extra=f"{prog}/noescape")

have_escape = any(stats(f"{p}/goroutine") for p in programs)
if not have_escape:
    rows[:] = [r for r in rows if r["section"] != S3]

for r in rows:
    r["ratios"] = {}
    for which in ("go", "threads", "plain", "extra"):
        if r[which]:
            x = ratio(r["ours"], r[which])
            if x is not None:
                r["ratios"][which] = x
    s = stats(r["ours"])
    verdicts = []
    for text, test in r["goals"]:
        ok = test(r["ratios"], s[0] if s else None)
        verdicts.append((text, ok))
    r["verdicts"] = verdicts
    notes = [series[n][2] for n in (r["ours"], r["go"], r["threads"],
                                    r["plain"], r["extra"])
             if n and series.get(n) and series[n][2]]
    r["notes"] = notes


def verdict_text(r):
    parts = []
    for text, ok in r["verdicts"]:
        parts.append(f"{text}: " + ("?" if ok is None else
                                    ("met" if ok else "NOT met")))
    return "; ".join(parts)


def columns(r):
    third = r["threads"] or r["extra"]
    third_ratio = r["ratios"].get("threads") or r["ratios"].get("extra")
    return [r["label"] + f" [{r['unit']}]", cell(r["ours"]),
            cell(r["go"]) if r["go"] else "",
            cell(third) if third else "",
            cell(r["plain"]) if r["plain"] else "",
            rfmt(r["ratios"].get("go")), rfmt(third_ratio),
            rfmt(r["ratios"].get("plain")), verdict_text(r)
            + ("".join(f" [{n}]" for n in r["notes"]))]


header = ["benchmark [unit]", "goroutine", "Go 1.19", "threads",
          "plain clang -O2", "/ Go", "/ threads", "/ plain", "goal"]
# The real-world section: ours, without escape transformations, plain.
header3 = ["program [unit]", "plugin", "plugin, no escape tr.",
           "plain clang -O2", "/ plain", "/ no escape tr."]


def section_columns(r):
    c = columns(r)
    if r["section"] == S3:
        return [c[0], c[1], c[3], c[4], c[7], c[6]]
    return c


# stdout: aligned text, one width per column over all sections.
table = [header] + [section_columns(r) for r in rows]
widths = [max(len(t[i]) for t in table if i < len(t))
          for i in range(len(header))]
widths = [max(w, len(h3)) if i < len(header3) else w
          for i, (w, h3) in enumerate(zip(widths, header3 + [""] * 9))]
section = None
runs_line = (f"{meta.get('fib_runs')} runs of fib and stack growth, "
             f"{meta.get('sched_runs')} of the scheduler benchmarks"
             + (f", {meta.get('escape_runs')} of the real-world programs"
                if have_escape else "")
             + "; min (median) of each, ratio = goroutine / other, "
               "min/min (median/median)")
print(runs_line)
for t, r in zip(table, [None] + rows):
    if r is not None and r["section"] != section:
        section = r["section"]
        print(f"\n== {section}")
        h = header3 if section == S3 else header
        print("  ".join(x.ljust(w) for x, w in zip(h, widths)).rstrip())
    if r is None:
        continue
    print("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
extra_stack = [(p, stats(f"parked_stack/goroutine/{p}P")) for p in (1, 2)]
print()
for p, s in extra_stack:
    if s:
        print(f"go::read_mem_stats() stack_inuse / num_goroutine, parked, "
              f"{p} P: {s[0]:.0f} ({s[1]:.0f}) B")

# ---------------------------------------------------------------- files

os.makedirs(report_dir, exist_ok=True)
os.makedirs(chart_dir, exist_ok=True)

with open(os.path.join(report_dir, "raw.tsv"), "w") as f:
    f.write("# series\tunit\tvalue of each run, in run order\n")
    for name, (unit, values, note) in series.items():
        if values:
            f.write(f"{name}\t{unit}\t" + " ".join(f"{v:.6g}" for v in values)
                    + "\n")

with open(os.path.join(report_dir, "summary.tsv"), "w") as f:
    f.write("# section\tbenchmark\tunit\tseries\tmin\tmedian\t"
            "ratio to (series)\tratio min/min\tratio median/median\tgoal\n")
    for r in rows:
        for which in ("ours", "go", "threads", "plain", "extra"):
            n = r[which]
            s = stats(n) if n else None
            if not s:
                continue
            rr = r["ratios"].get(which) if which != "ours" else None
            f.write("\t".join([r["section"].split(" (")[0], r["label"],
                               r["unit"], n, f"{s[0]:.6g}", f"{s[1]:.6g}",
                               n if rr else "", f"{rr[0]:.4f}" if rr else "",
                               f"{rr[1]:.4f}" if rr else "",
                               verdict_text(r) if which == "ours" else ""])
                    + "\n")


# Chart data (gnuplot reads whitespace-separated columns, quoted labels).
def val(name, i=0):
    s = stats(name) if name else None
    return f"{s[i]:.6g}" if s else "NaN"


with open(os.path.join(chart_dir, "time.dat"), "w") as f:
    f.write("# label goroutine go threads (min, ns)\n")
    for name, label in (("spawn", "spawn+join"), ("pingpong", "ping-pong"),
                        ("yield", "yield")):
        for p in (1, 2):
            f.write(f'"{label}\\n{p} P" {val(f"{name}/goroutine/{p}P")} '
                    f'{val(f"{name}/go/{p}P")} {val(f"{name}/threads/{p}P")}\n')

with open(os.path.join(chart_dir, "parked.dat"), "w") as f:
    f.write("# label bytes color\n")
    f.write(f'"goroutine\\n1 P" {val("parked/goroutine/1P")} 1\n')
    f.write(f'"goroutine\\n2 P" {val("parked/goroutine/2P")} 1\n')
    f.write(f'"Go 1.19\\n1 P" {val("parked/go/1P")} 2\n')
    f.write(f'"Go 1.19\\n2 P" {val("parked/go/2P")} 2\n')
    f.write(f'"thread\\n(10k)" {val("parked/threads")} 3\n')

with open(os.path.join(chart_dir, "ratios.dat"), "w") as f:
    f.write("# label ratio(min) goal\n")
    for r in rows:
        for (text, ok), (gtext, test) in zip(r["verdicts"], r["goals"]):
            m = re.match(r"<= ([0-9.]+)x (\w+)", text)
            if not m:
                continue
            which = {"plain": "plain", "Go": "go", "threads": "threads"}[
                m.group(2)]
            x = r["ratios"].get(which)
            short = (r["label"].replace(", per goroutine/thread", "")
                     .replace("RSS per parked goroutine/thread", "parked RSS")
                     .replace(", both calls kept", "")
                     .replace(", per byte copied", "")
                     .replace(", per switch", ""))
            f.write(f'"{short}\\nvs {m.group(2)}" '
                    f'{x[0] if x else "NaN"} {m.group(1)}\n')

with open(os.path.join(chart_dir, "calls.dat"), "w") as f:
    f.write("# label goroutine/plain go/plain noescape/plain (min)\n")

    def rel(a, b):
        x = ratio(a, b) if a and b else None
        return f"{x[0]:.4f}" if x else "NaN"
    f.write(f'"fib(35)" {rel("fib/goroutine", "fib/plain")} '
            f'{rel("fib/go", "fib/plain")} NaN\n')
    if have_escape:
        for prog in programs:
            f.write(f'"{prog}" {rel(f"{prog}/goroutine", f"{prog}/reference")}'
                    f' NaN {rel(f"{prog}/noescape", f"{prog}/reference")}\n')


# ---------------------------------------------------------------- report.md

def sh(*cmd, strip=True):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return ""
    return out.strip() if strip else out


def cpuinfo():
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if ":" in line:
                k, v = (x.strip() for x in line.split(":", 1))
                info.setdefault(k, v)
    return info


def lscpu():
    out = {}
    for line in sh("lscpu").splitlines():
        if ":" in line:
            k, v = (x.strip() for x in line.split(":", 1))
            out[k] = v
    return out


def os_release():
    out = {}
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip().split("=", 1)
                    out[k] = v.strip('"')
    except OSError:
        pass
    return out


ci, lc, osr = cpuinfo(), lscpu(), os_release()
flags = ci.get("flags", "").split()
mem_kb = 0
with open("/proc/meminfo") as f:
    for line in f:
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
try:
    with open("/etc/debian_version") as f:
        debian = f.read().strip()
except OSError:
    debian = "?"
src = meta.get("source_dir", "")
commit = sh("git", "-C", src, "rev-parse", "HEAD") or "unknown"
subject = sh("git", "-C", src, "log", "-1", "--format=%cd: %s",
             "--date=format:%Y-%m-%d %H:%M")
if len(subject) > 90:
    subject = subject[:87] + "..."
dirty = sh("git", "-C", src, "status", "--porcelain", "--untracked-files=no",
           "--", ".", ":!docs", strip=False)
dirty_files = [l[3:] for l in dirty.splitlines() if l.strip()]

def other_cpu(phase):
    """(CPU-seconds other processes used, seconds stolen, wall seconds)
    during a phase of report.sh, or (None, None, None)."""
    try:
        o, st, w = (float(x) for x in meta[f"other_{phase}"].split())
        return o, st, w
    except (KeyError, ValueError):
        return None, None, None


def other_text():
    parts = []
    for phase, title in (("cpu", "fib and growth"), ("sched", "scheduler"),
                         ("escape", "real-world")):
        o, st, w = other_cpu(phase)
        if o is not None:
            parts.append(f"{title} {o:.0f} of {w:.0f} s"
                         + (f" ({st:.0f} s stolen)" if st >= 1 else ""))
    o, st, w = other_cpu("all")
    if o is None:
        return "?"
    return (f"{o:.0f} CPU-seconds in the {w:.0f} s of the runs "
            f"({100 * o / w if w else 0:.0f}% of one CPU; the hypervisor stole "
            f"{st:.0f} s): " + ", ".join(parts))


machine = [
    ("CPU", f"{ci.get('model name', '?')} (vendor {ci.get('vendor_id', '?')}, "
            f"family {ci.get('cpu family', '?')}, model {ci.get('model', '?')}, "
            f"stepping {ci.get('stepping', '?')}), "
            + ("AVX2" if "avx2" in flags else "no AVX2")
            + (", AVX-512" if "avx512f" in flags else ", no AVX-512")),
    ("cores", f"{os.cpu_count()} CPUs: {lc.get('Socket(s)', '?')} socket, "
              f"{lc.get('Core(s) per socket', '?')} cores per socket, "
              f"{lc.get('Thread(s) per core', '?')} thread per core"
              + (f"; {lc['Hypervisor vendor']} guest"
                 if "Hypervisor vendor" in lc else "")),
    ("caches", ", ".join(f"{k} {lc[k]}" for k in
                         ("L1d cache", "L2 cache", "L3 cache") if k in lc)),
    ("memory", f"{mem_kb / 1048576:.1f} GiB"),
    ("kernel", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ("OS", f"{osr.get('PRETTY_NAME', '?')}, /etc/debian_version {debian}"),
    ("compiler", sh("clang-19", "--version").splitlines()[0]
     if sh("clang-19", "--version") else "?"),
    ("Go", sh(meta.get("go", "go"), "version")),
    ("date", meta.get("date", "")),
    ("commit", f"{commit} ({subject})" + (
        "; uncommitted changes at run time in: " + ", ".join(dirty_files)
        if dirty_files else "; work tree clean (outside docs/)")),
    ("build", f"{meta.get('build_type') or 'default'} build in "
              f"{os.path.basename(build.rstrip('/'))} (sources "
              f"{os.path.basename(src.rstrip('/')) or '?'})"),
    ("load average (1, 5, 15 min)",
     f"before {meta.get('load_before', '?')}; after the fib and growth runs "
     f"{meta.get('load_cpu', '?')}; after the scheduler runs "
     f"{meta.get('load_sched', '?')}"
     + (f"; after the real-world runs {meta.get('load_escape', '?')}"
        if have_escape else "")),
    ("other processes", other_text()),
    ("duration", f"{meta.get('seconds', '?')} s for the whole report"),
]


def md_table(head, body):
    """A markdown table: the first column and a "goal" column left-aligned,
    the numbers right-aligned."""
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i and h not in ("goal", "") else "---"
                          for i, h in enumerate(head)) + "|"]
    for b in body:
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in b) + " |")
    return "\n".join(out)


def load_note():
    other, steal, wall = other_cpu("all")
    text = (f"Load average before the runs: {meta.get('load_before', '?')}. "
            "(The thread twins raise it themselves: 10,000 threads woken at "
            "once count as 10,000 runnable tasks.) ")
    if other is None:
        return text
    share = other / wall if wall else 0
    if share > 0.05:
        text += (f"Other work was running on this machine: other processes "
                 f"used {other:.0f} CPU-seconds during the {wall:.0f} s of "
                 f"the runs ({100 * share:.0f}% of one of the "
                 f"{os.cpu_count()} CPUs), and the hypervisor stole "
                 f"{steal:.0f} s. Absolute times are inflated and the ratios "
                 "noisier than on a quiet machine; the 2-P rows, which "
                 "need both CPUs, suffer most. ")
    elif wall and steal / wall > 0.02:
        text += (f"No other process ran ({other:.0f} CPU-seconds in "
                 f"{wall:.0f} s), but the hypervisor stole {steal:.0f} s of "
                 "CPU time from this VM: absolute times are inflated and "
                 "the ratios a little noisier than on a quiet host. ")
    else:
        text += (f"The machine was otherwise quiet: other processes used "
                 f"{other:.0f} CPU-seconds during the {wall:.0f} s of the "
                 f"runs, the hypervisor stole {steal:.0f} s. ")
    return text


fails = meta.get("failures", "")
lines = []
lines.append("# Benchmark report")
lines.append("")
lines.append(
    "Written by `bench/report.sh` (see [../benchmarks.md](../benchmarks.md) "
    "for what each benchmark measures and how). Every benchmark ran "
    "interleaved with its twins, the same number of times each; CPU-bound "
    "processes pinned to one CPU. Values are the minimum (median) over the "
    "runs; ratios are goroutine / other, min/min (median/median), taken from "
    "the same runs. Goals are ../shared/ANCHORS.md's; a goal is judged on the "
    "min ratio (noise on a shared VM only ever adds time).")
lines.append("")
lines.append("## Machine")
lines.append("")
lines.append(md_table(["machine", ""], machine))
lines.append("")
lines.append(load_note() + "On this VM a first touch of a fresh 4 KiB page "
             "costs ~14 us and timings vary ~10% from run to run: compare "
             "ratios, not absolute times.")
lines.append("")
lines.append("## Results")
lines.append("")
lines.append(runs_line.replace(" min (median)", " min (median)") + ".")
lines.append("")
section = None
body = []


def flush():
    if body:
        lines.append(md_table(md_head, body))
        lines.append("")


for r in rows:
    if r["section"] != section:
        flush()
        body = []
        section = r["section"]
        lines.append(f"### {section}")
        lines.append("")
        if section == S3:
            md_head = ["program", "plugin", "plugin without escape "
                       "transformations", "plain clang -O2", "plugin / plain",
                       "plugin / without"]
        else:
            md_head = ["benchmark", "goroutine", "Go 1.19", "threads",
                       "plain clang -O2", "goroutine / Go",
                       "goroutine / threads", "goroutine / plain", "goal"]
    body.append(section_columns(r))
flush()
stack_rows = [(f"{p} P", f"{s[0]:.0f} ({s[1]:.0f}) B") for p, s in extra_stack
              if s]
if stack_rows:
    lines.append("`go::read_mem_stats()` stack_inuse / num_goroutine of the "
                 "parked goroutines (for information): "
                 + ", ".join(f"{a}: {b}" for a, b in stack_rows) + ".")
    lines.append("")
if fails:
    lines.append(f"**Failures during the runs:** {fails} (what the failed "
                 "runs printed still counts; details in the build's "
                 "bench/sched/failures.log).")
    lines.append("")
lines.append("Threads: the 1-P rows ran the thread twins pinned to one CPU, "
             "the 2-P rows on both; ping-pong hands a value over a "
             "`std::mutex` + `std::condition_variable` each way, yield calls "
             "`sched_yield()`; spawn creates 10,000 `std::thread`s and parked "
             "blocks 10,000 of them (the goroutine benchmarks use 1,000,000).")
if have_escape:
    lines.append("")
    lines.append("Real-world programs: upstream test programs of "
                 "test/realworld's libraries, timed as whole processes "
                 "(start-up included, so the short ones, a few ms, mostly "
                 "measure process start and the runtime's initialisation).")
lines.append("")
lines.append("## Charts")
lines.append("")
lines.append("![time per operation](time_per_op.png)")
lines.append("")
lines.append("![bytes per parked goroutine](parked_memory.png)")
lines.append("")
lines.append("![ratios against the goals](ratios.png)")
lines.append("")
lines.append("![call cost](call_cost.png)")
lines.append("")
lines.append("## Data")
lines.append("")
lines.append("[raw.tsv](raw.tsv): every run's value of every series, in run "
             "order. [summary.tsv](summary.tsv): the tables above, one line "
             "per series.")
lines.append("")
with open(os.path.join(report_dir, "report.md"), "w") as f:
    f.write("\n".join(lines))

not_met = [r["label"] for r in rows for t, ok in r["verdicts"] if ok is False]
print()
print(f"goals not met: {len(not_met)} of "
      f"{sum(len(r['verdicts']) for r in rows)}")
