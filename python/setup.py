# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The objheap Python binding: `make python` (build/python), `make wheel`,
# `make install`.  The extension links libobjheap statically, from the
# position-independent archive that `make lib` builds
# (build/userlib/libobjheap-pic.a; OBJHEAP_PIC_LIB names another), so
# nothing but the module itself is needed at run time.
import os

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(here)


def version():
    with open(os.path.join(top, "dkms.conf")) as f:
        for line in f:
            if line.startswith("PACKAGE_VERSION="):
                return line.split("=", 1)[1].strip().strip('"')
    return "0"


pic_lib = os.environ.get("OBJHEAP_PIC_LIB",
                         os.path.join(top, "build", "userlib",
                                      "libobjheap-pic.a"))
cflags = os.environ.get("OBJHEAP_PY_CFLAGS", "-O2 -g").split()

setup(
    name="objheap",
    version=version(),
    description="Python binding of libobjheap: a kernel object heap "
                "that feels like gc and weakref",
    license="LGPL-2.1-or-later OR MIT",
    packages=["objheap"],
    ext_modules=[
        Extension(
            "objheap._objheap",
            sources=["objheap/_objheap.c"],
            include_dirs=[os.path.join(top, "userlib", "include"),
                          os.path.join(top, "uapi")],
            extra_objects=[pic_lib],
            depends=[pic_lib,
                     os.path.join(top, "userlib", "include", "libobjheap.h"),
                     os.path.join(top, "uapi", "linux", "objheap.h")],
            # libobjheap stays private to the module: no symbol of it is
            # exported, so no other libobjheap in the process meets it.
            extra_link_args=["-Wl,--exclude-libs,ALL"],
            extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Werror",
                                "-fvisibility=hidden"] + cflags,
        ),
    ],
    python_requires=">=3.9",
    zip_safe=False,
)
