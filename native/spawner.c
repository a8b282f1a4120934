/*
 * rigor's native spawner: a persistent helper that times commands the way
 * `hyperfine -N` does (clock -> spawn -> wait4 -> clock), so no Node or libuv
 * work falls inside the timed window. One request runs a batch of runs back to
 * back, so nothing (no pipe round trip to Node) happens between them either.
 *
 * Request (stdin):  "<mode> <argc> <envc> <spin_us> <count> <timeout_ms> <expect>\n" then cwd, file,
 *                   argv[0..argc) and env[0..envc), each terminated by NUL (an empty cwd = inherit).
 *                   file: the absolute path exec'd (posix_spawn, no PATH search inside the clock);
 *                   argv[0] is passed to it as given.
 *                   mode: d = stdout to /dev/null, p = stdout read through a pipe
 *                   and discarded, k = stdout kept in memory (its tail is answered),
 *                   a = stdout kept in memory (all of it is answered, after the clock stops).
 *                   spin_us: after the batch, poll for the next request this long
 *                   before blocking (see wait_for_request).
 *                   count: runs in the batch. timeout_ms: a run taking longer is killed (0 = no limit).
 *                   expect: the exit code a run must end with for the batch to go on (-1 = any).
 * Answer (stdout):  per run "<kind> <value> <wall_ns> <user_us> <sys_us> <outlen> <errlen> <outsize>\n"
 *                   then outlen bytes of stdout (its tail; all of it in mode a) and errlen
 *                   bytes of stderr tail; outsize = bytes the run wrote to stdout (modes k, a),
 *                   then ".\n" when the batch is over. Answers come in chunks about every
 *                   FLUSH_NS. kind: x = exited with status value, s = killed by signal value,
 *                   t = killed after timeout_ms, e = could not start, value = errno.
 *                   A batch ends after count runs or the first run of kind e or t or not
 *                   ending with exit code `expect`; only that last run carries a stderr tail.
 * Abort:            "!\n" on stdin, then SIGUSR1: the running command gets SIGTERM to its
 *                   process group, SIGKILL one second later, and a SIGKILL sweep of the
 *                   group once it is reaped; the batch ends and the aborted run is not
 *                   answered. A "!" read between batches is late and ignored. The message
 *                   makes the abort certain (a SIGUSR1 landing while the request is read is
 *                   lost); the signal makes it prompt.
 * The helper exits on EOF (also checked between the runs of a batch), and (via
 * PR_SET_PDEATHSIG) when its parent dies, killing the command's process group first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_BYTES 4096
/* How often a running batch sends what it has measured, so Node can show progress. */
#define FLUSH_NS 50000000LL

static volatile sig_atomic_t child = 0; /* pid (= process group) of the running command, 0 when idle */
static volatile sig_atomic_t aborted = 0;
static volatile sig_atomic_t timed_out = 0;
static volatile sig_atomic_t terminating = 0; /* SIGTERM sent to the running command, SIGKILL due */
static char drain_buf[65536];
static char tail_buf[2][TAIL_BYTES];
static char in_buf[65536];
static size_t in_pos = 0, in_len = 0;
static char out_buf[1 << 16];

struct batch {
  char mode;
  long count;
  long timeout_ms;
  int expect;
  char *cwd;
  char *file;
  char **argv;
  char **envp;
};

struct result {
  char kind;
  int value;
  long long wall_ns, user_us, sys_us;
};

static void arm_timer(long ms) {
  struct itimerval timer = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &timer, NULL);
}

/* SIGTERM to the running command's group now, SIGKILL one second later (on_alarm). */
static void terminate_child(void) {
  if (child > 0 && !terminating) {
    terminating = 1;
    kill(-child, SIGTERM);
    alarm(1);
  }
}

static void on_abort(int sig) {
  (void)sig;
  aborted = 1;
  terminate_child();
}

static void on_alarm(int sig) {
  (void)sig;
  if (terminating) {
    if (child > 0) kill(-child, SIGKILL);
    return;
  }
  timed_out = 1; /* with no child yet, run_one terminates it once its pid is known */
  terminate_child();
}

static void on_exit_signal(int sig) {
  if (child > 0) kill(-child, SIGKILL);
  _exit(128 + sig);
}

static void handle(int sig, void (*fn)(int)) {
  struct sigaction sa = {0};
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART; /* the handler does the work; interrupted calls carry on */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* Reset a memfd so the next command writes from offset 0. */
static void rewind_fd(int fd) {
  if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) perror("rigor-spawner: rewind");
}

/* Read the last TAIL_BYTES written to a memfd into buf; returns the length. */
static size_t read_tail(int fd, char *buf) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return 0;
  size_t len = st.st_size < TAIL_BYTES ? (size_t)st.st_size : TAIL_BYTES;
  ssize_t got = pread(fd, buf, len, st.st_size - (off_t)len);
  return got > 0 ? (size_t)got : 0;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* stdin is read through this buffer, not stdio, so a waiting "!" is seen wherever it is. Returns 0 at EOF. */
static int fill_input(void) {
  ssize_t got;
  do got = read(0, in_buf, sizeof in_buf);
  while (got < 0 && errno == EINTR);
  in_pos = 0;
  in_len = got > 0 ? (size_t)got : 0;
  return in_len > 0;
}

static int input_waiting(void) {
  struct pollfd in = {0, POLLIN, 0};
  return in_pos < in_len || poll(&in, 1, 0) > 0;
}

/* Stay awake up to spin_us for the next request, as hyperfine's own loop never
 * sleeps between runs: measured here, a helper that blocks at once lets its CPU
 * idle and the wake-up lands inside the next timed window (+3..9% on `true`). */
static void wait_for_request(long spin_us) {
  long long until = now_ns() + spin_us * 1000LL;
  while (spin_us > 0 && !input_waiting() && now_ns() < until) {
  }
}

/* The next field up to `delim` (not included), NUL-terminated and malloc'd; NULL at EOF. */
static char *read_until(char delim) {
  size_t len = 0, cap = 256;
  char *field = malloc(cap);
  while (field != NULL) {
    if (in_pos == in_len && !fill_input()) break;
    char c = in_buf[in_pos++];
    if (c == delim) {
      field[len] = '\0';
      return field;
    }
    if (len + 1 == cap) field = realloc(field, cap *= 2);
    if (field != NULL) field[len++] = c;
  }
  free(field);
  return NULL;
}

static char *read_field(void) {
  char *field = read_until('\0');
  if (field == NULL) {
    fprintf(stderr, "rigor-spawner: truncated request\n");
    exit(2);
  }
  return field;
}

/* Between the runs of a batch: has Node sent "!" (abort) or closed stdin? */
static int stop_requested(void) {
  if (aborted) return 1;
  if (!input_waiting()) return 0;
  if (in_pos == in_len && !fill_input()) return 1;
  return in_buf[in_pos] == '!';
}

static struct result run_one(const struct batch *b, int devnull, int outfd, int errfd, posix_spawnattr_t *attr) {
  posix_spawn_file_actions_t fa;
  int pipefd[2] = {-1, -1};
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, devnull, 0);
  if (b->mode == 'k' || b->mode == 'a') {
    rewind_fd(outfd);
    posix_spawn_file_actions_adddup2(&fa, outfd, 1);
  } else if (b->mode == 'p' && pipe2(pipefd, O_CLOEXEC) == 0) {
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  } else {
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
  }
  rewind_fd(errfd);
  posix_spawn_file_actions_adddup2(&fa, errfd, 2);
  if (b->cwd[0] != '\0') posix_spawn_file_actions_addchdir_np(&fa, b->cwd);

  struct timespec t0, t1;
  struct rusage ru = {0};
  int status = 0;
  pid_t pid = 0;
  timed_out = 0;
  terminating = 0;
  if (b->timeout_ms > 0) arm_timer(b->timeout_ms);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int err = posix_spawn(&pid, b->file, &fa, attr, b->argv, b->envp);
  if (err == 0) {
    child = pid;
    if (aborted || timed_out) terminate_child(); /* the abort or deadline came before the pid was recorded */
    if (pipefd[1] >= 0) {
      close(pipefd[1]);
      pipefd[1] = -1;
      while (read(pipefd[0], drain_buf, sizeof drain_buf) > 0) {
      }
    }
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  arm_timer(0);
  child = 0;
  if (err == 0 && terminating) kill(-pid, SIGKILL); /* sweep what is left of its group */
  if (pipefd[0] >= 0) close(pipefd[0]);
  if (pipefd[1] >= 0) close(pipefd[1]);
  posix_spawn_file_actions_destroy(&fa);

  struct result r = {'e', err, 0, 0, 0};
  if (err == 0 && timed_out) r.kind = 't', r.value = 0;
  else if (err == 0 && WIFEXITED(status)) r.kind = 'x', r.value = WEXITSTATUS(status);
  else if (err == 0) r.kind = 's', r.value = WTERMSIG(status);
  r.wall_ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  r.user_us = (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec;
  r.sys_us = (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
  return r;
}

static int as_expected(const struct result *r, int expect) {
  if (r->kind == 'e' || r->kind == 't') return 0;
  return expect < 0 || (r->kind == 'x' && r->value == expect);
}

/* Bytes written to a memfd so far. */
static long long fd_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_size > 0 ? (long long)st.st_size : 0;
}

/* All `size` bytes of a memfd, copied to stdout (mode a); a read that fails is padded with NULs so the framing holds. */
static void copy_all(int fd, long long size) {
  long long offset = 0;
  while (offset < size) {
    ssize_t got = pread(fd, drain_buf, sizeof drain_buf, (off_t)offset);
    if (got <= 0) break;
    if (got > size - offset) got = (ssize_t)(size - offset);
    fwrite(drain_buf, 1, (size_t)got, stdout);
    offset += got;
  }
  if (offset < size) perror("rigor-spawner: reading stdout");
  for (; offset < size; offset++) fputc(0, stdout);
}

static void answer(const struct result *r, char mode, int last, int outfd, int errfd) {
  long long outsize = mode == 'k' || mode == 'a' ? fd_size(outfd) : 0;
  size_t outlen = mode == 'k' ? read_tail(outfd, tail_buf[0]) : 0;
  size_t errlen = last ? read_tail(errfd, tail_buf[1]) : 0;
  long long sent = mode == 'a' ? outsize : (long long)outlen;
  printf("%c %d %lld %lld %lld %lld %zu %lld\n", r->kind, r->value, r->wall_ns, r->user_us, r->sys_us, sent, errlen, outsize);
  if (mode == 'a') copy_all(outfd, outsize);
  else fwrite(tail_buf[0], 1, outlen, stdout);
  fwrite(tail_buf[1], 1, errlen, stdout);
  if (outsize > 0) rewind_fd(outfd); /* give the memory back now, not at the next run */
}

static void run_batch(const struct batch *b, int devnull, int outfd, int errfd, posix_spawnattr_t *attr) {
  aborted = 0; /* a SIGUSR1 sent during an earlier batch was delivered while this request was read */
  long long flushed = now_ns();
  for (long i = 0; i < b->count && !stop_requested(); i++) {
    struct result r = run_one(b, devnull, outfd, errfd, attr);
    if (aborted) break; /* cut short by the abort: not a measurement */
    int last = i + 1 == b->count || !as_expected(&r, b->expect);
    answer(&r, b->mode, last, outfd, errfd);
    if (last) break;
    if (now_ns() - flushed >= FLUSH_NS) {
      fflush(stdout);
      flushed = now_ns();
    }
  }
  fputs(".\n", stdout);
  fflush(stdout);
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (argc > 1 && getppid() != (pid_t)atol(argv[1])) return 1; /* parent died before prctl */
  handle(SIGUSR1, on_abort);
  handle(SIGALRM, on_alarm);
  handle(SIGTERM, on_exit_signal);
  handle(SIGHUP, on_exit_signal);
  setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf); /* answers leave in chunks (run_batch flushes) */

  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int outfd = memfd_create("rigor-stdout", MFD_CLOEXEC);
  int errfd = memfd_create("rigor-stderr", MFD_CLOEXEC);
  if (devnull < 0 || outfd < 0 || errfd < 0) {
    perror("rigor-spawner: setup");
    return 2;
  }

  /* Each command leads its own process group, with default signal handling and an empty mask. */
  posix_spawnattr_t attr;
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults); /* only ignored signals survive exec; these may arrive ignored from our parent */
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  long spin_us = 0;
  char *line;
  while (wait_for_request(spin_us), (line = read_until('\n')) != NULL) {
    if (strcmp(line, "!") == 0) { /* an abort that arrived after its batch had ended */
      free(line);
      continue;
    }
    struct batch b;
    int nargs, nenv;
    if (sscanf(line, "%c %d %d %ld %ld %ld %d", &b.mode, &nargs, &nenv, &spin_us, &b.count, &b.timeout_ms, &b.expect) != 7 ||
        nargs < 1 || nenv < 0 || b.count < 1 || b.timeout_ms < 0) {
      fprintf(stderr, "rigor-spawner: bad request header: %s\n", line);
      return 2;
    }
    free(line);
    b.cwd = read_field();
    b.file = read_field();
    if (b.file[0] != '/') {
      fprintf(stderr, "rigor-spawner: expected an absolute path to exec, found: %s\n", b.file);
      return 2;
    }
    b.argv = calloc((size_t)nargs + 1, sizeof *b.argv);
    b.envp = calloc((size_t)nenv + 1, sizeof *b.envp);
    if (b.argv == NULL || b.envp == NULL) return 2;
    for (int i = 0; i < nargs; i++) b.argv[i] = read_field();
    for (int i = 0; i < nenv; i++) b.envp[i] = read_field();
    run_batch(&b, devnull, outfd, errfd, &attr);
    for (int i = 0; i < nargs; i++) free(b.argv[i]);
    for (int i = 0; i < nenv; i++) free(b.envp[i]);
    free(b.argv);
    free(b.envp);
    free(b.cwd);
    free(b.file);
  }
  return 0;
}
