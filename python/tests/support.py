# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""What the tests share: whether a heap can be opened, and a base class."""
import os
import sys
import unittest

import objheap

# The stand-in library of scripts/host-tests.sh (python/tests/fake): one
# process only, so what needs two processes is skipped with it.
FAKE = os.environ.get("OBJHEAP_FAKE") == "1"
HAVE_DEVICE = FAKE or os.path.exists("/dev/objheap")
NO_DEVICE = "no /dev/objheap (the module is not loaded)"

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)


@unittest.skipUnless(HAVE_DEVICE, NO_DEVICE)
class HeapTestCase(unittest.TestCase):
    """A fresh heap per test, closed after it."""

    def setUp(self):
        self.h = objheap.Heap()
        self.addCleanup(self.h.close)

    def refs(self):
        """What this attachment holds: (handles, references)."""
        info = self.h.attach_info()
        return info.handles, info.refs
