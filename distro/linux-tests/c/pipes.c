/* Pipes and socket pairs in one process: pipe, pipe2 and socketpair, data
 * in order, end of file once the writer is gone, EPIPE with no reader,
 * O_NONBLOCK and O_CLOEXEC, fstat's file types, and poll (POLLIN, POLLOUT,
 * POLLHUP). It prints the same on Linux and on hurd-rs, where the pipes
 * are socket pairs of the local socket server at /servers/socket/1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err(void)
{
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EINVAL: return "EINVAL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	default: return "another error";
	}
}

/* What poll says of one descriptor, waiting at most `ms`. */
static void show_poll(const char *what, int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	int n = poll(&p, 1, ms);
	printf("poll %s: %d", what, n);
	if (p.revents & POLLIN) printf(" POLLIN");
	if (p.revents & POLLOUT) printf(" POLLOUT");
	if (p.revents & POLLHUP) printf(" POLLHUP");
	if (p.revents & POLLNVAL) printf(" POLLNVAL");
	printf("\n");
}

static void show_read(const char *what, int fd, size_t len)
{
	char buf[256];
	ssize_t n = read(fd, buf, len < sizeof buf ? len : sizeof buf);
	if (n < 0)
		printf("read %s: %s\n", what, err());
	else
		printf("read %s: %zd \"%.*s\"\n", what, n, (int)n, buf);
}

static const char *kind(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return err();
	return S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "socket" : "another type";
}

int main(void)
{
	int p[2], q[2], s[2];
	static char block[4096];
	long total = 0;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);

	/* A pipe: in order, and end of file after the writer. */
	if (pipe(p) != 0) {
		printf("pipe: %s\n", err());
		return 1;
	}
	printf("pipe: descriptors %d and %d\n", p[0], p[1]);
	printf("fstat: %s, %s\n", kind(p[0]), kind(p[1]));
	show_poll("empty read end", p[0], POLLIN, 0);
	show_poll("empty write end", p[1], POLLOUT, 0);
	printf("write: %zd\n", write(p[1], "hello, ", 7));
	printf("write: %zd\n", write(p[1], "pipe", 4));
	show_poll("read end with data", p[0], POLLIN, 1000);
	show_read("5 bytes", p[0], 5);
	show_read("the rest", p[0], 100);
	int d = dup(p[1]);
	close(p[1]);
	printf("write through a dup: %zd\n", write(d, "last", 4));
	close(d);
	show_read("after the writer closed", p[0], 100);
	show_poll("read end, writer gone", p[0], POLLIN, 1000);
	show_read("at the end", p[0], 100);
	close(p[0]);

	/* No reader: EPIPE (SIGPIPE ignored). */
	pipe(p);
	close(p[0]);
	n = write(p[1], "x", 1);
	printf("write with no reader: %zd %s\n", n, n < 0 ? err() : "");
	close(p[1]);

	/* pipe2: flags. */
	printf("pipe2 with flag 1: %s\n", pipe2(q, 1) == 0 ? "ok" : err());
	if (pipe2(q, O_NONBLOCK | O_CLOEXEC) != 0) {
		printf("pipe2: %s\n", err());
		return 1;
	}
	printf("close-on-exec: %d %d\n", fcntl(q[0], F_GETFD) & FD_CLOEXEC,
	       fcntl(q[1], F_GETFD) & FD_CLOEXEC);
	show_read("empty, non-blocking", q[0], 10);
	while ((n = write(q[1], block, sizeof block)) > 0)
		total += n;
	printf("filled with %ld bytes, then %s\n", total, err());
	show_poll("full write end", q[1], POLLOUT, 0);
	show_read("4 bytes of the full pipe", q[0], 4);
	printf("drained: ");
	while ((n = read(q[0], block, sizeof block)) > 0)
		total -= n;
	printf("%ld left, then %s\n", total - 4, err());
	close(q[0]);
	close(q[1]);

	/* socketpair: both ways. */
	printf("socketpair AF_INET: %s\n", socketpair(AF_INET, SOCK_STREAM, 0, s) == 0 ? "ok" : err());
	printf("socketpair family 4242: %s\n", socketpair(4242, SOCK_STREAM, 0, s) == 0 ? "ok" : err());
	printf("socketpair protocol 6: %s\n", socketpair(AF_UNIX, SOCK_STREAM, 6, s) == 0 ? "ok" : err());
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s) != 0) {
		printf("socketpair: %s\n", err());
		return 1;
	}
	printf("socketpair: descriptors %d and %d, %s\n", s[0], s[1], kind(s[0]));
	printf("close-on-exec: %d\n", fcntl(s[1], F_GETFD) & FD_CLOEXEC);
	show_read("empty socket", s[1], 10);
	printf("write: %zd\n", write(s[0], "ping", 4));
	printf("write: %zd\n", write(s[1], "pong", 4));
	show_read("one way", s[1], 10);
	show_read("the other", s[0], 10);
	close(s[0]);
	show_poll("socket, peer gone", s[1], POLLIN, 1000);
	show_read("socket at the end", s[1], 10);
	close(s[1]);
	printf("done\n");
	return 0;
}
