/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each user's heaps hold, across all of them: the per-user bound.
 * See kmod/user.c.
 */
#ifndef __OBJHEAP_USER_H
#define __OBJHEAP_USER_H

#include <linux/types.h>

struct oh_user;

int oh_user_setup(void);
void oh_user_cleanup(void);
struct oh_user *oh_user_get_current(void);
void oh_user_put(struct oh_user *u);
int oh_user_charge(struct oh_user *u, size_t bytes);
void oh_user_uncharge(struct oh_user *u, size_t bytes);
u64 oh_user_held(const struct oh_user *u);
u64 oh_user_bound(const struct oh_user *u);

#endif /* __OBJHEAP_USER_H */
