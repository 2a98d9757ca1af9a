#!/usr/bin/env bash
# Measures davshare against the golang.org/x/net/webdav baseline on this
# machine, as docs/performance.md describes:
#
#   cmd/davbench/bench-davshare.sh [davbench flags…]     e.g. --rounds 5
#
# It builds davshare from a commit (DAVBENCH_COMMIT, default HEAD; exported
# with git archive, so uncommitted changes in the work tree are not what is
# measured) and davbench from the work tree, starts the server on a free
# loopback port over a fresh data directory, adds alice and bob, shares
# alice's bench/ folder with bob (instant mode: bob sees it at
# /dav/files/bob/Shared/bench/), runs davbench with --baseline,
# --server-pid and --mount-url, and stops that server (its PID only).
#
# Environment: DAVBENCH_COMMIT (REV), DAVBENCH_OUT (output folder, default
# /tmp/davbench-out: table.txt, results.json, davbench.log, server.log),
# DAVBENCH_DATA (data directory, default /tmp/dsb, removed first),
# DAVBENCH_SERVER_ENV (extra VAR=value settings for the server).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
rev=${DAVBENCH_COMMIT:-HEAD}
out=${DAVBENCH_OUT:-/tmp/davbench-out}
data=${DAVBENCH_DATA:-/tmp/dsb}
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}")
mkdir -p "$out"

src=$(mktemp -d /tmp/davbench-src.XXXXXX)
pid=
cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$src"
}
trap cleanup EXIT

echo "building davshare at $commit and davbench from the work tree" >&2
git -C "$repo" archive "$commit" | tar -x -C "$src"
(cd "$src" && go build -o "$out/davshare" ./cmd/davshare)
(cd "$repo" && go build -o "$out/davbench" ./cmd/davbench)

rm -rf "$data"
"$out/davshare" user add alice --data "$data" --email alice@example.org --password-stdin <<<benchpass >/dev/null
"$out/davshare" user add bob --data "$data" --email bob@example.org --password-stdin <<<bobpass >/dev/null

# The failed-login throttle charges every request in flight against the
# user's budget of 10 until its password check ends, so a client with more
# than 10 concurrent requests gets spurious 429s (see docs/performance.md);
# it is off for the measurement. Override with DAVBENCH_SERVER_ENV.
server_env=${DAVBENCH_SERVER_ENV:-DAVSHARE_AUTH_MAX_USER_FAILURES=0 DAVSHARE_AUTH_MAX_ADDRESS_FAILURES=0}
# shellcheck disable=SC2086 # word splitting of VAR=value pairs is meant
env $server_env "$out/davshare" serve --data "$data" --listen 127.0.0.1:0 --sharing-mode instant \
	>"$out/server.out" 2>"$out/server.log" &
pid=$!
base=
for _ in $(seq 100); do
	base=$(sed -n 's/^davshare serving .* on \(https\?:[^ ]*\)$/\1/p' "$out/server.out")
	[[ -n $base ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $base ]] || { echo "the server printed no URL" >&2; exit 1; }
echo "davshare (PID $pid) serving on $base" >&2

owner="$base/dav/files/alice/bench/"
mount=()
curl -fsS -u alice:benchpass -X MKCOL "$owner" >/dev/null
status=$(curl -sS -o /dev/null -w '%{http_code}' -u alice:benchpass -X POST \
	-H 'Content-Type: application/davsharing+xml' --data-binary \
	'<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:"><D:sharee><D:href>/dav/principals/bob/</D:href><D:share-access><D:read-write/></D:share-access></D:sharee></D:share-resource>' \
	"$owner")
if [[ $status == 204 || $status == 200 ]]; then
	mount=(--mount-url "$base/dav/files/bob/Shared/bench/" --mount-user bob)
	export DAVBENCH_MOUNT_PASSWORD=bobpass
else
	echo "sharing answered $status: measuring without a share mount" >&2
fi

{
	echo "davshare commit: $commit"
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), $(go version)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/table.txt" >&2
DAVBENCH_PASSWORD=benchpass "$out/davbench" --url "$owner" --user alice "${mount[@]}" \
	--baseline --server-pid "$pid" --json "$out/results.json" "$@" \
	2> >(tee "$out/davbench.log" >&2) | tee -a "$out/table.txt"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/table.txt" >&2
