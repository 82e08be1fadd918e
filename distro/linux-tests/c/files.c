/* Files and directories through the calls a C program makes: open,
 * openat, read, lseek, pread, write, pwrite, fcntl, fstat, stat, fstatat,
 * getdents64 (readdir), close, umask; mkdir, mkdirat, rmdir, unlink,
 * rename, link, symlink, readlink, truncate, ftruncate, chmod, fchmod,
 * chdir, fchdir, getcwd; poll; mmap of a file; and the errors Linux gives. It runs in a copy of
 * distro/linux-tests/tree (motd, etc/hostname, etc/empty) as its working
 * directory and prints the same on Linux and on hurd-rs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ESPIPE: return "ESPIPE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case ERANGE: return "ERANGE";
	case ENODEV: return "ENODEV";
	default: return "another error";
	}
}

/* "what: ok" or "what: ERRNO" for a call's result. */
static void report(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? err(errno) : "ok");
}

static const char *kind(mode_t m)
{
	return S_ISDIR(m) ? "directory" : S_ISREG(m) ? "file" :
	       S_ISLNK(m) ? "symlink" : "other";
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
	char *names[64];
	int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL) {
		report("opendir", -1);
		return;
	}
	while ((e = readdir(d)) != NULL && n < 64) {
		char *s = malloc(strlen(e->d_name) + 3);
		sprintf(s, "%s%s", e->d_name,
			e->d_type == DT_DIR ? "/" : e->d_type == DT_REG ? "" :
			e->d_type == DT_LNK ? "@" : "?");
		names[n++] = s;
	}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	printf("%s:", dir);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(void)
{
	char buf[256];
	char line[64];
	struct stat st;
	long n;
	int fd, dir;
	FILE *f;

	fd = open("motd", O_RDONLY);
	n = read(fd, buf, sizeof buf);
	printf("motd: %ld bytes: %.*s", n, (int)(n > 0 ? n : 0), buf);
	printf("at the end: %ld\n", (long)read(fd, buf, sizeof buf));
	printf("lseek 11: %ld\n", (long)lseek(fd, 11, SEEK_SET));
	n = read(fd, buf, 5);
	printf("then: %.*s\n", (int)(n > 0 ? n : 0), buf);
	n = pread(fd, buf, 4, 0);
	printf("pread at 0: %.*s\n", (int)(n > 0 ? n : 0), buf);
	printf("still at: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	report("lseek before the start", lseek(fd, -100, SEEK_CUR));
	if (fstat(fd, &st) == 0)
		printf("fstat: %s of %ld bytes\n", kind(st.st_mode), (long)st.st_size);
	report("write to a read-only descriptor", write(fd, "x", 1));
	report("close", close(fd));
	report("read after close", read(fd, buf, 1));
	report("close again", close(fd));

	report("open missing", open("missing", O_RDONLY));
	report("open motd/x", open("motd/x", O_RDONLY));
	report("open etc for writing", open("etc", O_WRONLY));
	report("open motd as a directory", open("motd", O_RDONLY | O_DIRECTORY));
	report("create motd exclusively", open("motd", O_WRONLY | O_CREAT | O_EXCL, 0644));
	dir = open("etc", O_RDONLY | O_DIRECTORY);
	report("open etc", dir);
	report("read a directory", read(dir, buf, sizeof buf));

	fd = openat(dir, "hostname", O_RDONLY);
	n = read(fd, buf, sizeof buf);
	printf("openat etc hostname: %.*s", (int)(n > 0 ? n : 0), buf);
	report("openat from a file", openat(fd, "x", O_RDONLY));
	close(fd);
	report("openat from a closed descriptor", openat(fd, "x", O_RDONLY));
	printf("close-on-exec: %d", fcntl(dir, F_GETFD));
	fcntl(dir, F_SETFD, FD_CLOEXEC);
	printf(", then %d\n", fcntl(dir, F_GETFD));
	printf("access mode: %s\n",
	       (fcntl(dir, F_GETFL) & O_ACCMODE) == O_RDONLY ? "read only" : "other");
	if (fstatat(dir, "empty", &st, 0) == 0)
		printf("fstatat etc empty: %s of %ld bytes\n", kind(st.st_mode), (long)st.st_size);
	close(dir);
	if (stat("etc", &st) == 0)
		printf("stat etc: %s\n", kind(st.st_mode));
	report("stat etc/nothing", stat("etc/nothing", &st));

	f = fopen("etc/hostname", "r");
	if (f != NULL && fgets(line, sizeof line, f) != NULL)
		printf("fgets: %s", line);
	if (f != NULL)
		fclose(f);

	umask(022);
	printf("umask was: %03o\n", umask(027));
	fd = open("note", O_WRONLY | O_CREAT | O_TRUNC, 0666);
	printf("wrote: %ld\n", (long)write(fd, "written by files.c\n", 19));
	printf("pwrite: %ld\n", (long)pwrite(fd, "WRITTEN", 7, 0));
	if (fstat(fd, &st) == 0)
		printf("note: mode %03o, %ld bytes\n", st.st_mode & 0777, (long)st.st_size);
	close(fd);
	fd = open("note", O_RDONLY);
	n = read(fd, buf, sizeof buf);
	printf("note: %.*s", (int)(n > 0 ? n : 0), buf);
	close(fd);

	/* poll: a file is ready; a closed descriptor is POLLNVAL. */
	fd = open("motd", O_RDONLY);
	{
		struct pollfd p[4] = {
			{ fd, POLLIN | POLLOUT, 0 },
			{ -1, POLLIN, 0 },
			{ 99, 0, 0 },
			{ fd, 0, 0 },
		};
		printf("poll: %d ready:", poll(p, 4, 0));
		for (int i = 0; i < 4; i++)
			printf(" %#x", p[i].revents);
		printf("\n");
		printf("poll nothing for 10 ms: %d\n", poll(NULL, 0, 10));
	}
	close(fd);

	/* A private mapping of a file holds its bytes, zeros after its end;
	 * a descriptor not open for reading, a directory and an offset off a
	 * page are refused. */
	fd = open("motd", O_RDONLY);
	{
		char *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			report("mmap motd", -1);
		} else {
			printf("mmap motd: %.19s, then %d %d\n", m, m[20], m[4095]);
			report("munmap", munmap(m, 8192));
		}
		report("mmap at offset 1",
		       mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED ? -1 : 0);
	}
	close(fd);
	fd = open("note", O_WRONLY);
	report("mmap a write-only descriptor",
	       mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	fd = open("etc", O_RDONLY | O_DIRECTORY);
	report("mmap a directory",
	       mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	report("mmap a closed descriptor",
	       mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);

	/* Changes to directories. */
	report("mkdir d", mkdir("d", 0777));
	if (stat("d", &st) == 0)
		printf("d: %s, mode %03o\n", kind(st.st_mode), st.st_mode & 0777);
	report("mkdir d again", mkdir("d", 0777));
	report("mkdir missing/d", mkdir("missing/d", 0777));
	report("mkdir motd/d", mkdir("motd/d", 0777));
	dir = open("etc", O_RDONLY | O_DIRECTORY);
	report("mkdirat etc sub", mkdirat(dir, "sub", 0700));
	fd = open("d/f", O_WRONLY | O_CREAT, 0644);
	printf("d/f: wrote %ld\n", (long)write(fd, "0123456789", 10));
	report("ftruncate to 4", ftruncate(fd, 4));
	report("fchmod 600", fchmod(fd, 0600));
	close(fd);
	if (stat("d/f", &st) == 0)
		printf("d/f: mode %03o, %ld bytes\n", st.st_mode & 0777, (long)st.st_size);
	fd = open("d/f", O_RDONLY);
	report("ftruncate a read-only descriptor", ftruncate(fd, 1));
	close(fd);
	report("truncate to 2", truncate("d/f", 2));
	report("truncate to -1", truncate("d/f", -1));
	report("truncate d", truncate("d", 0));
	report("chmod d/f 640", chmod("d/f", 0640));
	if (stat("d/f", &st) == 0)
		printf("d/f: mode %03o, %ld bytes\n", st.st_mode & 0777, (long)st.st_size);
	report("rmdir d", rmdir("d"));
	report("unlink d", unlink("d"));
	report("rmdir d/f", rmdir("d/f"));
	report("unlink d/f/", unlink("d/f/"));
	report("rmdir .", rmdir("."));
	report("link d/f d/g", link("d/f", "d/g"));
	if (stat("d/f", &st) == 0)
		printf("d/f: %ld links\n", (long)st.st_nlink);
	report("link d/f motd", link("d/f", "motd"));
	report("link d d2", link("d", "d2"));
	report("symlink f d/s", symlink("f", "d/s"));
	n = readlink("d/s", buf, sizeof buf);
	printf("readlink d/s: %.*s (%ld)\n", (int)(n > 0 ? n : 0), buf, n);
	report("readlink d/f", readlink("d/f", buf, sizeof buf));
	report("symlink x motd", symlink("x", "motd"));
	if (lstat("d/s", &st) == 0)
		printf("lstat d/s: %s\n", kind(st.st_mode));
	if (stat("d/s", &st) == 0)
		printf("stat d/s: %s of %ld bytes\n", kind(st.st_mode), (long)st.st_size);
	report("rename d/g d/h", rename("d/g", "d/h"));
	report("rename d/nothing d/x", rename("d/nothing", "d/x"));
	report("rename d/h etc", rename("d/h", "etc"));
	report("rename etc/sub motd", rename("etc/sub", "motd"));
	report("rename etc/sub d", rename("etc/sub", "d"));
	report("rename . x", rename(".", "x"));
	report("chdir d", chdir("d"));
	list(".");
	if (getcwd(buf, sizeof buf) != NULL)
		printf("getcwd ends with %s\n", strrchr(buf, '/'));
	report("getcwd into 2 bytes", getcwd(buf, 2) == NULL ? -1 : 0);
	report("chdir ..", chdir(".."));
	report("chdir motd", chdir("motd"));
	report("fchdir etc", fchdir(dir));
	list(".");
	report("chdir ..", chdir(".."));
	close(dir);
	report("unlink d/s", unlink("d/s"));
	report("unlink d/h", unlink("d/h"));
	report("unlink d/f", unlink("d/f"));
	report("unlink d/f again", unlink("d/f"));
	report("rmdir d/", rmdir("d/"));

	list(".");
	list("etc");
	return 0;
}
