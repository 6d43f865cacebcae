// SPDX-License-Identifier: GPL-2.0
/*
 * The per-user bound: what all the heaps of one user hold together.
 *
 * A heap's limit bounds one heap, but a user may open as many heaps as
 * it has file descriptors and processes, and what a heap holds is
 * neither swappable nor visible to the OOM killer's badness (it belongs
 * to a file, not to a process's address space).  So every byte a heap
 * holds (struct oh_alloc.held) is also charged to the user who opened
 * the heap, and a user's heaps together may hold at most the module
 * parameter user_limit.  This is the pipe-user-pages-soft idea, and io_uring's
 * locked_vm accounting, with a counter of our own: struct user_struct
 * has no field for a module's use.
 *
 * The user is the opener's real uid (as for pipes and io_uring): a heap
 * passed to another process, or kept across setuid(), stays charged to
 * whoever opened it.  An opener with CAP_SYS_RESOURCE is counted but not
 * bounded, as pipe_user_pages_soft exempts it.
 *
 * Each user with a heap open has a struct oh_user in a small hash,
 * refcounted by its heaps; the last close frees it.  Charging is a
 * cmpxchg loop on the user's counter, so that two heaps of one user
 * growing at once can never together pass the bound.
 *
 * Lock order:
 *	oh_users_lock (open and close only)
 *	objheap->lock: oh_user_charge() takes no lock
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uidgid.h>

#include "alloc.h"
#include "user.h"

/*
 * 0 at load means the default, a quarter of RAM: a user can never take
 * more than a quarter of the machine with heaps, and root can change it
 * at any time through /sys/module/objheap/parameters/user_limit.
 */
static unsigned long long user_limit;
module_param(user_limit, ullong, 0644);
MODULE_PARM_DESC(user_limit, "Bytes all heaps of one user may hold together (default: a quarter of RAM)");

/**
 * struct oh_user - One user's heaps, together.
 * @node: In oh_users.
 * @uid: The user.
 * @refs: Heaps open by the user.  Under oh_users_lock.
 * @unbounded: The opener had CAP_SYS_RESOURCE: counted, never refused.
 * @held: Bytes the user's heaps hold.
 */
struct oh_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int refs;
	bool unbounded;
	atomic64_t held;
};

/* Users with a heap open, by uid: 64 buckets for a handful of users. */
static DEFINE_HASHTABLE(oh_users, 6);
static DEFINE_MUTEX(oh_users_lock);

/**
 * oh_user_setup() - Compute the default per-user bound.
 *
 * Context: Module init.
 * Return: 0.
 */
int oh_user_setup(void)
{
	if (!user_limit)
		user_limit = (u64)totalram_pages() * PAGE_SIZE / 4;
	return 0;
}

/**
 * oh_user_cleanup() - Check that no user is left at module exit.
 *
 * Context: Module exit; every heap is closed.
 */
void oh_user_cleanup(void)
{
	WARN_ON_ONCE(!hash_empty(oh_users));
}

/*
 * The counter of the current task's real uid, and one more reference to
 * it; new if the user has no heap open.  A heap opened with
 * CAP_SYS_RESOURCE gets a counter of its own that is never refused: its
 * bytes do not count against the user's other heaps either.
 */
static struct oh_user *oh_user_alloc(kuid_t uid, bool unbounded)
{
	struct oh_user *u;

	u = kzalloc(sizeof(*u), OH_GFP);
	if (!u)
		return NULL;
	u->uid = uid;
	u->refs = 1;
	u->unbounded = unbounded;
	atomic64_set(&u->held, 0);
	return u;
}

/**
 * oh_user_get_current() - The counter to charge a new heap's bytes to.
 *
 * Context: Process context, at open.
 * Return: A counted reference, or NULL when out of memory.
 */
struct oh_user *oh_user_get_current(void)
{
	kuid_t uid = current_uid();
	struct oh_user *u;

	if (capable(CAP_SYS_RESOURCE))
		return oh_user_alloc(uid, true);

	mutex_lock(&oh_users_lock);
	hash_for_each_possible(oh_users, u, node, __kuid_val(uid)) {
		if (uid_eq(u->uid, uid)) {
			u->refs++;
			goto out_unlock;
		}
	}
	u = oh_user_alloc(uid, false);
	if (u)
		hash_add(oh_users, &u->node, __kuid_val(uid));
out_unlock:
	mutex_unlock(&oh_users_lock);
	return u;
}

/**
 * oh_user_put() - Drop a heap's reference, at its close.
 * @u: From oh_user_get_current(); everything charged was uncharged.
 *
 * Context: Process context.
 */
void oh_user_put(struct oh_user *u)
{
	if (u->unbounded) {
		WARN_ON_ONCE(atomic64_read(&u->held));
		kfree(u);
		return;
	}
	mutex_lock(&oh_users_lock);
	if (!--u->refs) {
		hash_del(&u->node);
		WARN_ON_ONCE(atomic64_read(&u->held));
		kfree(u);
	}
	mutex_unlock(&oh_users_lock);
}

/**
 * oh_user_charge() - Count @bytes more held by one of the user's heaps.
 * @u: The heap's user.
 * @bytes: Bytes about to be taken.
 *
 * Context: Any; takes no lock.
 * Return: 0, or -ENOMEM if the user's heaps would hold more than
 * user_limit (then nothing was charged).
 */
int oh_user_charge(struct oh_user *u, size_t bytes)
{
	u64 bound = READ_ONCE(user_limit);
	s64 cur;

	if (u->unbounded) {
		atomic64_add(bytes, &u->held);
		return 0;
	}
	cur = atomic64_read(&u->held);
	do {
		if (bytes > bound || (u64)cur + bytes > bound)
			return -ENOMEM;
	} while (!atomic64_try_cmpxchg(&u->held, &cur, cur + bytes));
	return 0;
}

/**
 * oh_user_uncharge() - Undo oh_user_charge().
 * @u: The heap's user.
 * @bytes: Bytes given back.
 *
 * Context: Any.
 */
void oh_user_uncharge(struct oh_user *u, size_t bytes)
{
	WARN_ON_ONCE(atomic64_sub_return(bytes, &u->held) < 0);
}

/**
 * oh_user_held() - What the user's heaps hold together.
 * @u: The heap's user.
 *
 * Return: Bytes.
 */
u64 oh_user_held(const struct oh_user *u)
{
	return atomic64_read(&u->held);
}

/**
 * oh_user_bound() - The bound the user's heaps are held to.
 * @u: The heap's user.
 *
 * Return: Bytes; U64_MAX for a heap opened with CAP_SYS_RESOURCE.
 */
u64 oh_user_bound(const struct oh_user *u)
{
	return u->unbounded ? U64_MAX : READ_ONCE(user_limit);
}
