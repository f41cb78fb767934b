// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * cgtree's BPF iterators: one walk of the cgroup2 hierarchy (iter/cgroup, Linux 6.1+)
 * and one of every task (sleepable iter.s/task, for bpf_copy_from_user_task, Linux
 * 5.18+). Each sends fixed-layout records (cgtree.h) through its own ring buffer; the
 * iterators' seq files stay empty (a cgroup iterator has one read session, and output
 * beyond its seq buffer fails with EOPNOTSUPP: kernel/bpf/cgroup_iter.c).
 *
 * The kernel runs the cgroup iterator with cgroup_mutex held (cgroup_iter.c,
 * cgroup_iter_seq_start): the program does only bounded copies per cgroup.
 *
 * What the programs read and where the file walk reads the same thing:
 *   cgroup id          kernfs_node.id          = inode of the cgroup's directory
 *   name               kernfs_node.name        = the directory's name
 *   type bits          dom_cgrp, nr_*          -> cgroup.type (cgroup_type_show)
 *   subtree_control    cgroup.subtree_control  (a bit per controller id)
 *   tgid, ppid, comm   /proc/PID/status, /proc/PID/comm
 *   cgroup of a task   css_set.dfl_cgrp        -> the cgroup whose cgroup.procs lists it
 *   command line       mm->arg_start..arg_end  = /proc/PID/cmdline (fs/proc/base.c)
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "cgtree.h"

/* bpf_copy_from_user_task is GPL-only: the kernel must see a GPL-compatible license. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PF_KTHREAD 0x00200000

/* Sizes are set by user space before loading (estimated from what it will walk). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} cgroups_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} tasks_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} members_out SEC(".maps");

extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				 unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;

/* A task record is larger than the 512-byte BPF stack: built here, then sent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_rec);
} task_scratch SEC(".maps");

/* Records that did not fit in a ring buffer: user space retries with a larger one. */
__u64 cgroups_dropped = 0;
__u64 tasks_dropped = 0;
__u64 members_dropped = 0;
/* The reading process's TGID in the initial PID namespace: user space compares it
 * with getpid() to know the PIDs here are the ones its /proc shows. */
__u32 reader_tgid = 0;

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup;
	struct cgroup_rec *r;
	struct cgroup *parent;
	__u16 flags = 0;
	__u64 r_id;
	long n;

	reader_tgid = bpf_get_current_pid_tgid() >> 32;
	if (!cg)
		return 0;
	/* A removed cgroup stays in its parent's list until released ("dying"): its
	 * directory is gone, so the file walk cannot see it either. */
	if (!(BPF_CORE_READ(cg, self.flags) & CSS_ONLINE))
		return 0;
	r = bpf_ringbuf_reserve(&cgroups_out, sizeof(*r), 0);
	if (!r) {
		cgroups_dropped++;
		return 0;
	}
	r_id = BPF_CORE_READ(cg, kn, id);
	r->id = r_id;
	parent = BPF_CORE_READ(cg, self.parent, cgroup);
	r->parent_id = parent ? BPF_CORE_READ(parent, kn, id) : 0;
	r->level = BPF_CORE_READ(cg, level);
	r->subsys_mask = BPF_CORE_READ(cg, root, subsys_mask);
	r->subtree_control = BPF_CORE_READ(cg, subtree_control);
	if (BPF_CORE_READ(cg, dom_cgrp) != cg)
		flags |= CGTREE_CG_THREADED;
	if (BPF_CORE_READ(cg, nr_threaded_children) > 0)
		flags |= CGTREE_CG_THREADED_KIDS;
	if (BPF_CORE_READ(cg, nr_populated_csets) > 0)
		flags |= CGTREE_CG_POPULATED_CSETS;
	/* cgroup_is_populated() in include/linux/cgroup.h */
	if (BPF_CORE_READ(cg, nr_populated_csets) + BPF_CORE_READ(cg, nr_populated_domain_children) +
	    BPF_CORE_READ(cg, nr_populated_threaded_children))
		flags |= CGTREE_CG_POPULATED;
	r->flags = flags;
	r->pad = 0;
	r->pad2 = 0;
	/* kernfs_refresh_inode(): the inode's owner is the iattr's, GLOBAL_ROOT_UID without. */
	r->uid = BPF_CORE_READ(cg, kn, iattr) ? BPF_CORE_READ(cg, kn, iattr, ia_uid.val) : 0;
	n = bpf_probe_read_kernel_str(r->name, sizeof(r->name), BPF_CORE_READ(cg, kn, name));
	r->name_len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(r, 0);

	/* The processes cgroup.procs lists (cgroup_procs_start: CSS_TASK_ITER_PROCS |
	 * CSS_TASK_ITER_THREADED; a threaded cgroup's cgroup.procs cannot be read). */
	if (!(flags & CGTREE_CG_THREADED)) {
		struct task_struct *t;
		__u64 id = r_id;

		bpf_for_each(css_task, t, &cg->self, CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED)
		{
			struct member_rec m = { .cgroup_id = id, .tgid = t->tgid, .pad = 0 };

			if (bpf_ringbuf_output(&members_out, &m, sizeof(m), 0))
				members_dropped++;
		}
	}
	return 0;
}

SEC("iter.s/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct task_rec *r;
	struct mm_struct *mm;
	unsigned long start, end;
	__u32 zero = 0, flags = 0;
	__u64 len = 0;

	reader_tgid = bpf_get_current_pid_tgid() >> 32;
	if (!t)
		return 0;
	/* Processes only (thread-group leaders), as cgroup.procs lists them. */
	if (t->pid != t->tgid)
		return 0;
	r = bpf_map_lookup_elem(&task_scratch, &zero);
	if (!r)
		return 0;
	r->tgid = t->tgid;
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	/* The objective credentials, as /proc/PID/status shows them. */
	r->uid = BPF_CORE_READ(t, real_cred, uid.val);
	r->gid = BPF_CORE_READ(t, real_cred, gid.val);
	r->euid = BPF_CORE_READ(t, real_cred, euid.val);
	r->egid = BPF_CORE_READ(t, real_cred, egid.val);
	r->suid = BPF_CORE_READ(t, real_cred, suid.val);
	r->fsuid = BPF_CORE_READ(t, real_cred, fsuid.val);
	r->userns = BPF_CORE_READ(t, real_cred, user_ns, ns.inum);
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), t->comm);
	if (t->flags & PF_KTHREAD)
		flags |= CGTREE_TASK_KTHREAD;
	if (BPF_CORE_READ(t, signal, live.counter) == 0)
		flags |= CGTREE_TASK_DEAD;
	mm = t->mm;
	if (mm && !(flags & CGTREE_TASK_KTHREAD)) {
		start = BPF_CORE_READ(mm, arg_start);
		end = BPF_CORE_READ(mm, arg_end);
		len = end > start ? end - start : 0;
		/* fs/proc/base.c: nothing before exec has set the stack up. */
		if (!BPF_CORE_READ(mm, env_end))
			len = 0;
		if (len > CGTREE_CMDLINE_LEN) {
			flags |= CGTREE_TASK_CMDLINE_PARTIAL;
			len = 0;
		}
		if (len > 0) {
			len &= CGTREE_CMDLINE_LEN * 2 - 1;
			if (len > CGTREE_CMDLINE_LEN)
				len = CGTREE_CMDLINE_LEN;
			if (bpf_copy_from_user_task(r->cmdline, len, (void *)start, t, 0)) {
				flags |= CGTREE_TASK_CMDLINE_PARTIAL;
				len = 0;
			} else if (r->cmdline[(len - 1) & (CGTREE_CMDLINE_LEN - 1)] != 0) {
				/* No final NUL: the process rewrote its arguments (setproctitle);
				 * /proc/PID/cmdline then reads on into the environment. */
				flags |= CGTREE_TASK_CMDLINE_PARTIAL;
				len = 0;
			}
		}
	}
	r->flags = flags;
	r->cmdline_len = len;
	r->pad = 0;
	if (bpf_ringbuf_output(&tasks_out, r,
			       __builtin_offsetof(struct task_rec, cmdline) +
				       (len & (CGTREE_CMDLINE_LEN * 2 - 1)),
			       0))
		tasks_dropped++;
	return 0;
}
