#!/usr/bin/env bash
# The Lambda demonstration: a Python handler with a file-read bug, invoked
# through `fnguard local invoke` (local Runtime API -> exec wrapper -> Runtime
# API proxy -> the runtime under protection) with ?file=/etc/passwd:
#   monitor: the response still leaks the file, and two events say so (the
#            attack found in the request, the file access it caused), with
#            the request id, the handler's file and line, and the taint;
#   block:   the same request gets a 403; a benign request its normal answer;
#   honeypots: with a decoy credentials file in the policy, the same bug
#            aimed at it hands out fake keys and raises a `honeypot` event.
# Meant to be run by `make demo` after examples/demo/run.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${FNGUARD_BUILD_DIR:-$here/../../build}"
fnguard="$build/bin/fnguard"
if [[ ! -x $fnguard ]]; then
  echo "demo: $fnguard is not built; run 'make' first" >&2
  exit 1
fi
work="$(mktemp -d /tmp/fnguard-lambda-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT

event() {  # an API Gateway HTTP API event for GET /?file=$1
  printf '{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"file=%s",' "$1"
  printf '"headers":{"host":"demo.example.com","user-agent":"curl/8.0"},'
  printf '"queryStringParameters":{"file":"%s"},' "$1"
  printf '"requestContext":{"http":{"method":"GET","path":"/","sourceIp":"203.0.113.9"}},"isBase64Encoded":false}\n'
}

show_events() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("kind") not in ("detection", "violation", "honeypot"):
        continue
    f, s, t = e.get("function", {}), e.get("source", {}), e.get("taint", {})
    where = "%s:%s (%s)" % (s["file"], s.get("line"), s.get("function")) if s.get("file") else "-"
    print("  %-9s %-8s %-17s %-28s request=%s" % (e["kind"], e["action"], e.get("control"),
                                                 e.get("target", "")[:28], f.get("request_id", "-")[:8]))
    print("            source=%s taint=%s=%r" % (where, t.get("field", "-"), t.get("value", "")))
PY
}

invoke() {  # mode file [policy]
  event "$2" > "$work/event.json"
  "$fnguard" local invoke --dir "$here/python" --handler app.read_file --runtime python \
    --policy "${3:-$here/policy.yaml}" --mode "$1" --event "$work/event.json" --events "$work/events.jsonl" \
    2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); print("  response: %s %r" % (r.get("statusCode"), r.get("body","")[:60]))'
}

for mode in monitor block; do
  for file in /etc/passwd README.txt; do
    echo "== $mode: GET /?file=$file"
    : > "$work/events.jsonl"
    invoke "$mode" "$file"
    show_events "$work/events.jsonl"
  done
done

# Honeypots: the same policy plus a decoy credentials file, planted by the
# wrapper for the runtime's lifetime (docs/POLICY.md, "Honeypots").
decoy="$work/decoy/.aws/credentials"
{ cat "$here/policy.yaml"; printf 'honeypots:\n  env: true\n  files: [%s]\n' "$decoy"; } > "$work/honeypots.yaml"
echo "== monitor, with honeypots: GET /?file=$decoy"
: > "$work/events.jsonl"
invoke monitor "$decoy" "$work/honeypots.yaml"
show_events "$work/events.jsonl"
