/* An ordinary C program for musl-gcc -static: arguments and environment,
 * files through stdio and raw descriptors, a child process with fork,
 * exec and waitpid, a pipe, a signal handler, and errno on failures.
 * Output holds nothing that differs between runs or systems.
 *
 * Usage: c-suite SCRATCH_DIR */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_signal(int sig) { got = sig; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: c-suite SCRATCH_DIR\n");
        return 2;
    }
    if (argc == 3 && strcmp(argv[2], "child") == 0)
        return 5;
    printf("argc %d, HOME set: %d\n", argc, getenv("HOME") != NULL);

    if (chdir(argv[1]) != 0) {
        perror("chdir");
        return 1;
    }
    FILE *f = fopen("c-file.txt", "w");
    fprintf(f, "line %d\n", 1);
    fclose(f);
    int fd = open("c-file.txt", O_RDWR | O_APPEND);
    write(fd, "line 2\n", 7);
    lseek(fd, 0, SEEK_SET);
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read %zd: %s", n, buf);
    struct stat st;
    fstat(fd, &st);
    printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    close(fd);

    int r = open("missing", O_RDONLY);
    printf("open missing: %d errno %d\n", r, errno);
    r = mkdir(".", 0755);
    printf("mkdir . : %d errno %d\n", r, errno);
    r = close(999);
    printf("close bad fd: %d errno %d\n", r, errno);

    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        write(p[1], "from the child", 14);
        _exit(3);
    }
    close(p[1]);
    n = read(p[0], buf, sizeof buf - 1);
    buf[n] = 0;
    int status;
    waitpid(pid, &status, 0);
    printf("child said \"%s\", exited %d with %d\n", buf, WIFEXITED(status), WEXITSTATUS(status));

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *args[] = { argv[0], argv[1], "child", NULL };
        execv(argv[0], args);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    printf("exec'd child exited with %d\n", WEXITSTATUS(status));

    signal(SIGUSR2, on_signal);
    raise(SIGUSR2);
    printf("handler got signal %d\n", got);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    printf("killed child: signaled %d signal %d\n", WIFSIGNALED(status), WTERMSIG(status));
    unlink("c-file.txt");
    return 0;
}
