// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * cgtree's BPF iterators: one walk of the cgroup2 hierarchy (iter/cgroup, Linux 6.1+)
 * and one of every task (sleepable iter.s/task, for bpf_copy_from_user_task, Linux
 * 5.18+). Each sends records (cgtree.h: a fixed part, then only the bytes of the name or
 * command line) through its own ring buffer; the
 * iterators' seq files stay empty (a cgroup iterator has one read session, and output
 * beyond its seq buffer fails with EOPNOTSUPP: kernel/bpf/cgroup_iter.c).
 *
 * The kernel runs the cgroup iterator with cgroup_mutex held (cgroup_iter.c,
 * cgroup_iter_seq_start): its program reads a few fields and a name per cgroup, and
 * who is in which cgroup comes from the task walk, which holds no cgroup lock.
 *
 * What the programs read and where the file walk reads the same thing:
 *   cgroup id          kernfs_node.id          = inode of the cgroup's directory
 *   name               kernfs_node.name        = the directory's name
 *   type bits          dom_cgrp, nr_*          -> cgroup.type (cgroup_type_show)
 *   subtree_control    cgroup.subtree_control  (a bit per controller id)
 *   tgid, ppid, comm   /proc/PID/status, /proc/PID/comm
 *   cgroup of a task   css_set.dfl_cgrp        -> the cgroup (or, threaded, its domain)
 *                                                whose cgroup.procs lists it
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

/* Records are larger than the 512-byte BPF stack: built here, then sent with only the
 * bytes they use (a name's, a command line's). */
/* One slot per concurrent task walk (see split_tid), not per CPU: the task program
 * sleeps (bpf_copy_from_user_task), and another walk's program may run on its CPU
 * meanwhile. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct task_rec);
} task_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgroup_rec);
} cgroup_scratch SEC(".maps");

/* Records that did not fit in a ring buffer: user space retries with a larger one. */
__u64 cgroups_dropped = 0;
__u64 tasks_dropped = 0;
/* The reading process's TGID in the initial PID namespace: user space compares it
 * with getpid() to know the PIDs here are the ones its /proc shows. */
__u32 reader_tgid = 0;
/* Set by user space to split the task walk between two of its threads, each reading
 * its own session of the task iterator: the thread with this TID (in the initial PID
 * namespace) takes the processes with odd TGIDs, any other the even ones. 0: one
 * walk takes every process. */
__u32 split_tid = 0;

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg;
	struct kernfs_iattrs *iattr;
	struct cgroup_subsys_state *parent;
	struct cgroup_rec *r;
	struct kernfs_node *kn;
	__u32 zero = 0;
	__u16 flags = 0;
	long n;

	reader_tgid = bpf_get_current_pid_tgid() >> 32;
	if (!ctx->cgroup)
		return 0;
	/* An untrusted alias (bpf_rdonly_cast, Linux 6.2+; no instruction at run time):
	 * loading a pointer through a trusted one makes the verifier look the field's type
	 * up by name in the kernel's BTF, a linear search, at every such load it checks. */
	cg = bpf_core_cast(ctx->cgroup, struct cgroup);
	/* A removed cgroup stays in its parent's list until released ("dying"): its
	 * directory is gone, so the file walk cannot see it either. */
	if (!(cg->self.flags & CSS_ONLINE))
		return 0;
	r = bpf_map_lookup_elem(&cgroup_scratch, &zero);
	if (!r)
		return 0;
	/* Plain loads through the kernel's pointers (the verifier turns each into a
	 * fault-safe load, BPF_PROBE_MEM) rather than a bpf_probe_read_kernel call per
	 * field: the iterator holds cgroup_mutex meanwhile. */
	kn = cg->kn;
	r->id = kn->id;
	parent = cg->self.parent;
	r->parent_id = parent ? parent->cgroup->kn->id : 0;
	r->level = cg->level;
	r->subsys_mask = cg->root->subsys_mask;
	r->subtree_control = cg->subtree_control;
	if (cg->dom_cgrp != cg)
		flags |= CGTREE_CG_THREADED;
	if (cg->nr_threaded_children > 0)
		flags |= CGTREE_CG_THREADED_KIDS;
	if (cg->nr_populated_csets > 0)
		flags |= CGTREE_CG_POPULATED_CSETS;
	/* cgroup_is_populated() in include/linux/cgroup.h */
	if (cg->nr_populated_csets + cg->nr_populated_domain_children +
	    cg->nr_populated_threaded_children)
		flags |= CGTREE_CG_POPULATED;
	r->flags = flags;
	r->pad = 0;
	r->pad2 = 0;
	/* kernfs_refresh_inode(): the inode's owner is the iattr's, GLOBAL_ROOT_UID without. */
	iattr = kn->iattr;
	r->uid = iattr ? iattr->ia_uid.val : 0;
	n = bpf_probe_read_kernel_str(r->name, sizeof(r->name), kn->name);
	n = n > 0 ? n - 1 : 0;
	r->name_len = n;
	/* The record up to its name's last byte (no NUL). */
	if (bpf_ringbuf_output(&cgroups_out, r,
			       __builtin_offsetof(struct cgroup_rec, name) +
				       (n & (CGTREE_NAME_LEN - 1)),
			       0))
		cgroups_dropped++;
	return 0;
}

/* Processes only (thread-group leaders), as cgroup.procs lists them: a process is listed
 * by the cgroup of its leader's css_set (its domain, for a threaded cgroup), until its
 * leader has exited with every other thread (css_task_iter_advance in
 * kernel/cgroup/cgroup.c skips a leader on the dying list once signal->live is 0). */
SEC("iter.s/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct task_struct *u;
	const struct cred *cred;
	struct task_rec *r;
	struct mm_struct *mm;
	unsigned long start, end;
	__u64 me = bpf_get_current_pid_tgid();
	__u32 half = 0, flags = 0;
	__u64 len = 0;

	reader_tgid = me >> 32;
	if (!t)
		return 0;
	/* Fields through an untrusted alias (see dump_cgroup); the trusted pointer is
	 * what bpf_copy_from_user_task takes. */
	u = bpf_core_cast(t, struct task_struct);
	if (u->pid != u->tgid)
		return 0;
	if (split_tid) {
		half = (__u32)me == split_tid;
		if ((u->tgid & 1) != half)
			return 0;
	}
	r = bpf_map_lookup_elem(&task_scratch, &half);
	if (!r)
		return 0;
	r->tgid = u->tgid;
	r->ppid = u->real_parent->tgid;
	r->cgroup_id = u->cgroups->dfl_cgrp->kn->id;
	/* The objective credentials, as /proc/PID/status shows them. */
	cred = u->real_cred;
	r->uid = cred->uid.val;
	r->gid = cred->gid.val;
	r->euid = cred->euid.val;
	r->egid = cred->egid.val;
	r->suid = cred->suid.val;
	r->fsuid = cred->fsuid.val;
	r->userns = cred->user_ns->ns.inum;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), u->comm);
	if (u->flags & PF_KTHREAD)
		flags |= CGTREE_TASK_KTHREAD;
	/* Every thread has exited (signal->live) and the leader is past cgroup_exit (it
	 * sets no flag; exit_state is set just after): cgroup.procs no longer lists it. */
	if (u->signal->live.counter == 0 && u->exit_state)
		flags |= CGTREE_TASK_DEAD;
	mm = u->mm;
	if (mm && !(flags & CGTREE_TASK_KTHREAD)) {
		start = mm->arg_start;
		end = mm->arg_end;
		len = end > start ? end - start : 0;
		/* fs/proc/base.c: nothing before exec has set the stack up. */
		if (!mm->env_end)
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
		__sync_fetch_and_add(&tasks_dropped, 1);
	return 0;
}
