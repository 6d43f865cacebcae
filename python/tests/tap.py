# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Run the binding's unittest suite, printing TAP as the kselftest harness
does, which scripts/vm/check.sh reads:

    1..N
    #  RUN test_gc.TestGC.test_collect
    ok 1 test_gc.TestGC.test_collect
    #  RUN ...
    ok 2 # SKIP why
    not ok 3 test_x.TestX.test_y
    # FAIL: ... (the traceback, each line after "# ")
    # Totals: pass:P fail:F skip:S

A failure's diagnostics are comment lines.  Exits 0 when nothing failed.
Arguments: test module names to run (default: every tests/test_*.py).
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class TapResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.n = 0
        self.counts = {"pass": 0, "fail": 0, "skip": 0}
        self.outcome = None

    def emit(self, line):
        self.out.write(line + "\n")
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self.outcome = ("pass", "")
        self.started = time.monotonic()
        self.emit(f"#  RUN {test.id()}")

    def _fail(self, test, err, what):
        self.outcome = ("fail", f"{what}: {test.id()}\n" +
                        self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            self._fail(test, err, "ERROR")
        else:   # a class or module fixture: no test of its own
            self.n += 1
            self.counts["fail"] += 1
            name = str(test).replace(" ", "_")
            self.emit(f"not ok {self.n} {name}")
            self.comment(f"ERROR: {test}\n" + self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err, "FAIL")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcome = ("skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcome = ("fail", f"FAIL: {test.id()}: unexpected success")

    def comment(self, text):
        for line in text.rstrip().splitlines():
            self.emit(f"# {line}")

    def stopTest(self, test):
        super().stopTest(test)
        kind, text = self.outcome
        self.n += 1
        self.counts[kind] += 1
        took = time.monotonic() - self.started
        if kind == "pass":
            self.emit(f"ok {self.n} {test.id()}")
        elif kind == "skip":
            self.emit(f"ok {self.n} # SKIP {' '.join(text.split())}")
        else:
            self.emit(f"not ok {self.n} {test.id()}")
            self.comment(text)
        if took > 30:
            self.emit(f"# {test.id()} took {took:.0f} s")


def main(argv):
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if argv:
        suite = loader.loadTestsFromNames(argv)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = TapResult(sys.stdout)
    print(f"1..{suite.countTestCases()}", flush=True)
    suite.run(result)
    c = result.counts
    print(f"# Totals: pass:{c['pass']} fail:{c['fail']} xfail:0 xpass:0 "
          f"skip:{c['skip']} error:0", flush=True)
    return 1 if c["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
