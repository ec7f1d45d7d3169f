#!/usr/bin/env bash
# profile.sh: runs one JMH benchmark with a JFR recording (settings=profile: execution and allocation samples) and
# prints where the samples are: top frames, methods on the stack, allocation sites.
#
#   benchmarks/profile.sh REGEX [N [ONLY]]   e.g. benchmarks/profile.sh 'MigrateBenchmark.anon4kAsync' 30
#
# Samples every 1 ms of running Java code (a copy inside Unsafe.copyMemory is native code and not sampled). Setup
# code (migrating back, isolating) is sampled too: ONLY (default: the last part of REGEX, e.g. anon4kAsync) keeps the
# samples whose stack holds a method of that name, i.e. the measured calls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
regex="$1"
top="${2:-30}"
only="${3:-${regex##*.}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
java -jar "$root/benchmarks/target/benchmarks.jar" -f 1 -wi 1 -i 4 -w 1 -r 2 \
    -jvmArgsAppend "-XX:StartFlightRecording=filename=$work/rec.jfr,settings=profile,jdk.ExecutionSample#period=1ms -XX:FlightRecorderOptions=stackdepth=256" "$regex" \
    | grep -E '^[A-Za-z]+Benchmark\.' || true
jfr print --json --stack-depth 256 --events jdk.ExecutionSample "$work/rec.jfr" > "$work/exec.json"
jfr print --json --stack-depth 256 --events jdk.ObjectAllocationSample "$work/rec.jfr" > "$work/alloc.json"
python3 - "$work/exec.json" "$work/alloc.json" "$top" "$only" <<'PY'
import collections, json, sys

def frames(e):
    st = e['values'].get('stackTrace') or {'frames': []}
    return [f['method']['type']['name'].split('/')[-1] + '.' + f['method']['name'] for f in st['frames']] or ['?']

execs = json.load(open(sys.argv[1]))['recording']['events']
n = int(sys.argv[3])
every = len(execs)
execs = [e for e in execs if any(f.endswith('.' + sys.argv[4]) for f in frames(e))]
print(f"\n{len(execs)} of {every} samples have {sys.argv[4]} on the stack (the measured calls); only those count")
top, incl = collections.Counter(), collections.Counter()
for e in execs:
    fs = frames(e)
    top[fs[0]] += 1
    for f in set(fs):
        incl[f] += 1
print(f"\n{len(execs)} execution samples; top frames:")
for f, c in top.most_common(n):
    print(f"{c:6d} {100 * c / len(execs):5.1f}%  {f}")
print("\non the stack (inclusive):")
for f, c in incl.most_common(n):
    print(f"{c:6d} {100 * c / len(execs):5.1f}%  {f}")
allocs = json.load(open(sys.argv[2]))['recording']['events']
site = collections.Counter()
for e in allocs:
    fs = frames(e)
    cls = e['values']['objectClass']['name']
    site[f"{cls} at {' < '.join(fs[:3])}"] += e['values']['weight']
total = sum(site.values()) or 1
print(f"\nallocation samples (weight = bytes, estimated): {total / 1e6:.1f} MB")
for s, w in site.most_common(15):
    print(f"{100 * w / total:5.1f}%  {s}")
PY
