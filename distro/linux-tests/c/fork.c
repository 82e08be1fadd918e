/* Processes: fork, vfork, waitpid, waitid and execve. A child has its own
 * pid and the forker as its parent, shares the parent's open files (and
 * their offsets), writes and exits 3; the parent waits and prints the
 * status words as Linux encodes them; WNOHANG, ECHILD; waitid's siginfo;
 * then a child execs this program again (`--exec`) with other arguments
 * and environment, keeping its pid and the descriptors not marked
 * close-on-exec; a `#!` script naming this program as its interpreter; and
 * the errors of execve (ENOENT, EACCES, ENOEXEC). It prints the same on
 * Linux and on hurd-rs. With a directory as its argument it works there. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(int e)
{
	switch (e) {
	case 0: return "no error";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case ENOEXEC: return "ENOEXEC";
	case ECHILD: return "ECHILD";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	default: return "another error";
	}
}

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited with %d (status %#x)\n", what, WEXITSTATUS(st), st);
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status %#x\n", what, st);
}

/* The program run again by execve: what it was given. */
static int execd(int argc, char **argv)
{
	const char *pid = getenv("FORK_PID");
	printf("exec:");
	for (int i = 1; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\n");
	printf("exec: FORK_TEST=%s\n", getenv("FORK_TEST") ? getenv("FORK_TEST") : "(unset)");
	printf("exec: the same pid: %s\n", pid && atoi(pid) == getpid() ? "yes" : "no");
	errno = 0;
	int kept = fcntl(10, F_GETFD);
	printf("exec: descriptor 10 kept: %s\n", kept >= 0 ? "yes" : err(errno));
	errno = 0;
	int closed = fcntl(11, F_GETFD);
	printf("exec: descriptor 11 (close-on-exec): %s\n", closed >= 0 ? "open" : err(errno));
	return 5;
}

/* In a child: execve of `path` with this program's --exec arguments. */
static void exec_child(const char *path, char *self)
{
	char pid[32], env_pid[48];
	snprintf(pid, sizeof pid, "%d", getpid());
	snprintf(env_pid, sizeof env_pid, "FORK_PID=%s", pid);
	char *args[] = { self, "--exec", "two words", "", NULL };
	char *env[] = { "FORK_TEST=passed", env_pid, NULL };
	execve(path, args, env);
	printf("execve failed: %s\n", err(errno));
	fflush(stdout);
	_exit(127);
}

static void try_exec(const char *what, const char *path, char *self)
{
	char *args[] = { self, "--exec", NULL };
	char *env[] = { NULL };
	errno = 0;
	int r = execve(path, args, env);
	printf("execve %s: %d %s\n", what, r, err(errno));
}

static void make_file(const char *name, const char *text, mode_t mode)
{
	int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("cannot make %s: %s\n", name, err(errno));
	close(fd);
	chmod(name, mode);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strncmp(argv[1], "--exec", 6) == 0)
		return execd(argc, argv);
	if (argc > 1 && chdir(argv[1]) != 0) {
		printf("cannot work in %s\n", argv[1]);
		return 1;
	}
	/* Descriptors 10 and 11 are the children's to make. */
	close(10);
	close(11);
	char *self = argv[0];
	pid_t me = getpid();
	int st = 0;

	errno = 0;
	int r = waitpid(-1, &st, 0);
	printf("wait with no child: %d %s\n", r, err(errno));
	errno = 0;
	r = waitpid(-1, &st, WNOHANG);
	printf("wait with no child, WNOHANG: %d %s\n", r, err(errno));
	errno = 0;
	r = waitpid(-1, &st, 0x100);
	printf("wait with unknown options: %d %s\n", r, err(errno));

	/* A child that writes to a file it shares with its parent, exits 3. */
	int fd = open("shared", O_CREAT | O_RDWR | O_TRUNC, 0644);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: fork returned 0\n");
		printf("child: a pid of its own: %s\n", getpid() != me ? "yes" : "no");
		printf("child: its parent is the forker: %s\n", getppid() == me ? "yes" : "no");
		if (write(fd, "from the child\n", 15) != 15)
			printf("child: write failed: %s\n", err(errno));
		exit(3);
	}
	r = waitpid(pid, &st, 0);
	printf("parent: fork returned the child's pid: %s\n", pid > 0 && r == pid ? "yes" : "no");
	show_status("child", st);
	printf("parent: the file's offset after the child's write: %ld\n",
	       (long)lseek(fd, 0, SEEK_CUR));
	errno = 0;
	r = waitpid(pid, &st, 0);
	printf("wait for the reaped child: %d %s\n", r, err(errno));

	/* WNOHANG while a child runs, then wait for any child. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct timespec t = { 0, 300 * 1000 * 1000 };
		nanosleep(&t, NULL);
		_exit(0);
	}
	r = waitpid(pid, &st, WNOHANG);
	printf("WNOHANG while the child runs: %d\n", r);
	r = waitpid(-1, &st, 0);
	printf("wait for any child: %s\n", r == pid ? "that child" : "another");
	show_status("sleeper", st);

	/* waitid: the child's siginfo. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(4);
	siginfo_t info;
	memset(&info, 0xff, sizeof info);
	r = waitid(P_PID, pid, &info, WEXITED);
	printf("waitid: %d, SIGCHLD: %s, CLD_EXITED: %s, status %d, the child: %s\n", r,
	       info.si_signo == SIGCHLD ? "yes" : "no",
	       info.si_code == CLD_EXITED ? "yes" : "no", info.si_status,
	       info.si_pid == pid ? "yes" : "no");
	errno = 0;
	r = waitid(P_ALL, 0, &info, WEXITED | WNOHANG);
	printf("waitid with no child: %d %s\n", r, err(errno));
	errno = 0;
	r = waitid(P_ALL, 0, &info, 0);
	printf("waitid without WEXITED: %d %s\n", r, err(errno));
	errno = 0;
	r = waitid(P_PID, 0, &info, WEXITED);
	printf("waitid of pid 0: %d %s\n", r, err(errno));

	/* fork, then execve of this program. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 10);
		fcntl(fd, F_DUPFD_CLOEXEC, 11);
		exec_child(self, self);
	}
	waitpid(pid, &st, 0);
	show_status("exec'd child", st);

	/* vfork, then execve. */
	fflush(stdout);
	pid = vfork();
	if (pid == 0)
		exec_child(self, self);
	waitpid(pid, &st, 0);
	show_status("vfork'd child", st);

	/* A script whose interpreter is this program. */
	char line[512];
	snprintf(line, sizeof line, "#! %s --exec  an argument \nignored\n", self);
	make_file("script", line, 0755);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		exec_child("script", self);
	waitpid(pid, &st, 0);
	show_status("script", st);

	/* What execve refuses (it returns, and nothing changed). */
	make_file("plain", "#!/bin/sh\n", 0644);
	make_file("garbage", "not a program\n", 0755);
	mkdir("directory", 0755);
	try_exec("of a missing file", "no-such-file", self);
	try_exec("of a file without x", "plain", self);
	try_exec("of a directory", "directory", self);
	try_exec("of no program", "garbage", self);
	printf("the same program still runs: %s\n", getpid() == me ? "yes" : "no");
	unlink("plain");
	unlink("garbage");
	unlink("script");
	unlink("shared");
	rmdir("directory");
	return 0;
}
