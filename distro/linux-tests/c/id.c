/* The ids a program is told: real, effective and saved user and group
 * ids (getresuid, getresgid, then getuid and the others one by one), the
 * ones the auxiliary vector gave it at start, and its supplementary
 * groups. On hurd-rs they are its auth handle's; the distro scenario runs
 * it as alice and checks hers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid, groups[64];
	int i, n;

	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) {
		perror("getresuid");
		return 1;
	}
	printf("uid %u %u %u gid %u %u %u\n", ruid, euid, suid, rgid, egid, sgid);
	printf("getuid %u geteuid %u getgid %u getegid %u\n", getuid(), geteuid(),
	       getgid(), getegid());
	printf("auxv %lu %lu %lu %lu\n", getauxval(AT_UID), getauxval(AT_EUID),
	       getauxval(AT_GID), getauxval(AT_EGID));
	n = getgroups(64, groups);
	if (n < 0) {
		perror("getgroups");
		return 1;
	}
	printf("groups %d:", n);
	for (i = 0; i < n; i++)
		printf(" %u", groups[i]);
	printf("\n");
	return 0;
}
