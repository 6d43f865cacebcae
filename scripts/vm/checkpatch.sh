#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh [FILE...]: the kernel's checkpatch.pl, from Debian's
# linux-source-6.1, over the module and the uapi header (default) or FILEs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TOP_DIR"
[ $# != 0 ] || set -- $(git ls-files 'kmod/*.[ch]' 'uapi/*.h')
"$(src_tree)/scripts/checkpatch.pl" --no-tree --strict --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "$@"
