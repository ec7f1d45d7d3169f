#!/usr/bin/env bash
# shell-start.sh: time from starting ./pagemigrate to the result of one command, with and without the CDS archive,
# beside bare Felix + Gogo (the same launcher with only the framework and the Gogo bundles) as the baseline.
#
#   benchmarks/shell-start.sh [RUNS]        (default 20 runs per case; needs the runtime built: ./pagemigrate -h)
#
# Uses hyperfine when it is installed (apt-get install hyperfine), else a loop with date +%s%N. Prints a Markdown
# table: case, mean, standard deviation, min, max in seconds. Nothing is written outside a temporary folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-20}"
home="$root/runtime/target/pagemigrate"
[ -f "$home/bundle/launcher.jar" ] || { echo "shell-start.sh: build the runtime first (./pagemigrate -h)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# bare Felix + Gogo: the launcher (it runs -c through Gogo) and the framework with Gogo runtime, shell, command
mkdir -p "$work/bare/bundle"
for jar in launcher org.apache.felix.framework org.apache.felix.gogo.runtime org.apache.felix.gogo.shell \
        org.apache.felix.gogo.command; do
    cp "$home/bundle/$jar.jar" "$work/bare/bundle/"
done
# the runs start in an empty folder, so that no deploy/ or etc/ of the caller is picked up
mkdir -p "$work/cwd"
cd "$work/cwd"
script="$root/pagemigrate"

# each case: name, environment, command; the first run of each writes its CDS archive (warm-up, not counted)
names=("pagemigrate -c mm:numactl, CDS archive" "pagemigrate -c mm:numactl, no CDS (PAGEMIGRATE_CDS=0)"
       "bare Felix + Gogo -c lb, CDS archive" "bare Felix + Gogo -c lb, no CDS")
cmds=("PAGEMIGRATE_HOME=$home $script -c mm:numactl"
      "PAGEMIGRATE_HOME=$home PAGEMIGRATE_CDS=0 $script -c mm:numactl"
      "PAGEMIGRATE_HOME=$work/bare $script -c lb"
      "PAGEMIGRATE_HOME=$work/bare PAGEMIGRATE_CDS=0 $script -c lb")

echo "| case | mean (s) | σ (s) | min (s) | max (s) | runs |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for i in "${!cmds[@]}"; do
    if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/r.json" --style none "env ${cmds[$i]}" \
            >/dev/null 2>&1 || hyperfine --warmup 3 --runs "$runs" --export-json "$work/r.json" --style none \
            "${cmds[$i]}" >/dev/null
        python3 - "$work/r.json" "${names[$i]}" "$runs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| {sys.argv[2]} | {r['mean']:.3f} | {r['stddev']:.3f} | {r['min']:.3f} | {r['max']:.3f} | {sys.argv[3]} |")
PY
    else
        for _ in 1 2 3; do env ${cmds[$i]} >/dev/null; done
        ts=()
        for _ in $(seq "$runs"); do
            t0=$(date +%s%N); env ${cmds[$i]} >/dev/null; t1=$(date +%s%N)
            ts+=($(( (t1 - t0) / 1000 )))
        done
        printf '%s\n' "${ts[@]}" | awk -v name="${names[$i]}" -v n="$runs" '
            { s += $1; q += $1 * $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
            END { m = s / NR; sd = sqrt(q / NR - m * m);
                  printf "| %s | %.3f | %.3f | %.3f | %.3f | %d |\n", name, m / 1e6, sd / 1e6, lo / 1e6, hi / 1e6, n }'
    fi
done
