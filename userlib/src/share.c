// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: sharing a heap between processes: attachments, sending
 * objects, named roots, and passing an attachment's descriptor over a
 * unix socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libobjheap.h"
#include "lib.h"

OBJHEAP_API int objheap_attach(struct objheap *heap, uint32_t flags, int *fdp,
			       uint32_t *idp)
{
	struct objheap_attach cmd = { .size = sizeof(cmd), .flags = flags };
	int ret = __objheap_ioctl(heap, OBJHEAP_ATTACH, &cmd);

	if (ret)
		return ret;
	*fdp = (int)cmd.out_fd;
	if (idp)
		*idp = cmd.out_id;
	return 0;
}

OBJHEAP_API int objheap_from_fd(int fd, struct objheap **heapp)
{
	struct objheap_query q = { .size = sizeof(q) };
	struct objheap *heap;
	int fl, ret;

	if (fd < 0)
		return -EBADF;
	heap = calloc(1, sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	heap->fd = fd;
	/* Is it an objheap file at all?  Any other file gives ENOTTY. */
	ret = __objheap_ioctl(heap, OBJHEAP_QUERY, &q);
	if (ret)
		goto fail;
	/* Nonblocking, as objheap_open() opens it, for objheap_dispatch(). */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK))) {
		ret = -errno;
		goto fail;
	}
	*heapp = heap;
	return 0;
fail:
	free(heap);
	return ret;
}

OBJHEAP_API int objheap_attach_info(struct objheap *heap, uint32_t id,
				    struct objheap_attach_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->id = id;
	return __objheap_ioctl(heap, OBJHEAP_ATTACH_INFO, out);
}

OBJHEAP_API int objheap_send(struct objheap *heap, uint64_t handle,
			     uint32_t to, uint64_t cookie)
{
	struct objheap_send cmd = {
		.size = sizeof(cmd),
		.handle = handle,
		.cookie = cookie,
		.to = to,
	};

	return __objheap_ioctl(heap, OBJHEAP_SEND, &cmd);
}

/* PUBLISH, LOOKUP or UNPUBLISH of a name. */
static int name_cmd(struct objheap *heap, unsigned long request,
		    const void *name, uint32_t name_len, uint64_t handle,
		    uint64_t *handlep)
{
	struct objheap_name cmd = {
		.size = sizeof(cmd),
		.name_uptr = (uintptr_t)name,
		.name_len = name_len,
		.handle = handle,
	};
	int ret = __objheap_ioctl(heap, request, &cmd);

	if (!ret && handlep)
		*handlep = cmd.out_handle;
	return ret;
}

/* A C string's length as a name's, or 0 (EINVAL) when it is too long. */
static uint32_t str_name_len(const char *name)
{
	size_t len = strnlen(name, OBJHEAP_NAME_MAX + 1);

	return len > OBJHEAP_NAME_MAX ? 0 : (uint32_t)len;
}

OBJHEAP_API int objheap_publish(struct objheap *heap, const void *name,
				uint32_t name_len, uint64_t handle)
{
	return name_cmd(heap, OBJHEAP_PUBLISH, name, name_len, handle, NULL);
}

OBJHEAP_API int objheap_lookup(struct objheap *heap, const void *name,
			       uint32_t name_len, uint64_t *handlep)
{
	return name_cmd(heap, OBJHEAP_LOOKUP, name, name_len, 0, handlep);
}

OBJHEAP_API int objheap_unpublish(struct objheap *heap, const void *name,
				  uint32_t name_len)
{
	return name_cmd(heap, OBJHEAP_UNPUBLISH, name, name_len, 0, NULL);
}

OBJHEAP_API int objheap_publish_str(struct objheap *heap, const char *name,
				    uint64_t handle)
{
	uint32_t len = str_name_len(name);

	return len ? objheap_publish(heap, name, len, handle) : -EINVAL;
}

OBJHEAP_API int objheap_lookup_str(struct objheap *heap, const char *name,
				   uint64_t *handlep)
{
	uint32_t len = str_name_len(name);

	return len ? objheap_lookup(heap, name, len, handlep) : -EINVAL;
}

OBJHEAP_API int objheap_unpublish_str(struct objheap *heap, const char *name)
{
	uint32_t len = str_name_len(name);

	return len ? objheap_unpublish(heap, name, len) : -EINVAL;
}

OBJHEAP_API int objheap_on_received(struct objheap *heap, objheap_event_fn fn,
				    void *arg)
{
	heap->on_received.fn = fn;
	heap->on_received.arg = arg;
	return 0;
}

OBJHEAP_API int objheap_on_detached(struct objheap *heap, objheap_event_fn fn,
				    void *arg)
{
	heap->on_detached.fn = fn;
	heap->on_detached.arg = arg;
	return 0;
}

OBJHEAP_API int objheap_send_fd(int sock, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

OBJHEAP_API int objheap_recv_fd(int sock, int *fdp)
{
	/* Room for two: a second descriptor is seen, and closed, not lost. */
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	int fds[2], nfds = 0, i;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t len, j;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		len = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (j = 0; j < len && nfds < 2; j++)
			memcpy(&fds[nfds++], CMSG_DATA(cmsg) + j * sizeof(int),
			       sizeof(int));
	}
	if (nfds == 1 && !(msg.msg_flags & MSG_CTRUNC)) {
		*fdp = fds[0];
		return 0;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (nfds)
		return -EMSGSIZE;
	if (msg.msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;
	return n ? -ENOMSG : -ECONNRESET;
}
