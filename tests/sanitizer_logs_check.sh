#!/bin/sh
# The sanitizer builds' last test (tests/CMakeLists.txt): fails when a
# process started by the Python tests wrote a sanitizer report into the log
# directory $1, and prints the reports. A process under test may be killed,
# or its stderr read and dropped by the test, so its report would go unseen
# otherwise. ASan's notes that are not findings (a stack switch it cannot
# follow) do not count.
set -u
found=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$1"/* 2>/dev/null)
[ -z "$found" ] && exit 0
for f in $found; do
  echo "== $f"
  cat "$f"
done
exit 1
