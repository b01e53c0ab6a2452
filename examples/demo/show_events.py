"""Prints fnguard events (JSON lines) one per line, for people.

    python3 show_events.py events.jsonl

Each line: what happened, the control, the target, the rule, and the source
line that caused it; the deciding layer when it is not the in-process
enforcer (e.g. [seccomp]); folded repeats show as "x N".
"""
import json
import sys


def describe(e):
    kind = e.get("kind", "?")
    if kind == "lifecycle":
        action = e.get("action", "?")
        extra = []
        if "mode" in e:
            extra.append("mode=" + e["mode"])
        if "policy" in e:
            extra.append("policy=" + e["policy"].get("source", "?"))
        if "layers" in e:
            on = [k for k, v in e["layers"].items() if v is True]
            extra.append("layers=" + (",".join(on) or "none"))
        if "message" in e:
            extra.append(e["message"])
        if action == "stopped" and "detail" in e:
            d = e["detail"]
            extra.append("exit=%s" % d.get("exit_status"))
            if d.get("folded"):
                extra.append("folded=%s" % d["folded"])
        for line in e.get("not_enforced", []):
            extra.append("(" + line + ")")
        return "  %-9s %-16s %s" % ("lifecycle", action, " ".join(extra))
    action = e.get("action", "?").upper()
    control = e.get("control", kind)
    target = e.get("target", "")
    rule = e.get("rule", "")
    src = e.get("source") or {}
    where = ""
    if src.get("file") and src.get("line"):
        where = "%s:%s" % (src["file"].rsplit("/", 1)[-1], src["line"])
        if src.get("function"):
            where += " in " + src["function"]
    elif src.get("file"):
        where = src["file"].rsplit("/", 1)[-1]
    count = " x%d" % e["count"] if "count" in e else ""
    layer = e.get("enforcement", "")
    if layer and layer != "preload":
        where = ("%s [%s]" % (where, layer)).strip()
    return "  %-9s %-16s %-44s %-24s %s%s" % (action, control, target, rule, where, count)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "-"
    try:
        stream = sys.stdin if path == "-" else open(path)
    except OSError as e:
        print("  (no events: %s)" % e.strerror)
        return
    with stream:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            try:
                print(describe(json.loads(line)))
            except (ValueError, AttributeError):
                print("  (not an event) " + line[:100])


if __name__ == "__main__":
    main()
