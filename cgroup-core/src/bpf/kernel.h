/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The few kernel types cgtree's BPF programs read, declared with CO-RE
 * (`preserve_access_index`): libbpf relocates each field access against the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) at load time, so the programs are built once,
 * without a vmlinux.h, and run on any kernel that has the fields. Field names and
 * meanings: include/linux/cgroup-defs.h, include/linux/kernfs.h, include/linux/sched.h,
 * include/linux/cred.h, include/linux/mm_types.h and include/linux/bpf.h (the
 * iterator contexts), Linux 6.1 to 6.18.
 */
#ifndef CGTREE_KERNEL_H
#define CGTREE_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

/* include/uapi/linux/bpf.h: map types used here (stable ABI values). */
enum bpf_map_type {
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

#define PAI __attribute__((preserve_access_index))

struct bpf_iter_meta {
	void *seq;
	__u64 session_id;
	__u64 seq_num;
} PAI;

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

struct kernfs_iattrs {
	kuid_t ia_uid;
} PAI;

struct kernfs_node {
	const char *name;
	__u64 id;
	struct kernfs_iattrs *iattr;
} PAI;

struct cgroup;

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys_state *parent;
	unsigned int flags;
} PAI;

/* enum in include/linux/cgroup-defs.h */
#define CSS_ONLINE 2

struct cgroup_root {
	unsigned int subsys_mask;
} PAI;

struct cgroup {
	struct cgroup_subsys_state self;
	int level;
	int nr_populated_csets;
	int nr_populated_domain_children;
	int nr_populated_threaded_children;
	int nr_threaded_children;
	struct kernfs_node *kn;
	__u16 subtree_control;
	struct cgroup *dom_cgrp;
	struct cgroup_root *root;
} PAI;

struct bpf_iter__cgroup {
	struct bpf_iter_meta *meta;
	struct cgroup *cgroup;
} PAI;

struct css_set {
	struct cgroup *dfl_cgrp;
} PAI;

struct ns_common {
	unsigned int inum;
} PAI;

struct user_namespace {
	struct ns_common ns;
} PAI;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
	struct user_namespace *user_ns;
} PAI;

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;
} PAI;

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_end;
} PAI;

struct task_struct {
	unsigned int flags;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	const struct cred *real_cred;
	struct css_set *cgroups;
	struct signal_struct *signal;
	struct mm_struct *mm;
	int exit_state;
	char comm[16];
} PAI;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} PAI;

#endif
