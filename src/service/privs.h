/* Who the service runs as: started as root (to open captures and low
 * ports), it becomes an unprivileged user once they are open, with no
 * capabilities left, not even in its bounding set; started as root with
 * no user to become, it stays root with no capabilities; started with
 * only capabilities (systemd's AmbientCapabilities), it drops those. */
#ifndef DR_SERVICE_PRIVS_H
#define DR_SERVICE_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#define DR_DEFAULT_USER "dnsradar"

struct dr_privs {
	char user[64];		/* whom to become; "" : stay who we are */
	int uid, gid;		/* -1: stay */
	int dropped;		/* dr_privs_drop changed the user */
	int keep_net_admin;	/* keep CAP_NET_ADMIN: the response
				 * changes nftables and runs ipset */
	int keep_net_raw;	/* with it, CAP_NET_RAW: iptables' set match opens
				 * a raw socket to find an ipset by name */
};

/* Chooses the user: `user` if given (it must exist, and we must be root
 * unless it is who we are already), else "dnsradar" when we are root
 * and it exists, else none. 0, or -1 with "user 'x': reason". */
int dr_privs_prepare(struct dr_privs *p, const char *user, char *errbuf, size_t errlen);

/* Gives the store's file and its WAL and shared-memory files to the
 * user, so that it can go on writing them. 0, or -1 with why. */
int dr_privs_give_store(const struct dr_privs *p, const char *path, char *errbuf, size_t errlen);

/* Makes the folder (of the file at path when `parent`, else path itself)
 * with its parents, mode 0750, and gives it to the user when we will
 * become one; a folder that exists already is left as it is (it may be
 * /var/lib). 0, or -1 with "PATH: reason". */
int dr_privs_give_dir(const struct dr_privs *p, const char *path, int parent, char *errbuf,
		      size_t errlen);

/* Becomes the user (groups dropped) and clears every capability:
 * effective, permitted, inheritable, ambient and bounding, but for
 * CAP_NET_ADMIN when keep_net_admin, and CAP_NET_RAW when keep_net_raw
 * (permitted, inheritable and bounding: the response's worker makes them
 * ambient for itself alone, for the ipset and iptables it runs). Open
 * descriptors stay usable.
 * 0, or -1 with why. */
int dr_privs_drop(struct dr_privs *p, char *errbuf, size_t errlen);

#endif
