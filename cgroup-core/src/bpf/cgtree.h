/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The records cgtree's BPF programs send to user space through ring buffers. Mirrored
 * by `#[repr(C)]` structs in mod.rs (a test checks the sizes agree).
 */
#ifndef CGTREE_RECORDS_H
#define CGTREE_RECORDS_H

/* NAME_MAX + 1: a cgroup's directory name and its NUL. */
#define CGTREE_NAME_LEN 256
/* Command lines up to this many bytes come from BPF; longer ones from /proc. */
#define CGTREE_CMDLINE_LEN 4096

/* cgroup_rec.flags */
#define CGTREE_CG_THREADED 1	   /* dom_cgrp != self: cgroup.type "threaded" */
#define CGTREE_CG_THREADED_KIDS 2  /* nr_threaded_children > 0 */
#define CGTREE_CG_POPULATED_CSETS 4 /* nr_populated_csets > 0: has tasks itself */
#define CGTREE_CG_POPULATED 8	   /* cgroup.events "populated 1" (cgroup_is_populated) */

struct cgroup_rec {
	__u64 id;
	__u64 parent_id; /* 0 for the walk's first cgroup when it is the hierarchy root */
	__u32 level;
	__u32 subsys_mask; /* the hierarchy's controllers (cgroup_root.subsys_mask) */
	__u16 subtree_control;
	__u16 flags;
	__u16 name_len; /* without the NUL */
	__u16 pad;
	__u32 uid; /* owner of the directory (kernfs iattr; root when none is set) */
	__u32 pad2;
	char name[CGTREE_NAME_LEN]; /* sent up to name_len bytes, no NUL */
};

/* task_rec.flags */
#define CGTREE_TASK_KTHREAD 1	   /* PF_KTHREAD */
#define CGTREE_TASK_DEAD 2	   /* signal->live == 0 and exit_state set: cgroup.procs skips it */
#define CGTREE_TASK_CMDLINE_PARTIAL 4 /* longer than CGTREE_CMDLINE_LEN, unreadable, or
					 rewritten (no final NUL): read /proc instead */

struct task_rec {
	__u64 cgroup_id;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 userns;
	__u32 flags;
	__u32 cmdline_len; /* bytes of cmdline[] sent */
	__u32 euid;	   /* effective IDs: the second Uid:/Gid: fields of status */
	__u32 egid;
	__u32 suid;	   /* saved and filesystem UIDs: the third and fourth Uid: fields */
	__u32 fsuid;
	__u32 pad;
	char comm[16];
	char cmdline[CGTREE_CMDLINE_LEN];
};

#endif
