#!/usr/bin/env bash
# run.sh: runs the JMH benchmarks with the machine's state around them, as docs/PERFORMANCE.md records it.
#
#   benchmarks/run.sh [JMH OPTIONS] [REGEX]   e.g. benchmarks/run.sh                  (everything, about 4 minutes)
#                                                  benchmarks/run.sh -f 3 -i 10 -r 2   (longer, more precise)
#                                                  benchmarks/run.sh -prof gc MigrateBenchmark.anon4k
#
# Prints the date, the CPU count, the JDK and the load average before and after, then JMH's output; the results
# also go to benchmarks/target/jmh-result.json. Needs benchmarks/target/benchmarks.jar
# (mvn -B -DskipTests package -pl benchmarks -am).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$jar" ] || { echo "run.sh: build it first: mvn -B -DskipTests package -pl benchmarks -am" >&2; exit 2; }
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1))"
echo "# $(java -version 2>&1 | head -2 | tail -1)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
java -jar "$jar" -rf json -rff "$root/benchmarks/target/jmh-result.json" "$@"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
