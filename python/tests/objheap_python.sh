#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Python binding's suite as one more selftest program of the VM
# (selftests/run_tests.sh): TAP from python/tests/tap.py, under -X dev.
# Without an interpreter in the VM it reports one skip.
dir=/opt/objheap/python
py=/usr/bin/python3
if [ ! -x "$py" ] || [ ! -d "$dir/objheap" ]; then
	printf '1..1\n#  RUN python.present\n'
	echo 'ok 1 # SKIP no python3 (or no binding) in this VM'
	exit 4
fi
cd "$dir" || exit 1
export PYTHONPATH=$dir PYTHONDONTWRITEBYTECODE=1 HOME=/tmp
exec "$py" -X dev tests/tap.py
