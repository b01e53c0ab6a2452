#!/usr/bin/env bash
# The fnguard demo (`make demo`): runs app.py under policy.yaml, first in
# monitor mode (everything happens, every violation is logged), then in block
# mode (the same violations fail), and prints the events readably.
# No network traffic leaves the machine: "connect out" goes to a listener on
# 127.0.0.1 that this script starts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${FNGUARD_BUILD_DIR:-$here/../../build}"
fnguard="$build/bin/fnguard"
if [[ ! -x $fnguard ]]; then
  echo "demo: $fnguard is not built; run 'make' first" >&2
  exit 1
fi
# The real interpreter, not a wrapper script (a pyenv shim would itself be a
# shell that the policy forbids).
python="$(python3 -c 'import sys; print(sys.executable)')"

work="$(mktemp -d /tmp/fnguard-demo-run.XXXXXX)"
listener_pid=""
cleanup() {
  [[ -n $listener_pid ]] && kill "$listener_pid" 2>/dev/null || true
  rm -rf "$work" /tmp/fnguard-demo "$here/backdoor.py"
}
trap cleanup EXIT

"$python" "$here/listener.py" "$work/port" "$work/received" &
listener_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
port="$(cat "$work/port")"

cd "$here"  # $TASK_ROOT in the policy is the launch directory
for mode in monitor block; do
  : >"$work/received"
  rm -f "$here/backdoor.py"
  echo
  echo "=== fnguard run --mode $mode -- python3 app.py"
  echo "--- what the app saw:"
  status=0
  "$fnguard" run --policy "$here/policy.yaml" --mode "$mode" --events "$work/events-$mode.jsonl" \
    -- "$python" "$here/app.py" "$port" || status=$?
  echo "--- events (action, control, target, rule, source):"
  "$python" "$here/show_events.py" "$work/events-$mode.jsonl"
  echo "--- effects: app exit status $status;" \
    "backdoor.py $([[ -e $here/backdoor.py ]] && echo written || echo 'not written');" \
    "listener received $(wc -c <"$work/received") bytes"
done
echo
echo "Raw events are JSON lines (docs/EVENTS.md); by default they go to stderr."
