"""The fnguard binary keeps the Lambda wrapper's cold-start code together.

cmake/hot_symbols.txt lists the functions a cold start runs; lld places them
at the start of the text so that the wrapper maps them with a few page
faults (docs/BENCHMARKS.md, fifth session). A list gone stale after a
refactor costs cold-start time silently, so this test fails when too many
listed names no longer exist, or when the wrapper's main path is not in the
grouped region. Skips when the binary was not linked by lld (no lld
installed: CMake says so at configure time).
"""
import os
import subprocess
import unittest

from fnguard_testlib import BUILD_DIR, SOURCE_DIR

BINARY = os.path.join(BUILD_DIR, "bin", "fnguard")
HOT_LIST = os.path.join(SOURCE_DIR, "cmake", "hot_symbols.txt")
# Functions every cold start runs, from the wrapper's main to the proxy's
# first request.
MAIN_PATH = [
    "_ZN7fnguard6lambda12wrapper_mainEiPPc",
    "_ZN7fnguard10supervisor6launchERNS0_7ChannelERKNS0_13LaunchOptionsE",
    "_ZN7fnguard6policy14collect_policyERKNS0_4NodeERKNS0_14CompileOptionsE",
    "_ZN7fnguard6lambda5Proxy5serveEi",
]


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


class HotCodeTest(unittest.TestCase):
    def setUp(self):
        comment = run("readelf", "-p", ".comment", BINARY)
        if "LLD" not in comment:
            self.skipTest("fnguard was not linked with lld; the cold-start code is not grouped")
        self.symbols = {}
        for line in run("nm", "-S", "--defined-only", BINARY).splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in "TtWwi":  # functions only
                self.symbols[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
        with open(HOT_LIST) as f:
            self.hot = [line.strip() for line in f if line.strip()]

    def test_the_list_names_functions_that_exist(self):
        found = [name for name in self.hot if name in self.symbols]
        self.assertGreaterEqual(
            len(found), 0.9 * len(self.hot),
            "cmake/hot_symbols.txt is stale: run scripts/hot_symbols.sh")

    def test_the_wrapper_main_path_lies_in_the_grouped_region(self):
        listed = [self.symbols[n] for n in self.hot if n in self.symbols]
        start = min(addr for addr, _ in listed)
        end = max(addr + size for addr, size in listed)
        # The grouped region holds only listed functions: its size is about
        # their total, not the 2.4 MB of the whole text.
        total = sum(size for _, size in listed)
        self.assertLess(end - start, total * 1.5 + 65536)
        for name in MAIN_PATH:
            self.assertIn(name, self.symbols, name)
            addr, _ = self.symbols[name]
            self.assertTrue(start <= addr < end, f"{name} at {addr:#x} is outside {start:#x}-{end:#x}")


if __name__ == "__main__":
    unittest.main()
