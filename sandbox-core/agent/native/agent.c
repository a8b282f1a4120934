/*
 * rigor-agent: the guest agent that runs inside every sandbox, speaking the
 * framed protocol of ../PROTOCOL.md (version 1) over stdin/stdout or --port.
 * One thread, one poll loop over the channel, a SIGCHLD self-pipe and the
 * pipes of every running command: a long EXEC never delays a PING, and each
 * reply is written whole, so replies never interleave.
 * Static C99 + POSIX with no dependencies, so it runs in a busybox rootfs or
 * as PID 1 of a minimal initramfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/random.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RIGOR_AGENT_BUILD
#define RIGOR_AGENT_BUILD "dev"
#endif
#define PROTOCOL_VERSION 1
#define MAX_FRAME (64u * 1024 * 1024 + 64u * 1024)
#define MAX_FILE (64u * 1024 * 1024)
#define MAX_OUTPUT (16u * 1024 * 1024)
#define STREAM_CHUNK (1024u * 1024) /* most bytes a streaming exec reads before sending them */
#define MAX_EXECS 64
#define MAX_STAGES 32
#define MAX_FORWARDS 64 /* connections --forward carries at once; more wait in the listen backlog */
#define MAX_FORWARD_PORTS 4 /* --forward may be given this many times */
#define MAX_RELAY_SLOTS 1024 /* --relay --max at most: a refused relay tries every slot */
#define FORWARD_CHUNK 16384
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum { HELLO = 1, PING, PONG, EXEC, EXEC_RESULT, WRITE_FILE, READ_FILE, FILE_DATA, OK, STATS, STATS_RESULT, RESEED, OUTPUT, ERROR = 0x0f };

extern char **environ;

struct buf {
  unsigned char *p;
  size_t len, cap;
};

struct exec {
  pid_t pid; /* 0 = free slot; also the process group */
  uint32_t id;
  int out, err, in; /* our ends of its pipes, -1 once closed */
  struct buf stdout_buf, stderr_buf, stdin_buf;
  size_t stdin_off;
  int truncated, timed_out, reaped, status;
  int stream; /* send output in OUTPUT frames as it is read */
  double received, spawned, exited, deadline; /* guest ms; deadline 0 = none */
};

static int chan_in = 0, chan_out = 1, init_mode = 0;
static int sig_pipe[2];
static struct exec execs[MAX_EXECS];
static struct buf reply;
static const char *stages[MAX_STAGES];
static int n_stages;
/* --exec-user: commands and file requests run as this uid/gid (-1 = as the agent), with only exec_caps. */
static long exec_uid = -1, exec_gid = -1;
static uint64_t exec_caps;
/* --exec-nproc: RLIMIT_NPROC of every command (0 = inherited): all of them share exec_uid, so this bounds their processes together. */
static long exec_nproc;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_BOOTTIME, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* Room for n more bytes; -1 when memory is short or the cap would be passed. */
static int buf_reserve(struct buf *b, size_t n, size_t cap) {
  if (b->len + n > cap) return -1;
  if (b->len + n <= b->cap) return 0;
  size_t want = b->cap ? b->cap : 4096;
  while (want < b->len + n) want *= 2;
  if (want > cap) want = cap;
  unsigned char *p = realloc(b->p, want);
  if (p == NULL) return -1;
  b->p = p;
  b->cap = want;
  return 0;
}

static void buf_free(struct buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static uint32_t get_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void shutdown_agent(int code);

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) shutdown_agent(0); /* the host went away: same as end of stream */
    p += w;
    n -= (size_t)w;
  }
}

/* Replies are built one at a time in `reply`, whose first REPLY_KEEP bytes are allocated at start
 * and kept, so an ERROR always fits; a reply that cannot fit in memory becomes an ERROR. */
#define REPLY_KEEP 65536
static int reply_failed;
static uint32_t reply_id;

static void reply_begin(int type, uint32_t id) {
  reply_id = id;
  reply_failed = 0;
  memset(reply.p, 0, 4);
  reply.p[4] = PROTOCOL_VERSION;
  reply.p[5] = (unsigned char)type;
  put_be32(reply.p + 6, id);
  reply.len = 10;
}

static void put_field(int tag, const void *value, size_t n) {
  if (reply_failed || buf_reserve(&reply, 5 + n, MAX_FRAME) != 0) {
    reply_failed = 1;
    return;
  }
  reply.p[reply.len] = (unsigned char)tag;
  put_be32(reply.p + reply.len + 1, (uint32_t)n);
  if (n > 0) memcpy(reply.p + reply.len + 5, value, n);
  reply.len += 5 + n;
}

static void put_str(int tag, const char *s) { put_field(tag, s, strlen(s)); }

static void put_int(int tag, long long v) {
  unsigned char b[8];
  for (int i = 7; i >= 0; i--, v = (long long)((unsigned long long)v >> 8)) b[i] = (unsigned char)(v & 0xff);
  put_field(tag, b, 8);
}

/* COUNTED: functions callgrind's --toggle-collect names (rigs/agent-instructions.rig.yaml), kept out of line:
 * -O2 folds each into its one caller and the name would vanish. Renaming one moves that rig's count, so its gate tells. */
#define COUNTED __attribute__((noinline))

/* Left out of the counted exec path (toggled off inside it; it must not be called outside it, or the toggle would
 * start the count): the cost of printf's %.3f depends on the clock's value, not on the code. */
COUNTED static void put_ms(int tag, double ms) {
  char s[32];
  snprintf(s, sizeof s, "%.3f", ms);
  put_str(tag, s);
}

static void send_error(uint32_t id, const char *fmt, ...);

static void reply_send(void) {
  if (reply_failed) {
    send_error(reply_id, "reply does not fit in memory");
    return;
  }
  put_be32(reply.p, (uint32_t)(reply.len - 4));
  write_all(chan_out, reply.p, reply.len);
  if (reply.cap > REPLY_KEEP) { /* give a large reply's memory back: an idle agent stays small */
    unsigned char *p = realloc(reply.p, REPLY_KEEP);
    if (p != NULL) reply.p = p, reply.cap = REPLY_KEEP;
  }
}

static void send_error(uint32_t id, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  reply_begin(ERROR, id);
  put_str(0x70, msg);
  reply_send();
}

static void kill_group(struct exec *e) {
  if (e->pid > 0) kill(-e->pid, SIGKILL);
}

static void shutdown_agent(int code) {
  for (int i = 0; i < MAX_EXECS; i++) kill_group(&execs[i]);
  for (int i = 0; i < MAX_EXECS; i++)
    if (execs[i].pid > 0 && !execs[i].reaped) waitpid(execs[i].pid, NULL, 0);
  if (init_mode && getpid() == 1) {
    kill(-1, SIGKILL);
    sync();
    reboot(RB_POWER_OFF); /* exiting would panic the kernel; fails (EPERM) in a container */
  }
  exit(code);
}

/* ---- fields of a request body ---- */

struct field {
  int tag;
  const unsigned char *value;
  size_t len;
};

/* The next field at *off, or 0 at the end of the body; -1 when a field overruns it. */
static int next_field(const unsigned char *body, size_t blen, size_t *off, struct field *f) {
  if (*off == blen) return 0;
  if (blen - *off < 5) return -1;
  size_t len = get_be32(body + *off + 1);
  if (blen - *off - 5 < len) return -1;
  f->tag = body[*off];
  f->value = body + *off + 5;
  f->len = len;
  *off += 5 + len;
  return 1;
}

static char *dup_value(const struct field *f) {
  char *s = malloc(f->len + 1);
  if (s == NULL) return NULL;
  memcpy(s, f->value, f->len);
  s[f->len] = '\0';
  return s;
}

/* The last value with this tag as a C string; NULL when there is none (or no memory). */
static char *last_string(const unsigned char *body, size_t blen, int tag) {
  struct field f, found = {0, NULL, 0};
  size_t off = 0;
  while (next_field(body, blen, &off, &f) > 0)
    if (f.tag == tag) found = f;
  return found.value == NULL ? NULL : dup_value(&found);
}

static long long int_value(const struct field *f) {
  unsigned long long v = 0;
  for (size_t i = 0; i < f->len && i < 8; i++) v = v << 8 | f->value[i];
  return (long long)v;
}

/* ---- EXEC ---- */

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Reads what a pipe has now; returns 0 at end of file (the fd is then closed). */
/* Reads what the pipe holds into b, at most `budget` bytes this call (returning 1 as for EAGAIN, so
 * poll comes back): a streaming exec sends b after each call, and a command that writes as fast as
 * it is read would otherwise fill b to MAX_OUTPUT and lose the rest before one frame went out. */
static int drain(int *fd, struct buf *b, int *truncated, size_t budget) {
  unsigned char chunk[65536];
  for (size_t taken = 0; taken < budget;) {
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1; /* EAGAIN: nothing more for now */
    if (n == 0) {
      close_fd(fd);
      return 0;
    }
    size_t keep = (size_t)n;
    if (b->len + keep > MAX_OUTPUT) keep = MAX_OUTPUT - b->len, *truncated = 1;
    if (keep > 0 && buf_reserve(b, keep, MAX_OUTPUT) != 0) keep = 0, *truncated = 1;
    memcpy(b->p + b->len, chunk, keep);
    b->len += keep;
    taken += (size_t)n;
  }
  return 1;
}

static void feed_stdin(struct exec *e) {
  while (e->stdin_off < e->stdin_buf.len) {
    ssize_t w = write(e->in, e->stdin_buf.p + e->stdin_off, e->stdin_buf.len - e->stdin_off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) break; /* EPIPE: the command does not read its stdin */
    e->stdin_off += (size_t)w;
  }
  close_fd(&e->in);
  buf_free(&e->stdin_buf);
}

/* In the forked child, still root: keep only the granted capabilities (bounding set, then
 * permitted/effective/inheritable/ambient across the uid change), become the exec user, and
 * forbid setuid binaries from giving any back. */
static int drop_privileges(void) {
  for (int cap = 0; cap < 64; cap++)
    if (!(exec_caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  if (exec_caps != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -1;
  if (setgroups(0, NULL) != 0 || setresgid((gid_t)exec_gid, (gid_t)exec_gid, (gid_t)exec_gid) != 0 ||
      setresuid((uid_t)exec_uid, (uid_t)exec_uid, (uid_t)exec_uid) != 0)
    return -1;
  if (exec_caps != 0) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
      uint32_t set = (uint32_t)(exec_caps >> (32 * i));
      data[i].effective = data[i].permitted = data[i].inheritable = set;
    }
    if (syscall(SYS_capset, &header, data) != 0) return -1;
    for (int cap = 0; cap < 64; cap++) /* ambient: what survives execve of a plain binary */
      if (exec_caps >> cap & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return -1;
  }
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* In the forked child: become a session leader with the given pipes, or report why not. */
static void exec_child(pid_t agent, int in, int out, int err, int status_fd, const char *cwd, char **argv, char **envp) {
  struct { int stage, err; } why;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL); /* undo the agent's ignores */
  setsid();
  dup2(in, 0), dup2(out, 1), dup2(err, 2);
  why.stage = 2;
  /* Before the drop: only a privileged process may raise the hard limit above what it inherited. */
  if (exec_nproc > 0 && setrlimit(RLIMIT_NPROC, &(struct rlimit){(rlim_t)exec_nproc, (rlim_t)exec_nproc}) != 0) goto failed;
  if (exec_uid >= 0 && drop_privileges() != 0) goto failed;
  /* Behind the group kill at shutdown, for an agent that is SIGKILLed: the command dies with it.
   * Set after drop_privileges, whose credential change clears it; an agent already gone reads nothing. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != agent) _exit(127);
  why.stage = 0;
  if (cwd == NULL || chdir(cwd) == 0) {
    why.stage = 1;
    environ = envp; /* execvp searches the PATH of environ */
    execvp(argv[0], argv);
  }
failed:
  why.err = errno;
  if (write(status_fd, &why, sizeof why) < 0) _exit(126);
  _exit(127);
}

static void free_strings(char **list, int n) {
  for (int i = 0; i < n; i++) free(list[i]);
  free(list);
}

static void start_exec(uint32_t id, const unsigned char *body, size_t blen, double received) {
  int argc = 0, envc = 0, has_path = 0;
  size_t timeout_len = 8;
  char **argv = calloc(blen / 5 + 2, sizeof *argv), **envp = calloc(blen / 5 + 2, sizeof *envp), *cwd = NULL;
  struct exec *e = NULL;
  struct field f;
  size_t off = 0;
  if (argv == NULL || envp == NULL) goto oom;
  for (int slot = 0; slot < MAX_EXECS && e == NULL; slot++)
    if (execs[slot].pid == 0) e = &execs[slot];
  if (e == NULL) {
    send_error(id, "too many commands running (%d)", MAX_EXECS);
    goto done;
  }
  memset(e, 0, sizeof *e);
  e->out = e->err = e->in = -1;
  while (next_field(body, blen, &off, &f) > 0) {
    switch (f.tag) {
    case 0x30:
      if ((argv[argc++] = dup_value(&f)) == NULL) goto oom;
      break;
    case 0x31:
      if ((envp[envc++] = dup_value(&f)) == NULL) goto oom;
      has_path |= strncmp(envp[envc - 1], "PATH=", 5) == 0;
      break;
    case 0x33:
      e->stdin_buf.len = 0;
      if (buf_reserve(&e->stdin_buf, f.len, MAX_FRAME) != 0) goto oom;
      if (f.len > 0) memcpy(e->stdin_buf.p, f.value, f.len);
      e->stdin_buf.len = f.len;
      break;
    case 0x34:
      timeout_len = f.len; /* the last one counts, as for the Node agent */
      e->deadline = int_value(&f) > 0 ? received + (double)int_value(&f) : 0;
      break;
    case 0x35:
      e->stream = int_value(&f) != 0;
      break;
    }
  }
  cwd = last_string(body, blen, 0x32);
  if (argc == 0) {
    send_error(id, "exec: argv is empty");
    goto done;
  }
  /* A malformed request runs nothing. */
  if (timeout_len != 8) {
    send_error(id, "field 0x34 is an integer of 8 bytes, found %zu", timeout_len);
    goto done;
  }
  if (!has_path && (envp[envc++] = strdup(DEFAULT_PATH)) == NULL) goto oom;
  int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, *in = fds, *out = fds + 2, *err = fds + 4, *status = fds + 6;
  for (int i = 0; i < 8; i += 2) {
    if (pipe2(fds + i, O_CLOEXEC) == 0) continue;
    int saved = errno;
    for (int j = 0; j < i; j++) close(fds[j]);
    send_error(id, "exec %s: pipe: %s", argv[0], strerror(saved));
    goto done;
  }
  pid_t agent = getpid(), pid = fork();
  if (pid == 0) exec_child(agent, in[0], out[1], err[1], status[1], cwd, argv, envp);
  /* Stamped when fork returns: after the exec is known to have worked, a short command may already be gone. */
  double forked = now_ms();
  close(in[0]), close(out[1]), close(err[1]), close(status[1]);
  struct { int stage, err; } why;
  ssize_t got;
  do got = pid < 0 ? 0 : read(status[0], &why, sizeof why);
  while (got < 0 && errno == EINTR);
  close(status[0]);
  if (pid < 0 || got == (ssize_t)sizeof why) {
    if (pid > 0) waitpid(pid, NULL, 0);
    close(in[1]), close(out[0]), close(err[0]);
    if (pid < 0) send_error(id, "exec %s: fork: %s", argv[0], strerror(errno));
    else if (why.stage == 0) send_error(id, "chdir %s: %s", cwd, strerror(why.err));
    else if (why.stage == 2) send_error(id, "exec %s: drop privileges: %s", argv[0], strerror(why.err));
    else send_error(id, "exec %s: %s", argv[0], strerror(why.err));
    goto done;
  }
  e->pid = pid, e->id = id, e->received = received, e->spawned = forked;
  e->in = in[1], e->out = out[0], e->err = err[0];
  set_nonblock(e->in), set_nonblock(e->out), set_nonblock(e->err);
  feed_stdin(e);
  e = NULL; /* running: the slot is kept */
  goto done;
oom:
  send_error(id, "exec: out of memory");
done:
  if (e != NULL) buf_free(&e->stdin_buf);
  if (argv != NULL) free_strings(argv, argc);
  if (envp != NULL) free_strings(envp, envc);
  free(cwd);
}

/* A streaming command's output read so far, in one OUTPUT frame (before its EXEC_RESULT, which has the rest). */
static void send_output(struct exec *e, int tag, struct buf *b) {
  if (!e->stream || b->len == 0) return;
  reply_begin(OUTPUT, e->id);
  put_field(tag, b->p, b->len);
  reply_send();
  b->len = 0;
}

/* Reply for a command that was reaped: sweep its group, take what its pipes hold, answer. */
COUNTED static void finish_exec(struct exec *e) {
  kill_group(e);
  if (e->out >= 0) drain(&e->out, &e->stdout_buf, &e->truncated, SIZE_MAX);
  if (e->err >= 0) drain(&e->err, &e->stderr_buf, &e->truncated, SIZE_MAX);
  close_fd(&e->out), close_fd(&e->err), close_fd(&e->in);
  int signalled = WIFSIGNALED(e->status);
  reply_begin(EXEC_RESULT, e->id);
  put_int(0x40, signalled ? -1 : WEXITSTATUS(e->status));
  put_int(0x41, signalled ? WTERMSIG(e->status) : 0);
  put_field(0x42, e->stdout_buf.p, e->stdout_buf.len);
  put_field(0x43, e->stderr_buf.p, e->stderr_buf.len);
  put_int(0x44, e->timed_out);
  put_ms(0x45, e->received), put_ms(0x46, e->spawned), put_ms(0x47, e->exited);
  if (e->truncated) put_int(0x48, 1);
  reply_send();
  buf_free(&e->stdout_buf), buf_free(&e->stderr_buf), buf_free(&e->stdin_buf);
  e->pid = 0;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) /* orphans too, when we are init */
    for (int i = 0; i < MAX_EXECS; i++)
      if (execs[i].pid == pid) execs[i].reaped = 1, execs[i].status = status, execs[i].exited = now_ms();
}

/* ---- files and stats ---- */

/* File requests check permissions as the exec user would (a root agent must not write where its
 * commands cannot); setfsuid away from 0 also clears the agent's file capabilities meanwhile.
 * gVisor (runsc 2022) has no setfsuid (it returns -1): where the fsuid did not move, the effective
 * ids move instead, and the saved ids bring them back (this agent is one thread). */
static void as_exec_user(int on) {
  static long moved_euid = -1, moved_egid = -1;
  if (exec_uid < 0) return;
  if (on) {
    setfsgid((gid_t)exec_gid), setfsuid((uid_t)exec_uid);
    if ((long)setfsuid((uid_t)-1) == exec_uid) return;
    moved_euid = (long)geteuid(), moved_egid = (long)getegid();
    if (setresgid((gid_t)-1, (gid_t)exec_gid, (gid_t)-1) == 0) setresuid((uid_t)-1, (uid_t)exec_uid, (uid_t)-1);
  } else if (moved_euid >= 0) {
    setresuid((uid_t)-1, (uid_t)moved_euid, (uid_t)-1), setresgid((gid_t)-1, (gid_t)moved_egid, (gid_t)-1);
    moved_euid = moved_egid = -1;
  } else {
    setfsuid(geteuid()), setfsgid(getegid());
  }
}

static void write_file(uint32_t id, const unsigned char *body, size_t blen) {
  struct field f, data = {0, NULL, 0};
  char *path = last_string(body, blen, 0x50);
  long long mode = -1;
  size_t off = 0;
  size_t mode_len = 8;
  while (next_field(body, blen, &off, &f) > 0) {
    if (f.tag == 0x51) data = f;
    if (f.tag == 0x52) mode = int_value(&f), mode_len = f.len;
  }
  if (path == NULL) {
    send_error(id, "write: no path");
    return;
  }
  if (mode_len != 8) {
    send_error(id, "field 0x52 is an integer of 8 bytes, found %zu", mode_len);
    free(path);
    return;
  }
  as_exec_user(1);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode >= 0 ? (mode_t)mode : 0644);
  int ok = fd >= 0, saved;
  for (size_t done = 0; ok && done < data.len;) {
    ssize_t w = write(fd, data.value + done, data.len - done);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0, done += w > 0 ? (size_t)w : 0;
  }
  if (ok && mode >= 0) ok = fchmod(fd, (mode_t)mode) == 0;
  if (fd >= 0 && close(fd) != 0) ok = 0;
  saved = errno;
  as_exec_user(0);
  errno = saved;
  if (ok) {
    reply_begin(OK, id);
    reply_send();
  } else {
    send_error(id, "write %s: %s", path, strerror(errno));
  }
  free(path);
}

static void read_file(uint32_t id, const unsigned char *body, size_t blen) {
  char *path = last_string(body, blen, 0x50);
  if (path == NULL) {
    send_error(id, "read: no path");
    return;
  }
  struct buf data = {0};
  as_exec_user(1);
  int fd = open(path, O_RDONLY | O_CLOEXEC), ok = fd >= 0, too_big = 0, saved = errno;
  as_exec_user(0);
  errno = saved;
  while (ok) {
    if (buf_reserve(&data, 65536, MAX_FILE + 65536) != 0) {
      ok = 0, errno = ENOMEM;
      break;
    }
    ssize_t n = read(fd, data.p + data.len, 65536);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    data.len += (size_t)n;
    if (data.len > MAX_FILE) too_big = 1, ok = 0;
  }
  if (fd >= 0) close(fd);
  if (too_big) send_error(id, "read %s: larger than %u bytes", path, MAX_FILE);
  else if (!ok) send_error(id, "read %s: %s", path, strerror(errno));
  else {
    reply_begin(FILE_DATA, id);
    put_field(0x51, data.p, data.len);
    reply_send();
  }
  buf_free(&data);
  free(path);
}

/* First line of a small file, without its newline; NULL when it cannot be read. */
static char *first_line(const char *path, char *out, size_t size) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return NULL;
  char *line = fgets(out, (int)size, f);
  fclose(f);
  if (line != NULL) line[strcspn(line, "\n")] = '\0';
  return line;
}

static void put_line(const char *key, const char *value) {
  char text[300];
  snprintf(text, sizeof text, "%s=%s", key, value);
  put_str(0x60, text);
}

static void stats(uint32_t id) {
  char line[256], total[32] = "", available[32] = "";
  FILE *mem = fopen("/proc/meminfo", "re");
  while (mem != NULL && fgets(line, sizeof line, mem) != NULL) {
    sscanf(line, "MemTotal: %31[0-9]", total);
    sscanf(line, "MemAvailable: %31[0-9]", available);
  }
  if (mem != NULL) fclose(mem);
  reply_begin(STATS_RESULT, id);
  if (total[0]) put_line("mem_total_kib", total);
  if (available[0]) put_line("mem_available_kib", available);
  if (first_line("/proc/loadavg", line, sizeof line) != NULL) line[strcspn(line, " ")] = '\0', put_line("load1", line);
  snprintf(line, sizeof line, "%.3f", now_ms()), put_line("uptime_ms", line);
  if (first_line("/proc/sys/kernel/random/boot_id", line, sizeof line) != NULL) put_line("boot_id", line);
  ssize_t n = readlink("/proc/self/ns/pid", line, sizeof line - 1);
  if (n > 0) line[n] = '\0', put_line("pid_ns", line);
  reply_send();
}

/* ---- --forward: a TCP port inside relayed to a unix socket (the egress proxy outside) ---- */

/* One direction of a relayed connection: bytes read from `from` wait in `data` until written to `to`. */
struct half {
  unsigned char data[FORWARD_CHUNK];
  size_t len, off;
  int eof; /* `from` reached end of file; `to` was shut for writing once `data` drained */
};

struct relay {
  int fd[2]; /* [0] the TCP client, [1] the unix socket; -1 = free slot */
  struct half dir[2]; /* dir[i] carries fd[i] -> fd[1 - i] */
};

/* A listening port of --forward and the unix socket its connections go to. */
struct forward {
  int listen_fd;
  struct sockaddr_un to;
};

static struct forward forwards[MAX_FORWARD_PORTS];
static int n_forwards;
static struct relay *relays; /* MAX_FORWARDS, shared by every forward; allocated with the first */

static void relay_close(struct relay *r) {
  close_fd(&r->fd[0]), close_fd(&r->fd[1]);
}

/* "/path" → a unix address; 0 when the path does not fit. */
static int unix_address(const char *path, struct sockaddr_un *out) {
  if (strlen(path) >= sizeof out->sun_path) return 0;
  memset(out, 0, sizeof *out);
  out->sun_family = AF_UNIX;
  strcpy(out->sun_path, path);
  return 1;
}

/* "ADDR:PORT=PATH" (IPv4): listen there, relay to the unix socket at PATH; 0 when malformed or the port cannot be had. */
static int start_forward(const char *arg) {
  char host[64];
  const char *colon = strchr(arg, ':'), *eq = strchr(arg, '=');
  struct sockaddr_in addr = {.sin_family = AF_INET};
  struct forward *f = &forwards[n_forwards];
  char *end;
  if (n_forwards == MAX_FORWARD_PORTS || colon == NULL || eq == NULL || eq < colon || (size_t)(colon - arg) >= sizeof host || !unix_address(eq + 1, &f->to)) return 0;
  memcpy(host, arg, (size_t)(colon - arg)), host[colon - arg] = '\0';
  long port = strtol(colon + 1, &end, 10);
  if (end != eq || port < 1 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) return 0;
  addr.sin_port = htons((uint16_t)port);
  if (relays == NULL && (relays = calloc(MAX_FORWARDS, sizeof *relays)) != NULL)
    for (int i = 0; i < MAX_FORWARDS; i++) relays[i].fd[0] = relays[i].fd[1] = -1;
  int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || relays == NULL || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0) {
    perror("rigor-agent: --forward");
    return 0;
  }
  f->listen_fd = fd;
  n_forwards++;
  return 1;
}

/* A client connected to forward f: pair it with a new connection to its unix socket, or drop it when there is no room or no socket. */
static void forward_accept(struct forward *f) {
  int client = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (client < 0) return;
  struct relay *r = NULL;
  for (int i = 0; i < MAX_FORWARDS && r == NULL; i++)
    if (relays[i].fd[0] < 0) r = &relays[i];
  int up = r == NULL ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  /* connect before O_NONBLOCK: a unix connect completes at once or fails (a full backlog waits) */
  if (up < 0 || connect(up, (struct sockaddr *)&f->to, sizeof f->to) != 0) {
    if (up >= 0) close(up);
    close(client);
    return;
  }
  set_nonblock(up);
  memset(r, 0, sizeof *r);
  r->fd[0] = client, r->fd[1] = up;
}

/* Move what can move in direction i; -1 on an error (the relay is then closed whole). */
static int relay_pump(struct relay *r, int i) {
  struct half *h = &r->dir[i];
  int from = r->fd[i], to = r->fd[1 - i];
  for (;;) {
    while (h->off < h->len) {
      ssize_t w = write(to, h->data + h->off, h->len - h->off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return 0;
      if (w <= 0) return -1;
      h->off += (size_t)w;
    }
    h->len = h->off = 0;
    if (h->eof) return 0;
    ssize_t n = read(from, h->data, sizeof h->data);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n < 0) return -1;
    if (n == 0) {
      h->eof = 1;
      shutdown(to, SHUT_WR); /* pass the half-close on: the other side may still answer */
      return 0;
    }
    h->len = (size_t)n;
  }
}

/* After poll: pump both directions of every relay that has an event; close it when both ended or one failed. */
static void forward_events(struct pollfd *fds, struct relay **owner, int n) {
  for (int i = 0; i < n; i++) {
    struct relay *r = owner[i];
    if (fds[i].revents == 0 || r->fd[0] < 0) continue;
    if (relay_pump(r, 0) != 0 || relay_pump(r, 1) != 0 || (r->dir[0].eof && r->dir[1].eof)) relay_close(r);
  }
}

/* --slots DIR --max N: one of N slots, an exclusive flock on DIR/0 .. DIR/N-1 held by the returned fd for the
   life of this process (the kernel drops it when the process ends, SIGKILL included); -1 when every slot is
   taken (errno EWOULDBLOCK) or a slot file cannot be opened. */
static int take_relay_slot(const char *dir, long max) {
  char path[4096];
  for (long i = 0; i < max; i++) {
    snprintf(path, sizeof path, "%s/%ld", dir, i);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    int saved = errno;
    close(fd);
    if (saved != EWOULDBLOCK) return errno = saved, -1;
  }
  errno = EWOULDBLOCK;
  return -1;
}

/* A refused connection, as one line "EPOCH_MS PID SOCKET REASON" appended to DIR/refused in one write:
   O_APPEND, so the lines of relays refused at once never mix. Best effort: the refusal stands either way. */
static void record_refusal(const char *dir, const char *socket_path, const char *reason) {
  char path[4096], line[512];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(path, sizeof path, "%s/refused", dir);
  int n = snprintf(line, sizeof line, "%lld %d %s %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, (int)getpid(), socket_path, reason);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || n <= 0 || (size_t)n >= sizeof line) {
    if (fd >= 0) close(fd);
    return;
  }
  ssize_t ignored = write(fd, line, (size_t)n);
  (void)ignored;
  close(fd);
}

/* --relay PATH [--slots DIR --max N] (args[0] is PATH): this process's stdin, a socket (qemu's guestfwd `cmd:`
   gives each guest connection one, as stdin, stdout and stderr alike), relayed to the unix socket at PATH until
   both directions end or qemu closes its end (POLLHUP: the guest is gone). With --slots, only while it holds one
   of the N slots: without one it closes the guest connection unrelayed, records why in DIR/refused and exits 3.
   Returns the exit code. */
static int relay_stdio(char **args, int n_args) {
  struct sockaddr_un to;
  struct relay r = {.fd = {0, -1}};
  const char *path = args[0], *slots = NULL;
  long max = 0;
  int type = 0, null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  socklen_t len = sizeof type;
  /* stdout and stderr are the guest's connection too: nothing of ours (a host path in an error) may reach it */
  if (null_fd < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0) return 1;
  for (int i = 1; i < n_args; i += 2) {
    char *end;
    if (i + 1 == n_args) return 2;
    if (strcmp(args[i], "--slots") == 0 && strlen(args[i + 1]) < 4000) slots = args[i + 1];
    else if (strcmp(args[i], "--max") == 0 && (max = strtol(args[i + 1], &end, 10)) >= 1 && max <= MAX_RELAY_SLOTS && *end == '\0') continue;
    else return 2;
  }
  if ((slots == NULL) != (max == 0)) return 2;
  if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return 2;
  if (!unix_address(path, &to)) return 2;
  if (slots != NULL && take_relay_slot(slots, max) < 0) {
    char reason[128];
    if (errno == EWOULDBLOCK) snprintf(reason, sizeof reason, "relay cap of %ld connections reached", max);
    else snprintf(reason, sizeof reason, "relay slots unusable: %s", strerror(errno));
    record_refusal(slots, path, reason);
    return 3;
  }
  if ((r.fd[1] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 || connect(r.fd[1], (struct sockaddr *)&to, sizeof to) != 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  set_nonblock(0), set_nonblock(r.fd[1]);
  while (!(r.dir[0].eof && r.dir[1].eof)) {
    /* fds[0] is always the guest side, asked for nothing when it has nothing to do, so its hang-up is seen */
    struct pollfd fds[3] = {{0, 0, 0}};
    int n = 1;
    for (int d = 0; d < 2; d++) {
      struct half *h = &r.dir[d];
      int fd = h->len > h->off ? r.fd[1 - d] : !h->eof ? r.fd[d] : -1;
      short events = h->len > h->off ? POLLOUT : POLLIN;
      if (fd == 0) fds[0].events |= events;
      else if (fd > 0) fds[n++] = (struct pollfd){fd, events, 0};
    }
    if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR) return 1;
    if ((fds[0].revents & POLLHUP) && !(fds[0].revents & POLLIN)) return 0;
    if (relay_pump(&r, 0) != 0 || relay_pump(&r, 1) != 0) return 1;
  }
  return 0;
}

/* After a snapshot is restored: mix the host's fresh bytes into the kernel's pool and reseed its CRNG at once
 * (two restores must not draw the same random numbers), and step the wall clock to the host's. */
#define MAX_RESEED_BYTES 512
static void reseed(uint32_t id, const unsigned char *body, size_t blen) {
  struct field f;
  size_t off = 0, n = 0;
  const unsigned char *entropy = NULL;
  long long epoch_us = -1;
  while (next_field(body, blen, &off, &f) > 0) {
    if (f.tag == 0x80) entropy = f.value, n = f.len;
    else if (f.tag == 0x81) epoch_us = int_value(&f);
  }
  if (n > MAX_RESEED_BYTES) {
    send_error(id, "reseed: %zu bytes of entropy, at most %d", n, MAX_RESEED_BYTES);
    return;
  }
  /* The clock and the entropy pool are the machine's: only a guest's init may set them (on the host the agent would set the host's). */
  if (!(init_mode && getpid() == 1)) {
    send_error(id, "reseed: refused: only the agent that is a guest's init (pid 1) takes entropy and the time");
    return;
  }
  if (n > 0) {
    struct {
      struct rand_pool_info info;
      unsigned char data[MAX_RESEED_BYTES];
    } pool;
    pool.info.entropy_count = (int)(n * 8);
    pool.info.buf_size = (int)n;
    memcpy(pool.info.buf, entropy, n);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool.info) != 0 || ioctl(fd, RNDRESEEDCRNG) != 0) {
      int saved = errno;
      if (fd >= 0) close(fd);
      send_error(id, "reseed /dev/urandom: %s", strerror(saved));
      return;
    }
    close(fd);
  }
  if (epoch_us >= 0) {
    struct timespec ts = {.tv_sec = (time_t)(epoch_us / 1000000), .tv_nsec = (long)(epoch_us % 1000000) * 1000};
    if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
      send_error(id, "reseed clock: %s", strerror(errno));
      return;
    }
  }
  reply_begin(OK, id);
  reply_send();
}

/* ---- the channel ---- */

COUNTED static void handle_frame(const unsigned char *frame, size_t len) {
  double received = now_ms();
  uint32_t id = get_be32(frame + 2);
  const unsigned char *body = frame + 6;
  size_t blen = len - 6, off = 0;
  struct field f;
  int more;
  if (frame[0] != PROTOCOL_VERSION) {
    send_error(id, "unsupported protocol version %d", frame[0]);
    return;
  }
  while ((more = next_field(body, blen, &off, &f)) > 0) {
  }
  if (more < 0) {
    send_error(id, "malformed field at offset %zu", off);
    return;
  }
  switch (frame[1]) {
  case PING:
    reply_begin(PONG, id);
    put_ms(0x20, now_ms());
    reply_send();
    break;
  case EXEC: start_exec(id, body, blen, received); break;
  case WRITE_FILE: write_file(id, body, blen); break;
  case READ_FILE: read_file(id, body, blen); break;
  case STATS: stats(id); break;
  case RESEED: reseed(id, body, blen); break;
  default: send_error(id, "unknown message type 0x%02x", frame[1]);
  }
}

static unsigned char len_bytes[4];
static size_t len_have;
static unsigned char *frame;
static size_t frame_len, frame_have;

static void feed(const unsigned char *p, size_t n) {
  while (n > 0) {
    if (frame == NULL) {
      size_t take = 4 - len_have < n ? 4 - len_have : n;
      memcpy(len_bytes + len_have, p, take), p += take, n -= take, len_have += take;
      if (len_have < 4) return;
      len_have = 0;
      frame_len = get_be32(len_bytes), frame_have = 0;
      if (frame_len < 6 || frame_len > MAX_FRAME) {
        send_error(0, "frame length %zu out of range (6..%u)", frame_len, MAX_FRAME);
        shutdown_agent(2);
      }
      if ((frame = malloc(frame_len)) == NULL) {
        send_error(0, "no memory for a frame of %zu bytes", frame_len);
        shutdown_agent(2);
      }
    }
    size_t take = frame_len - frame_have < n ? frame_len - frame_have : n;
    memcpy(frame + frame_have, p, take), p += take, n -= take, frame_have += take;
    if (frame_have == frame_len) {
      handle_frame(frame, frame_len);
      free(frame);
      frame = NULL;
    }
  }
}

/* The virtio-serial port named rigor.agent, waited for while the kernel probes it. */
static int open_auto_port(char *path, size_t size) {
  for (int tries = 0; tries < 500; tries++) {
    DIR *dir = opendir("/sys/class/virtio-ports");
    struct dirent *d;
    char name_path[512], name[64];
    while (dir != NULL && (d = readdir(dir)) != NULL) {
      snprintf(name_path, sizeof name_path, "/sys/class/virtio-ports/%s/name", d->d_name);
      if (d->d_name[0] != '.' && first_line(name_path, name, sizeof name) && strcmp(name, "rigor.agent") == 0) {
        snprintf(path, size, "/dev/%s", d->d_name);
        closedir(dir);
        return open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
      }
    }
    if (dir != NULL) closedir(dir);
    usleep(10000);
  }
  errno = ENOENT;
  snprintf(path, size, "virtio port rigor.agent");
  return -1;
}

static int open_port(const char *arg) {
  char path[300];
  struct stat st;
  int fd;
  if (strcmp(arg, "auto") == 0) {
    if ((fd = open_auto_port(path, sizeof path)) < 0) perror(path);
    return fd;
  }
  if (stat(arg, &st) == 0 && S_ISSOCK(st.st_mode)) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", arg);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) close(fd), fd = -1;
  } else {
    fd = open(arg, O_RDWR | O_NOCTTY | O_CLOEXEC);
  }
  if (fd < 0) perror(arg);
  return fd;
}

static void on_sigchld(int sig) {
  int saved = errno;
  ssize_t ignored = write(sig_pipe[1], "c", 1); /* a full pipe means a wake-up is already pending */
  (void)sig, (void)ignored;
  errno = saved;
}

/*
 * Fds the agent inherited above stderr (a tool harness's, a CI runner's, passed down through
 * rigor and the launcher) must not reach commands: mark them all close-on-exec. Every fd the
 * agent opens itself, the channel of --port included, is O_CLOEXEC already.
 */
static void cloexec_inherited_fds(void) {
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  /* before Linux 5.11: one by one, as /proc lists them (a guest without /proc inherited none) */
  DIR *dir = opendir("/proc/self/fd");
  struct dirent *d;
  while (dir != NULL && (d = readdir(dir)) != NULL) {
    int fd = atoi(d->d_name), flags;
    if (fd >= 3 && fd != dirfd(dir) && (flags = fcntl(fd, F_GETFD)) >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  if (dir != NULL) closedir(dir);
}

/* Fds 0-2 must be taken before any pipe is made, or a child's dup2 onto them would clobber its own pipes. */
static void occupy_std_fds(void) {
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0) open("/", O_RDONLY | O_DIRECTORY);
}

/* "UID:GID" as two numbers; 0 when it is not one. */
static int parse_user(const char *arg) {
  char *end;
  exec_uid = strtol(arg, &end, 10);
  if (end == arg || *end != ':' || exec_uid < 0) return 0;
  const char *gid = end + 1;
  exec_gid = strtol(gid, &end, 10);
  return end != gid && *end == '\0' && exec_gid >= 0;
}

/* "N,N,..." capability numbers (0..63) into exec_caps; "" = none; 0 when malformed. */
static int parse_caps(const char *arg) {
  for (const char *p = arg; *p != '\0';) {
    char *end;
    long cap = strtol(p, &end, 10);
    if (end == p || cap < 0 || cap > 63 || (*end != ',' && *end != '\0')) return 0;
    exec_caps |= 1ull << cap;
    p = *end == ',' ? end + 1 : end;
  }
  return 1;
}

int main(int argc, char **argv) {
  const char *port = NULL, *caps = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--now") == 0) return printf("%.3f\n", now_ms()) < 0;
    if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) return relay_stdio(argv + i + 1, argc - i - 1);
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = argv[++i];
    else if (strcmp(argv[i], "--stage") == 0 && i + 1 < argc && strchr(argv[i + 1], '=') && n_stages < MAX_STAGES) stages[n_stages++] = argv[++i];
    else if (strcmp(argv[i], "--init") == 0) init_mode = 1;
    else if (strcmp(argv[i], "--exec-user") == 0 && i + 1 < argc && parse_user(argv[i + 1])) i++;
    else if (strcmp(argv[i], "--exec-nproc") == 0 && i + 1 < argc && (exec_nproc = strtol(argv[i + 1], NULL, 10)) > 0) i++;
    else if (strcmp(argv[i], "--exec-caps") == 0 && i + 1 < argc && parse_caps(argv[i + 1])) caps = argv[++i];
    else if (strcmp(argv[i], "--forward") == 0 && i + 1 < argc && start_forward(argv[i + 1])) i++;
    else {
      fprintf(stderr,
              "usage: rigor-agent [--port PATH|auto] [--stage name=ms]... [--init] [--exec-user UID:GID [--exec-caps N,...] [--exec-nproc N]]\n"
              "                   [--forward ADDR:PORT=UNIX_SOCKET]...\n"
              "       rigor-agent --relay UNIX_SOCKET [--slots DIR --max N]   (stdin, a socket, relayed to UNIX_SOCKET)\n"
              "       rigor-agent --now\n(unexpected \"%s\")\n",
              argv[i]);
      return 2;
    }
  }
  /* Not dumpable (--now and --relay returned above): nothing of the agent's uid may ptrace it, open
   * /proc/<agent>/fd/N or pidfd_getfd its channel to forge replies. A command's execve resets it. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (caps != NULL && exec_uid < 0) return fputs("rigor-agent: --exec-caps needs --exec-user\n", stderr), 2;
  /* root is not held to RLIMIT_NPROC: only a dropped user is bounded by it */
  if (exec_nproc > 0 && exec_uid <= 0) return fputs("rigor-agent: --exec-nproc needs --exec-user with a uid other than 0\n", stderr), 2;
  /* The agent's own supplementary groups (root's) must not widen what file requests may touch. */
  if (exec_uid >= 0 && setgroups(0, NULL) != 0) return perror("rigor-agent: --exec-user needs root: setgroups"), 1;
  double started = now_ms();
  cloexec_inherited_fds();
  occupy_std_fds();
  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0 || sigaction(SIGCHLD, &sa, NULL) != 0) return perror("rigor-agent: signals"), 1;
  signal(SIGPIPE, SIG_IGN); /* a closed channel shows as EPIPE from write */
  if (init_mode) {
    signal(SIGTERM, SIG_IGN), signal(SIGINT, SIG_IGN), signal(SIGHUP, SIG_IGN);
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  if (port != NULL && (chan_in = chan_out = open_port(port)) < 0) return 1;
  if (buf_reserve(&reply, REPLY_KEEP, REPLY_KEEP) != 0) return perror("rigor-agent: reply buffer"), 1;

  char stage[64];
  reply_begin(HELLO, 0);
  put_str(0x10, "rigor-agent " RIGOR_AGENT_BUILD);
  for (int i = 0; i < n_stages; i++) put_str(0x11, stages[i]);
  snprintf(stage, sizeof stage, "agent_start=%.3f", started);
  put_str(0x11, stage);
  put_str(0x12, "native");
  reply_send();

  static unsigned char chunk[65536];
  struct pollfd fds[2 + 3 * MAX_EXECS + MAX_FORWARD_PORTS + 2 * MAX_FORWARDS];
  struct exec *owner[2 + 3 * MAX_EXECS];
  struct relay *fowner[2 * MAX_FORWARDS];
  for (;;) {
    int n = 0, timeout = -1;
    double now = now_ms();
    for (int i = 0; i < MAX_EXECS; i++) {
      struct exec *e = &execs[i];
      if (e->pid == 0) continue;
      if (e->out >= 0) owner[n] = e, fds[n++] = (struct pollfd){e->out, POLLIN, 0};
      if (e->err >= 0) owner[n] = e, fds[n++] = (struct pollfd){e->err, POLLIN, 0};
      if (e->in >= 0) owner[n] = e, fds[n++] = (struct pollfd){e->in, POLLOUT, 0};
      if (e->deadline > 0 && !e->timed_out) {
        int left = e->deadline > now ? (int)(e->deadline - now) + 1 : 0;
        if (timeout < 0 || left < timeout) timeout = left;
      }
    }
    fds[n] = (struct pollfd){sig_pipe[0], POLLIN, 0};
    fds[n + 1] = (struct pollfd){chan_in, POLLIN, 0};
    /* after the agent's own fds: each relay's, read while a direction's buffer is empty, written while not */
    struct pollfd *ffds = fds + n + 2;
    int nf = 0;
    for (int i = 0; relays != NULL && i < MAX_FORWARDS; i++) {
      struct relay *r = &relays[i];
      if (r->fd[0] < 0) continue;
      for (int d = 0; d < 2; d++) {
        struct half *h = &r->dir[d];
        if (h->len > h->off) fowner[nf] = r, ffds[nf++] = (struct pollfd){r->fd[1 - d], POLLOUT, 0};
        else if (!h->eof) fowner[nf] = r, ffds[nf++] = (struct pollfd){r->fd[d], POLLIN, 0};
      }
    }
    for (int i = 0; i < n_forwards; i++) ffds[nf + i] = (struct pollfd){forwards[i].listen_fd, POLLIN, 0};
    if (poll(fds, (nfds_t)(n + 2 + nf + n_forwards), timeout) < 0) {
      if (errno == EINTR) continue;
      perror("rigor-agent: poll");
      shutdown_agent(1);
    }
    forward_events(ffds, fowner, nf);
    for (int i = 0; i < n_forwards; i++)
      if (ffds[nf + i].revents) forward_accept(&forwards[i]);
    for (int i = 0; i < n; i++) {
      struct exec *e = owner[i];
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == e->out) drain(&e->out, &e->stdout_buf, &e->truncated, e->stream ? STREAM_CHUNK : SIZE_MAX), send_output(e, 0x42, &e->stdout_buf);
      else if (fds[i].fd == e->err) drain(&e->err, &e->stderr_buf, &e->truncated, e->stream ? STREAM_CHUNK : SIZE_MAX), send_output(e, 0x43, &e->stderr_buf);
      else if (fds[i].fd == e->in) feed_stdin(e);
    }
    if (fds[n].revents) {
      while (read(sig_pipe[0], chunk, sizeof chunk) > 0) {
      }
      reap();
    }
    now = now_ms();
    for (int i = 0; i < MAX_EXECS; i++) {
      struct exec *e = &execs[i];
      if (e->pid > 0 && e->deadline > 0 && now >= e->deadline && !e->timed_out) e->timed_out = 1, kill_group(e);
      if (e->pid > 0 && e->reaped) finish_exec(e);
    }
    if (fds[n + 1].revents) {
      ssize_t got = read(chan_in, chunk, sizeof chunk);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) shutdown_agent(0);
      if (got > 0) feed(chunk, (size_t)got);
    }
  }
}
