# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# sitedir.py PREFIX: the directory under PREFIX where this interpreter
# finds installed packages (make install-python).  Debian's own scheme for
# /usr and /usr/local (dist-packages), the standard one elsewhere.
import sys
import sysconfig

prefix = sys.argv[1].rstrip("/") or "/"
schemes = sysconfig.get_scheme_names()
if prefix == "/usr" and "deb_system" in schemes:
    path = sysconfig.get_path("platlib", "deb_system")
elif prefix == "/usr/local" and "posix_local" in schemes:
    path = sysconfig.get_path("platlib", "posix_local")
else:
    path = sysconfig.get_path("platlib", "posix_prefix",
                              vars={"base": prefix, "platbase": prefix})
print(path)
