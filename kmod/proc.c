// SPDX-License-Identifier: GPL-2.0
/*
 * Every heap on the machine: the module's list of heaps and /proc/objheap.
 *
 * A heap joins the list when /dev/objheap is opened and leaves it just
 * before it is freed, so that anything walking the list under
 * objheap_heaps_lock may read a heap's fields.  Those fields are read
 * without the heap's own lock: a reader never waits for a collection or
 * a long command, and the figures of one line are each as of some moment
 * during the read, not of one moment together.
 *
 * /proc/objheap is text, one heap per line, in the format that
 * Documentation/troubleshooting.rst and objheap(4) describe: a version
 * line, a line naming the columns (readers find a column by its name,
 * so later versions may add some), then the heaps.  Who sees what is
 * decided by the credentials the file was opened with, never by those of
 * whoever reads it later: a user sees the heaps they opened, and a reader
 * with CAP_SYS_ADMIN sees them all.  pids are given in the pid namespace
 * of the procfs instance, uids in the opener's user namespace.
 */
#include <linux/cgroup.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "objheap.h"

/* The format's version, the first line's last word. */
#define OBJHEAP_PROC_VERSION	2

static LIST_HEAD(objheap_heaps);
static DEFINE_MUTEX(objheap_heaps_lock);

/**
 * objheap_register() - Record a new heap's owner and list the heap.
 * @heap: A heap being opened, by the current task.
 *
 * Context: Process context, the opener's.
 */
void objheap_register(struct objheap *heap)
{
	struct oh_owner *owner = &heap->owner;

	owner->pid = get_pid(task_tgid(current));
	owner->uid = current_euid();
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	owner->cgroup = cgroup_id(task_dfl_cgroup(current));
	rcu_read_unlock();
#endif
	get_task_comm(owner->comm, current);

	mutex_lock(&objheap_heaps_lock);
	list_add_tail(&heap->node, &objheap_heaps);
	mutex_unlock(&objheap_heaps_lock);
}

/**
 * objheap_unregister() - Take a heap off the list, before it is freed.
 * @heap: The heap.
 *
 * Context: Process context.  Waits for any reader of /proc/objheap that
 * is showing the heap.
 */
void objheap_unregister(struct objheap *heap)
{
	mutex_lock(&objheap_heaps_lock);
	list_del(&heap->node);
	mutex_unlock(&objheap_heaps_lock);
	put_pid(heap->owner.pid);
}

/* Set at open(): whether the opener may see every user's heaps. */
struct objheap_proc_view {
	bool all;
};

static void *objheap_proc_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&objheap_heaps_lock);
	return seq_list_start_head(&objheap_heaps, *pos);
}

static void *objheap_proc_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &objheap_heaps, pos);
}

static void objheap_proc_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&objheap_heaps_lock);
}

/* The opener's pid in @ns, or 0 once it has exited or is not in @ns. */
static pid_t objheap_owner_pid(struct objheap *heap, struct pid_namespace *ns)
{
	pid_t nr = 0;

	rcu_read_lock();
	if (pid_task(heap->owner.pid, PIDTYPE_TGID))
		nr = pid_nr_ns(heap->owner.pid, ns);
	rcu_read_unlock();
	return nr;
}

static int objheap_proc_show(struct seq_file *m, void *v)
{
	const struct cred *cred = m->file->f_cred;
	struct objheap_proc_view *view = m->private;
	struct objheap *heap;
	struct oh_gc *gc;
	int i;

	if (v == &objheap_heaps) {
		seq_printf(m, "objheap heaps %d\n", OBJHEAP_PROC_VERSION);
		seq_puts(m, "id pid uid cgroup attach objects in_use held limit gen0 gen1 gen2 frozen collections longest_ns lost comm\n");
		return 0;
	}
	heap = list_entry(v, struct objheap, node);
	if (!view->all && !uid_eq(heap->owner.uid, cred->euid))
		return 0;

	gc = &heap->gc;
	seq_printf(m, "%llu %d %u %llu %u %llu %llu %llu %llu", heap->id,
		   objheap_owner_pid(heap, proc_pid_ns(file_inode(m->file)->i_sb)),
		   from_kuid_munged(cred->user_ns, heap->owner.uid),
		   heap->owner.cgroup, READ_ONCE(heap->nr_attached),
		   READ_ONCE(heap->nr_objects), READ_ONCE(heap->alloc.used),
		   READ_ONCE(heap->alloc.held), READ_ONCE(heap->alloc.limit));
	for (i = 0; i <= OH_GC_OUTSIDE; i++)
		seq_printf(m, " %llu", READ_ONCE(gc->tracked[i]));
	seq_printf(m, " %llu %llu %llu ", READ_ONCE(gc->collections),
		   READ_ONCE(gc->longest_ns), READ_ONCE(heap->events_lost));
	seq_escape(m, heap->owner.comm, " \t\n\\");
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations objheap_proc_seq_ops = {
	.start = objheap_proc_start,
	.next = objheap_proc_next,
	.stop = objheap_proc_stop,
	.show = objheap_proc_show,
};

static int objheap_proc_open(struct inode *inode, struct file *file)
{
	struct objheap_proc_view *view;

	view = __seq_open_private(file, &objheap_proc_seq_ops, sizeof(*view));
	if (!view)
		return -ENOMEM;
	view->all = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	return 0;
}

static const struct proc_ops objheap_proc_ops = {
	.proc_open = objheap_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = seq_release_private,
};

int objheap_proc_init(void)
{
	return proc_create("objheap", 0444, NULL, &objheap_proc_ops) ?
	       0 : -ENOMEM;
}

void objheap_proc_exit(void)
{
	remove_proc_entry("objheap", NULL);
}
