// SPDX-License-Identifier: GPL-2.0
/*
 * The one place objheap's tracepoints are defined (objheap_trace.h).
 */
#include <linux/types.h>

#define CREATE_TRACE_POINTS
#include "objheap_trace.h"
