"""Helpers for fnguard's integration tests (standard library only).

Runs real programs under `fnguard run` from the build directory named by
FNGUARD_BUILD_DIR (set by ctest), with a policy given as a Python string, and
returns the exit status, the output and the events parsed from the events
file. Assertions look for events by their fields:

    r = fnguard_testlib.run([PYTHON, "-c", code], policy=POLICY)
    fnguard_testlib.assert_event(self, r, kind="violation", control="files.read",
                                 action="blocked", target="/etc/shadow")
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get(
    "FNGUARD_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD_DIR = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
FNGUARD = os.path.join(BUILD_DIR, "bin", "fnguard")
LIBRARY = os.path.join(BUILD_DIR, "lib", "libfnguard.so")

# The interpreter running the tests is a real, dynamically linked python3.
PYTHON = os.path.realpath(sys.executable)
NODE = shutil.which("node")
BUSYBOX = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.access(p, os.X_OK)), None)


class Result:
    """What one `fnguard run` did."""

    def __init__(self, returncode, stdout, stderr, events, event_lines):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.events = events            # parsed JSON objects, in order
        self.event_lines = event_lines  # the raw lines

    def __repr__(self):
        return ("Result(returncode=%r)\n--- stdout ---\n%s\n--- stderr ---\n%s\n--- events ---\n%s"
                % (self.returncode, self.stdout, self.stderr, "\n".join(self.event_lines)))


def base_env(extra=None):
    """The environment for a protected run: the caller's, without fnguard's
    own variables (so a test is not steered by the developer's shell)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FNGUARD_") or k in ("FNGUARD_BUILD_DIR", "FNGUARD_SOURCE_DIR")}
    env.pop("LD_PRELOAD", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


def events_in_output(text):
    """The event lines in output shared with the program. A program that
    writes one message in pieces can have an event land in the middle of its
    line ("cat: FILE{...event...}: Permission denied"), so events are found
    where they start, not only at the start of a line (docs/EVENTS.md)."""
    decoder = json.JSONDecoder()
    found = []
    for line in text.splitlines():
        start = line.find('{"fnguard":')
        while start >= 0:
            try:
                _, end = decoder.raw_decode(line, start)
            except ValueError:
                break
            found.append(line[start:end])
            start = line.find('{"fnguard":', end)
    return found


def parse_events(text):
    """JSON lines -> (objects, lines). A line that is not a JSON object is an
    error: the sink promises one object per line."""
    events, lines = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("event line is not a JSON object: %r" % line)
        events.append(obj)
        lines.append(line)
    return events, lines


def run(command, policy=None, mode=None, events="file", env=None, cwd=None, timeout=120,
        input=None, fnguard=None, extra_args=None):
    """Runs `fnguard run [--policy F] [--mode M] [--events F] -- command`.

    policy: the policy text (YAML or JSON), written to a temporary file, or
            None for the built-in default (or whatever `env` says).
    events: "file" (a temporary file, parsed into Result.events), "-"
            (stdout; parsed from stdout lines that look like events), or None
            (not passed: events go to stderr and are parsed from there).
    """
    with tempfile.TemporaryDirectory(prefix="fnguard-test-") as tmp:
        args = [fnguard or FNGUARD, "run"]
        if policy is not None:
            policy_path = os.path.join(tmp, "policy.yaml")
            with open(policy_path, "w") as f:
                f.write(policy)
            args += ["--policy", policy_path]
        if mode is not None:
            args += ["--mode", mode]
        events_path = None
        if events == "file":
            events_path = os.path.join(tmp, "events.jsonl")
            args += ["--events", events_path]
        elif events == "-":
            args += ["--events", "-"]
        args += list(extra_args or [])
        args += ["--"] + list(command)
        proc = subprocess.run(args, env=base_env(env), cwd=cwd, timeout=timeout, input=input,
                              capture_output=True, text=True, errors="replace")
        if events_path is not None:
            text = ""
            if os.path.exists(events_path):
                with open(events_path) as f:
                    text = f.read()
        else:
            source = proc.stdout if events == "-" else proc.stderr
            text = "\n".join(events_in_output(source))
        parsed, lines = parse_events(text)
        return Result(proc.returncode, proc.stdout, proc.stderr, parsed, lines)


def _matches(event, fields):
    for key, want in fields.items():
        value = event
        for part in key.split("__"):  # process__pid -> event["process"]["pid"]
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        if callable(want):
            if not want(value):
                return False
        elif value != want:
            return False
    return True


def find_events(result, **fields):
    """Events whose fields equal the given values. Nested fields use '__'
    (detail__exit_status=0); a value may be a predicate."""
    return [e for e in result.events if _matches(e, fields)]


def assert_event(test, result, **fields):
    found = find_events(result, **fields)
    test.assertTrue(found, "no event with %r in:\n%r" % (fields, result))
    return found[0]


def assert_no_event(test, result, **fields):
    found = find_events(result, **fields)
    test.assertFalse(found, "unexpected event with %r:\n%s" % (fields, json.dumps(found, indent=1)))


def occurrences(result, **fields):
    """How many times a matching event happened: a plain line stands for one
    occurrence, a folded line for `count` repeats (docs/EVENTS.md)."""
    return sum(e.get("count", 1) for e in find_events(result, **fields))


def write_file(directory, name, text, mode=0o644):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def require_build(test):
    if not os.access(FNGUARD, os.X_OK):
        test.fail("fnguard is not built at %s (set FNGUARD_BUILD_DIR)" % FNGUARD)


def main():
    unittest.main(verbosity=2)
