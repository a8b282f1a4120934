/*
 * escape-probe: the escape battery's attacks that need a system call no shell
 * has, run inside a sandbox (static, so it runs in any rootfs or guest).
 *
 *   escape-probe ptrace PID            PTRACE_SEIZE of PID
 *   escape-probe getfd PID FD FILE     pidfd_getfd(PID's fd FD), FILE's bytes written to it
 *   escape-probe userns                unshare(CLONE_NEWUSER)
 *   escape-probe privileged DIR        what needs a capability: mount a tmpfs on DIR, chroot(DIR),
 *                                      sethostname, chown DIR to root, setuid(0); one line each
 *
 * Prints "ok" when the call succeeded, else "errno N" (N the errno of the
 * first call that failed); `privileged` prefixes each line with the call's
 * name. Exit 0 either way; 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int failed(void) {
  printf("errno %d\n", errno);
  return 0;
}

static void report(const char *call, int result) {
  if (result == 0) printf("%s ok\n", call);
  else printf("%s errno %d\n", call, errno);
}

static int copy_into(const char *path, int out) {
  int in = open(path, O_RDONLY);
  if (in < 0) return -1;
  char buffer[65536];
  ssize_t n;
  while ((n = read(in, buffer, sizeof buffer)) > 0) {
    if (write(out, buffer, (size_t)n) != n) return -1;
  }
  close(in);
  return n < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "ptrace") == 0) {
    if (ptrace(PTRACE_SEIZE, (pid_t)atoi(argv[2]), NULL, NULL) != 0) return failed();
    printf("ok\n");
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "getfd") == 0) {
    long pidfd = syscall(SYS_pidfd_open, (pid_t)atoi(argv[2]), 0);
    if (pidfd < 0) return failed();
    long fd = syscall(SYS_pidfd_getfd, (int)pidfd, atoi(argv[3]), 0);
    if (fd < 0) return failed();
    if (copy_into(argv[4], (int)fd) != 0) return failed();
    printf("ok\n");
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "userns") == 0) {
    if (unshare(CLONE_NEWUSER) != 0) return failed();
    printf("ok\n");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "privileged") == 0) {
    report("mount", mount("rigor-escape", argv[2], "tmpfs", 0, NULL));
    report("chown", chown(argv[2], 0, 0));
    report("sethostname", sethostname("rigor-escape", 12));
    report("chroot", chroot(argv[2]));
    report("setuid", setuid(0));
    return 0;
  }
  fprintf(stderr, "usage: escape-probe ptrace PID | getfd PID FD FILE | userns | privileged DIR\n");
  return 2;
}
