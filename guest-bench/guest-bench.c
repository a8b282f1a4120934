/*
 * guest-bench: the benchmark that runs inside a sandbox (any backend, down to
 * a busybox rootfs or an initramfs with no libc) and prints ONE JSON document
 * on stdout: disk, rootfs, startup, http and throughput sections, each a
 * result, {"skipped": why} or {"error": what failed}. `guest-bench probe ...`
 * times one kind of network attempt (connect, DNS over TCP, CONNECT through a
 * proxy, an HTTP GET). Progress and diagnostics go to stderr.
 * Static C (gnu11 + POSIX + pthreads) with no dependencies; hosts are numeric
 * IPv4 only, so nothing here needs a resolver. The output contract is the zod
 * schema in schema.ts.
 * Exit: 0 report printed, 2 usage error (nothing on stdout), 3 report printed
 * but a section (or probe attempt) failed, 1 the report itself could not be made.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h> /* isfinite only: a builtin, so nothing links libm */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GUEST_BENCH_BUILD
#define GUEST_BENCH_BUILD "dev"
#endif
#define GUEST_BENCH_VERSION "1.0.0"

#define EXIT_USAGE 2
#define EXIT_SECTION_ERROR 3
#define MIB (1024u * 1024u)
#define PAGE 4096u
#define SMALL_FILE_MAX 16384
#define OFFSETS_HEAD 4
#define MAX_CONCURRENCY 256
#define MAX_HEAD_LINE 16384
#define MAX_HEAD_BYTES 65536
#define MAX_HEAD_LINES 256
#define HTTP_CONNECT_TIMEOUT_MS 10000
#define HTTP_IO_TIMEOUT_MS 30000 /* a stalled server becomes an error, not a hung benchmark */
#define PROBE_TIMEOUT_MS 2000
#define THREAD_STACK (256u * 1024u) /* small guests: 256 threads must not reserve 2 GiB of stack */

extern char **environ;

/* ---------- errors and progress ---------- */

struct err {
  char msg[512];
};

static void set_err(struct err *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

static const char *errno_name(int code) {
  const char *name = strerrorname_np(code);
  return name != NULL ? name : "EUNKNOWN";
}

/* "<what>: ENAME (description)"; `code` is an errno value captured by the caller. */
static void set_syserr(struct err *e, int code, const char *fmt, ...) {
  char what[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const char *desc = strerrordesc_np(code);
  set_err(e, "%s: %s (%s)", what, errno_name(code), desc != NULL ? desc : "unknown error");
}

static void vnote(const char *fmt, va_list ap) {
  fputs("guest-bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

static void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vnote(fmt, ap);
  va_end(ap);
}

static void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vnote(fmt, ap);
  va_end(ap);
  exit(1);
}

/* `guest-bench: <flag>: expected <expected>, found "<found>"`, exit 2 with nothing on stdout. */
static void usage_error(const char *flag, const char *expected, const char *found) {
  if (found == NULL) fprintf(stderr, "guest-bench: %s: expected %s, found nothing\n", flag, expected);
  else fprintf(stderr, "guest-bench: %s: expected %s, found \"%.120s\"\n", flag, expected, found);
  exit(EXIT_USAGE);
}

/* ---------- time, randomness, statistics ---------- */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* CLOCK_MONOTONIC counts nanoseconds: an interval shorter than that is reported as one. */
static double per_second(double amount, double ms) {
  return amount / ((ms > 1e-6 ? ms : 1e-6) / 1000.0);
}

/* splitmix64 (Steele, Lea & Flood 2014): one 64-bit state, full period, fine for offsets and fill bytes. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Independent streams from one --seed: the same seed gives the same offsets and bytes. */
#define STREAM_DATA 0x64617461ull
#define STREAM_WRITE 0x7772697465ull
#define STREAM_READ 0x72656164ull

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Hyndman & Fan type 7 (as runner/stats): h = (n-1)p, Q = x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋]). */
static double quantile_sorted(const double *sorted, size_t n, double p) {
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)h; /* h >= 0: truncation is the floor */
  if (lo + 1 >= n) return sorted[lo];
  return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

struct summary {
  double p50, p95, p99, mean;
};

/* Percentiles and mean of n >= 1 samples (left in their order); -1 when out of memory. */
static int summarize(const double *samples, size_t n, struct summary *s) {
  double *sorted = malloc(n * sizeof *sorted);
  if (sorted == NULL) return -1;
  memcpy(sorted, samples, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_double);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += samples[i];
  s->p50 = quantile_sorted(sorted, n, 0.50);
  s->p95 = quantile_sorted(sorted, n, 0.95);
  s->p99 = quantile_sorted(sorted, n, 0.99);
  s->mean = sum / (double)n;
  free(sorted);
  return 0;
}

/* ---------- JSON output ---------- */

#define JSON_MAX_DEPTH 32

struct json {
  char *p;
  size_t len, cap;
  const char *failed; /* why the document cannot be trusted (out of memory, ...); NULL when fine */
  int depth, after_key;
  unsigned char has_item[JSON_MAX_DEPTH];
};

static void j_append(struct json *j, const char *s, size_t n) {
  if (j->failed != NULL) return;
  if (j->len + n + 1 > j->cap) {
    size_t want = j->cap ? j->cap : 4096;
    while (want < j->len + n + 1) want *= 2;
    char *p = realloc(j->p, want);
    if (p == NULL) {
      j->failed = "out of memory";
      return;
    }
    j->p = p;
    j->cap = want;
  }
  memcpy(j->p + j->len, s, n);
  j->len += n;
  j->p[j->len] = '\0';
}

static void j_raw(struct json *j, const char *s) { j_append(j, s, strlen(s)); }

/* A comma before every value but the first of its object or array (none after a key). */
static void j_sep(struct json *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth > 0 && j->has_item[j->depth - 1]) j_raw(j, ",");
  if (j->depth > 0) j->has_item[j->depth - 1] = 1;
}

static void j_open(struct json *j, const char *bracket) {
  j_sep(j);
  if (j->depth == JSON_MAX_DEPTH) {
    j->failed = "JSON nested too deep";
    return;
  }
  j_raw(j, bracket);
  j->has_item[j->depth++] = 0;
}

static void j_close(struct json *j, const char *bracket) {
  if (j->depth > 0) j->depth--;
  j_raw(j, bracket);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), 0 when invalid. */
static size_t utf8_length(const unsigned char *s) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
    if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

/* A JSON string; bytes that are not UTF-8 (file names can be anything) become U+FFFD. */
static void j_string(struct json *j, const char *text) {
  j_sep(j);
  j_raw(j, "\"");
  const unsigned char *s = (const unsigned char *)text;
  while (*s) {
    char esc[8];
    size_t n = utf8_length(s);
    if (n == 0) {
      j_raw(j, "\\ufffd");
      s++;
    } else if (*s == '"' || *s == '\\') {
      esc[0] = '\\', esc[1] = (char)*s;
      j_append(j, esc, 2);
      s++;
    } else if (*s < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *s);
      j_raw(j, esc);
      s++;
    } else {
      j_append(j, (const char *)s, n);
      s += n;
    }
  }
  j_raw(j, "\"");
}

static void j_key(struct json *j, const char *key) {
  j_string(j, key);
  j_raw(j, ":");
  j->after_key = 1;
}

static void j_uint(struct json *j, uint64_t v) {
  char s[32];
  snprintf(s, sizeof s, "%llu", (unsigned long long)v);
  j_sep(j);
  j_raw(j, s);
}

static void j_num(struct json *j, double v) {
  char s[40];
  if (!isfinite(v)) {
    j->failed = "a measurement is not a finite number";
    return;
  }
  snprintf(s, sizeof s, "%.9g", v);
  j_sep(j);
  j_raw(j, s);
}

static void j_bool(struct json *j, int v) {
  j_sep(j);
  j_raw(j, v ? "true" : "false");
}

static void j_null(struct json *j) {
  j_sep(j);
  j_raw(j, "null");
}

/* A complete value built in another buffer. */
static void j_value(struct json *j, const struct json *value) {
  if (value->failed != NULL) {
    j->failed = value->failed;
    return;
  }
  j_sep(j);
  j_append(j, value->p, value->len);
}

static void j_kuint(struct json *j, const char *k, uint64_t v) { j_key(j, k), j_uint(j, v); }
static void j_knum(struct json *j, const char *k, double v) { j_key(j, k), j_num(j, v); }
static void j_kstr(struct json *j, const char *k, const char *v) { j_key(j, k), j_string(j, v); }
static void j_kbool(struct json *j, const char *k, int v) { j_key(j, k), j_bool(j, v); }
static void j_kstr_or_null(struct json *j, const char *k, const char *v) {
  j_key(j, k);
  if (v != NULL) j_string(j, v);
  else j_null(j);
}

static void j_samples(struct json *j, const char *key, const double *samples, size_t n) {
  j_key(j, key);
  j_open(j, "[");
  for (size_t i = 0; i < n; i++) j_num(j, samples[i]);
  j_close(j, "]");
}

/* samples_ms plus p50/p95/(p99)/mean; -1 when the summary is out of memory. */
static int j_latencies(struct json *j, const double *samples, size_t n, int with_p99) {
  struct summary s;
  if (summarize(samples, n, &s) != 0) return -1;
  j_samples(j, "samples_ms", samples, n);
  j_knum(j, "p50", s.p50);
  j_knum(j, "p95", s.p95);
  if (with_p99) j_knum(j, "p99", s.p99);
  j_knum(j, "mean", s.mean);
  return 0;
}

/* Counts indexed by HTTP status (100-599) as {"200": n, ...}. */
static void j_status_counts(struct json *j, const char *key, const uint64_t *counts) {
  j_key(j, key);
  j_open(j, "{");
  for (int status = 100; status < 600; status++) {
    if (counts[status] == 0) continue;
    char name[12];
    snprintf(name, sizeof name, "%d", status);
    j_kuint(j, name, counts[status]);
  }
  j_close(j, "}");
}

static void json_free(struct json *j) {
  free(j->p);
  memset(j, 0, sizeof *j);
}

/* ---------- argument parsing ---------- */

struct endpoint {
  struct sockaddr_in addr;
  char text[32]; /* "IP:PORT" */
};

struct url {
  struct endpoint ep;
  char *text;   /* as given */
  char *origin; /* "http://IP:PORT" */
  char *path;   /* "/..." */
};

/* Digits only, in [min, max]; -1 otherwise. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0') return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  if (v < min || v > max) return -1;
  *out = v;
  return 0;
}

/* "a.b.c.d:port" with a numeric IPv4 host (no DNS anywhere) and a port 1-65535; n = length of s to read. */
static int parse_ipv4_port(const char *s, size_t n, struct endpoint *out) {
  char host[INET_ADDRSTRLEN], port_text[8];
  const char *colon = memchr(s, ':', n);
  if (colon == NULL) return -1;
  size_t host_len = (size_t)(colon - s), port_len = n - host_len - 1;
  if (host_len == 0 || host_len >= sizeof host || port_len == 0 || port_len >= sizeof port_text) return -1;
  memcpy(host, s, host_len), host[host_len] = '\0';
  memcpy(port_text, colon + 1, port_len), port_text[port_len] = '\0';
  uint64_t port;
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, host, &out->addr.sin_addr) != 1 || parse_uint(port_text, 1, 65535, &port) != 0) return -1;
  out->addr.sin_family = AF_INET;
  out->addr.sin_port = htons((uint16_t)port);
  snprintf(out->text, sizeof out->text, "%s:%u", host, (unsigned)port);
  return 0;
}

/* http://IPv4[:PORT][/path]; the path must be sendable in a request line (no spaces or controls). */
static int parse_http_url(const char *s, struct url *out) {
  if (strncasecmp(s, "http://", 7) != 0) return -1;
  const char *host = s + 7;
  size_t authority = strcspn(host, "/?#");
  const char *rest = host + authority;
  for (const char *c = rest; *c; c++)
    if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '#') return -1;
  char with_port[64];
  if (authority == 0 || authority >= 48) return -1;
  if (memchr(host, ':', authority) != NULL) snprintf(with_port, sizeof with_port, "%.*s", (int)authority, host);
  else snprintf(with_port, sizeof with_port, "%.*s:80", (int)authority, host);
  if (parse_ipv4_port(with_port, strlen(with_port), &out->ep) != 0) return -1;
  out->text = strdup(s);
  if (asprintf(&out->origin, "http://%s", out->ep.text) < 0) out->origin = NULL;
  if (*rest == '\0') out->path = strdup("/");
  else if (*rest == '?') {
    if (asprintf(&out->path, "/%s", rest) < 0) out->path = NULL;
  } else out->path = strdup(rest);
  if (out->text == NULL || out->origin == NULL || out->path == NULL) fatal("out of memory parsing %s", s);
  return 0;
}

static void url_free(struct url *u) {
  free(u->text), free(u->origin), free(u->path);
}

/* http://IPv4:PORT[/] as $http_proxy holds it. */
static int parse_proxy_url(const char *s, struct endpoint *out) {
  if (strncasecmp(s, "http://", 7) != 0) return -1;
  const char *hostport = s + 7;
  size_t n = strlen(hostport);
  if (n > 0 && hostport[n - 1] == '/') n--;
  return parse_ipv4_port(hostport, n, out);
}

/* Walks argv: `--name value` or `--name=value`. */
struct args {
  int argc, i;
  char **argv;
};

/* True when argv[i] is the option `name` (a flag when value == NULL); its value is taken and i advanced. */
static int take_option(struct args *a, const char *name, const char **value) {
  const char *arg = a->argv[a->i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '=')) return 0;
  if (value == NULL) {
    if (arg[n] == '=') usage_error(name, "no value (it is a flag)", arg + n + 1);
    a->i++;
    return 1;
  }
  if (arg[n] == '=') {
    *value = arg + n + 1;
    a->i++;
  } else {
    if (a->i + 1 >= a->argc) usage_error(name, "a value", NULL);
    *value = a->argv[a->i + 1];
    a->i += 2;
  }
  return 1;
}

static uint64_t uint_option(const char *flag, const char *value, uint64_t min, uint64_t max) {
  uint64_t v;
  if (parse_uint(value, min, max, &v) != 0) {
    char expected[96];
    snprintf(expected, sizeof expected, "an integer from %llu to %llu", (unsigned long long)min, (unsigned long long)max);
    usage_error(flag, expected, value);
  }
  return v;
}

/* ---------- file and socket helpers ---------- */

static int write_full(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    if (w == 0) return errno = EIO, -1;
    c += w, n -= (size_t)w;
  }
  return 0;
}

static int pwrite_full(int fd, const void *p, size_t n, off_t off) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = pwrite(fd, c, n, off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    if (w == 0) return errno = EIO, -1;
    c += w, n -= (size_t)w, off += w;
  }
  return 0;
}

/* Bytes read at `off` until n or end of file; -1 on error. */
static ssize_t pread_full(int fd, void *p, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)p + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* Reads the whole of fd through buf; total bytes, or -1 on error. */
static int64_t drain_fd(int fd, char *buf, size_t cap) {
  int64_t total = 0;
  for (;;) {
    ssize_t r = read(fd, buf, cap);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return total;
    total += r;
  }
}

static int send_full(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

/*
 * A TCP connection within timeout_ms (non-blocking connect + poll), then
 * blocking with every send/recv bounded by io_timeout_ms. -1 with *code set
 * (ETIMEDOUT when the connect timed out) on failure.
 */
static int tcp_connect(const struct sockaddr_in *to, int timeout_ms, int io_timeout_ms, int *code) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return *code = errno, -1;
  if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
    if (errno != EINPROGRESS) {
      *code = errno;
      close(fd);
      return -1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    double deadline = now_ms() + timeout_ms;
    for (;;) {
      int left = (int)(deadline - now_ms() + 0.999);
      int r = poll(&p, 1, left > 0 ? left : 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return *code = errno, close(fd), -1;
      if (r == 0) return *code = ETIMEDOUT, close(fd), -1;
      break;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
    if (soerr != 0) return *code = soerr, close(fd), -1;
  }
  int one = 1;
  struct timeval tv = {io_timeout_ms / 1000, (io_timeout_ms % 1000) * 1000};
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
    *code = errno;
    close(fd);
    return -1;
  }
  return fd;
}

/* SO_RCVTIMEO expiring shows as EAGAIN; name it for what it is. */
static int io_errno(int code) { return code == EAGAIN || code == EWOULDBLOCK ? ETIMEDOUT : code; }

/* ---------- buffered reading of HTTP and DNS responses ---------- */

struct reader {
  int fd;
  char *buf;
  size_t cap, start, end;
};

/* More bytes into the buffer: 1 read, 0 end of stream, -1 error (errno set). */
static int reader_fill(struct reader *r) {
  if (r->start == r->end) r->start = r->end = 0;
  if (r->end == r->cap) {
    if (r->start == 0) return errno = EMSGSIZE, -1;
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
  }
  for (;;) {
    ssize_t n = recv(r->fd, r->buf + r->end, r->cap - r->end, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    r->end += (size_t)n;
    return 1;
  }
}

enum { READ_OK = 0, READ_FAILED = -1, READ_CLOSED_EARLY = -2 };

/* One CRLF- (or LF-) terminated line, without its ending; *line is valid until the next read. */
static int read_line(struct reader *r, const char **line, size_t *len, const char *what, struct err *e) {
  size_t scanned = 0;
  for (;;) {
    char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
    if (nl != NULL) {
      *line = r->buf + r->start;
      *len = (size_t)(nl - *line);
      if (*len > 0 && (*line)[*len - 1] == '\r') (*len)--;
      r->start = (size_t)(nl - r->buf) + 1;
      return READ_OK;
    }
    scanned = r->end - r->start;
    if (scanned >= MAX_HEAD_LINE) return set_err(e, "%s: a line longer than %d bytes", what, MAX_HEAD_LINE), READ_FAILED;
    int f = reader_fill(r);
    if (f < 0) return set_syserr(e, io_errno(errno), "%s: recv", what), READ_FAILED;
    if (f == 0) return set_err(e, "%s: the server closed the connection mid-line", what), READ_FAILED;
  }
}

static int discard(struct reader *r, uint64_t n, uint64_t *count, struct err *e) {
  while (n > 0) {
    if (r->start == r->end) {
      int f = reader_fill(r);
      if (f < 0) return set_syserr(e, io_errno(errno), "body: recv"), READ_FAILED;
      if (f == 0) return set_err(e, "body: the server closed the connection with %llu bytes still to come", (unsigned long long)n), READ_FAILED;
    }
    size_t take = r->end - r->start;
    if (take > n) take = (size_t)n;
    r->start += take, n -= take, *count += take;
  }
  return READ_OK;
}

struct response {
  int status, chunked, close;
  int64_t length; /* Content-Length, -1 when absent */
};

/* Case-insensitive: does [s, s+n) contain the token `word`? */
static int contains_word(const char *s, size_t n, const char *word) {
  size_t w = strlen(word);
  for (size_t i = 0; i + w <= n; i++)
    if (strncasecmp(s + i, word, w) == 0) return 1;
  return 0;
}

/*
 * Status line and headers. READ_CLOSED_EARLY when the connection ended
 * before any byte of the status line: a kept-alive connection the server had
 * already closed, which the caller may retry on a new one.
 */
static int read_response_head(struct reader *r, struct response *h, struct err *e) {
  for (;;) { /* 1xx interim responses are skipped */
    if (r->start == r->end) {
      int f = reader_fill(r);
      if (f == 0 || (f < 0 && (errno == ECONNRESET || errno == EPIPE))) {
        set_err(e, "response: the server closed the connection before the status line");
        return READ_CLOSED_EARLY;
      }
      if (f < 0) return set_syserr(e, io_errno(errno), "response: recv"), READ_FAILED;
    }
    const char *line;
    size_t len, total = 0;
    if (read_line(r, &line, &len, "status line", e) != READ_OK) return READ_FAILED;
    int minor;
    if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ' || line[9] < '1' ||
        line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' || (len > 12 && line[12] != ' ')) {
      set_err(e, "status line: expected \"HTTP/1.x NNN ...\", found \"%.*s\"", (int)(len < 80 ? len : 80), line);
      return READ_FAILED;
    }
    minor = line[7] - '0';
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    h->chunked = 0;
    h->close = minor == 0; /* HTTP/1.0 closes unless it says keep-alive */
    h->length = -1;
    for (int lines = 0;; lines++) {
      if (read_line(r, &line, &len, "response headers", e) != READ_OK) return READ_FAILED;
      if (len == 0) break;
      total += len;
      if (lines >= MAX_HEAD_LINES || total > MAX_HEAD_BYTES) return set_err(e, "response headers: more than %d bytes", MAX_HEAD_BYTES), READ_FAILED;
      const char *colon = memchr(line, ':', len);
      if (colon == NULL) return set_err(e, "response header without a colon: \"%.*s\"", (int)(len < 80 ? len : 80), line), READ_FAILED;
      size_t name_len = (size_t)(colon - line), value_len = len - name_len - 1;
      const char *value = colon + 1;
      while (value_len > 0 && (*value == ' ' || *value == '\t')) value++, value_len--;
      while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t')) value_len--;
      if (name_len == 14 && strncasecmp(line, "content-length", 14) == 0) {
        char digits[24];
        uint64_t v;
        if (value_len == 0 || value_len >= sizeof digits) return set_err(e, "Content-Length: expected digits, found \"%.*s\"", (int)(value_len < 40 ? value_len : 40), value), READ_FAILED;
        memcpy(digits, value, value_len), digits[value_len] = '\0';
        if (parse_uint(digits, 0, INT64_MAX, &v) != 0) return set_err(e, "Content-Length: expected digits, found \"%s\"", digits), READ_FAILED;
        h->length = (int64_t)v;
      } else if (name_len == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
        h->chunked = contains_word(value, value_len, "chunked");
      } else if (name_len == 10 && strncasecmp(line, "connection", 10) == 0) {
        if (contains_word(value, value_len, "close")) h->close = 1;
        else if (contains_word(value, value_len, "keep-alive")) h->close = 0;
      }
    }
    if (h->status >= 200 || h->status == 101) return READ_OK;
  }
}

/* Reads and throws away the body (chunked, Content-Length, or up to the close); *bytes = body size. */
static int read_response_body(struct reader *r, struct response *h, uint64_t *bytes, struct err *e) {
  *bytes = 0;
  if (h->status == 204 || h->status == 304 || h->status == 101) return READ_OK;
  if (h->chunked) {
    for (;;) {
      const char *line;
      size_t len;
      if (read_line(r, &line, &len, "chunk size", e) != READ_OK) return READ_FAILED;
      uint64_t size = 0;
      size_t i = 0, digits = 0;
      for (; i < len && isxdigit((unsigned char)line[i]); i++, digits++) {
        if (digits == 15) return set_err(e, "chunk size: more than 15 hex digits"), READ_FAILED;
        char c = line[i];
        size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      }
      if (digits == 0 || (i < len && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
        return set_err(e, "chunk size: expected hex digits, found \"%.*s\"", (int)(len < 40 ? len : 40), line), READ_FAILED;
      }
      if (size == 0) {
        do { /* trailer fields, then the empty line */
          if (read_line(r, &line, &len, "chunked trailer", e) != READ_OK) return READ_FAILED;
        } while (len > 0);
        return READ_OK;
      }
      if (discard(r, size, bytes, e) != READ_OK) return READ_FAILED;
      if (read_line(r, &line, &len, "chunk end", e) != READ_OK) return READ_FAILED;
      if (len != 0) return set_err(e, "chunk end: expected CRLF after %llu bytes of data", (unsigned long long)size), READ_FAILED;
    }
  }
  if (h->length >= 0) return discard(r, (uint64_t)h->length, bytes, e);
  h->close = 1; /* no length: the body runs to the end of the connection */
  for (;;) {
    *bytes += r->end - r->start;
    r->start = r->end;
    int f = reader_fill(r);
    if (f == 0) return READ_OK;
    if (f < 0) return set_syserr(e, io_errno(errno), "body: recv"), READ_FAILED;
  }
}

/* "GET <target> HTTP/1.1" in absolute form through a proxy, origin form directly. */
static char *http_get_text(const struct url *u, int via_proxy, int close) {
  char *text;
  if (asprintf(&text, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: guest-bench/" GUEST_BENCH_VERSION "\r\nAccept: */*\r\n%s\r\n",
               via_proxy ? u->origin : "", u->path, u->ep.text, close ? "Connection: close\r\n" : "") < 0) {
    fatal("out of memory building a request for %s", u->text);
  }
  return text;
}

/* ---------- system ---------- */

/* statfs f_type → name (linux/magic.h); ext2/3/4 share one magic and are reported as ext4. */
static const char *fs_type_name(unsigned long type, char *hex, size_t hex_size) {
  static const struct {
    unsigned long magic;
    const char *name;
  } known[] = {
      {0x01021994, "tmpfs"},    {0x858458f6, "ramfs"},   {0xEF53, "ext4"},        {0x794c7630, "overlayfs"},
      {0x73717368, "squashfs"}, {0x01021997, "9p"},      {0x58465342, "xfs"},     {0x9123683E, "btrfs"},
      {0x65735546, "fuse"},     {0x6969, "nfs"},         {0x2fc12fc1, "zfs"},     {0xF2F52010, "f2fs"},
      {0x9fa0, "proc"},         {0x62656572, "sysfs"},   {0x28cd3d45, "cramfs"},  {0x4d44, "vfat"},
      {0x5346544e, "ntfs"},     {0x3153464a, "jfs"},     {0x52654973, "reiserfs"}, {0xde5e81e4, "erofs"},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (known[i].magic == type) return known[i].name;
  snprintf(hex, hex_size, "0x%lx", type);
  return hex;
}

static int is_memory_fs(unsigned long type) { return type == 0x01021994 || type == 0x858458f6; }

/* ---------- options ---------- */

enum { SEC_DISK, SEC_ROOTFS, SEC_STARTUP, SEC_HTTP, SEC_THROUGHPUT, N_SECTIONS };
static const char *const section_names[N_SECTIONS] = {"disk", "rootfs", "startup", "http", "throughput"};

enum cache_drop_mode { DROP_AUTO, DROP_FADVISE, DROP_NONE };

struct options {
  int sections[N_SECTIONS];
  const char *dir;
  uint64_t seed, disk_mib, random_ops, max_walk, small_files, startup_runs, requests, concurrency;
  const char *walk_root;
  enum cache_drop_mode cache_drop;
  int has_proxy, proxy_given;
  struct endpoint proxy;
  int has_http_url, has_download_url, has_download_mib;
  struct url http_url, download_url;
  double download_mib;
};

static const char *const usage_text =
    "usage: guest-bench [options]          one JSON report on stdout, progress on stderr\n"
    "  --sections LIST      comma-separated: disk,rootfs,startup,http,throughput (default all)\n"
    "  --dir DIR            where the disk file goes (default: the current directory)\n"
    "  --seed N             offsets and fill bytes (default 1)\n"
    "  --disk-mib N         size of the disk file (default 64)\n"
    "  --random-ops N       4 KiB random writes and reads (default 256)\n"
    "  --cache-drop MODE    auto (drop_caches, else fadvise), fadvise (this file only), none (default auto)\n"
    "  --walk-root PATH     tree to walk (default /usr, else /)\n"
    "  --max-walk N         entries to walk at most (default 20000)\n"
    "  --small-files N      small files to read at most (default 1000)\n"
    "  --startup-runs N     timed runs per command after the first (default 20)\n"
    "  --proxy IP:PORT|none HTTP proxy (default from $http_proxy / $HTTP_PROXY, else direct)\n"
    "  --http-url URL       http://IP:PORT/path to GET --requests times\n"
    "  --requests N         (default 200)\n"
    "  --concurrency C      connections, 1-256 (default 8)\n"
    "  --download-url URL   http://IP:PORT/path to download once\n"
    "  --download-mib X     its expected size, recorded\n"
    "       guest-bench probe connect IP:PORT [--timeout-ms MS]\n"
    "       guest-bench probe dns NAME --server IP:PORT [--type A|AAAA] [--attempts N] [--timeout-ms MS]\n"
    "       guest-bench probe connect-proxy HOST:PORT --proxy IP:PORT [--attempts N] [--timeout-ms MS]\n"
    "       guest-bench probe http URL [--proxy IP:PORT] [--attempts N] [--timeout-ms MS]\n"
    "       guest-bench probe raw IP:PORT FILE... [--timeout-ms MS]\n"
    "       guest-bench probe unix PATH...\n"
    "       guest-bench --version\n";

static void print_version(void) {
  printf("guest-bench %s (build %s)\n", GUEST_BENCH_VERSION, GUEST_BENCH_BUILD);
  exit(fflush(stdout) == 0 ? 0 : 1);
}

static void parse_sections(const char *list, int *selected) {
  static const char *const expected = "a comma-separated list of disk, rootfs, startup, http, throughput";
  memset(selected, 0, N_SECTIONS * sizeof *selected);
  const char *s = list;
  for (;;) {
    size_t n = strcspn(s, ",");
    int found = 0;
    for (int k = 0; k < N_SECTIONS; k++) {
      if (strlen(section_names[k]) == n && strncmp(s, section_names[k], n) == 0) selected[k] = found = 1;
    }
    if (!found) usage_error("--sections", expected, list);
    if (s[n] == '\0') break;
    s += n + 1;
  }
}

static void parse_main_options(int argc, char **argv, struct options *o) {
  static char cwd[4096];
  memset(o, 0, sizeof *o);
  for (int k = 0; k < N_SECTIONS; k++) o->sections[k] = 1;
  o->seed = 1, o->disk_mib = 64, o->random_ops = 256, o->max_walk = 20000, o->small_files = 1000;
  o->startup_runs = 20, o->requests = 200, o->concurrency = 8;
  o->cache_drop = DROP_AUTO;
  struct args a = {argc, 1, argv};
  while (a.i < argc) {
    const char *v;
    if (take_option(&a, "--help", NULL)) {
      fputs(usage_text, stdout);
      exit(fflush(stdout) == 0 ? 0 : 1);
    } else if (take_option(&a, "--version", NULL)) print_version();
    else if (take_option(&a, "--sections", &v)) parse_sections(v, o->sections);
    else if (take_option(&a, "--dir", &v)) {
      struct stat st;
      if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) usage_error("--dir", "an existing directory", v);
      o->dir = v;
    } else if (take_option(&a, "--seed", &v)) o->seed = uint_option("--seed", v, 0, 9007199254740991ull); /* 2^53 - 1: the seed must survive a JSON parse exactly */
    else if (take_option(&a, "--disk-mib", &v)) o->disk_mib = uint_option("--disk-mib", v, 1, 1u << 20);
    else if (take_option(&a, "--random-ops", &v)) o->random_ops = uint_option("--random-ops", v, 1, 1000000);
    else if (take_option(&a, "--cache-drop", &v)) {
      if (strcmp(v, "auto") == 0) o->cache_drop = DROP_AUTO;
      else if (strcmp(v, "fadvise") == 0) o->cache_drop = DROP_FADVISE;
      else if (strcmp(v, "none") == 0) o->cache_drop = DROP_NONE;
      else usage_error("--cache-drop", "auto, fadvise or none", v);
    } else if (take_option(&a, "--walk-root", &v)) {
      struct stat st;
      if (lstat(v, &st) != 0 || !S_ISDIR(st.st_mode)) usage_error("--walk-root", "an existing directory (not a symlink)", v);
      o->walk_root = v;
    } else if (take_option(&a, "--max-walk", &v)) o->max_walk = uint_option("--max-walk", v, 1, 100000000);
    else if (take_option(&a, "--small-files", &v)) o->small_files = uint_option("--small-files", v, 0, 10000000);
    else if (take_option(&a, "--startup-runs", &v)) o->startup_runs = uint_option("--startup-runs", v, 1, 100000);
    else if (take_option(&a, "--proxy", &v)) {
      o->proxy_given = 1;
      o->has_proxy = strcmp(v, "none") != 0;
      if (o->has_proxy && parse_ipv4_port(v, strlen(v), &o->proxy) != 0) usage_error("--proxy", "IPv4:PORT (numeric, no DNS) or none", v);
    } else if (take_option(&a, "--http-url", &v)) {
      if (parse_http_url(v, &o->http_url) != 0) usage_error("--http-url", "http://IPv4[:PORT]/path (a numeric host: no DNS)", v);
      o->has_http_url = 1;
    } else if (take_option(&a, "--requests", &v)) o->requests = uint_option("--requests", v, 1, 10000000);
    else if (take_option(&a, "--concurrency", &v)) o->concurrency = uint_option("--concurrency", v, 1, MAX_CONCURRENCY);
    else if (take_option(&a, "--download-url", &v)) {
      if (parse_http_url(v, &o->download_url) != 0) usage_error("--download-url", "http://IPv4[:PORT]/path (a numeric host: no DNS)", v);
      o->has_download_url = 1;
    } else if (take_option(&a, "--download-mib", &v)) {
      char *end;
      errno = 0;
      o->download_mib = strtod(v, &end);
      if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(o->download_mib) || o->download_mib < 0) {
        usage_error("--download-mib", "a number of MiB >= 0", v);
      }
      o->has_download_mib = 1;
    } else {
      fprintf(stderr, "guest-bench: unknown argument \"%.120s\" (see guest-bench --help)\n", argv[a.i]);
      exit(EXIT_USAGE);
    }
  }
  if (o->dir == NULL) {
    if (getcwd(cwd, sizeof cwd) == NULL) fatal("getcwd: %s", strerror(errno));
    o->dir = cwd;
  }
  if (o->walk_root == NULL) {
    struct stat st;
    o->walk_root = lstat("/usr", &st) == 0 && S_ISDIR(st.st_mode) ? "/usr" : "/";
  }
  /* The proxy variables matter only when something will be fetched. */
  if (!o->proxy_given && ((o->sections[SEC_HTTP] && o->has_http_url) || (o->sections[SEC_THROUGHPUT] && o->has_download_url))) {
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY"};
    for (int k = 0; k < 2 && !o->has_proxy; k++) {
      const char *value = getenv(vars[k]);
      if (value == NULL || *value == '\0') continue;
      if (parse_proxy_url(value, &o->proxy) != 0) {
        char flag[32];
        snprintf(flag, sizeof flag, "$%s", vars[k]);
        usage_error(flag, "http://IPv4:PORT (numeric: no DNS; or pass --proxy IP:PORT|none)", value);
      }
      o->has_proxy = 1;
    }
  }
}

/* ---------- disk ---------- */

struct cache_drop {
  int dropped;
  const char *method;
  char reason[320];
  double resident_pct; /* < 0 when it could not be measured */
};

/* Share of the file's pages still in the page cache (mincore over a mapping); -1 when unknown. */
static double resident_pct(int fd, uint64_t size) {
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0 || size == 0) return -1;
  size_t pages = (size_t)((size + (uint64_t)page - 1) / (uint64_t)page);
  unsigned char *vec = malloc(pages);
  if (vec == NULL) return -1;
  void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
  double pct = -1;
  if (map != MAP_FAILED) {
    if (mincore(map, (size_t)size, vec) == 0) {
      size_t resident = 0;
      for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
      pct = 100.0 * (double)resident / (double)pages;
    }
    munmap(map, (size_t)size);
  }
  free(vec);
  return pct;
}

/* Best available way to make the next read come from the device: drop_caches, else fadvise, else nothing (said why). */
static void drop_cache(enum cache_drop_mode mode, int fd, uint64_t size, unsigned long fs_type, const char *fs_name, struct cache_drop *d) {
  d->dropped = 0;
  d->method = "none";
  d->reason[0] = '\0';
  /* dirty pages cannot be dropped: the file's are written first (a global sync only before drop_caches) */
  if (fdatasync(fd) != 0) note("fdatasync before the cache drop: %s", strerror(errno));
  if (is_memory_fs(fs_type)) {
    snprintf(d->reason, sizeof d->reason, "%s keeps files only in memory: there is no cache to drop", fs_name);
  } else if (mode == DROP_NONE) {
    snprintf(d->reason, sizeof d->reason, "--cache-drop none");
  } else {
    char why_not_global[200] = "--cache-drop fadvise";
    if (mode == DROP_AUTO) {
      sync(); /* drop_caches drops only clean pages, of every file */
      int dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
      if (dc >= 0 && write_full(dc, "3\n", 2) == 0) {
        close(dc);
        d->dropped = 1;
        d->method = "drop_caches";
      } else {
        int code = errno;
        if (dc >= 0) close(dc);
        snprintf(why_not_global, sizeof why_not_global, "/proc/sys/vm/drop_caches: %s (%s)", errno_name(code), strerrordesc_np(code));
      }
    }
    if (!d->dropped) {
      int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      if (rc == 0) {
        d->dropped = 1;
        d->method = "fadvise";
        snprintf(d->reason, sizeof d->reason, "%s", why_not_global);
      } else {
        snprintf(d->reason, sizeof d->reason, "%s; posix_fadvise(DONTNEED): %s (%s)", why_not_global, errno_name(rc), strerrordesc_np(rc));
      }
    }
  }
  d->resident_pct = resident_pct(fd, size);
}

static void j_cache_drop(struct json *j, const char *key, const struct cache_drop *d) {
  j_key(j, key);
  j_open(j, "{");
  j_kbool(j, "dropped", d->dropped);
  j_kstr(j, "method", d->method);
  if (d->reason[0] != '\0') j_kstr(j, "reason", d->reason);
  j_key(j, "resident_pct");
  if (d->resident_pct >= 0) j_num(j, d->resident_pct);
  else j_null(j);
  j_close(j, "}");
}

static void j_offsets_head(struct json *j, const uint64_t *head, uint64_t ops) {
  j_key(j, "offsets_head");
  j_open(j, "[");
  for (uint64_t k = 0; k < ops && k < OFFSETS_HEAD; k++) j_uint(j, head[k]);
  j_close(j, "]");
}

/* ops 4 KiB pwrite+fdatasync (write) or pread (read) at seeded offsets; samples in ms. */
static int random_io(int fd, const char *path, int writing, char *buf, uint64_t pages, uint64_t stream, uint64_t ops, double *samples,
                     uint64_t *head, double *total_ms, struct err *e) {
  double start = now_ms();
  for (uint64_t k = 0; k < ops; k++) {
    off_t off = (off_t)((splitmix64(&stream) % pages) * PAGE);
    if (k < OFFSETS_HEAD) head[k] = (uint64_t)off;
    double t = now_ms();
    if (writing) {
      if (pwrite_full(fd, buf + (k % (MIB / PAGE)) * PAGE, PAGE, off) != 0) return set_syserr(e, errno, "pwrite %s at %lld", path, (long long)off), -1;
      if (fdatasync(fd) != 0) return set_syserr(e, errno, "fdatasync %s", path), -1;
    } else {
      ssize_t got = pread_full(fd, buf, PAGE, off);
      if (got < 0) return set_syserr(e, errno, "pread %s at %lld", path, (long long)off), -1;
      if ((size_t)got != PAGE) return set_err(e, "pread %s at %lld: %zd bytes of %u", path, (long long)off, got, PAGE), -1;
    }
    samples[k] = now_ms() - t;
  }
  *total_ms = now_ms() - start;
  return 0;
}

static int j_random_io(struct json *j, const char *key, uint64_t ops, const double *samples, double total_ms, const uint64_t *head,
                       const struct cache_drop *drop) {
  j_key(j, key);
  j_open(j, "{");
  j_kuint(j, "ops", ops);
  j_kuint(j, "block_bytes", PAGE);
  j_knum(j, "seconds", total_ms / 1000.0);
  j_knum(j, "ops_per_s", per_second((double)ops, total_ms));
  if (j_latencies(j, samples, ops, 1) != 0) return -1;
  j_offsets_head(j, head, ops);
  if (drop != NULL) j_cache_drop(j, "cache_drop", drop);
  j_close(j, "}");
  return 0;
}

static void j_transfer(struct json *j, const char *key, uint64_t bytes, double ms) {
  j_key(j, key);
  j_open(j, "{");
  j_kuint(j, "bytes", bytes);
  j_knum(j, "seconds", ms / 1000.0);
  j_knum(j, "mib_per_s", per_second((double)bytes / MIB, ms));
  j_close(j, "}");
}

static int disk_measure(const struct options *o, int fd, const char *path, unsigned long fs_type, const char *fs_name, char *wbuf, char *rbuf,
                        struct json *j, struct err *e) {
  const uint64_t size = o->disk_mib * MIB, pages = size / PAGE, ops = o->random_ops;
  uint64_t data = o->seed ^ STREAM_DATA;
  for (size_t i = 0; i < MIB; i += 8) {
    uint64_t word = splitmix64(&data) | 0x0101010101010101ull; /* non-zero bytes: nothing can be stored as a hole */
    memcpy(wbuf + i, &word, 8);
  }
  note("disk: writing %llu MiB to %s", (unsigned long long)o->disk_mib, path);
  double start = now_ms();
  for (uint64_t b = 0; b < o->disk_mib; b++) {
    /* Each block starts differently, so no layer can deduplicate the file into one block. */
    uint64_t stamp = (b + 1) * 0x9e3779b97f4a7c15ull | 0x0101010101010101ull;
    memcpy(wbuf, &stamp, 8);
    if (write_full(fd, wbuf, MIB) != 0) return set_syserr(e, errno, "write %s", path), -1;
  }
  if (fdatasync(fd) != 0) return set_syserr(e, errno, "fdatasync %s", path), -1;
  double write_ms = now_ms() - start;

  struct stat st;
  if (fstat(fd, &st) != 0) return set_syserr(e, errno, "fstat %s", path), -1;
  uint64_t allocated = (uint64_t)st.st_blocks * 512;
  if ((uint64_t)st.st_size != size) return set_err(e, "%s: %lld bytes after writing %llu", path, (long long)st.st_size, (unsigned long long)size), -1;
  if (allocated < size) {
    return set_err(e, "%s: %llu bytes allocated for %llu written (sparse or compressed): reads would not touch the device", path,
                   (unsigned long long)allocated, (unsigned long long)size), -1;
  }

  struct cache_drop drop, rand_drop;
  drop_cache(o->cache_drop, fd, size, fs_type, fs_name, &drop);
  note("disk: cache drop before reading: %s%s%s", drop.method, drop.reason[0] ? ": " : "", drop.reason);
  start = now_ms();
  uint64_t read_bytes = 0;
  for (;;) {
    ssize_t got = pread_full(fd, rbuf, MIB, (off_t)read_bytes);
    if (got < 0) return set_syserr(e, errno, "read %s at %llu", path, (unsigned long long)read_bytes), -1;
    if (got == 0) break;
    read_bytes += (uint64_t)got;
  }
  double read_ms = now_ms() - start;
  if (read_bytes != size) return set_err(e, "read %s: %llu bytes of %llu", path, (unsigned long long)read_bytes, (unsigned long long)size), -1;

  double *wsamples = malloc(ops * sizeof *wsamples), *rsamples = malloc(ops * sizeof *rsamples);
  uint64_t whead[OFFSETS_HEAD], rhead[OFFSETS_HEAD];
  double wtotal, rtotal;
  int rc = -1;
  if (wsamples == NULL || rsamples == NULL) {
    set_err(e, "out of memory for %llu samples", (unsigned long long)ops);
    goto out;
  }
  note("disk: %llu random 4 KiB writes, each followed by fdatasync", (unsigned long long)ops);
  if (random_io(fd, path, 1, wbuf, pages, o->seed ^ STREAM_WRITE, ops, wsamples, whead, &wtotal, e) != 0) goto out;
  /* Read what is on the device, not what the sequential read and the random writes left cached. */
  drop_cache(o->cache_drop, fd, size, fs_type, fs_name, &rand_drop);
  note("disk: %llu random 4 KiB reads", (unsigned long long)ops);
  if (random_io(fd, path, 0, rbuf, pages, o->seed ^ STREAM_READ, ops, rsamples, rhead, &rtotal, e) != 0) goto out;

  j_open(j, "{");
  j_kstr(j, "file", path);
  j_kuint(j, "file_bytes", size);
  j_kuint(j, "allocated_bytes", allocated);
  j_transfer(j, "seq_write", size, write_ms);
  j_cache_drop(j, "cache_drop", &drop);
  j_transfer(j, "seq_read", read_bytes, read_ms);
  if (j_random_io(j, "random_write", ops, wsamples, wtotal, whead, NULL) != 0 ||
      j_random_io(j, "random_read", ops, rsamples, rtotal, rhead, &rand_drop) != 0) {
    set_err(e, "out of memory summarizing %llu samples", (unsigned long long)ops);
    goto out;
  }
  j_close(j, "}");
  rc = 0;
out:
  free(wsamples);
  free(rsamples);
  return rc;
}

static int section_disk(const struct options *o, unsigned long fs_type, const char *fs_name, struct json *j, struct err *e) {
  char *path;
  if (asprintf(&path, "%s/guest-bench-%d.data", o->dir, (int)getpid()) < 0) return set_err(e, "out of memory"), -1;
  char *wbuf = malloc(MIB), *rbuf = malloc(MIB);
  int rc = -1;
  if (wbuf == NULL || rbuf == NULL) {
    set_err(e, "out of memory for two 1 MiB buffers");
  } else {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      set_syserr(e, errno, "open %s", path);
    } else {
      rc = disk_measure(o, fd, path, fs_type, fs_name, wbuf, rbuf, j, e);
      close(fd);
      if (unlink(path) != 0 && rc == 0) rc = -1, set_syserr(e, errno, "unlink %s", path);
    }
  }
  free(wbuf);
  free(rbuf);
  free(path);
  return rc;
}

/* ---------- rootfs ---------- */

struct paths {
  char **p;
  size_t n, cap;
};

static int paths_push(struct paths *s, char *path) {
  if (s->n == s->cap) {
    size_t want = s->cap ? s->cap * 2 : 256;
    char **p = realloc(s->p, want * sizeof *p);
    if (p == NULL) return -1;
    s->p = p, s->cap = want;
  }
  s->p[s->n++] = path;
  return 0;
}

static void paths_free(struct paths *s) {
  for (size_t i = 0; i < s->n; i++) free(s->p[i]);
  free(s->p);
  memset(s, 0, sizeof *s);
}

static char *join_path(const char *dir, const char *name) {
  char *path;
  size_t n = strlen(dir);
  if (asprintf(&path, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name) < 0) return NULL;
  return path;
}

struct walk {
  uint64_t entries, dirs, files, symlinks, unreadable, other_fs_dirs;
  int limit_reached;
  struct paths small;
  char *largest;
  off_t largest_size;
};

/* Depth-first lstat walk on one filesystem (like find -xdev: /proc and friends are not the rootfs). */
static int walk_tree(const char *root, uint64_t max_entries, uint64_t max_small, struct walk *w, struct err *e) {
  struct stat st;
  struct paths stack = {0};
  memset(w, 0, sizeof *w);
  w->largest_size = -1;
  if (lstat(root, &st) != 0) return set_syserr(e, errno, "lstat %s", root), -1;
  dev_t dev = st.st_dev;
  w->entries = 1, w->dirs = 1;
  char *top = strdup(root);
  if (top == NULL || paths_push(&stack, top) != 0) return free(top), set_err(e, "out of memory"), -1;
  while (stack.n > 0 && !w->limit_reached) {
    char *dir_path = stack.p[--stack.n];
    DIR *d = opendir(dir_path);
    if (d == NULL) {
      w->unreadable++;
      free(dir_path);
      continue;
    }
    struct dirent *ent;
    int failed = 0;
    while (!failed && (ent = readdir(d)) != NULL) {
      if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
      if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        w->unreadable++;
        continue;
      }
      w->entries++;
      if (S_ISDIR(st.st_mode)) {
        w->dirs++;
        if (st.st_dev != dev) w->other_fs_dirs++;
        else {
          char *child = join_path(dir_path, ent->d_name);
          if (child == NULL || paths_push(&stack, child) != 0) free(child), failed = 1;
        }
      } else if (S_ISREG(st.st_mode)) {
        w->files++;
        if (st.st_size <= SMALL_FILE_MAX && w->small.n < max_small) {
          char *child = join_path(dir_path, ent->d_name);
          if (child == NULL || paths_push(&w->small, child) != 0) free(child), failed = 1;
        }
        if (st.st_size > w->largest_size) {
          char *child = join_path(dir_path, ent->d_name);
          if (child == NULL) failed = 1;
          else free(w->largest), w->largest = child, w->largest_size = st.st_size;
        }
      } else if (S_ISLNK(st.st_mode)) {
        w->symlinks++;
      }
      if (w->entries >= max_entries) w->limit_reached = 1;
      if (w->limit_reached) break;
    }
    closedir(d);
    free(dir_path);
    if (failed) {
      paths_free(&stack);
      return set_err(e, "out of memory walking %s", root), -1;
    }
  }
  paths_free(&stack);
  return 0;
}

static int section_rootfs(const struct options *o, struct json *j, struct err *e) {
  struct walk w;
  note("rootfs: walking %s (at most %llu entries)", o->walk_root, (unsigned long long)o->max_walk);
  double start = now_ms();
  if (walk_tree(o->walk_root, o->max_walk, o->small_files, &w, e) != 0) {
    paths_free(&w.small);
    free(w.largest);
    return -1;
  }
  double walk_ms = now_ms() - start;

  char *buf = malloc(MIB);
  if (buf == NULL) {
    paths_free(&w.small);
    free(w.largest);
    return set_err(e, "out of memory for a 1 MiB buffer"), -1;
  }
  uint64_t small_files = 0, small_bytes = 0, small_unreadable = 0;
  start = now_ms();
  for (size_t i = 0; i < w.small.n; i++) {
    int fd = open(w.small.p[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int64_t got = fd < 0 ? -1 : drain_fd(fd, buf, MIB);
    if (fd >= 0) close(fd);
    if (got < 0) small_unreadable++;
    else small_files++, small_bytes += (uint64_t)got;
  }
  double small_ms = now_ms() - start;

  j_open(j, "{");
  j_kstr(j, "root", o->walk_root);
  j_kbool(j, "warm_cache", 1);
  j_kbool(j, "one_filesystem", 1);
  j_key(j, "walk");
  j_open(j, "{");
  j_kuint(j, "entries", w.entries);
  j_kuint(j, "dirs", w.dirs);
  j_kuint(j, "files", w.files);
  j_kuint(j, "symlinks", w.symlinks);
  j_kuint(j, "unreadable", w.unreadable);
  j_kuint(j, "other_fs_dirs", w.other_fs_dirs);
  j_kbool(j, "limit_reached", w.limit_reached);
  j_knum(j, "seconds", walk_ms / 1000.0);
  j_knum(j, "entries_per_s", per_second((double)w.entries, walk_ms));
  j_close(j, "}");
  j_key(j, "small_files");
  j_open(j, "{");
  j_kuint(j, "max_bytes", SMALL_FILE_MAX);
  j_kuint(j, "files", small_files);
  j_kuint(j, "bytes", small_bytes);
  j_kuint(j, "unreadable", small_unreadable);
  j_knum(j, "seconds", small_ms / 1000.0);
  j_knum(j, "files_per_s", per_second((double)small_files, small_ms));
  j_close(j, "}");
  j_key(j, "large_file");
  if (w.largest == NULL) {
    j_null(j);
  } else {
    note("rootfs: reading the largest file met, %s (%lld bytes)", w.largest, (long long)w.largest_size);
    start = now_ms();
    int fd = open(w.largest, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int code = errno;
    int64_t got = fd < 0 ? -1 : drain_fd(fd, buf, MIB);
    if (fd >= 0) code = errno, close(fd);
    double large_ms = now_ms() - start;
    j_open(j, "{");
    j_kstr(j, "path", w.largest);
    if (got < 0) {
      struct err why;
      set_syserr(&why, code, "%s %s", fd < 0 ? "open" : "read", w.largest);
      j_kstr(j, "error", why.msg);
    } else {
      j_kuint(j, "bytes", (uint64_t)got);
      j_knum(j, "seconds", large_ms / 1000.0);
      j_knum(j, "mib_per_s", per_second((double)got / MIB, large_ms));
    }
    j_close(j, "}");
  }
  j_close(j, "}");
  free(buf);
  paths_free(&w.small);
  free(w.largest);
  return 0;
}

/* ---------- startup ---------- */

static int time_spawns(char *const argv[], uint64_t runs, int null_fd, double *first, double *samples, struct err *e) {
  posix_spawn_file_actions_t actions;
  int rc = posix_spawn_file_actions_init(&actions);
  if (rc != 0) return set_syserr(e, rc, "posix_spawn_file_actions_init"), -1;
  /* The child's stdout must not mix into our JSON. */
  if (null_fd >= 0) {
    rc = posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, null_fd, 1);
  } else {
    rc = posix_spawn_file_actions_addclose(&actions, 1);
  }
  if (rc != 0) return posix_spawn_file_actions_destroy(&actions), set_syserr(e, rc, "posix_spawn_file_actions"), -1;
  for (uint64_t k = 0; k <= runs; k++) {
    pid_t pid;
    int status;
    double start = now_ms();
    rc = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
    if (rc != 0) {
      posix_spawn_file_actions_destroy(&actions);
      return set_syserr(e, rc, "posix_spawn %s", argv[0]), -1;
    }
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        int code = errno;
        posix_spawn_file_actions_destroy(&actions);
        return set_syserr(e, code, "waitpid %s", argv[0]), -1;
      }
    }
    double ms = now_ms() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      posix_spawn_file_actions_destroy(&actions);
      if (WIFSIGNALED(status)) return set_err(e, "%s was killed by signal %d", argv[0], WTERMSIG(status)), -1;
      return set_err(e, "%s exited with status %d", argv[0], WEXITSTATUS(status)), -1;
    }
    if (k == 0) *first = ms;
    else samples[k - 1] = ms;
  }
  posix_spawn_file_actions_destroy(&actions);
  return 0;
}

static int section_startup(const struct options *o, struct json *j, struct err *e) {
  static char *const true_argv[] = {"/bin/true", NULL};
  static char *const sh_argv[] = {"/bin/sh", "-c", ":", NULL};
  static char *const self_argv[] = {"/proc/self/exe", "--version", NULL};
  static char *const *const commands[] = {true_argv, sh_argv, self_argv};
  const uint64_t runs = o->startup_runs;
  double *samples = malloc(runs * sizeof *samples);
  if (samples == NULL) return set_err(e, "out of memory for %llu samples", (unsigned long long)runs), -1;
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  int rc = 0;
  j_open(j, "{");
  j_kuint(j, "runs", runs);
  j_key(j, "commands");
  j_open(j, "[");
  struct json missing = {0};
  j_open(&missing, "[");
  for (size_t c = 0; c < sizeof commands / sizeof commands[0] && rc == 0; c++) {
    char *const *argv = commands[c];
    if (access(argv[0], X_OK) != 0) {
      j_string(&missing, argv[0]);
      continue;
    }
    note("startup: %s, 1 + %llu runs", argv[0], (unsigned long long)runs);
    double first;
    if (time_spawns(argv, runs, null_fd, &first, samples, e) != 0) {
      rc = -1;
      break;
    }
    j_open(j, "{");
    j_key(j, "argv");
    j_open(j, "[");
    for (char *const *a = argv; *a != NULL; a++) j_string(j, *a);
    j_close(j, "]");
    j_knum(j, "first_ms", first);
    if (j_latencies(j, samples, runs, 0) != 0) rc = -1, set_err(e, "out of memory summarizing %llu samples", (unsigned long long)runs);
    j_close(j, "}");
  }
  j_close(j, "]");
  j_close(&missing, "]");
  j_key(j, "missing");
  j_value(j, &missing);
  j_close(j, "}");
  json_free(&missing);
  if (null_fd >= 0) close(null_fd);
  free(samples);
  return rc;
}

/* ---------- http ---------- */

struct http_worker {
  const struct url *url;
  const struct endpoint *proxy; /* NULL: direct */
  const char *request;
  size_t request_len;
  uint64_t count, responses, errors, connects;
  double *samples;
  uint64_t status[600];
  struct err first_error;
  pthread_t thread;
  int started;
};

static void *http_worker_run(void *arg) {
  struct http_worker *w = arg;
  const struct sockaddr_in *to = w->proxy != NULL ? &w->proxy->addr : &w->url->ep.addr;
  const char *via = w->proxy != NULL ? w->proxy->text : w->url->ep.text;
  struct reader r = {-1, malloc(65536), 65536, 0, 0};
  if (r.buf == NULL) {
    w->errors = w->count;
    set_err(&w->first_error, "out of memory for a 64 KiB buffer");
    return NULL;
  }
  int reused = 0;
  for (uint64_t k = 0; k < w->count; k++) {
    double start = now_ms();
    struct err e;
    for (int attempt = 0;; attempt++) {
      if (r.fd < 0) {
        int code;
        r.fd = tcp_connect(to, HTTP_CONNECT_TIMEOUT_MS, HTTP_IO_TIMEOUT_MS, &code);
        if (r.fd < 0) {
          set_syserr(&e, code, "connect %s", via);
          goto failed;
        }
        r.start = r.end = 0;
        w->connects++;
        reused = 0;
      }
      struct response h;
      uint64_t body;
      int rc;
      if (send_full(r.fd, w->request, w->request_len) != 0) {
        int code = errno;
        set_syserr(&e, io_errno(code), "send to %s", via);
        rc = code == EPIPE || code == ECONNRESET ? READ_CLOSED_EARLY : READ_FAILED;
      } else {
        rc = read_response_head(&r, &h, &e);
        if (rc == READ_OK) rc = read_response_body(&r, &h, &body, &e);
      }
      if (rc == READ_OK) {
        w->samples[w->responses++] = now_ms() - start;
        w->status[h.status]++;
        reused = 1;
        if (h.close) close(r.fd), r.fd = -1;
        break;
      }
      close(r.fd), r.fd = -1;
      /* The server closed a kept-alive connection between requests: one retry on a new connection. */
      if (rc == READ_CLOSED_EARLY && reused && attempt == 0) continue;
      goto failed;
    }
    continue;
  failed:
    if (w->errors++ == 0) w->first_error = e;
  }
  if (r.fd >= 0) close(r.fd);
  free(r.buf);
  return NULL;
}

static int section_http(const struct options *o, struct json *j, struct err *e) {
  const struct endpoint *proxy = o->has_proxy ? &o->proxy : NULL;
  uint64_t threads = o->concurrency < o->requests ? o->concurrency : o->requests;
  struct http_worker *workers = calloc(threads, sizeof *workers);
  double *samples = malloc(o->requests * sizeof *samples);
  char *request = http_get_text(&o->http_url, proxy != NULL, 0);
  int rc = -1;
  if (workers == NULL || samples == NULL) {
    set_err(e, "out of memory for %llu workers and samples", (unsigned long long)threads);
    goto out;
  }
  note("http: %llu GETs of %s over %llu connections%s%s", (unsigned long long)o->requests, o->http_url.text, (unsigned long long)threads,
       proxy ? " through the proxy " : "", proxy ? proxy->text : "");
  pthread_attr_t attr;
  int code = pthread_attr_init(&attr);
  if (code != 0) {
    set_syserr(e, code, "pthread_attr_init");
    goto out;
  }
  code = pthread_attr_setstacksize(&attr, THREAD_STACK);
  if (code != 0) {
    pthread_attr_destroy(&attr);
    set_syserr(e, code, "pthread_attr_setstacksize");
    goto out;
  }
  uint64_t given = 0;
  for (uint64_t t = 0; t < threads; t++) {
    struct http_worker *w = &workers[t];
    w->url = &o->http_url, w->proxy = proxy, w->request = request, w->request_len = strlen(request);
    w->count = o->requests / threads + (t < o->requests % threads);
    w->samples = samples + given;
    given += w->count;
  }
  double start = now_ms();
  for (uint64_t t = 0; t < threads; t++) {
    code = pthread_create(&workers[t].thread, &attr, http_worker_run, &workers[t]);
    if (code != 0) {
      set_syserr(e, code, "pthread_create (thread %llu of %llu)", (unsigned long long)t + 1, (unsigned long long)threads);
      break;
    }
    workers[t].started = 1;
  }
  for (uint64_t t = 0; t < threads; t++)
    if (workers[t].started) pthread_join(workers[t].thread, NULL);
  double ms = now_ms() - start;
  pthread_attr_destroy(&attr);
  if (code != 0) goto out;

  /* Gather each worker's samples into one run, in worker order. */
  uint64_t responses = 0, errors = 0, connects = 0, status[600] = {0};
  const char *first_error = NULL;
  for (uint64_t t = 0; t < threads; t++) {
    struct http_worker *w = &workers[t];
    memmove(samples + responses, w->samples, w->responses * sizeof *samples);
    responses += w->responses, errors += w->errors, connects += w->connects;
    for (int s = 0; s < 600; s++) status[s] += w->status[s];
    if (first_error == NULL && w->errors > 0) first_error = w->first_error.msg;
  }
  if (responses == 0) {
    set_err(e, "none of %llu GETs of %s got a response: %s", (unsigned long long)o->requests, o->http_url.text, first_error);
    goto out;
  }
  j_open(j, "{");
  j_kstr(j, "url", o->http_url.text);
  j_kstr_or_null(j, "proxy", proxy ? proxy->text : NULL);
  j_kuint(j, "requests", o->requests);
  j_kuint(j, "concurrency", threads);
  j_kuint(j, "responses", responses);
  j_kuint(j, "connections", connects);
  j_knum(j, "seconds", ms / 1000.0);
  j_knum(j, "requests_per_s", per_second((double)responses, ms));
  if (j_latencies(j, samples, responses, 1) != 0) {
    set_err(e, "out of memory summarizing %llu samples", (unsigned long long)responses);
    goto out;
  }
  j_status_counts(j, "status_counts", status);
  j_kuint(j, "errors", errors);
  j_kstr_or_null(j, "first_error", first_error);
  j_close(j, "}");
  rc = 0;
out:
  free(workers);
  free(samples);
  free(request);
  return rc;
}

/* ---------- throughput ---------- */

/* One GET on a new connection; body discarded. Times: connect start → head read → last body byte. */
struct fetch {
  struct response head;
  uint64_t bytes;
  double head_ms, total_ms;
};

static int http_fetch(const struct url *u, const struct endpoint *proxy, int timeout_ms, int io_timeout_ms, size_t buffer, struct fetch *f,
                      struct err *e) {
  const struct sockaddr_in *to = proxy != NULL ? &proxy->addr : &u->ep.addr;
  const char *via = proxy != NULL ? proxy->text : u->ep.text;
  char *request = http_get_text(u, proxy != NULL, 1);
  struct reader r = {-1, malloc(buffer), buffer, 0, 0};
  int rc = -1, code;
  double start = now_ms();
  if (r.buf == NULL) {
    set_err(e, "out of memory for a %zu byte buffer", buffer);
  } else if ((r.fd = tcp_connect(to, timeout_ms, io_timeout_ms, &code)) < 0) {
    set_syserr(e, code, "connect %s", via);
  } else if (send_full(r.fd, request, strlen(request)) != 0) {
    set_syserr(e, io_errno(errno), "send to %s", via);
  } else if (read_response_head(&r, &f->head, e) == READ_OK) {
    f->head_ms = now_ms() - start;
    if (read_response_body(&r, &f->head, &f->bytes, e) == READ_OK) {
      f->total_ms = now_ms() - start;
      rc = 0;
    }
  }
  if (r.fd >= 0) close(r.fd);
  free(r.buf);
  free(request);
  return rc;
}

static int section_throughput(const struct options *o, struct json *j, struct err *e) {
  const struct endpoint *proxy = o->has_proxy ? &o->proxy : NULL;
  struct fetch f = {0};
  note("throughput: GET %s%s%s", o->download_url.text, proxy ? " through the proxy " : "", proxy ? proxy->text : "");
  if (http_fetch(&o->download_url, proxy, HTTP_CONNECT_TIMEOUT_MS, HTTP_IO_TIMEOUT_MS, MIB, &f, e) != 0) {
    char why[sizeof e->msg];
    snprintf(why, sizeof why, "%s", e->msg);
    return set_err(e, "GET %s: %s", o->download_url.text, why), -1;
  }
  if (f.head.status != 200) return set_err(e, "GET %s: status %d, expected 200", o->download_url.text, f.head.status), -1;
  if (f.head.length < 0) return set_err(e, "GET %s: no Content-Length to check the %llu bytes received against", o->download_url.text, (unsigned long long)f.bytes), -1;
  j_open(j, "{");
  j_kstr(j, "url", o->download_url.text);
  j_kstr_or_null(j, "proxy", proxy ? proxy->text : NULL);
  j_kuint(j, "status", (uint64_t)f.head.status);
  j_kuint(j, "content_length", (uint64_t)f.head.length);
  j_kuint(j, "bytes", f.bytes);
  j_key(j, "expected_mib");
  if (o->has_download_mib) j_num(j, o->download_mib);
  else j_null(j);
  j_knum(j, "first_byte_ms", f.head_ms);
  j_knum(j, "seconds", f.total_ms / 1000.0);
  j_knum(j, "mib_per_s", per_second((double)f.bytes / MIB, f.total_ms));
  j_close(j, "}");
  return 0;
}

/* ---------- probes ---------- */

struct probe_common {
  uint64_t attempts;
  int timeout_ms;
};

/* --attempts and --timeout-ms; returns 1 when argv[i] was one of them. */
static int take_probe_option(struct args *a, struct probe_common *c, int with_attempts) {
  const char *v;
  if (with_attempts && take_option(a, "--attempts", &v)) c->attempts = uint_option("--attempts", v, 1, 100000);
  else if (take_option(a, "--timeout-ms", &v)) c->timeout_ms = (int)uint_option("--timeout-ms", v, 1, 600000);
  else return 0;
  return 1;
}

static void unknown_probe_argument(const char *kind, const char *arg) {
  fprintf(stderr, "guest-bench: probe %s: unexpected argument \"%.120s\" (see guest-bench --help)\n", kind, arg);
  exit(EXIT_USAGE);
}

static int print_report(struct json *j, int exit_code) {
  if (j->failed != NULL) fatal("cannot build the report: %s", j->failed);
  j_raw(j, "\n");
  if (j->failed != NULL) fatal("cannot build the report: %s", j->failed);
  if (fwrite(j->p, 1, j->len, stdout) != j->len || fflush(stdout) != 0) fatal("writing the report to stdout: %s", strerror(errno));
  json_free(j);
  return exit_code;
}

static void j_probe_tail(struct json *j, uint64_t attempts, const double *samples, uint64_t n) {
  j_kuint(j, "attempts", attempts);
  j_samples(j, "samples_ms", samples, n);
}

static int probe_connect(struct args *a) {
  struct probe_common c = {1, PROBE_TIMEOUT_MS};
  const char *target = NULL;
  struct endpoint ep;
  while (a->i < a->argc) {
    if (take_probe_option(a, &c, 0)) continue;
    if (a->argv[a->i][0] == '-' || target != NULL) unknown_probe_argument("connect", a->argv[a->i]);
    target = a->argv[a->i++];
  }
  if (target == NULL || parse_ipv4_port(target, strlen(target), &ep) != 0) usage_error("probe connect IP:PORT", "IPv4:PORT", target);
  int code = 0;
  double start = now_ms();
  int fd = tcp_connect(&ep.addr, c.timeout_ms, c.timeout_ms, &code);
  double ms = now_ms() - start;
  if (fd >= 0) close(fd);
  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "probe", "connect");
  j_kstr(&j, "target", ep.text);
  j_kuint(&j, "timeout_ms", (uint64_t)c.timeout_ms);
  j_kbool(&j, "ok", fd >= 0);
  j_kstr_or_null(&j, "error", fd >= 0 ? NULL : errno_name(code));
  j_knum(&j, "ms", ms);
  j_probe_tail(&j, 1, &ms, 1);
  j_close(&j, "}");
  return print_report(&j, 0); /* a refused or timed-out connect is what it reports, not a failure */
}

static const char *rcode_name(int rcode, char *other, size_t size) {
  static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && rcode < (int)(sizeof names / sizeof names[0])) return names[rcode];
  snprintf(other, size, "RCODE%d", rcode);
  return other;
}

/* QNAME in wire form (RFC 1035 3.1); -1 when a label is empty or over 63 bytes or the name over 255. */
static int dns_encode_name(const char *name, unsigned char *out, size_t *len) {
  size_t n = strlen(name), o = 0;
  if (n > 0 && name[n - 1] == '.') n--;
  if (n == 0 || n > 253) return -1;
  for (size_t i = 0; i < n;) {
    size_t label = 0;
    while (i + label < n && name[i + label] != '.') {
      unsigned char c = (unsigned char)name[i + label];
      if (c <= 0x20 || c >= 0x7f) return -1;
      label++;
    }
    if (label == 0 || label > 63) return -1;
    out[o++] = (unsigned char)label;
    memcpy(out + o, name + i, label);
    o += label;
    i += label + 1;
  }
  out[o++] = 0;
  *len = o;
  return 0;
}

/* Moves *off past a (possibly compressed) name; -1 when it runs past the message. */
static int dns_skip_name(const unsigned char *m, size_t n, size_t *off) {
  while (*off < n) {
    unsigned char len = m[*off];
    if (len == 0) return (*off)++, 0;
    if ((len & 0xc0) == 0xc0) return *off + 2 <= n ? (*off += 2, 0) : -1;
    if (len & 0xc0) return -1;
    *off += 1 + (size_t)len;
  }
  return -1;
}

struct dns_answer {
  int rcode;
  size_t n_addresses;
  char (*addresses)[INET6_ADDRSTRLEN];
};

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* One response for query id: rcode and the A/AAAA addresses among its answers. */
static int dns_parse(const unsigned char *m, size_t n, uint16_t id, struct dns_answer *a, struct err *e) {
  if (n < 12) return set_err(e, "DNS response of %zu bytes, shorter than a header", n), -1;
  if (get16(m) != id) return set_err(e, "DNS response id %u, expected %u", get16(m), id), -1;
  if (!(m[2] & 0x80)) return set_err(e, "DNS message is not a response (QR clear)"), -1;
  a->rcode = m[3] & 0x0f;
  uint16_t questions = get16(m + 4), answers = get16(m + 6);
  size_t off = 12;
  for (uint16_t q = 0; q < questions; q++) {
    if (dns_skip_name(m, n, &off) != 0 || off + 4 > n) return set_err(e, "DNS response: question %u runs past the message", q + 1), -1;
    off += 4;
  }
  a->addresses = answers > 0 ? calloc(answers, sizeof *a->addresses) : NULL;
  a->n_addresses = 0;
  if (answers > 0 && a->addresses == NULL) return set_err(e, "out of memory for %u answers", answers), -1;
  for (uint16_t k = 0; k < answers; k++) {
    if (dns_skip_name(m, n, &off) != 0 || off + 10 > n) return set_err(e, "DNS response: answer %u runs past the message", k + 1), -1;
    uint16_t type = get16(m + off), class = get16(m + off + 2), rdlength = get16(m + off + 8);
    off += 10;
    if (off + rdlength > n) return set_err(e, "DNS response: answer %u data runs past the message", k + 1), -1;
    int family = class != 1 ? 0 : type == 1 && rdlength == 4 ? AF_INET : type == 28 && rdlength == 16 ? AF_INET6 : 0;
    if (family != 0 && inet_ntop(family, m + off, a->addresses[a->n_addresses], INET6_ADDRSTRLEN) != NULL) a->n_addresses++;
    off += rdlength;
  }
  return 0;
}

/* One DNS-over-TCP exchange on a new connection (RFC 1035 4.2.2: a 2-byte length before each message). */
static int dns_attempt(const struct endpoint *server, const unsigned char *qname, size_t qname_len, uint16_t qtype, int timeout_ms,
                       struct dns_answer *a, struct err *e) {
  unsigned char msg[2 + 12 + 256 + 4], response[2 + 65535];
  uint16_t id;
  if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id) id = (uint16_t)((uint64_t)(now_ms() * 1e6) ^ (uint64_t)getpid());
  size_t len = 12 + qname_len + 4;
  memset(msg, 0, sizeof msg);
  msg[0] = (unsigned char)(len >> 8), msg[1] = (unsigned char)len;
  msg[2] = (unsigned char)(id >> 8), msg[3] = (unsigned char)id;
  msg[4] = 0x01; /* RD */
  msg[7] = 1;    /* QDCOUNT */
  memcpy(msg + 14, qname, qname_len);
  msg[14 + qname_len] = (unsigned char)(qtype >> 8), msg[15 + qname_len] = (unsigned char)qtype;
  msg[17 + qname_len] = 1; /* class IN */
  int code;
  int fd = tcp_connect(&server->addr, timeout_ms, timeout_ms, &code);
  if (fd < 0) return set_syserr(e, code, "connect %s", server->text), -1;
  int rc = -1;
  if (send_full(fd, (const char *)msg, 2 + len) != 0) {
    set_syserr(e, io_errno(errno), "send to %s", server->text);
  } else {
    struct reader r = {fd, (char *)response, sizeof response, 0, 0};
    size_t want = 2;
    int f = 1;
    while (r.end < want && (f = reader_fill(&r)) > 0) {
      if (r.end >= 2) want = 2 + get16(response);
    }
    if (f < 0) set_syserr(e, io_errno(errno), "recv from %s", server->text);
    else if (r.end < want) set_err(e, "%s closed the connection after %zu of %zu bytes", server->text, r.end, want);
    else rc = dns_parse(response + 2, want - 2, id, a, e);
  }
  close(fd);
  return rc;
}

static int probe_dns(struct args *a) {
  struct probe_common c = {1, PROBE_TIMEOUT_MS};
  const char *name = NULL, *server_text = NULL, *type = "A", *v;
  struct endpoint server;
  while (a->i < a->argc) {
    if (take_probe_option(a, &c, 1)) continue;
    if (take_option(a, "--server", &v)) server_text = v;
    else if (take_option(a, "--type", &v)) type = v;
    else if (a->argv[a->i][0] == '-' || name != NULL) unknown_probe_argument("dns", a->argv[a->i]);
    else name = a->argv[a->i++];
  }
  unsigned char qname[256];
  size_t qname_len;
  if (name == NULL || dns_encode_name(name, qname, &qname_len) != 0) usage_error("probe dns NAME", "a DNS name (labels of 1-63 printable bytes)", name);
  if (server_text == NULL || parse_ipv4_port(server_text, strlen(server_text), &server) != 0) usage_error("--server", "IPv4:PORT", server_text);
  uint16_t qtype = strcmp(type, "A") == 0 ? 1 : strcmp(type, "AAAA") == 0 ? 28 : 0;
  if (qtype == 0) usage_error("--type", "A or AAAA", type);

  double *samples = malloc(c.attempts * sizeof *samples);
  uint64_t counts[16] = {0}, answered = 0, errors = 0;
  struct dns_answer last = {-1, 0, NULL};
  struct err first_error = {{0}};
  if (samples == NULL) fatal("out of memory for %llu samples", (unsigned long long)c.attempts);
  for (uint64_t k = 0; k < c.attempts; k++) {
    struct dns_answer got = {-1, 0, NULL};
    struct err e;
    double start = now_ms();
    if (dns_attempt(&server, qname, qname_len, qtype, c.timeout_ms, &got, &e) != 0) {
      free(got.addresses);
      if (errors++ == 0) first_error = e;
      continue;
    }
    samples[answered++] = now_ms() - start;
    counts[got.rcode]++;
    free(last.addresses);
    last = got;
  }
  struct json j = {0};
  char other[24];
  j_open(&j, "{");
  j_kstr(&j, "probe", "dns");
  j_kstr(&j, "name", name);
  j_kstr(&j, "type", type);
  j_kstr(&j, "server", server.text);
  j_kstr_or_null(&j, "rcode", last.rcode >= 0 ? rcode_name(last.rcode, other, sizeof other) : NULL);
  j_key(&j, "rcode_counts");
  j_open(&j, "{");
  for (int r = 0; r < 16; r++)
    if (counts[r] > 0) j_kuint(&j, rcode_name(r, other, sizeof other), counts[r]);
  j_close(&j, "}");
  j_key(&j, "answers");
  j_open(&j, "[");
  for (size_t i = 0; i < last.n_addresses; i++) j_string(&j, last.addresses[i]);
  j_close(&j, "]");
  j_kuint(&j, "errors", errors);
  j_kstr_or_null(&j, "first_error", errors > 0 ? first_error.msg : NULL);
  j_probe_tail(&j, c.attempts, samples, answered);
  j_close(&j, "}");
  free(last.addresses);
  free(samples);
  return print_report(&j, errors > 0 ? EXIT_SECTION_ERROR : 0);
}

/* host:port for CONNECT: any host the proxy may resolve, bracketed IPv6 allowed; nothing that could break the request line. */
static int valid_authority(const char *s) {
  const char *colon = strrchr(s, ':');
  uint64_t port;
  if (colon == NULL || colon == s || parse_uint(colon + 1, 1, 65535, &port) != 0 || strlen(s) > 300) return 0;
  for (const char *c = s; c < colon; c++)
    if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '/' || *c == '@') return 0;
  return 1;
}

/* Status counts and samples shared by the connect-proxy and http probes. */
struct status_tally {
  uint64_t counts[600], answered, errors;
  int last;
  struct err first_error;
  double *samples;
};

static void tally_answer(struct status_tally *t, int status, double ms) {
  t->samples[t->answered++] = ms;
  t->counts[status]++;
  t->last = status;
}

static void tally_error(struct status_tally *t, const struct err *e) {
  if (t->errors++ == 0) t->first_error = *e;
}

static int print_status_probe(struct json *j, const struct status_tally *t, uint64_t attempts) {
  j_key(j, "status");
  if (t->last > 0) j_uint(j, (uint64_t)t->last);
  else j_null(j);
  j_status_counts(j, "status_counts", t->counts);
  j_kuint(j, "errors", t->errors);
  j_kstr_or_null(j, "first_error", t->errors > 0 ? t->first_error.msg : NULL);
  j_probe_tail(j, attempts, t->samples, t->answered);
  j_close(j, "}");
  return print_report(j, t->errors > 0 ? EXIT_SECTION_ERROR : 0);
}

static int probe_connect_proxy(struct args *a) {
  struct probe_common c = {1, PROBE_TIMEOUT_MS};
  const char *target = NULL, *proxy_text = NULL, *v;
  struct endpoint proxy;
  while (a->i < a->argc) {
    if (take_probe_option(a, &c, 1)) continue;
    if (take_option(a, "--proxy", &v)) proxy_text = v;
    else if (a->argv[a->i][0] == '-' || target != NULL) unknown_probe_argument("connect-proxy", a->argv[a->i]);
    else target = a->argv[a->i++];
  }
  if (target == NULL || !valid_authority(target)) usage_error("probe connect-proxy HOST:PORT", "HOST:PORT", target);
  if (proxy_text == NULL || parse_ipv4_port(proxy_text, strlen(proxy_text), &proxy) != 0) usage_error("--proxy", "IPv4:PORT", proxy_text);
  char *request;
  if (asprintf(&request, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: guest-bench/" GUEST_BENCH_VERSION "\r\n\r\n", target, target) < 0) fatal("out of memory");
  struct status_tally t = {.samples = malloc(c.attempts * sizeof(double))};
  char *buf = malloc(65536);
  if (t.samples == NULL || buf == NULL) fatal("out of memory for %llu samples", (unsigned long long)c.attempts);
  for (uint64_t k = 0; k < c.attempts; k++) {
    struct err e;
    struct response h;
    int code, answered = 0;
    double start = now_ms();
    struct reader r = {tcp_connect(&proxy.addr, c.timeout_ms, c.timeout_ms, &code), buf, 65536, 0, 0};
    if (r.fd < 0) set_syserr(&e, code, "connect %s", proxy.text);
    else if (send_full(r.fd, request, strlen(request)) != 0) set_syserr(&e, io_errno(errno), "send to %s", proxy.text);
    else answered = read_response_head(&r, &h, &e) == READ_OK;
    double ms = now_ms() - start;
    if (r.fd >= 0) close(r.fd);
    if (answered) tally_answer(&t, h.status, ms);
    else tally_error(&t, &e);
  }
  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "probe", "connect-proxy");
  j_kstr(&j, "target", target);
  j_kstr(&j, "proxy", proxy.text);
  int rc = print_status_probe(&j, &t, c.attempts);
  free(t.samples);
  free(buf);
  free(request);
  return rc;
}

static int probe_http(struct args *a) {
  struct probe_common c = {1, PROBE_TIMEOUT_MS};
  const char *url_text = NULL, *proxy_text = NULL, *v;
  struct endpoint proxy;
  struct url url;
  while (a->i < a->argc) {
    if (take_probe_option(a, &c, 1)) continue;
    if (take_option(a, "--proxy", &v)) proxy_text = v;
    else if (a->argv[a->i][0] == '-' || url_text != NULL) unknown_probe_argument("http", a->argv[a->i]);
    else url_text = a->argv[a->i++];
  }
  if (url_text == NULL || parse_http_url(url_text, &url) != 0) usage_error("probe http URL", "http://IPv4[:PORT]/path (a numeric host: no DNS)", url_text);
  if (proxy_text != NULL && parse_ipv4_port(proxy_text, strlen(proxy_text), &proxy) != 0) usage_error("--proxy", "IPv4:PORT", proxy_text);
  struct status_tally t = {.samples = malloc(c.attempts * sizeof(double))};
  if (t.samples == NULL) fatal("out of memory for %llu samples", (unsigned long long)c.attempts);
  for (uint64_t k = 0; k < c.attempts; k++) {
    struct fetch f = {0};
    struct err e;
    if (http_fetch(&url, proxy_text ? &proxy : NULL, c.timeout_ms, c.timeout_ms, 65536, &f, &e) == 0) tally_answer(&t, f.head.status, f.total_ms);
    else tally_error(&t, &e);
  }
  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "probe", "http");
  j_kstr(&j, "url", url.text);
  j_kstr_or_null(&j, "proxy", proxy_text ? proxy.text : NULL);
  int rc = print_status_probe(&j, &t, c.attempts);
  free(t.samples);
  url_free(&url);
  return rc;
}

/*
 * probe raw IP:PORT FILE...: for each file, a new connection to IP:PORT that
 * sends the file's bytes as they are, then reads what comes back (at most
 * RAW_MAX bytes, until the peer closes or --timeout-ms passes without data).
 * Reports each exchange's first response line (the status line) and every
 * status line seen (a CONNECT answered 200 and then an inner response shows
 * two). For batteries of hand-made requests (the egress-bypass rig): the
 * bytes are the test, so nothing here parses or fixes them.
 */
#define RAW_MAX 65536
#define RAW_FILE_MAX (1 << 20)

static char *read_small_file(const char *path, size_t *len, struct err *e) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return set_syserr(e, errno, "open %s", path), NULL;
  char *buf = malloc(RAW_FILE_MAX);
  size_t n = 0;
  if (buf == NULL) return close(fd), set_err(e, "out of memory"), NULL;
  for (;;) {
    ssize_t r = read(fd, buf + n, RAW_FILE_MAX - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return set_syserr(e, errno, "read %s", path), free(buf), close(fd), NULL;
    if (r == 0) break;
    n += (size_t)r;
    if (n == RAW_FILE_MAX) return set_err(e, "%s is larger than %d bytes", path, RAW_FILE_MAX), free(buf), close(fd), NULL;
  }
  close(fd);
  *len = n;
  return buf;
}

static int probe_raw(struct args *a) {
  struct probe_common c = {1, PROBE_TIMEOUT_MS};
  const char *target = NULL;
  struct endpoint ep;
  const char **files = calloc((size_t)a->argc, sizeof *files);
  size_t n_files = 0;
  if (files == NULL) fatal("out of memory");
  while (a->i < a->argc) {
    if (take_probe_option(a, &c, 0)) continue;
    if (a->argv[a->i][0] == '-') unknown_probe_argument("raw", a->argv[a->i]);
    if (target == NULL) target = a->argv[a->i++];
    else files[n_files++] = a->argv[a->i++];
  }
  if (target == NULL || parse_ipv4_port(target, strlen(target), &ep) != 0) usage_error("probe raw IP:PORT", "IPv4:PORT", target);
  if (n_files == 0) usage_error("probe raw IP:PORT FILE...", "at least one file of request bytes", NULL);
  char *response = malloc(RAW_MAX + 1);
  if (response == NULL) fatal("out of memory");
  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "probe", "raw");
  j_kstr(&j, "target", ep.text);
  j_key(&j, "exchanges");
  j_open(&j, "[");
  for (size_t k = 0; k < n_files; k++) {
    const char *path = files[k];
    struct err e = {{0}};
    size_t len = 0, got = 0;
    int code = 0, failed = 0;
    char *request = read_small_file(path, &len, &e);
    if (request == NULL) failed = 1;
    double start = now_ms();
    int fd = failed ? -1 : tcp_connect(&ep.addr, c.timeout_ms, c.timeout_ms, &code);
    if (!failed && fd < 0) failed = 1, set_syserr(&e, code, "connect %s", ep.text);
    if (!failed && send_full(fd, request, len) != 0) failed = 1, set_syserr(&e, io_errno(errno), "send to %s", ep.text);
    while (!failed && got < RAW_MAX) {
      ssize_t n = recv(fd, response + got, RAW_MAX - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break; /* closed, or quiet for --timeout-ms: what came is the answer */
      got += (size_t)n;
    }
    double ms = now_ms() - start;
    if (fd >= 0) close(fd);
    free(request);
    response[got] = '\0';
    j_open(&j, "{");
    j_kstr(&j, "file", path);
    j_kbool(&j, "ok", !failed);
    j_knum(&j, "ms", ms);
    j_kstr_or_null(&j, "error", failed ? e.msg : NULL);
    j_kuint(&j, "bytes", got);
    j_key(&j, "status_lines");
    j_open(&j, "[");
    for (size_t at = 0; at < got;) {
      char *line = response + at, *nl = memchr(line, '\n', got - at);
      size_t line_len = nl ? (size_t)(nl - line) : got - at;
      if (line_len >= 9 && strncmp(line, "HTTP/1.", 7) == 0) {
        char saved = line[line_len];
        line[line_len] = '\0';
        if (line_len > 0 && line[line_len - 1] == '\r') line[line_len - 1] = '\0';
        j_string(&j, line);
        line[line_len] = saved;
      }
      at += line_len + 1;
    }
    j_close(&j, "]");
    j_close(&j, "}");
  }
  j_close(&j, "]");
  j_close(&j, "}");
  free(response);
  free(files);
  return print_report(&j, 0);
}

/* probe unix PATH...: whether a connect() to each unix socket succeeds ("@name" is an abstract socket); nothing is sent. */
static int probe_unix(struct args *a) {
  size_t first = (size_t)a->i;
  if (first >= (size_t)a->argc) usage_error("probe unix PATH...", "at least one socket path", NULL);
  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "probe", "unix");
  j_key(&j, "sockets");
  j_open(&j, "[");
  for (size_t k = first; k < (size_t)a->argc; k++) {
    const char *path = a->argv[k];
    struct sockaddr_un to = {0};
    to.sun_family = AF_UNIX;
    size_t n = strlen(path);
    int code = 0;
    if (n == 0 || n >= sizeof to.sun_path) code = ENAMETOOLONG;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    memcpy(to.sun_path, path, code ? 0 : n);
    if (path[0] == '@') to.sun_path[0] = '\0';
    int fd = code ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!code && fd < 0) code = errno;
    if (fd >= 0 && connect(fd, (const struct sockaddr *)&to, len) != 0) code = errno;
    if (fd >= 0) close(fd);
    j_open(&j, "{");
    j_kstr(&j, "path", path);
    j_kbool(&j, "connected", code == 0);
    j_kstr_or_null(&j, "error", code ? errno_name(code) : NULL);
    j_close(&j, "}");
  }
  j_close(&j, "]");
  j_close(&j, "}");
  return print_report(&j, 0);
}

static int probe_main(int argc, char **argv) {
  static const char *const expected = "a probe kind: connect, dns, connect-proxy, http, raw or unix";
  if (argc < 1) usage_error("probe", expected, NULL);
  struct args a = {argc, 1, argv};
  if (strcmp(argv[0], "connect") == 0) return probe_connect(&a);
  if (strcmp(argv[0], "dns") == 0) return probe_dns(&a);
  if (strcmp(argv[0], "connect-proxy") == 0) return probe_connect_proxy(&a);
  if (strcmp(argv[0], "http") == 0) return probe_http(&a);
  if (strcmp(argv[0], "raw") == 0) return probe_raw(&a);
  if (strcmp(argv[0], "unix") == 0) return probe_unix(&a);
  usage_error("probe", expected, argv[0]);
  return EXIT_USAGE;
}

/* ---------- main run ---------- */

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "probe") == 0) return probe_main(argc - 2, argv + 2);
  struct options o;
  parse_main_options(argc, argv, &o);

  struct utsname uts;
  struct statfs sfs;
  char fs_hex[24];
  if (uname(&uts) != 0) fatal("uname: %s", strerror(errno));
  if (statfs(o.dir, &sfs) != 0) fatal("statfs %s: %s", o.dir, strerror(errno));
  unsigned long fs_type = (unsigned long)sfs.f_type;
  const char *fs_name = fs_type_name(fs_type, fs_hex, sizeof fs_hex);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);

  struct json j = {0};
  j_open(&j, "{");
  j_kstr(&j, "tool", "guest-bench");
  j_kstr(&j, "version", GUEST_BENCH_VERSION);
  j_kstr(&j, "build", GUEST_BENCH_BUILD);
  j_kuint(&j, "seed", o.seed);
  j_key(&j, "system");
  j_open(&j, "{");
  j_kstr(&j, "kernel", uts.release);
  j_kstr(&j, "machine", uts.machine);
  j_key(&j, "cpus");
  if (cpus > 0) j_uint(&j, (uint64_t)cpus);
  else j_null(&j);
  j_kstr(&j, "dir", o.dir);
  j_kstr(&j, "dir_fs", fs_name);
  j_close(&j, "}");
  j_key(&j, "sections");
  j_open(&j, "{");
  int any_error = 0;
  for (int k = 0; k < N_SECTIONS; k++) {
    struct json section = {0};
    struct err e = {{0}};
    const char *skipped = NULL;
    int rc = 0;
    if (!o.sections[k]) skipped = "not in --sections";
    else if (k == SEC_HTTP && !o.has_http_url) skipped = "no --http-url given";
    else if (k == SEC_THROUGHPUT && !o.has_download_url) skipped = "no --download-url given";
    else if (k == SEC_DISK) rc = section_disk(&o, fs_type, fs_name, &section, &e);
    else if (k == SEC_ROOTFS) rc = section_rootfs(&o, &section, &e);
    else if (k == SEC_STARTUP) rc = section_startup(&o, &section, &e);
    else if (k == SEC_HTTP) rc = section_http(&o, &section, &e);
    else rc = section_throughput(&o, &section, &e);
    j_key(&j, section_names[k]);
    if (skipped != NULL || rc != 0) {
      if (rc != 0) note("%s: error: %s", section_names[k], e.msg), any_error = 1;
      j_open(&j, "{");
      j_kstr(&j, skipped != NULL ? "skipped" : "error", skipped != NULL ? skipped : e.msg);
      j_close(&j, "}");
    } else {
      j_value(&j, &section);
    }
    json_free(&section);
  }
  j_close(&j, "}");
  j_close(&j, "}");
  if (o.has_http_url) url_free(&o.http_url);
  if (o.has_download_url) url_free(&o.download_url);
  return print_report(&j, any_error ? EXIT_SECTION_ERROR : 0);
}
