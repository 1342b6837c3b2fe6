/* Dropping root and capabilities with libcap-ng, once everything that
 * needs them is open. */
#include "service/privs.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cap-ng.h>

int dr_privs_prepare(struct dr_privs *p, const char *user, char *errbuf, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	const char *want = user ? user : DR_DEFAULT_USER;
	errno = 0;
	struct passwd *pw = getpwnam(want);
	if (!pw) {
		if (!user)	/* no default user here: stay as we are */
			return 0;
		snprintf(errbuf, errlen, "user '%s': %s", want,
			 errno ? strerror(errno) : "no such user (create it, or give --user)");
		return -1;
	}
	if (pw->pw_uid == geteuid())
		return 0;
	if (geteuid() != 0) {
		if (!user)
			return 0;
		snprintf(errbuf, errlen, "user '%s': becoming another user needs root", want);
		return -1;
	}
	snprintf(p->user, sizeof(p->user), "%s", want);
	p->uid = (int)pw->pw_uid;
	p->gid = (int)pw->pw_gid;
	return 0;
}

int dr_privs_give_store(const struct dr_privs *p, const char *path, char *errbuf, size_t errlen)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	if (p->uid < 0)
		return 0;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char name[4096];
		snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
		if (chown(name, (uid_t)p->uid, (gid_t)p->gid) < 0 && !(i && errno == ENOENT)) {
			snprintf(errbuf, errlen, "%s: cannot give it to user '%s': %s", name, p->user,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int dr_privs_give_dir(const struct dr_privs *p, const char *path, int parent, char *errbuf,
		      size_t errlen)
{
	char dir[4096];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(errbuf, errlen, "%s: path too long", path);
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (parent) {
		if (!slash)
			return 0;	/* the working folder */
		if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
	}
	for (char *c = dir + 1; *c; c++)
		if (*c == '/') {
			*c = 0;
			mkdir(dir, 0755);	/* parents: as mkdir -p; the last is checked */
			*c = '/';
		}
	if (mkdir(dir, 0750) < 0) {
		if (errno == EEXIST)
			return 0;	/* the operator's: not ours to give away */
		snprintf(errbuf, errlen, "%s: cannot make the folder %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	if (p->uid >= 0 && chown(dir, (uid_t)p->uid, (gid_t)p->gid) < 0) {
		snprintf(errbuf, errlen, "%s: cannot give %s to user '%s': %s", path, dir, p->user,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int dr_privs_drop(struct dr_privs *p, char *errbuf, size_t errlen)
{
	capng_get_caps_process();
	int had = capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE;
	capng_clear(CAPNG_SELECT_BOTH);
	if (p->keep_net_admin && (had || geteuid() == 0)) {
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
			     CAPNG_BOUNDING_SET, CAP_NET_ADMIN);
		if (p->keep_net_raw)
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				     CAPNG_INHERITABLE | CAPNG_BOUNDING_SET, CAP_NET_RAW);
	}
	if (p->uid >= 0) {
		/* kept: the bounding set cut to what is kept while we are still
		 * root (CAP_SETPCAP), then the user's permitted set to match */
		if (p->keep_net_admin && capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
			snprintf(errbuf, errlen, "cannot narrow the bounding set");
			return -1;
		}
		int rc = capng_change_id(p->uid, p->gid, p->keep_net_admin ?
					 CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT :
					 CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
					 CAPNG_CLEAR_AMBIENT);
		if (rc < 0) {
			snprintf(errbuf, errlen, "user '%s': cannot become it (libcap-ng error %d)",
				 p->user, rc);
			return -1;
		}
		p->dropped = 1;
	} else if (geteuid() == 0) {
		/* root with no one to become: root still, but with no power
		 * beyond its files (CAP_SETPCAP lets it clear the bounding set) */
		if (capng_apply(CAPNG_SELECT_BOTH) < 0) {
			snprintf(errbuf, errlen, "cannot drop capabilities");
			return -1;
		}
	} else if (had) {
		/* started with capabilities only (systemd's AmbientCapabilities):
		 * give them up; the bounding set needs CAP_SETPCAP, which we have
		 * not, and nothing can raise a capability back without it */
		if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
			snprintf(errbuf, errlen, "cannot drop capabilities");
			return -1;
		}
	}
#ifdef PR_CAP_AMBIENT
	/* none ambient: the response's worker raises its own for the commands
	 * it runs, so that no other child (an exec hook) inherits any */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
#endif
	return 0;
}
