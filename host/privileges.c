/* privileges.c -- dropping root after start-up, keeping the right to bind low ports. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileges-internal.h"

int privileges_lookup(const char *user, uid_t *uid, gid_t *gid, char *why, size_t why_size)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int err = getpwnam_r(user, &pw, buf, sizeof(buf), &found);

	if (err != 0 || found == NULL) {
		snprintf(why, why_size, "user '%s': %s", user,
			 err != 0 ? strerror(err) : "no such user");
		return err != 0 ? -err : -ENOENT;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/* Keeps CAP_NET_BIND_SERVICE alone in the permitted and effective sets. */
static int keep_bind_capability(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	return syscall(SYS_capset, &header, data) == 0 ? 0 : -errno;
}

int privileges_drop(const char *user, char *why, size_t why_size)
{
	uid_t uid;
	gid_t gid;
	int err = privileges_lookup(user, &uid, &gid, why, why_size);

	if (err != 0)
		return err;
	if (geteuid() == uid && getuid() == uid)
		return 0; /* started as that user (systemd's User=): nothing to drop */
	if (geteuid() != 0) {
		snprintf(why, why_size,
			 "user '%s': quorumd runs as uid %u, not root: it cannot "
			 "become another user",
			 user, (unsigned)geteuid());
		return -EPERM;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || initgroups(user, gid) != 0 ||
	    setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
		err = -errno;
		snprintf(why, why_size, "becoming user '%s' (uid %u, gid %u): %s", user,
			 (unsigned)uid, (unsigned)gid, strerror(-err));
		return err;
	}
	if ((err = keep_bind_capability()) != 0) {
		snprintf(why, why_size, "keeping CAP_NET_BIND_SERVICE: %s", strerror(-err));
		return err;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		err = -errno;
		snprintf(why, why_size, "prctl: %s", strerror(-err));
		return err;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) { /* must be impossible now */
		snprintf(why, why_size, "root could be regained after becoming '%s'", user);
		return -EPERM;
	}
	return 0;
}
